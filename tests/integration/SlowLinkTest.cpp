// Issue 5: a site behind a slow link settles on the small rung while a site on a good link keeps
// the full size. Two test hosts: the real mcu-server here, one headless site (mcu-loadgen) on
// loopback and another in its own network namespace behind a veth whose server side is limited
// by tc's token bucket (tbf) to 300 kbit/s — less than the 720p composite needs. The rung each
// site receives is read from the server's /metrics (mcu_video_rung_viewers).
//
// Needs root (network namespaces); `scripts/test.sh` runs this tier in a private namespace. The
// kernel here has no netem, so the link is slow but not lossy by itself: the loss the site's
// receiver reports is the token bucket dropping what does not fit. The same site shows red on
// the technicians' monitor (mcu_sites).
#include <gtest/gtest.h>

#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <map>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "tests/support/ServerProcess.hpp"
#include "tests/support/WsClient.hpp"

extern char** environ;

namespace mcu::testsupport {
namespace {

constexpr const char* kNs = "mcu-slow-site";
constexpr const char* kServerSide = "mcu-slow-s";
constexpr const char* kSiteSide = "mcu-slow-c";
constexpr const char* kServerAddress = "10.231.7.1";
constexpr const char* kSiteAddress = "10.231.7.2";

int sh(const std::string& command) {
  return std::system((command + " >/dev/null 2>&1").c_str());
}

// The second test host and its slow link; removed again at the end.
class SlowSiteHost {
 public:
  SlowSiteHost() {
    teardown();
    ok_ =
        sh(std::string("ip netns add ") + kNs) == 0 &&
        sh(std::string("ip link add ") + kServerSide + " type veth peer name " + kSiteSide) == 0 &&
        sh(std::string("ip link set ") + kSiteSide + " netns " + kNs) == 0 &&
        sh(std::string("ip addr add ") + kServerAddress + "/24 dev " + kServerSide) == 0 &&
        sh(std::string("ip link set ") + kServerSide + " up") == 0 &&
        sh(std::string("ip netns exec ") + kNs + " ip addr add " + kSiteAddress + "/24 dev " +
           kSiteSide) == 0 &&
        sh(std::string("ip netns exec ") + kNs + " ip link set " + kSiteSide + " up") == 0 &&
        sh(std::string("ip netns exec ") + kNs + " ip link set lo up") == 0 &&
        // What the server sends the site: 300 kbit/s, a short queue.
        sh(std::string("tc qdisc add dev ") + kServerSide +
           " root tbf rate 300kbit burst 16kb latency 100ms") == 0;
  }
  ~SlowSiteHost() { teardown(); }
  bool ok() const { return ok_; }

 private:
  static void teardown() {
    sh(std::string("ip link del ") + kServerSide);
    sh(std::string("ip netns del ") + kNs);
  }
  bool ok_ = false;
};

// A child process, terminated (and reaped) at the end.
class Child {
 public:
  explicit Child(const std::vector<std::string>& argv) {
    std::vector<char*> args;
    for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
    args.push_back(nullptr);
    if (posix_spawn(&pid_, args[0], nullptr, nullptr, args.data(), environ) != 0) pid_ = -1;
  }
  ~Child() {
    if (pid_ <= 0) return;
    ::kill(pid_, SIGTERM);
    int status = 0;
    for (int i = 0; i < 100 && ::waitpid(pid_, &status, WNOHANG) == 0; ++i) {
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    if (::waitpid(pid_, &status, WNOHANG) == 0) {
      ::kill(pid_, SIGKILL);
      ::waitpid(pid_, &status, 0);
    }
  }
  bool started() const { return pid_ > 0; }

 private:
  pid_t pid_ = -1;
};

std::map<std::string, double> scrape(std::uint16_t port) {
  std::map<std::string, double> out;
  try {
    const auto r = httpsRequest(port, "GET", "/metrics");
    std::istringstream in(r.body);
    for (std::string line; std::getline(in, line);) {
      if (line.empty() || line[0] == '#') continue;
      const auto space = line.rfind(' ');
      out[line.substr(0, space)] = std::stod(line.substr(space + 1));
    }
  } catch (const std::exception&) {
  }
  return out;
}

double viewers(const std::map<std::string, double>& s, const std::string& rung) {
  const auto it = s.find(R"(mcu_video_rung_viewers{meeting="demo",rung=")" + rung + "\"}");
  return it == s.end() ? -1 : it->second;
}

TEST(SlowLinkTest, ASiteBehindASlowLinkSettlesOnTheSmallRungWhileAGoodOneKeepsTheFullSize) {
  SlowSiteHost host;
  ASSERT_TRUE(host.ok()) << "could not build the second test host (needs root: ip netns, tc)";
  const std::string dir = makeTempDir("mcu-slow-");
  ServerProcess server;
  // After the veth is up: the server gathers ICE candidates on it.
  const std::uint16_t port =
      server.start(MCU_SERVER_BINARY, {"--port", "0", "--state-dir", dir + "/state", "--web-root",
                                       MCU_WEB_ROOT, "--org-file", MCU_ORG_FILE});
  const std::string portText = std::to_string(port);
  const std::vector<std::string> site = {
      MCU_LOADGEN_BINARY, "--port", portText,          "--rooms", "1",
      "--seconds",        "0",      "--ready-timeout", "600"};
  std::vector<std::string> fast = site;
  fast.insert(fast.end(), {"--name-prefix", "good-"});
  Child good(fast);
  std::vector<std::string> slow = {"/usr/sbin/ip", "netns", "exec", kNs};
  slow.insert(slow.end(), site.begin(), site.end());
  slow.insert(slow.end(), {"--host", kServerAddress, "--local-address", kSiteAddress,
                           "--name-prefix", "slow-"});
  if (!std::filesystem::exists(slow[0])) slow[0] = "/sbin/ip";
  Child bad(slow);
  ASSERT_TRUE(good.started() && bad.started());

  // Both on the full size at first; the slow one's reports of loss move it down, to the
  // smallest rung (150 kbit/s fits 300), and the good one stays.
  std::map<std::string, double> s;
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(90);
  bool settled = false;
  while (std::chrono::steady_clock::now() < deadline) {
    s = scrape(port);
    settled = viewers(s, "320x180") == 1 && viewers(s, "1280x720") == 1;
    if (settled) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(500));
  }
  EXPECT_TRUE(settled) << "1280x720: " << viewers(s, "1280x720")
                       << ", 640x360: " << viewers(s, "640x360")
                       << ", 320x180: " << viewers(s, "320x180");
  // It stays there: no flapping back up while the link is still slow.
  if (settled) {
    std::this_thread::sleep_for(std::chrono::seconds(6));
    s = scrape(port);
    EXPECT_EQ(viewers(s, "320x180"), 1);
    EXPECT_EQ(viewers(s, "1280x720"), 1);
  }
  // The technicians see it too (issue 6): the site behind the slow link is red (its receiver
  // reports loss, its round trip grows in the full queue). Only ">= 1": on a loaded machine the
  // loopback site may have real loss as well.
  EXPECT_GE(s[R"(mcu_sites{meeting="demo",state="red"})"], 1);
  server.stop();
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace mcu::testsupport
