#pragma once
// GStreamer's debug log and GLib's messages as the server's own JSON log lines (signaling/Log),
// so that stderr holds one JSON object per line whoever wrote it. Which GStreamer lines are
// written is still chosen by GST_DEBUG, and GLib's debug and info messages by G_MESSAGES_DEBUG;
// the config's logLevel does not filter them further.
#include <string_view>

namespace mcu::server {

// Replaces GStreamer's default log function and GLib's default handler. Call once, after
// gst_init (media::initGStreamer()).
void routeGStreamerLogsToJson();

// The value of `key=VALUE` in a log text (VALUE ends at a space or a comma), or empty: lifts
// `meeting=` and `participant=` out of the media layer's messages into fields.
std::string_view keyValue(std::string_view text, std::string_view key);

}  // namespace mcu::server
