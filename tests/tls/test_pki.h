// TestPki: a throwaway certificate authority for TLS tests.
//
// Owns a directory of PEM files: an ECDSA P-256 CA, and leaf certificates it signs
// with the subjectAltNames a test asks for (DNS names and IP addresses), usable as
// server or client certificates. Everything is generated in-process with OpenSSL, so
// tests need no fixtures and no openssl binary.
#pragma once

#include <string>
#include <vector>

namespace switchyard::testing {

class TestPki {
 public:
  struct Files {
    std::string cert;  // PEM certificate
    std::string key;   // PEM private key
  };

  // Creates `dir` if needed and a CA named `ca_name` in it (<ca_name>-ca.pem/.key).
  TestPki(std::string dir, std::string ca_name = "test");

  const std::string& caCert() const { return ca_.cert; }

  // Issues <name>.pem / <name>.key with CN = the first DNS name (or `name`), SANs
  // `dns` and `ips`, valid from an hour ago for a day.
  Files issue(const std::string& name, const std::vector<std::string>& dns,
              const std::vector<std::string>& ips = {});

 private:
  std::string dir_;
  Files ca_;
  long serial_ = 1;
};

// A directory for test files: $TEST_TMPDIR/<sub> (or /tmp when not under Bazel).
std::string testDir(const std::string& sub);

}  // namespace switchyard::testing
