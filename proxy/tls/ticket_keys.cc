#include "proxy/tls/ticket_keys.h"

#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/rand.h>

#include <cstring>

namespace switchyard::tls {
namespace {

// Fetched once per process: OpenSSL 3 takes a lock for every implicit fetch, which is
// what makes handshakes collapse under many threads (HAProxy #2454, OpenSSL #23388).
EVP_CIPHER* ticketCipher() {
  static EVP_CIPHER* cipher = EVP_CIPHER_fetch(nullptr, "AES-256-CBC", nullptr);
  return cipher;
}

int exDataIndex() {
  static const int index = SSL_CTX_get_ex_new_index(0, nullptr, nullptr, nullptr, nullptr);
  return index;
}

bool setMacKey(EVP_MAC_CTX* mac, const std::array<unsigned char, 32>& key) {
  char digest[] = "SHA256";
  OSSL_PARAM params[] = {
      OSSL_PARAM_construct_octet_string(OSSL_MAC_PARAM_KEY, const_cast<unsigned char*>(key.data()),
                                        key.size()),
      OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, digest, 0),
      OSSL_PARAM_construct_end(),
  };
  return EVP_MAC_CTX_set_params(mac, params) == 1;
}

}  // namespace

TicketKeys::TicketKeys(std::chrono::nanoseconds rotation) : rotation_(rotation) {
  std::lock_guard<std::mutex> lock(mu_);
  rotateLocked(std::chrono::steady_clock::now());
}

void TicketKeys::setRotation(std::chrono::nanoseconds rotation) {
  std::lock_guard<std::mutex> lock(mu_);
  if (rotation == rotation_) return;
  rotation_ = rotation;
  next_rotation_ = std::chrono::steady_clock::now() + rotation;
}

void TicketKeys::install(SSL_CTX* ctx) {
  SSL_CTX_set_ex_data(ctx, exDataIndex(), this);
  SSL_CTX_set_tlsext_ticket_key_evp_cb(ctx, &TicketKeys::callback);
}

uint64_t TicketKeys::rotate() {
  std::lock_guard<std::mutex> lock(mu_);
  rotateLocked(std::chrono::steady_clock::now());
  return rotations_;
}

uint64_t TicketKeys::rotations() const {
  std::lock_guard<std::mutex> lock(mu_);
  return rotations_;
}

void TicketKeys::rotateLocked(std::chrono::steady_clock::time_point now) {
  const size_t slot = live_ == 0 ? 0 : (newest_ + 1) % kKeys;
  Key& k = keys_[slot];
  // RAND_bytes failing leaves the key unusable; sealing then fails and the client
  // simply gets no ticket, which is safe.
  if (RAND_bytes(k.name.data(), k.name.size()) != 1 ||
      RAND_bytes(k.aes.data(), k.aes.size()) != 1 ||
      RAND_bytes(k.hmac.data(), k.hmac.size()) != 1) {
    k.name.fill(0);
  }
  newest_ = slot;
  if (live_ < kKeys) live_++;
  rotations_++;
  next_rotation_ = now + rotation_;
}

TicketKeys::Key TicketKeys::sealingKey() {
  std::lock_guard<std::mutex> lock(mu_);
  const auto now = std::chrono::steady_clock::now();
  if (now >= next_rotation_) rotateLocked(now);
  return keys_[newest_];
}

bool TicketKeys::openingKey(const unsigned char name[16], Key& out, bool& newest) {
  std::lock_guard<std::mutex> lock(mu_);
  for (size_t i = 0; i < live_; i++) {
    if (std::memcmp(keys_[i].name.data(), name, 16) == 0) {
      out = keys_[i];
      newest = i == newest_;
      return true;
    }
  }
  return false;
}

int TicketKeys::callback(SSL* ssl, unsigned char name[16], unsigned char iv[16],
                         EVP_CIPHER_CTX* cipher, EVP_MAC_CTX* mac, int encrypt) {
  // The keys hang off the context the session was created from (every context of a
  // listener carries the same pointer, so an SNI switch does not matter).
  auto* self = static_cast<TicketKeys*>(SSL_CTX_get_ex_data(SSL_get_SSL_CTX(ssl), exDataIndex()));
  if (self == nullptr || ticketCipher() == nullptr) return -1;
  Key key;
  if (encrypt) {
    key = self->sealingKey();
    if (RAND_bytes(iv, 16) != 1) return -1;
    std::memcpy(name, key.name.data(), 16);
    if (EVP_EncryptInit_ex2(cipher, ticketCipher(), key.aes.data(), iv, nullptr) != 1) return -1;
    return setMacKey(mac, key.hmac) ? 1 : -1;
  }
  bool newest = false;
  if (!self->openingKey(name, key, newest)) return 0;  // unknown or expired: full handshake
  if (EVP_DecryptInit_ex2(cipher, ticketCipher(), key.aes.data(), iv, nullptr) != 1) return -1;
  if (!setMacKey(mac, key.hmac)) return -1;
  return newest ? 1 : 2;  // 2: valid, but issue a fresh ticket under the newest key
}

}  // namespace switchyard::tls
