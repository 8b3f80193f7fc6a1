// mcu-server: the composition root. Wires the conference model to the signaling front door and
// the GStreamer media layer, all on one io_context; the core runs on its own strand.
#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <functional>
#include <future>
#include <iostream>
#include <string>
#include <thread>
#include <vector>

#include "mcu/auth/OpenSslCrypto.hpp"
#include "mcu/core/AuthService.hpp"
#include "mcu/core/Conference.hpp"
#include "mcu/core/MeetingService.hpp"
#include "mcu/server/AsioExecutor.hpp"
#include "mcu/server/ConfigLoader.hpp"
#include "mcu/server/GstLogBridge.hpp"
#include "mcu/server/OrgTreeLoader.hpp"
#include "mcu/server/SystemClock.hpp"
#include "mcu/store/SqliteStore.hpp"
#include "media/MediaPort.hpp"
#include "signaling/Log.hpp"
#include "signaling/RestApi.hpp"
#include "signaling/Server.hpp"

namespace {

const mcu::signaling::Log kLog{"server"};

struct Options {
  std::string configFile;
  int port = -1;
  std::string stateDir;
  std::string webRoot;
  std::string bind;
  std::string orgFile;
};

void usage() {
  std::cerr << "usage: mcu-server [--config FILE] [--port N] [--bind ADDR] [--state-dir DIR]"
               " [--web-root DIR] [--org-file FILE]\n";
}

bool parseArgs(int argc, char** argv, Options& o) {
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    auto value = [&](std::string& out) {
      if (i + 1 >= argc) return false;
      out = argv[++i];
      return true;
    };
    std::string v;
    if (a == "--config" && value(o.configFile)) continue;
    if (a == "--state-dir" && value(o.stateDir)) continue;
    if (a == "--web-root" && value(o.webRoot)) continue;
    if (a == "--bind" && value(o.bind)) continue;
    if (a == "--org-file" && value(o.orgFile)) continue;
    if (a == "--port" && value(v)) {
      o.port = std::stoi(v);
      if (o.port < 0 || o.port > 65535) return false;
      continue;
    }
    return false;
  }
  return true;
}

mcu::core::Config buildConfig(const Options& o) {
  mcu::core::Config config;
  if (!o.configFile.empty()) config = mcu::server::loadConfig(o.configFile);
  if (o.port >= 0) config.server.port = static_cast<std::uint16_t>(o.port);
  if (!o.stateDir.empty()) config.server.stateDir = o.stateDir;
  if (!o.webRoot.empty()) config.server.webRoot = o.webRoot;
  if (!o.bind.empty()) config.server.bind = o.bind;
  if (!o.orgFile.empty()) config.org.file = o.orgFile;
  return config;
}

// Hands the meeting service's changes (made on an HTTP thread) to the conference model on the
// core executor.
class MeetingChanges final : public mcu::core::MeetingListener {
 public:
  MeetingChanges(mcu::core::Executor& core, mcu::core::Conference*& conference)
      : core_(core), conference_(conference) {}
  void onMeetingChanged(const mcu::core::Meeting& meeting) override {
    core_.post([this, meeting] {
      if (conference_) conference_->meetingChanged(meeting);
    });
  }

 private:
  mcu::core::Executor& core_;
  mcu::core::Conference*& conference_;
};

std::vector<mcu::core::Unit> parseUnits(const std::string& body, bool csv) {
  return csv ? mcu::server::parseOrgUnitsCsv(body) : mcu::server::parseOrgUnitsJson(body);
}

}  // namespace

int main(int argc, char** argv) {
  Options options;
  try {
    if (!parseArgs(argc, argv, options)) {
      usage();
      return 2;
    }
  } catch (const std::exception&) {
    usage();
    return 2;
  }
  try {
    const mcu::core::Config config = buildConfig(options);
    mcu::signaling::setLogLevel(
        mcu::signaling::parseLogLevel(config.logLevel).value_or(mcu::signaling::LogLevel::kInfo));
    mcu::media::initGStreamer();
    mcu::server::routeGStreamerLogsToJson();

    // The store, accounts and meetings.
    const std::filesystem::path stateDir(config.server.stateDir);
    std::filesystem::create_directories(stateDir);
    mcu::store::SqliteStore store(config.store.path.empty() ? (stateDir / "mcu.db").string()
                                                            : config.store.path);
    mcu::auth::OpenSslCrypto crypto(
        mcu::auth::OpenSslCrypto::loadOrCreateSigningKey(stateDir / "signing.key"),
        config.auth.scryptCost);
    mcu::server::SystemClock clock;
    mcu::core::AuthSettings authSettings;
    authSettings.sessionTtlSeconds = config.auth.sessionTtlMinutes * 60;
    authSettings.maxFailures = config.auth.maxLoginFailures;
    authSettings.failureWindowSeconds = config.auth.loginWindowSeconds;
    authSettings.minPasswordLength = config.auth.minPasswordLength;
    mcu::core::AuthService auth(store, crypto, clock, authSettings);
    mcu::core::MeetingService meetings(store, crypto, clock);
    meetings.setAuth(&auth);
    meetings.loadTree([&] { return mcu::server::loadOrgTree(config.org.file).units(); });
    for (const auto& m : config.meetings) {
      if (m.open) meetings.addStandingMeeting(m.code, m.title);
    }
    const auto adminPassword = auth.bootstrapAdmin();

    boost::asio::io_context io;
    mcu::server::AsioExecutor core(io);
    mcu::core::Conference* conferencePtr = nullptr;
    MeetingChanges changes(core, conferencePtr);
    meetings.setListener(&changes);
    mcu::media::GstMediaPort media(config, core);
    mcu::signaling::Server server(io, config, core);
    mcu::core::Conference conference(config, core, media, server.signalPort(), &meetings);
    conferencePtr = &conference;
    // Site health events (joined, went red, recovered, ...): one JSON line each, at warn when a
    // site goes red or drops so an operator's log filter catches them.
    const mcu::signaling::Log siteLog{"monitor"};
    conference.setSiteEventListener([&siteLog](const std::string& meeting, const std::string& site,
                                               const std::string& name,
                                               const mcu::core::SiteEvent& e) {
      const bool bad = e.kind == "red" || e.kind == "dropped";
      const std::string event = "site." + e.kind;  // outlives the fields that borrow it
      const std::string text = "site " + e.kind;
      const mcu::signaling::LogField fields[] = {{"event", event},
                                                 {"meeting", meeting},
                                                 {"site", site},
                                                 {"name", name},
                                                 {"detail", e.detail}};
      siteLog.write(bad ? mcu::signaling::LogLevel::kWarn : mcu::signaling::LogLevel::kInfo, text,
                    fields);
    });
    media.setEvents(&conference);
    server.attach(conference);
    mcu::signaling::RestApi api(
        auth, meetings, parseUnits,
        [&store](std::int64_t before, std::size_t limit) { return store.audit(before, limit); });
    server.attachApi(api);
    const std::uint16_t port = server.start();

    // Meetings the clock has left behind are ended now and then, on the core strand (as the
    // rooms' joins are); the listener sends their rooms away.
    const auto sweepEvery = std::chrono::seconds(config.schedule.sweepSeconds);
    const mcu::core::UnixTime endGrace = config.schedule.endGraceMinutes * 60;
    std::function<void()> sweep = [&] {
      try {
        for (const auto& m : meetings.sweep(endGrace)) {
          kLog.info("meeting ended past its end time", {{"meeting", m.code}, {"meetingId", m.id}});
        }
      } catch (const std::exception& e) {
        kLog.error(std::string("sweeping ended meetings failed: ") + e.what());
      }
      core.schedule(sweepEvery, sweep);
    };
    core.post([&] { sweep(); });

    const std::string base =
        "https://" + config.server.publicHost + ":" + std::to_string(port) + "/";
    if (adminPassword) {  // printed before "listening", which tools wait for
      std::cout << "First start: created the account 'admin' with the one-time password "
                << *adminPassword << " (shown only now; it must be changed at first login)"
                << std::endl;
    }
    std::cout << "mcu-server listening on " << base << std::endl;
    std::cout << "Host console: " << base << "host" << std::endl;
    if (!config.meetings.empty()) {
      std::cout << "Open " << base << "join/" << config.meetings.front().code << std::endl;
    }

    boost::asio::signal_set signals(io, SIGINT, SIGTERM);
    signals.async_wait([&](const boost::system::error_code&, int) {
      kLog.info("stopping");
      server.stop();
      core.post([&] {
        conferencePtr = nullptr;
        media.shutdown();
        io.stop();
      });
    });

    std::vector<std::thread> threads;
    for (int i = 1; i < config.server.ioThreads; ++i) threads.emplace_back([&] { io.run(); });
    io.run();
    for (auto& t : threads) t.join();
    return 0;
  } catch (const std::exception& e) {
    kLog.error(e.what());
    return 1;
  }
}
