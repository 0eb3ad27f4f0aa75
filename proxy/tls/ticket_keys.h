// TicketKeys: the keys that seal one listener's TLS session tickets.
//
// Owns a ring of kKeys keys (name, AES-256 key, HMAC-SHA256 key), all random. The
// newest seals new tickets; the older ones still open tickets they sealed, and a ticket
// opened with an older key is re-issued under the newest. A key therefore opens tickets
// for (kKeys - 1) rotations after it stopped sealing; OpenSSL separately refuses any
// session older than session_timeout. Rotation is lazy: the first handshake after the
// interval has passed rotates (no timer, nothing to stop on reload).
//
// Why our own keys rather than OpenSSL's: OpenSSL's per-context keys never rotate and
// die with the context, so every reload (which builds new contexts) would invalidate
// every ticket. A listener's TicketKeys is carried across reloads (tls::ServerContext).
//
// Shared by all workers; one short mutex per handshake that issues or opens a ticket
// (never per request). Installed on an SSL_CTX with install().
#pragma once

#include <openssl/ssl.h>

#include <array>
#include <chrono>
#include <cstdint>
#include <memory>
#include <mutex>

namespace switchyard::tls {

class TicketKeys {
 public:
  static constexpr size_t kKeys = 3;

  explicit TicketKeys(std::chrono::nanoseconds rotation);
  TicketKeys(const TicketKeys&) = delete;
  TicketKeys& operator=(const TicketKeys&) = delete;

  // A reload may change the interval; keys are kept.
  void setRotation(std::chrono::nanoseconds rotation);

  // Makes `ctx` seal and open tickets with these keys. The keys must outlive ctx
  // (ServerContext holds both).
  void install(SSL_CTX* ctx);

  // Rotates now (tests; also used lazily by the callback). Returns the rotation count.
  uint64_t rotate();
  uint64_t rotations() const;

 private:
  struct Key {
    std::array<unsigned char, 16> name;
    std::array<unsigned char, 32> aes;
    std::array<unsigned char, 32> hmac;
  };
  static int callback(SSL* ssl, unsigned char name[16], unsigned char iv[16],
                      EVP_CIPHER_CTX* cipher, EVP_MAC_CTX* mac, int encrypt);
  void rotateLocked(std::chrono::steady_clock::time_point now);
  // The newest key for sealing (rotating first if due); or the key called `name` and
  // whether it is the newest, false if none is.
  Key sealingKey();
  bool openingKey(const unsigned char name[16], Key& out, bool& newest);

  mutable std::mutex mu_;
  std::array<Key, kKeys> keys_{};  // keys_[newest_] seals
  size_t newest_ = 0;
  size_t live_ = 0;                // how many keys exist yet (1..kKeys)
  uint64_t rotations_ = 0;
  std::chrono::nanoseconds rotation_;
  std::chrono::steady_clock::time_point next_rotation_;
};

}  // namespace switchyard::tls
