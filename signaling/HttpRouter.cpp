#include "signaling/HttpRouter.hpp"

#include <algorithm>
#include <array>
#include <cctype>
#include <fstream>
#include <sstream>
#include <utility>

namespace mcu::signaling {

namespace {

constexpr std::array<std::pair<std::string_view, std::string_view>, 13> kContentTypes{{
    {".html", "text/html; charset=utf-8"},
    {".js", "text/javascript; charset=utf-8"},
    {".mjs", "text/javascript; charset=utf-8"},
    {".css", "text/css; charset=utf-8"},
    {".json", "application/json; charset=utf-8"},
    {".map", "application/json; charset=utf-8"},
    {".svg", "image/svg+xml; charset=utf-8"},
    {".txt", "text/plain; charset=utf-8"},
    {".png", "image/png"},
    {".ico", "image/x-icon"},
    {".woff2", "font/woff2"},
    {".webmanifest", "application/manifest+json; charset=utf-8"},
    {".wasm", "application/wasm"},
}};

HttpReply plain(int status, std::string body) {
  return HttpReply{status, "text/plain; charset=utf-8", std::move(body) + "\n", {}};
}

int hexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// `prefix` followed by one non-empty segment: /join/CODE, /room/SECRET.
bool isOneSegmentUnder(std::string_view path, std::string_view prefix) {
  return path.size() > prefix.size() && path.substr(0, prefix.size()) == prefix &&
         path.find('/', prefix.size()) == std::string_view::npos;
}

bool isInside(const std::filesystem::path& file, const std::filesystem::path& root) {
  const auto [rootEnd, fileIt] = std::mismatch(root.begin(), root.end(), file.begin(), file.end());
  return rootEnd == root.end();
}

std::optional<std::string> readFile(const std::filesystem::path& file) {
  std::ifstream in(file, std::ios::binary);
  if (!in) return std::nullopt;
  std::ostringstream out;
  out << in.rdbuf();
  return std::move(out).str();
}

}  // namespace

std::string_view contentTypeFor(const std::filesystem::path& file) {
  std::string ext = file.extension().string();
  std::transform(ext.begin(), ext.end(), ext.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  for (const auto& [suffix, type] : kContentTypes) {
    if (ext == suffix) return type;
  }
  return "application/octet-stream";
}

std::optional<std::string> decodePath(std::string_view target) {
  target = target.substr(0, target.find_first_of("?#"));
  if (target.empty() || target.front() != '/') return std::nullopt;
  std::string out;
  out.reserve(target.size());
  for (std::size_t i = 0; i < target.size(); ++i) {
    if (target[i] != '%') {
      out.push_back(target[i]);
      continue;
    }
    const int hi = i + 2 < target.size() ? hexValue(target[i + 1]) : -1;
    const int lo = hi >= 0 ? hexValue(target[i + 2]) : -1;
    if (lo < 0) return std::nullopt;
    out.push_back(static_cast<char>(hi * 16 + lo));
    i += 2;
  }
  if (out.find('\0') != std::string::npos) return std::nullopt;
  return out;
}

std::string loggableTarget(std::string_view target) {
  constexpr std::string_view kRoom = "/room/";
  const auto path = target.substr(0, target.find_first_of("?#"));
  const auto room = path.find(kRoom);
  if (room == std::string_view::npos) return std::string(target);
  const auto secretEnd = std::min(path.find('/', room + kRoom.size()), path.size());
  return std::string(target.substr(0, room + kRoom.size())) + "***" +
         std::string(target.substr(secretEnd));
}

HttpRouter::HttpRouter(std::filesystem::path webRoot) : webRoot_(std::move(webRoot)) {}

bool HttpRouter::isWebSocketTarget(std::string_view target) {
  return decodePath(target) == std::optional<std::string>("/ws");
}

HttpReply HttpRouter::handle(std::string_view method, std::string_view target) const {
  if (method != "GET") {
    HttpReply reply = plain(405, "method not allowed");
    reply.allow = "GET";
    return reply;
  }
  const auto path = decodePath(target);
  if (!path) return plain(400, "bad request target");
  if (*path == "/healthz") return HttpReply{200, "application/json", R"({"status":"ok"})", {}};
  if (*path == "/ws") return plain(426, "this endpoint speaks WebSocket only");
  if (*path == "/") return serveFile("/index.html");
  if (*path == "/host") return serveFile("/host.html");
  if (*path == "/monitor") return serveFile("/monitor.html");
  // A bridge point's bookmark: the page reads the secret from its own path.
  if (isOneSegmentUnder(*path, "/join/") || isOneSegmentUnder(*path, "/room/")) {
    return serveFile("/room.html");
  }
  return serveFile(*path);
}

HttpReply HttpRouter::serveFile(const std::string& urlPath) const {
  const auto file = resolve(urlPath);
  if (!file) return plain(404, "not found");
  auto body = readFile(*file);
  if (!body) return plain(404, "not found");
  return HttpReply{200, std::string(contentTypeFor(*file)), std::move(*body), {}};
}

// Maps a URL path to a regular file under the web root. Refuses dot segments, backslashes,
// hidden files, the web client's npm set-up (package files, node_modules: its libraries are
// served from vendor/, copied there by scripts/setup.sh) and anything whose real path (after
// symlinks) leaves the root.
std::optional<std::filesystem::path> HttpRouter::resolve(const std::string& urlPath) const {
  std::filesystem::path relative;
  std::istringstream segments(urlPath.substr(1));
  for (std::string segment; std::getline(segments, segment, '/');) {
    if (segment == ".." || segment == "." || segment.find('\\') != std::string::npos ||
        segment.starts_with('.') || segment == "node_modules" || segment == "package.json" ||
        segment == "package-lock.json") {
      return std::nullopt;
    }
    if (!segment.empty()) relative /= segment;
  }
  std::error_code ec;
  const auto root = std::filesystem::canonical(webRoot_, ec);
  if (ec) return std::nullopt;
  auto file = std::filesystem::weakly_canonical(root / relative, ec);
  if (ec || !isInside(file, root)) return std::nullopt;
  if (std::filesystem::is_directory(file, ec)) file /= "index.html";
  if (!std::filesystem::is_regular_file(file, ec)) return std::nullopt;
  return file;
}

}  // namespace mcu::signaling
