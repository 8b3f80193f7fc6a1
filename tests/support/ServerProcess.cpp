#include "tests/support/ServerProcess.hpp"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <optional>
#include <stdexcept>

extern char** environ;

namespace mcu::testsupport {

namespace {

using Clock = std::chrono::steady_clock;

pid_t spawn(const std::string& binary, const std::vector<std::string>& args, int stdoutFd,
            int closeFd) {
  std::vector<std::string> argvStore{binary};
  argvStore.insert(argvStore.end(), args.begin(), args.end());
  std::vector<char*> argv;
  for (auto& a : argvStore) argv.push_back(a.data());
  argv.push_back(nullptr);
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_adddup2(&actions, stdoutFd, STDOUT_FILENO);
  posix_spawn_file_actions_addclose(&actions, closeFd);
  pid_t pid = -1;
  const int rc = posix_spawn(&pid, binary.c_str(), &actions, nullptr, argv.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  if (rc != 0) throw std::runtime_error("cannot start " + binary + ": " + std::strerror(rc));
  return pid;
}

// Reads one line from fd, waiting at most until the deadline; nullopt on timeout or EOF.
std::optional<std::string> readLine(int fd, std::string& pending, Clock::time_point deadline) {
  for (;;) {
    if (const auto nl = pending.find('\n'); nl != std::string::npos) {
      std::string line = pending.substr(0, nl);
      pending.erase(0, nl + 1);
      return line;
    }
    const auto left =
        std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now()).count();
    if (left <= 0) return std::nullopt;
    pollfd p{fd, POLLIN, 0};
    if (::poll(&p, 1, static_cast<int>(left)) <= 0) continue;
    char buf[4096];
    const ssize_t n = ::read(fd, buf, sizeof buf);
    if (n <= 0) return std::nullopt;
    pending.append(buf, static_cast<std::size_t>(n));
  }
}

}  // namespace

std::uint16_t portFromListeningLine(const std::string& line) {
  const auto scheme = line.find("https://");
  if (scheme == std::string::npos) return 0;
  const auto hostStart = scheme + 8;
  const auto slash = line.find('/', hostStart);
  const auto colon = line.rfind(':', slash == std::string::npos ? line.size() : slash);
  if (colon == std::string::npos || colon < hostStart) return 0;
  const long port = std::strtol(line.c_str() + colon + 1, nullptr, 10);
  return port > 0 && port < 65536 ? static_cast<std::uint16_t>(port) : 0;
}

std::string makeTempDir(const std::string& prefix) {
  const char* base = std::getenv("TMPDIR");
  std::string pattern = std::string(base && *base ? base : "/tmp") + "/" + prefix + "XXXXXX";
  if (!::mkdtemp(pattern.data())) throw std::runtime_error("mkdtemp failed");
  return pattern;
}

ServerProcess::~ServerProcess() {
  stop();
}

std::uint16_t ServerProcess::start(const std::string& binary, const std::vector<std::string>& args,
                                   std::chrono::milliseconds timeout) {
  int fds[2];
  if (::pipe2(fds, O_CLOEXEC) != 0) throw std::runtime_error("pipe failed");
  pid_ = spawn(binary, args, fds[1], fds[0]);
  ::close(fds[1]);
  stdoutFd_ = fds[0];
  const auto deadline = Clock::now() + timeout;
  std::string pending;
  while (port_ == 0) {
    const auto line = readLine(stdoutFd_, pending, deadline);
    if (!line) throw std::runtime_error(binary + " printed no 'listening on https://' line");
    std::fprintf(stderr, "[server stdout] %s\n", line->c_str());
    if (line->find("listening on https://") != std::string::npos) {
      port_ = portFromListeningLine(*line);
    }
  }
  // Keep reading so the server never blocks on a full pipe.
  drain_ = std::thread([fd = stdoutFd_, pending]() mutable {
    while (const auto line = readLine(fd, pending, Clock::now() + std::chrono::hours(24))) {
      std::fprintf(stderr, "[server stdout] %s\n", line->c_str());
    }
  });
  return port_;
}

int ServerProcess::stop(std::chrono::milliseconds grace) {
  if (pid_ <= 0) return -1;
  ::kill(pid_, SIGTERM);
  int status = 0;
  const auto deadline = Clock::now() + grace;
  pid_t done = 0;
  while ((done = ::waitpid(pid_, &status, WNOHANG)) == 0 && Clock::now() < deadline) {
    ::usleep(20 * 1000);  // polling a child's exit; no condition to wait on portably
  }
  if (done == 0) {
    std::fprintf(stderr, "[server] no exit after SIGTERM; sending SIGKILL\n");
    ::kill(pid_, SIGKILL);
    ::waitpid(pid_, &status, 0);
  }
  pid_ = -1;
  if (drain_.joinable()) drain_.join();  // the pipe reaches EOF once the child is gone
  ::close(stdoutFd_);
  stdoutFd_ = -1;
  return status;
}

}  // namespace mcu::testsupport
