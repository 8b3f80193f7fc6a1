// signaling::Server in-process on 127.0.0.1, with the real Conference and a fake media layer:
// what the spawned binary cannot show from outside (slow-client drop, stop(), disconnect
// reaching the conference). Waits on conditions, never on sleeps.
#include <gtest/gtest.h>

#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/strand.hpp>
#include <filesystem>
#include <future>
#include <nlohmann/json.hpp>
#include <thread>

#include "mcu/core/Conference.hpp"
#include "signaling/Server.hpp"
#include "tests/support/ServerProcess.hpp"
#include "tests/support/WsClient.hpp"

namespace mcu::signaling {
namespace {

namespace net = boost::asio;
using nlohmann::json;
using testsupport::WsClient;
constexpr auto kWait = std::chrono::seconds(20);

class StrandExecutor : public core::Executor {
 public:
  explicit StrandExecutor(net::io_context& io) : strand_(net::make_strand(io)) {}
  void post(std::function<void()> fn) override { net::post(strand_, std::move(fn)); }

 private:
  net::strand<net::io_context::executor_type> strand_;
};

// Timers that never fire: no test here waits for the answer timeout.
class IdleTimers : public core::Timers {
 public:
  core::TimerId schedule(std::chrono::milliseconds, std::function<void()>) override {
    return ++next_;
  }
  void cancel(core::TimerId) override {}

 private:
  core::TimerId next_ = 0;
};

// Offers at once, with one audio and one video m-line; ignores everything else.
class FakeMedia : public core::MediaPort {
 public:
  explicit FakeMedia(core::Executor& executor) : executor_(executor) {}
  void addParticipant(const std::string&, const core::ParticipantId& id,
                      const std::string&) override {
    executor_.post([this, id] { events->onLocalOffer(id, "v=0\r\nm=audio 9\r\nm=video 9\r\n"); });
  }
  void removeParticipant(const std::string&, const core::ParticipantId&) override {}
  void setRemoteAnswer(const core::ParticipantId&, const std::string&) override {}
  void addRemoteCandidate(const core::ParticipantId&, int, const std::string&) override {}
  void setLayout(const std::string&, const std::vector<core::TilePlacement>&) override {}
  void setAudioMuted(const core::ParticipantId&, bool) override {}
  void setNotice(const std::string&, const std::string&) override {}
  core::MediaEvents* events = nullptr;

 private:
  core::Executor& executor_;
};

class SignalingServerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    stateDir_ = testsupport::makeTempDir("mcu-signaling-");
    config_.server.bind = "127.0.0.1";
    config_.server.port = 0;
    config_.server.stateDir = stateDir_;
    config_.server.webRoot = stateDir_;
    config_.server.writeQueueLimit = 8;
    server_ = std::make_unique<Server>(io_, config_, executor_);
    conference_ =
        std::make_unique<core::Conference>(config_, timers_, media_, server_->signalPort());
    media_.events = conference_.get();
    server_->attach(*conference_);
    port_ = server_->start();
    thread_ = std::thread([this] { io_.run(); });
  }

  void TearDown() override {
    server_->stop();
    work_.reset();
    io_.stop();
    thread_.join();
    server_.reset();
    conference_.reset();
    std::filesystem::remove_all(stateDir_);
  }

  // Runs fn on the core executor and returns its result.
  template <typename Fn>
  auto onCore(Fn fn) {
    std::packaged_task<decltype(fn())()> task(std::move(fn));
    auto result = task.get_future();
    executor_.post([&task] { task(); });
    return result.get();
  }

  std::unique_ptr<WsClient> joined(const std::string& name) {
    auto client = std::make_unique<WsClient>();
    client->connect(port_, kWait);
    client->sendText(
        json({{"type", "join"}, {"id", 1}, {"meeting", "demo"}, {"name", name}}).dump());
    const auto reply = client->receiveUntil(
        [](const std::string& t) { return json::parse(t)["type"] == "offer"; }, kWait);
    EXPECT_TRUE(reply) << "no offer for " << name;
    return client;
  }

  net::io_context io_;
  net::executor_work_guard<net::io_context::executor_type> work_ = net::make_work_guard(io_);
  StrandExecutor executor_{io_};
  IdleTimers timers_;
  FakeMedia media_{executor_};
  core::Config config_;
  std::string stateDir_;
  std::unique_ptr<Server> server_;
  std::unique_ptr<core::Conference> conference_;
  std::uint16_t port_ = 0;
  std::thread thread_;
};

TEST_F(SignalingServerTest, DisconnectReachesTheConference) {
  auto client = joined("Xã Một");
  EXPECT_EQ(onCore([this] { return conference_->participantCount(); }), 1u);
  client->drop();
  // The disconnect is posted to the core executor; poll it there until it has run.
  const auto deadline = std::chrono::steady_clock::now() + kWait;
  while (onCore([this] { return conference_->participantCount(); }) != 0 &&
         std::chrono::steady_clock::now() < deadline) {
    std::this_thread::yield();
  }
  EXPECT_EQ(onCore([this] { return conference_->participantCount(); }), 0u);
}

TEST_F(SignalingServerTest, AClientThatCannotKeepUpIsDropped) {
  auto client = joined("Chậm");
  // A burst far over the write queue limit, sent in one go on the core executor: the session's
  // queue overflows before its first write completes. Connection ids count from 1 per server.
  const std::string bulky(16 * 1024, 'x');
  onCore([this, &bulky] {
    for (int i = 0; i < 200; ++i) server_->signalPort().send(1, core::OfferMsg{bulky});
    return 0;
  });
  EXPECT_TRUE(client->waitClosed(kWait));
  // And the conference forgets the room.
  const auto deadline = std::chrono::steady_clock::now() + kWait;
  while (onCore([this] { return conference_->participantCount(); }) != 0 &&
         std::chrono::steady_clock::now() < deadline) {
    std::this_thread::yield();
  }
  EXPECT_EQ(onCore([this] { return conference_->participantCount(); }), 0u);
}

TEST_F(SignalingServerTest, BroadcastIsDeliveredToEveryConnection) {
  auto a = joined("A");
  auto b = joined("B");
  onCore([this] {
    server_->signalPort().broadcast({1, 2, 99}, core::MediaStateMsg{core::LegState::kConnected});
    return 0;
  });
  for (auto* client : {a.get(), b.get()}) {
    const auto state = client->receiveUntil(
        [](const std::string& t) { return json::parse(t)["type"] == "media-state"; }, kWait);
    ASSERT_TRUE(state);
    EXPECT_EQ(json::parse(*state)["state"], "connected");
  }
}

TEST_F(SignalingServerTest, FramesFarOverTheLimitAreRefusedByClosing) {
  WsClient client;
  client.connect(port_, kWait);
  // The server may close while the frame is still being written, so the write may fail; and a
  // TCP reset can then discard the close frame before the client reads it.
  try {
    client.sendText(std::string(512 * 1024, ' '));
  } catch (const std::runtime_error&) {
  }
  ASSERT_TRUE(client.waitClosed(kWait));
  if (client.closeCode()) {
    EXPECT_EQ(*client.closeCode(), 1009);
  }
}

TEST_F(SignalingServerTest, StopClosesSessionsAndTheListener) {
  WsClient client;
  client.connect(port_, kWait);
  server_->stop();
  ASSERT_TRUE(client.waitClosed(kWait));
  EXPECT_EQ(client.closeCode(), 1001);
  WsClient late;
  EXPECT_THROW(late.connect(port_, std::chrono::seconds(5)), std::runtime_error);
}

}  // namespace
}  // namespace mcu::signaling
