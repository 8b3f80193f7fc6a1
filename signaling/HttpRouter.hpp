#pragma once
// What each plain HTTP request gets: /healthz, the room page for /join/CODE and /room/SECRET, the
// host console for /host, the technicians' dashboard for /monitor, and the web client's static
// files. Pure request -> reply mapping (no sockets, no Beast) so it is unit-tested directly.
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>

namespace mcu::signaling {

struct HttpReply {
  int status = 200;
  std::string contentType;
  std::string body;
  std::string allow;  // the Allow header of a 405
};

class HttpRouter {
 public:
  explicit HttpRouter(std::filesystem::path webRoot);

  HttpReply handle(std::string_view method, std::string_view target) const;
  // True for the WebSocket endpoint, whatever the query string.
  static bool isWebSocketTarget(std::string_view target);

 private:
  HttpReply serveFile(const std::string& urlPath) const;
  std::optional<std::filesystem::path> resolve(const std::string& urlPath) const;

  std::filesystem::path webRoot_;
};

// Content-Type for a file by extension; text types carry charset=utf-8.
std::string_view contentTypeFor(const std::filesystem::path& file);
// The path of a request target, percent-decoded, without query or fragment; nullopt when the
// target is not an absolute path or its escapes are malformed.
std::optional<std::string> decodePath(std::string_view target);
// The target as a log line may show it: a room link's secret (/room/SECRET, also under /api/) is
// a credential and is replaced by "***".
std::string loggableTarget(std::string_view target);

}  // namespace mcu::signaling
