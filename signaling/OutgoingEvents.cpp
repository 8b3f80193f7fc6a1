#include "signaling/OutgoingEvents.hpp"

#include <vector>

#include "signaling/Log.hpp"

namespace mcu::signaling {

namespace {

const Log kLog{"signaling.rooms"};

// A connection that closes without a last message to it (a dropped socket) leaves its entry
// behind; entries are swept once they outnumber the open sessions by this much, which keeps the
// table bounded at an amortised O(1) per message.
constexpr std::size_t kSweepSlack = 64;

}  // namespace

void OutgoingEvents::sent(core::ConnectionId connection, const core::ServerMessage& message) {
  if (const auto* m = std::get_if<core::ErrorMsg>(&message)) return error(connection, *m);
  if (const auto* m = std::get_if<core::JoinedMsg>(&message)) return joined(connection, *m);
  if (std::holds_alternative<core::LeftMsg>(message)) return left(connection, "room left", "");
  if (const auto* m = std::get_if<core::MeetingEndedMsg>(&message)) {
    return left(connection, "meeting ended for room", m->reason);
  }
}

void OutgoingEvents::joined(core::ConnectionId connection, const core::JoinedMsg& message) {
  state_.metrics.roomJoined();
  if (presence_.size() > 2 * state_.sessions.size() + kSweepSlack) forgetClosedConnections();
  presence_[connection] = Presence{message.meeting, message.you};
  kLog.info("room joined",
            {{"conn", connection}, {"meeting", message.meeting}, {"site", message.you}});
}

void OutgoingEvents::left(core::ConnectionId connection, const char* what,
                          const std::string& reason) {
  const auto it = presence_.find(connection);
  if (it == presence_.end()) return;  // a waiting room, or one already gone
  if (reason.empty()) {
    kLog.info(what,
              {{"conn", connection}, {"meeting", it->second.meeting}, {"site", it->second.site}});
  } else {
    kLog.info(what, {{"conn", connection},
                     {"meeting", it->second.meeting},
                     {"site", it->second.site},
                     {"reason", reason}});
  }
  presence_.erase(it);
}

// Requests the conference refuses are bad input too, logged once here.
void OutgoingEvents::error(core::ConnectionId connection, const core::ErrorMsg& message) {
  state_.metrics.errorSent(message.code);
  const std::string_view code = core::errorName(message.code);
  const auto it = presence_.find(connection);
  std::vector<LogField> fields{{"conn", connection}, {"code", code}};
  if (message.requestId) fields.push_back({"id", *message.requestId});
  fields.push_back({"detail", message.message});
  if (it == presence_.end()) return kLog.write(LogLevel::kWarn, "error sent", fields);
  fields.push_back({"meeting", it->second.meeting});
  fields.push_back({"site", it->second.site});
  kLog.write(LogLevel::kWarn, "error sent", fields);
  // These two take the room out of its meeting.
  if (message.code == core::ErrorCode::kAnswerTimeout ||
      message.code == core::ErrorCode::kMediaFailed) {
    presence_.erase(it);
  }
}

void OutgoingEvents::forgetClosedConnections() {
  std::erase_if(presence_,
                [this](const auto& entry) { return !state_.sessions.contains(entry.first); });
}

}  // namespace mcu::signaling
