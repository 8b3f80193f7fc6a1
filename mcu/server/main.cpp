// mcu-server: the composition root. Wires the conference model to the signaling front door and
// the GStreamer media layer, all on one io_context; the core runs on its own strand.
#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <future>
#include <iostream>
#include <string>
#include <thread>
#include <vector>

#include "mcu/core/Conference.hpp"
#include "mcu/server/AsioExecutor.hpp"
#include "mcu/server/ConfigLoader.hpp"
#include "media/MediaPort.hpp"
#include "signaling/Server.hpp"

namespace {

struct Options {
  std::string configFile;
  int port = -1;
  std::string stateDir;
  std::string webRoot;
  std::string bind;
};

void usage() {
  std::cerr << "usage: mcu-server [--config FILE] [--port N] [--bind ADDR] [--state-dir DIR]"
               " [--web-root DIR]\n";
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
  return config;
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
    mcu::media::initGStreamer();

    boost::asio::io_context io;
    mcu::server::AsioExecutor core(io);
    mcu::media::GstMediaPort media(config, core);
    mcu::signaling::Server server(io, config, core);
    mcu::core::Conference conference(config, core, media, server.signalPort());
    media.setEvents(&conference);
    server.attach(conference);
    const std::uint16_t port = server.start();

    const std::string base =
        "https://" + config.server.publicHost + ":" + std::to_string(port) + "/";
    std::cout << "mcu-server listening on " << base << std::endl;
    if (!config.meetings.empty()) {
      std::cout << "Open " << base << "join/" << config.meetings.front().code << std::endl;
    }

    boost::asio::signal_set signals(io, SIGINT, SIGTERM);
    signals.async_wait([&](const boost::system::error_code&, int) {
      std::cerr << "mcu-server: stopping" << std::endl;
      server.stop();
      core.post([&] {
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
    std::cerr << "mcu-server: " << e.what() << std::endl;
    return 1;
  }
}
