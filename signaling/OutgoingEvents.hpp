#pragma once
// Private to signaling/: what the signaling layer learns from the messages the conference sends
// its clients. Every message passes here on the core executor on its way out (SignalAdapter):
// joins and protocol errors are counted for /metrics (one atomic increment each) and room events
// become log lines carrying the room's meeting and site, which the conference's messages to a
// connection reveal (`joined` names both).
#include <string>
#include <unordered_map>

#include "mcu/core/Messages.hpp"
#include "signaling/ServerState.hpp"

namespace mcu::signaling {

class OutgoingEvents {
 public:
  explicit OutgoingEvents(ServerState& state) : state_(state) {}
  OutgoingEvents(const OutgoingEvents&) = delete;
  OutgoingEvents& operator=(const OutgoingEvents&) = delete;

  // One message to one connection (a broadcast calls it per recipient). Core executor only.
  void sent(core::ConnectionId connection, const core::ServerMessage& message);

 private:
  // The meeting and site of a connection's room, from its `joined` until it leaves.
  struct Presence {
    std::string meeting;
    std::string site;
  };
  void joined(core::ConnectionId connection, const core::JoinedMsg& message);
  void left(core::ConnectionId connection, const char* what, const std::string& reason);
  void error(core::ConnectionId connection, const core::ErrorMsg& message);
  void forgetClosedConnections();

  ServerState& state_;
  std::unordered_map<core::ConnectionId, Presence> presence_;
};

}  // namespace mcu::signaling
