#include "media/MediaPort.hpp"

#include <arpa/inet.h>
#include <gst/gst.h>
#include <ifaddrs.h>
#include <malloc.h>
#include <net/if.h>

#include <map>
#include <mutex>
#include <set>
#include <stdexcept>

#include "media/Mixer.hpp"

GST_DEBUG_CATEGORY_STATIC(port_debug);
#define GST_CAT_DEFAULT port_debug

namespace mcu::media {

namespace {

// Every element the mixer and its legs use. Checked once at start so that a missing plugin is a
// clear set-up failure instead of a room that silently gets no picture.
const char* kRequiredElements[] = {
    "webrtcbin",    "nicesrc",      "nicesink",    "dtlssrtpenc",  "dtlssrtpdec",   "rtpbin",
    "videotestsrc", "audiotestsrc", "compositor",  "audiomixer",   "vp8enc",        "vp8dec",
    "rtpvp8pay",    "rtpvp8depay",  "opusenc",     "opusdec",      "rtpopuspay",    "rtpopusdepay",
    "videoconvert", "videoscale",   "textoverlay", "audioconvert", "audioresample", "tee",
    "queue",        "capsfilter",   "fakesink",    "valve"};

// IPv4 addresses of every interface that is up, loopback included: what libnice would gather on
// by itself, plus loopback, which it skips.
std::vector<std::string> interfaceAddresses() {
  std::vector<std::string> out;
  ifaddrs* list = nullptr;
  if (getifaddrs(&list) != 0) return {"127.0.0.1"};
  for (ifaddrs* i = list; i; i = i->ifa_next) {
    if (!i->ifa_addr || i->ifa_addr->sa_family != AF_INET || !(i->ifa_flags & IFF_UP)) continue;
    char buf[INET_ADDRSTRLEN];
    const auto* sin = reinterpret_cast<const sockaddr_in*>(i->ifa_addr);
    if (inet_ntop(AF_INET, &sin->sin_addr, buf, sizeof buf)) out.emplace_back(buf);
  }
  freeifaddrs(list);
  if (out.empty()) out.emplace_back("127.0.0.1");
  return out;
}

}  // namespace

void initGStreamer() {
  static std::once_flag once;
  std::call_once(once, [] {
    gst_init(nullptr, nullptr);
    GST_DEBUG_CATEGORY_INIT(port_debug, "mcu-media", 0, "MCU media port");
  });
  std::string missing;
  for (const char* name : kRequiredElements) {
    GstElementFactory* f = gst_element_factory_find(name);
    if (!f)
      missing += std::string(missing.empty() ? "" : ", ") + name;
    else
      gst_object_unref(f);
  }
  if (!missing.empty()) {
    throw std::runtime_error("missing GStreamer elements: " + missing + " (run scripts/setup.sh)");
  }
}

struct GstMediaPort::Impl {
  const core::Config& config;
  core::Executor& strand;
  core::MediaEvents* events = nullptr;
  IceSettings ice;
  std::map<std::string, std::shared_ptr<Mixer>> mixers;  // by meeting
  std::map<core::ParticipantId, std::string> meetingOf;  // participant -> meeting
  std::map<std::string, std::string> notices;            // by meeting, for its next mixer
  std::set<std::string> selfHearing;                     // test calls' meetings

  Impl(const core::Config& c, core::Executor& s) : config(c), strand(s) {
    ice.localAddresses = c.ice.addresses.empty() ? interfaceAddresses() : c.ice.addresses;
    ice.stunServer = c.ice.stunServer;
    ice.minPort = c.ice.minPort;
    ice.maxPort = c.ice.maxPort;
  }

  Mixer* mixerOf(const core::ParticipantId& id) {
    auto it = meetingOf.find(id);
    if (it == meetingOf.end()) return nullptr;
    auto m = mixers.find(it->second);
    return m == mixers.end() ? nullptr : m->second.get();
  }
};

GstMediaPort::GstMediaPort(const core::Config& config, core::Executor& coreExecutor)
    : impl_(std::make_shared<Impl>(config, coreExecutor)) {
  initGStreamer();
}

GstMediaPort::~GstMediaPort() {
  shutdown();
}

void GstMediaPort::setEvents(core::MediaEvents* events) {
  impl_->events = events;
}

void GstMediaPort::addParticipant(const std::string& meeting, const core::ParticipantId& id,
                                  const std::string& displayName) {
  try {
    auto& mixer = impl_->mixers[meeting];
    if (!mixer) {
      mixer = Mixer::create(meeting, impl_->config, impl_->ice, impl_->strand, impl_->events);
      mixer->setSelfHearing(impl_->selfHearing.count(meeting) > 0);
      if (auto n = impl_->notices.find(meeting); n != impl_->notices.end()) {
        mixer->setNotice(n->second);
      }
    }
    impl_->meetingOf[id] = meeting;
    mixer->addRoom(id, displayName);
  } catch (const std::exception& e) {
    GST_ERROR("meeting=%s participant=%s cannot add room: %s", meeting.c_str(), id.c_str(),
              e.what());
    if (impl_->events) impl_->events->onLegError(id, core::ErrorCode::kMediaFailed, e.what());
  }
}

void GstMediaPort::removeParticipant(const std::string& meeting, const core::ParticipantId& id) {
  impl_->meetingOf.erase(id);
  auto it = impl_->mixers.find(meeting);
  if (it == impl_->mixers.end()) return;
  it->second->removeRoom(id);
  if (it->second->empty()) {
    it->second->stop();
    impl_->mixers.erase(it);
    // A meeting's streaming threads each allocate from their own glibc arena, which keeps the
    // freed pages once they exit: hand them back now (a few ms, once per meeting) so the
    // process's size follows the live meetings instead of the largest past ones.
    malloc_trim(0);
  }
}

void GstMediaPort::setRemoteAnswer(const core::ParticipantId& id, const std::string& sdp) {
  if (Mixer* m = impl_->mixerOf(id)) m->setAnswer(id, sdp);
}

void GstMediaPort::addRemoteCandidate(const core::ParticipantId& id, int mline,
                                      const std::string& candidate) {
  if (Mixer* m = impl_->mixerOf(id)) m->addCandidate(id, mline, candidate);
}

void GstMediaPort::setLayout(const std::string& meeting,
                             const std::vector<core::TilePlacement>& tiles) {
  if (auto it = impl_->mixers.find(meeting); it != impl_->mixers.end()) {
    it->second->setLayout(tiles);
  }
}

void GstMediaPort::setAudioMuted(const core::ParticipantId& id, bool muted) {
  if (Mixer* m = impl_->mixerOf(id)) m->setAudioMuted(id, muted);
}

// Kept per meeting too, so a meeting whose mixer starts (again) later shows it from the start.
void GstMediaPort::setNotice(const std::string& meeting, const std::string& text) {
  if (text.empty())
    impl_->notices.erase(meeting);
  else
    impl_->notices[meeting] = text;
  if (auto it = impl_->mixers.find(meeting); it != impl_->mixers.end()) {
    it->second->setNotice(text);
  }
}

std::vector<core::MediaPort::RungSample> GstMediaPort::rungStats(const std::string& meeting) const {
  std::vector<RungSample> out;
  if (auto it = impl_->mixers.find(meeting); it != impl_->mixers.end()) {
    for (const auto& r : it->second->rungStats()) {
      out.push_back({r.width, r.height, r.viewers, r.bytes});
    }
  }
  return out;
}

void GstMediaPort::setSelfHearing(const std::string& meeting, bool on) {
  if (on) {
    impl_->selfHearing.insert(meeting);
  } else {
    impl_->selfHearing.erase(meeting);
  }
}

void GstMediaPort::collectStats() {
  for (auto& [code, mixer] : impl_->mixers) mixer->collectStats();
}

// In place, so the meeting's mixer (and everyone else's picture and sound) stays up even when
// this is its only room.
void GstMediaPort::restartLeg(const std::string& meeting, const core::ParticipantId& id,
                              const std::string& displayName) {
  auto it = impl_->mixers.find(meeting);
  if (it == impl_->mixers.end()) return addParticipant(meeting, id, displayName);
  it->second->removeRoom(id);
  impl_->meetingOf[id] = meeting;
  it->second->addRoom(id, displayName);
}

void GstMediaPort::shutdown() {
  for (auto& [code, mixer] : impl_->mixers) mixer->stop();
  impl_->mixers.clear();
  impl_->meetingOf.clear();
  impl_->notices.clear();
}

std::size_t GstMediaPort::liveMixers() const {
  return impl_->mixers.size();
}

std::shared_ptr<Mixer> GstMediaPort::mixerFor(const std::string& meeting) const {
  auto it = impl_->mixers.find(meeting);
  return it == impl_->mixers.end() ? nullptr : it->second;
}

}  // namespace mcu::media
