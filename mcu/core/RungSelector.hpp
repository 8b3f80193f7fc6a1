#pragma once
// Which output rung (the composite encoded at one size and bitrate) a viewer receives, from what
// its link reports: the loss fraction of its RTCP receiver reports and, from browsers, the REMB
// estimate of what the link carries. Down fast (one bad report pair, or an estimate below the
// rung's bitrate), up slowly (a clean link for `upAfter`, longer after each failed try), so a
// viewer on a thin link settles instead of flapping.
//
// Pure and deterministic: time comes in as arguments. One per viewer.
#include <chrono>
#include <optional>
#include <vector>

namespace mcu::core {

struct RungPolicy {
  double downLoss = 0.10;       // a fraction lost above this in two reports in a row steps down
  double upLoss = 0.02;         // stepping up needs at most this
  double estimateMargin = 0.9;  // a rung fits an estimate when its bitrate <= estimate * this
  double upMargin = 1.3;        // stepping up needs an estimate >= the next rung's bitrate * this
  std::chrono::milliseconds upAfter{8000};            // conditions for going up held this long
  std::chrono::milliseconds maxUpAfter{120000};       // the wait doubles after each failed step up
  std::chrono::milliseconds failedWithin{20000};      // a step down this soon after a step up
  std::chrono::milliseconds ignoreEstimateFor{4000};  // estimates ramp up after a viewer starts
};

class RungSelector {
 public:
  using Millis = std::chrono::milliseconds;

  // rungKbps: the rungs' bitrates, best (index 0) first. The viewer starts on `start`.
  RungSelector(std::vector<int> rungKbps, int start, Millis now, RungPolicy policy = {});

  void onLoss(double fraction, Millis now);
  void onEstimate(int kbps, Millis now);
  // The rung to send now; changes only here.
  int update(Millis now);
  int rung() const { return rung_; }

 private:
  int rungFor(int kbps) const;  // the best rung an estimate carries
  void moveTo(int rung, Millis now);

  std::vector<int> kbps_;
  RungPolicy policy_;
  int rung_;
  Millis started_;
  std::optional<int> estimate_;
  double loss_ = 0;
  double previousLoss_ = 0;
  Millis goodSince_;
  Millis upWait_;
  std::optional<Millis> lastUp_;
  bool lastMoveUp_ = false;
};

}  // namespace mcu::core
