#pragma once
// Where the TLS certificate and key come from: the configured files, or a self-signed pair for
// `localhost` kept in the state directory so a fresh install serves HTTPS without setup.
#include <string>

#include "mcu/core/Config.hpp"

namespace mcu::signaling {

struct TlsFiles {
  std::string certFile;
  std::string keyFile;
};

// Returns the configured files when server.certFile is set. Otherwise reuses
// <stateDir>/cert.pem + key.pem while they load and have not expired, or writes a new pair
// (EC P-256, CN=localhost, SAN localhost + 127.0.0.1, one year; key mode 0600).
// Throws std::runtime_error when the files cannot be created.
TlsFiles ensureCertificate(const core::Config::Server& server);

}  // namespace mcu::signaling
