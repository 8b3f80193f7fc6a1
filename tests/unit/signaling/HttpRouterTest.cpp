#include "signaling/HttpRouter.hpp"

#include <gtest/gtest.h>
#include <unistd.h>

#include <fstream>

namespace mcu::signaling {
namespace {

namespace fs = std::filesystem;

// A throw-away web root: index.html, room.html, a few assets, and a secret next to the root
// that traversal must not reach.
class HttpRouterTest : public ::testing::Test {
 protected:
  void SetUp() override {
    base_ = fs::temp_directory_path() /
            ("mcu-router-" + std::to_string(::getpid()) + "-" +
             ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(base_);
    fs::create_directories(root() / "js");
    fs::create_directories(root() / "docs");
    write(root() / "index.html", "<h1>index</h1>");
    write(root() / "room.html", "<h1>phòng</h1>");
    write(root() / "host.html", "<h1>host</h1>");
    write(root() / "monitor.html", "<h1>monitor</h1>");
    fs::create_directories(root() / "vendor" / "uplot");
    write(root() / "vendor" / "uplot" / "uPlot.esm.js", "export default class uPlot {}");
    write(root() / "vendor" / "uplot" / "uPlot.min.css", ".uplot{}");
    write(root() / "js" / "room.js", "export {}");
    write(root() / "docs" / "index.html", "docs");
    write(root() / "app.css", "body{}");
    write(base_ / "secret.txt", "secret");
    fs::create_symlink(base_ / "secret.txt", root() / "link.txt");
  }
  void TearDown() override { fs::remove_all(base_); }

  fs::path root() const { return base_ / "web"; }
  static void write(const fs::path& p, const std::string& text) { std::ofstream(p) << text; }
  HttpReply get(std::string_view target) const { return HttpRouter(root()).handle("GET", target); }

  fs::path base_;
};

TEST_F(HttpRouterTest, Healthz) {
  const auto r = get("/healthz");
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.contentType, "application/json");
  EXPECT_EQ(r.body, R"({"status":"ok"})");
}

TEST_F(HttpRouterTest, RootServesIndex) {
  const auto r = get("/");
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.body, "<h1>index</h1>");
  EXPECT_EQ(r.contentType, "text/html; charset=utf-8");
}

TEST_F(HttpRouterTest, JoinServesRoomPage) {
  for (const auto* target :
       {"/join/demo", "/join/demo?name=X%C3%A3%20B%E1%BA%A3n", "/join/ABC-123"}) {
    const auto r = get(target);
    EXPECT_EQ(r.status, 200) << target;
    EXPECT_EQ(r.body, "<h1>phòng</h1>") << target;
  }
  EXPECT_EQ(get("/join/").status, 404);
  EXPECT_EQ(get("/join/demo/extra").status, 404);
}

TEST_F(HttpRouterTest, HostServesHostConsole) {
  for (const auto* target : {"/host", "/host?tab=meetings", "/host.html"}) {
    const auto r = get(target);
    EXPECT_EQ(r.status, 200) << target;
    EXPECT_EQ(r.body, "<h1>host</h1>") << target;
    EXPECT_EQ(r.contentType, "text/html; charset=utf-8") << target;
  }
  EXPECT_EQ(get("/host/extra").status, 404);
}

TEST_F(HttpRouterTest, MonitorServesDashboard) {
  for (const auto* target : {"/monitor", "/monitor?site=x", "/monitor.html"}) {
    const auto r = get(target);
    EXPECT_EQ(r.status, 200) << target;
    EXPECT_EQ(r.body, "<h1>monitor</h1>") << target;
    EXPECT_EQ(r.contentType, "text/html; charset=utf-8") << target;
  }
  EXPECT_EQ(get("/monitor/extra").status, 404);
  fs::remove(root() / "monitor.html");
  EXPECT_EQ(get("/monitor").status, 404);
}

// The dashboard's chart library, copied under vendor/ by scripts/setup.sh.
TEST_F(HttpRouterTest, VendoredFilesWithTypes) {
  const auto js = get("/vendor/uplot/uPlot.esm.js");
  EXPECT_EQ(js.status, 200);
  EXPECT_EQ(js.contentType, "text/javascript; charset=utf-8");
  const auto css = get("/vendor/uplot/uPlot.min.css");
  EXPECT_EQ(css.status, 200);
  EXPECT_EQ(css.contentType, "text/css; charset=utf-8");
  EXPECT_EQ(get("/vendor/uplot/missing.js").status, 404);
}

TEST_F(HttpRouterTest, TheWebClientsNpmSetUpAndHiddenFilesAreNotServed) {
  fs::create_directories(root() / "node_modules" / "uplot" / "dist");
  write(root() / "node_modules" / "uplot" / "dist" / "uPlot.esm.js", "export {}");
  write(root() / "package.json", "{}");
  write(root() / "package-lock.json", "{}");
  write(root() / ".setup-stamp", "x");
  for (const auto* target : {"/node_modules/uplot/dist/uPlot.esm.js", "/package.json",
                             "/package-lock.json", "/.setup-stamp", "/js/../package.json"}) {
    EXPECT_EQ(get(target).status, 404) << target;
  }
  EXPECT_EQ(get("/vendor/uplot/uPlot.esm.js").status, 200);
}

TEST_F(HttpRouterTest, RoomLinkServesRoomPage) {
  for (const auto* target : {"/room/Zx3_-abcDEF0123456789", "/room/s3cr3t?x=1", "/room/a%2Db"}) {
    const auto r = get(target);
    EXPECT_EQ(r.status, 200) << target;
    EXPECT_EQ(r.body, "<h1>phòng</h1>") << target;
    EXPECT_EQ(r.contentType, "text/html; charset=utf-8") << target;
  }
  EXPECT_EQ(get("/room/").status, 404);
  EXPECT_EQ(get("/room").status, 404);
  EXPECT_EQ(get("/room/secret/extra").status, 404);
}

TEST_F(HttpRouterTest, HostAndRoomPagesMissingAre404) {
  fs::remove(root() / "host.html");
  fs::remove(root() / "room.html");
  EXPECT_EQ(get("/host").status, 404);
  EXPECT_EQ(get("/room/abc").status, 404);
}

TEST_F(HttpRouterTest, StaticFilesWithTypes) {
  EXPECT_EQ(get("/js/room.js").contentType, "text/javascript; charset=utf-8");
  EXPECT_EQ(get("/app.css").body, "body{}");
  EXPECT_EQ(get("/docs/").body, "docs");
  EXPECT_EQ(get("/docs").body, "docs");
  EXPECT_EQ(get("/app.css?v=3").status, 200);
  EXPECT_EQ(get("/missing.js").status, 404);
}

TEST_F(HttpRouterTest, TraversalIsRefused) {
  for (const auto* target :
       {"/../secret.txt", "/js/../../secret.txt", "/%2e%2e/secret.txt", "/%2E%2E%2Fsecret.txt",
        "/js/..%2f..%2fsecret.txt", "/..\\secret.txt", "/link.txt", "/%00", "/%zz", "/%2"}) {
    const auto r = get(target);
    EXPECT_TRUE(r.status == 404 || r.status == 400) << target << " -> " << r.status;
    EXPECT_EQ(r.body.find("secret"), std::string::npos) << target;
  }
}

TEST_F(HttpRouterTest, OnlyGet) {
  const HttpRouter router(root());
  for (const auto* method : {"POST", "PUT", "DELETE", "HEAD", "OPTIONS"}) {
    const auto r = router.handle(method, "/");
    EXPECT_EQ(r.status, 405) << method;
    EXPECT_EQ(r.allow, "GET");
  }
}

TEST_F(HttpRouterTest, WebSocketPathWithoutUpgrade) {
  EXPECT_EQ(get("/ws").status, 426);
  EXPECT_TRUE(HttpRouter::isWebSocketTarget("/ws"));
  EXPECT_TRUE(HttpRouter::isWebSocketTarget("/ws?x=1"));
  EXPECT_FALSE(HttpRouter::isWebSocketTarget("/wss"));
  EXPECT_FALSE(HttpRouter::isWebSocketTarget("/ws/"));
}

TEST_F(HttpRouterTest, MissingWebRootIs404) {
  EXPECT_EQ(HttpRouter(base_ / "nope").handle("GET", "/").status, 404);
  EXPECT_EQ(HttpRouter(base_ / "nope").handle("GET", "/healthz").status, 200);
}

TEST(ContentType, KnownExtensions) {
  EXPECT_EQ(contentTypeFor("a.html"), "text/html; charset=utf-8");
  EXPECT_EQ(contentTypeFor("a.HTML"), "text/html; charset=utf-8");
  EXPECT_EQ(contentTypeFor("a.js"), "text/javascript; charset=utf-8");
  EXPECT_EQ(contentTypeFor("a.mjs"), "text/javascript; charset=utf-8");
  EXPECT_EQ(contentTypeFor("a.css"), "text/css; charset=utf-8");
  EXPECT_EQ(contentTypeFor("a.json"), "application/json; charset=utf-8");
  EXPECT_EQ(contentTypeFor("a.js.map"), "application/json; charset=utf-8");
  EXPECT_EQ(contentTypeFor("a.svg"), "image/svg+xml; charset=utf-8");
  EXPECT_EQ(contentTypeFor("a.png"), "image/png");
  EXPECT_EQ(contentTypeFor("favicon.ico"), "image/x-icon");
  EXPECT_EQ(contentTypeFor("f.woff2"), "font/woff2");
  EXPECT_EQ(contentTypeFor("blob"), "application/octet-stream");
}

TEST(LoggableTarget, HidesRoomSecrets) {
  EXPECT_EQ(loggableTarget("/room/s3cret"), "/room/***");
  EXPECT_EQ(loggableTarget("/room/s3cret?x=1"), "/room/***?x=1");
  EXPECT_EQ(loggableTarget("/api/v1/room/s3cret"), "/api/v1/room/***");
  EXPECT_EQ(loggableTarget("/api/v1/meetings?from=2026-01-01T00:00:00Z"),
            "/api/v1/meetings?from=2026-01-01T00:00:00Z");
  EXPECT_EQ(loggableTarget("/join/demo"), "/join/demo");
}

TEST(DecodePath, Decoding) {
  EXPECT_EQ(decodePath("/a%20b?c=d#e"), "/a b");
  EXPECT_EQ(decodePath("/X%C3%A3"), "/Xã");
  EXPECT_EQ(decodePath("relative"), std::nullopt);
  EXPECT_EQ(decodePath(""), std::nullopt);
  EXPECT_EQ(decodePath("/%4"), std::nullopt);
  EXPECT_EQ(decodePath("/%00"), std::nullopt);
}

}  // namespace
}  // namespace mcu::signaling
