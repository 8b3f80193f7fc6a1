#include "mcu/server/GstLogBridge.hpp"

#include <gst/gst.h>

#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "signaling/Log.hpp"

namespace mcu::server {

namespace {

using signaling::LogField;
using signaling::LogLevel;

LogLevel levelOf(GstDebugLevel level) {
  switch (level) {
    case GST_LEVEL_ERROR:
      return LogLevel::kError;
    case GST_LEVEL_WARNING:
    case GST_LEVEL_FIXME:
      return LogLevel::kWarn;
    case GST_LEVEL_INFO:
      return LogLevel::kInfo;
    default:
      return LogLevel::kDebug;
  }
}

// Called on whichever thread logged (streaming threads included): formats and writes, no locks.
void gstLog(GstDebugCategory* category, GstDebugLevel level, const gchar* file, const gchar*,
            gint line, GObject* object, GstDebugMessage* message, gpointer) {
  const gchar* text = gst_debug_message_get(message);
  if (!text) return;
  const std::string logger = std::string("gst.") + gst_debug_category_get_name(category);
  const std::string source = std::string(file ? file : "?") + ":" + std::to_string(line);
  std::vector<LogField> fields{{"src", source}};
  if (object && GST_IS_OBJECT(object) && GST_OBJECT_NAME(object)) {
    fields.push_back({"object", GST_OBJECT_NAME(object)});
  }
  const std::string_view meeting = keyValue(text, "meeting");
  const std::string_view site = keyValue(text, "participant");
  if (!meeting.empty()) fields.push_back({"meeting", meeting});
  if (!site.empty()) fields.push_back({"site", site});
  signaling::writeLogLine(levelOf(level), logger, text, fields);
}

bool glibDebugWanted(const gchar* domain) {
  const char* wanted = std::getenv("G_MESSAGES_DEBUG");
  if (!wanted) return false;
  const std::string_view list(wanted);
  return list.find("all") != std::string_view::npos ||
         (domain && list.find(domain) != std::string_view::npos);
}

void glibLog(const gchar* domain, GLogLevelFlags flags, const gchar* message, gpointer) {
  LogLevel level = LogLevel::kDebug;
  if (flags & (G_LOG_LEVEL_ERROR | G_LOG_LEVEL_CRITICAL)) {
    level = LogLevel::kError;
  } else if (flags & G_LOG_LEVEL_WARNING) {
    level = LogLevel::kWarn;
  } else if (flags & G_LOG_LEVEL_MESSAGE) {
    level = LogLevel::kInfo;
  } else if (!glibDebugWanted(domain)) {
    return;  // info and debug, as GLib's own handler: only when G_MESSAGES_DEBUG asks
  }
  const std::string logger = std::string("glib.") + (domain ? domain : "default");
  signaling::writeLogLine(level, logger, message ? message : "", {});
}

}  // namespace

std::string_view keyValue(std::string_view text, std::string_view key) {
  for (std::size_t at = text.find(key); at != std::string_view::npos; at = text.find(key, at + 1)) {
    const bool starts = at == 0 || text[at - 1] == ' ' || text[at - 1] == ',';
    const std::size_t value = at + key.size();
    if (!starts || value >= text.size() || text[value] != '=') continue;
    const std::size_t end = text.find_first_of(" ,", value + 1);
    return text.substr(value + 1, end == std::string_view::npos ? end : end - value - 1);
  }
  return {};
}

void routeGStreamerLogsToJson() {
  gst_debug_remove_log_function(gst_debug_log_default);
  gst_debug_add_log_function(gstLog, nullptr, nullptr);
  g_log_set_default_handler(glibLog, nullptr);
}

}  // namespace mcu::server
