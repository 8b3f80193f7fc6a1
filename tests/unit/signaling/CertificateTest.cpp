#include "signaling/Certificate.hpp"

#include <gtest/gtest.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>

namespace mcu::signaling {
namespace {

namespace fs = std::filesystem;

std::string slurp(const fs::path& p) {
  std::ifstream in(p);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

class CertificateTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("mcu-cert-" + std::to_string(::getpid()));
    fs::remove_all(dir_);
    config_.stateDir = (dir_ / "state" / "nested").string();
  }
  void TearDown() override { fs::remove_all(dir_); }

  fs::path dir_;
  core::Config::Server config_;
};

TEST_F(CertificateTest, CreatesSelfSignedPairInStateDir) {
  const TlsFiles files = ensureCertificate(config_);
  EXPECT_EQ(files.certFile, (fs::path(config_.stateDir) / "cert.pem").string());
  EXPECT_EQ(files.keyFile, (fs::path(config_.stateDir) / "key.pem").string());
  struct stat st {};
  ASSERT_EQ(::stat(files.keyFile.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);

  std::FILE* f = std::fopen(files.certFile.c_str(), "r");
  ASSERT_NE(f, nullptr);
  X509* cert = PEM_read_X509(f, nullptr, nullptr, nullptr);
  std::fclose(f);
  ASSERT_NE(cert, nullptr);
  EXPECT_EQ(X509_check_host(cert, "localhost", 0, 0, nullptr), 1);
  EXPECT_EQ(X509_check_ip_asc(cert, "127.0.0.1", 0), 1);
  EXPECT_EQ(X509_check_host(cert, "example.org", 0, 0, nullptr), 0);
  EVP_PKEY* key = X509_get0_pubkey(cert);
  EXPECT_EQ(EVP_PKEY_get_base_id(key), EVP_PKEY_EC);
  // Valid for about a year from now.
  int days = 0, seconds = 0;
  ASSERT_EQ(ASN1_TIME_diff(&days, &seconds, nullptr, X509_get0_notAfter(cert)), 1);
  EXPECT_GE(days, 364);
  EXPECT_LE(days, 366);
  X509_free(cert);
}

TEST_F(CertificateTest, ReusesAnExistingPair) {
  const TlsFiles first = ensureCertificate(config_);
  const std::string cert = slurp(first.certFile);
  const TlsFiles second = ensureCertificate(config_);
  EXPECT_EQ(slurp(second.certFile), cert);
}

TEST_F(CertificateTest, ReplacesAnUnreadableCertificate) {
  const TlsFiles first = ensureCertificate(config_);
  std::ofstream(first.certFile) << "garbage";
  const TlsFiles second = ensureCertificate(config_);
  EXPECT_NE(slurp(second.certFile).find("BEGIN CERTIFICATE"), std::string::npos);
}

TEST_F(CertificateTest, ConfiguredFilesAreUsedAsIs) {
  config_.certFile = "/etc/mcu/cert.pem";
  config_.keyFile = "/etc/mcu/key.pem";
  const TlsFiles files = ensureCertificate(config_);
  EXPECT_EQ(files.certFile, "/etc/mcu/cert.pem");
  EXPECT_EQ(files.keyFile, "/etc/mcu/key.pem");
  EXPECT_FALSE(fs::exists(config_.stateDir));
}

}  // namespace
}  // namespace mcu::signaling
