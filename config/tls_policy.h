// TLS policy strings checked the way OpenSSL will read them, so that a cipher list
// OpenSSL rejects is a config error at its line and column, not a failure at the first
// handshake. Owns nothing; the only OpenSSL user in config/.
#pragma once

#include <string>
#include <string_view>

namespace switchyard::config {

// Empty when OpenSSL accepts `list` as a TLS 1.2 cipher list that selects at least one
// cipher; otherwise why not.
std::string checkTls12Ciphers(std::string_view list);
// The same for a TLS 1.3 ciphersuite list ("TLS_AES_128_GCM_SHA256:...").
std::string checkTls13Ciphersuites(std::string_view list);

}  // namespace switchyard::config
