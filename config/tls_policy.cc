#include "config/tls_policy.h"

#include <openssl/err.h>
#include <openssl/ssl.h>

#include <memory>

namespace switchyard::config {
namespace {

struct CtxFree {
  void operator()(SSL_CTX* ctx) const { SSL_CTX_free(ctx); }
};

std::string check(std::string_view list, bool tls13) {
  if (list.empty()) return "expected at least one cipher, got \"\"";
  std::unique_ptr<SSL_CTX, CtxFree> ctx(SSL_CTX_new(TLS_method()));
  if (!ctx) return "OpenSSL could not create a context to check it";
  const std::string text(list);
  const int ok = tls13 ? SSL_CTX_set_ciphersuites(ctx.get(), text.c_str())
                       : SSL_CTX_set_cipher_list(ctx.get(), text.c_str());
  ERR_clear_error();
  if (ok != 1) {
    return tls13 ? "OpenSSL accepts none of these TLS 1.3 ciphersuites: \"" + text + "\""
                 : "OpenSSL accepts no cipher from this list: \"" + text + "\"";
  }
  return {};
}

}  // namespace

std::string checkTls12Ciphers(std::string_view list) { return check(list, false); }
std::string checkTls13Ciphersuites(std::string_view list) { return check(list, true); }

}  // namespace switchyard::config
