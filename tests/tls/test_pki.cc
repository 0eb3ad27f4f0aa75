#include "tests/tls/test_pki.h"

#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include <sys/stat.h>

#include <cstdio>
#include <cstdlib>
#include <stdexcept>

namespace switchyard::testing {
namespace {

void check(bool ok, const char* what) {
  if (!ok) throw std::runtime_error(std::string("TestPki: ") + what);
}

void writePem(const std::string& path, X509* cert, EVP_PKEY* key) {
  FILE* f = std::fopen(path.c_str(), "w");
  check(f != nullptr, "open for writing");
  const bool ok = cert != nullptr ? PEM_write_X509(f, cert) == 1
                                  : PEM_write_PrivateKey(f, key, nullptr, nullptr, 0, nullptr,
                                                         nullptr) == 1;
  std::fclose(f);
  check(ok, "PEM write");
}

void addExtension(X509* cert, X509* issuer, int nid, const std::string& value) {
  X509V3_CTX ctx;
  X509V3_set_ctx_nodb(&ctx);
  X509V3_set_ctx(&ctx, issuer, cert, nullptr, nullptr, 0);
  X509_EXTENSION* ext = X509V3_EXT_conf_nid(nullptr, &ctx, nid, value.c_str());
  check(ext != nullptr, "extension");
  X509_add_ext(cert, ext, -1);
  X509_EXTENSION_free(ext);
}

X509* newCert(EVP_PKEY* key, const std::string& cn, long serial) {
  X509* cert = X509_new();
  X509_set_version(cert, 2);
  ASN1_INTEGER_set(X509_get_serialNumber(cert), serial);
  X509_gmtime_adj(X509_getm_notBefore(cert), -3600);
  X509_gmtime_adj(X509_getm_notAfter(cert), 24 * 3600);
  X509_set_pubkey(cert, key);
  X509_NAME* name = X509_get_subject_name(cert);
  X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC,
                             reinterpret_cast<const unsigned char*>(cn.c_str()), -1, -1, 0);
  return cert;
}

}  // namespace

std::string testDir(const std::string& sub) {
  const char* base = std::getenv("TEST_TMPDIR");
  std::string dir = std::string(base != nullptr ? base : "/tmp") + "/" + sub;
  ::mkdir(dir.c_str(), 0755);
  return dir;
}

TestPki::TestPki(std::string dir, std::string ca_name) : dir_(std::move(dir)) {
  ::mkdir(dir_.c_str(), 0755);
  EVP_PKEY* key = EVP_EC_gen("P-256");
  check(key != nullptr, "CA key");
  X509* cert = newCert(key, ca_name + " CA", serial_++);
  X509_set_issuer_name(cert, X509_get_subject_name(cert));
  addExtension(cert, cert, NID_basic_constraints, "critical,CA:TRUE");
  addExtension(cert, cert, NID_key_usage, "critical,keyCertSign,cRLSign");
  addExtension(cert, cert, NID_subject_key_identifier, "hash");
  check(X509_sign(cert, key, EVP_sha256()) > 0, "CA sign");
  ca_ = {dir_ + "/" + ca_name + "-ca.pem", dir_ + "/" + ca_name + "-ca.key"};
  writePem(ca_.cert, cert, nullptr);
  writePem(ca_.key, nullptr, key);
  X509_free(cert);
  EVP_PKEY_free(key);
}

TestPki::Files TestPki::issue(const std::string& name, const std::vector<std::string>& dns,
                              const std::vector<std::string>& ips) {
  FILE* f = std::fopen(ca_.cert.c_str(), "r");
  check(f != nullptr, "read CA");
  X509* ca = PEM_read_X509(f, nullptr, nullptr, nullptr);
  std::fclose(f);
  f = std::fopen(ca_.key.c_str(), "r");
  check(f != nullptr, "read CA key");
  EVP_PKEY* ca_key = PEM_read_PrivateKey(f, nullptr, nullptr, nullptr);
  std::fclose(f);
  check(ca != nullptr && ca_key != nullptr, "CA files");

  EVP_PKEY* key = EVP_EC_gen("P-256");
  check(key != nullptr, "leaf key");
  X509* cert = newCert(key, dns.empty() ? name : dns.front(), serial_++);
  X509_set_issuer_name(cert, X509_get_subject_name(ca));
  std::string san;
  for (const std::string& d : dns) san += (san.empty() ? "DNS:" : ",DNS:") + d;
  for (const std::string& ip : ips) san += (san.empty() ? "IP:" : ",IP:") + ip;
  if (!san.empty()) addExtension(cert, ca, NID_subject_alt_name, san);
  addExtension(cert, ca, NID_basic_constraints, "CA:FALSE");
  addExtension(cert, ca, NID_ext_key_usage, "serverAuth,clientAuth");
  check(X509_sign(cert, ca_key, EVP_sha256()) > 0, "leaf sign");
  Files files{dir_ + "/" + name + ".pem", dir_ + "/" + name + ".key"};
  writePem(files.cert, cert, nullptr);
  writePem(files.key, nullptr, key);
  X509_free(cert);
  EVP_PKEY_free(key);
  X509_free(ca);
  EVP_PKEY_free(ca_key);
  return files;
}

}  // namespace switchyard::testing
