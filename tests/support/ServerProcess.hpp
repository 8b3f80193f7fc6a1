#pragma once
// Runs the real mcu-server binary as a child process for integration tests and benchmarks: waits
// for its "listening on https://HOST:PORT/" line, keeps draining its stdout, and stops it with
// SIGTERM (SIGKILL if it does not exit in time).
#include <sys/types.h>

#include <chrono>
#include <cstdint>
#include <string>
#include <thread>
#include <vector>

namespace mcu::testsupport {

class ServerProcess {
 public:
  ServerProcess() = default;
  ~ServerProcess();
  ServerProcess(const ServerProcess&) = delete;
  ServerProcess& operator=(const ServerProcess&) = delete;

  // Spawns `binary args...` and returns the port from its listening line. Throws
  // std::runtime_error when the process cannot start, exits, or prints no such line in time.
  std::uint16_t start(const std::string& binary, const std::vector<std::string>& args,
                      std::chrono::milliseconds timeout = std::chrono::seconds(30));
  // SIGTERM, then waits; SIGKILL after the grace period. Returns the wait status (-1 if not
  // running).
  int stop(std::chrono::milliseconds grace = std::chrono::seconds(10));
  pid_t pid() const { return pid_; }
  std::uint16_t port() const { return port_; }

 private:
  pid_t pid_ = -1;
  int stdoutFd_ = -1;
  std::uint16_t port_ = 0;
  std::thread drain_;
};

// The port of "https://HOST:PORT/" in a line, or 0 if there is none.
std::uint16_t portFromListeningLine(const std::string& line);

// A fresh empty directory under $TMPDIR (or /tmp); the caller removes it.
std::string makeTempDir(const std::string& prefix);

}  // namespace mcu::testsupport
