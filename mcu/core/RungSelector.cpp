#include "mcu/core/RungSelector.hpp"

#include <algorithm>

namespace mcu::core {

RungSelector::RungSelector(std::vector<int> rungKbps, int start, Millis now, RungPolicy policy)
    : kbps_(std::move(rungKbps)),
      policy_(policy),
      rung_(std::clamp(start, 0, std::max(0, int(kbps_.size()) - 1))),
      started_(now),
      goodSince_(now),
      upWait_(policy.upAfter) {}

void RungSelector::onLoss(double fraction, Millis) {
  previousLoss_ = loss_;
  loss_ = fraction;
}

void RungSelector::onEstimate(int kbps, Millis now) {
  if (now - started_ >= policy_.ignoreEstimateFor) estimate_ = kbps;
}

int RungSelector::rungFor(int kbps) const {
  for (int r = 0; r < int(kbps_.size()); ++r) {
    if (kbps_[std::size_t(r)] <= kbps * policy_.estimateMargin) return r;
  }
  return int(kbps_.size()) - 1;
}

void RungSelector::moveTo(int rung, Millis now) {
  if (rung > rung_ && lastUp_ && now - *lastUp_ < policy_.failedWithin) {
    upWait_ = std::min(upWait_ * 2, policy_.maxUpAfter);  // the last step up did not hold
  }
  if (rung < rung_) lastUp_ = now;
  lastMoveUp_ = rung < rung_;
  rung_ = rung;
  goodSince_ = now;
}

int RungSelector::update(Millis now) {
  const int last = int(kbps_.size()) - 1;
  // Down: the link says this rung is too much.
  int down = rung_;
  if (estimate_ && rungFor(*estimate_) > rung_) down = rungFor(*estimate_);
  if (loss_ > policy_.downLoss && previousLoss_ > policy_.downLoss) {
    down = std::max(down, std::min(rung_ + 1, last));
  }
  if (down > rung_) {
    moveTo(down, now);
    loss_ = previousLoss_ = 0;  // reports about the old rung say nothing about the new one
    return rung_;
  }
  // Up: one step, once the link has been clean long enough (and carries the next rung).
  const bool clean =
      loss_ <= policy_.upLoss &&
      (!estimate_ || rung_ == 0 || *estimate_ >= kbps_[std::size_t(rung_ - 1)] * policy_.upMargin);
  if (!clean || rung_ == 0) {
    goodSince_ = now;
  } else if (now - goodSince_ >= upWait_) {
    moveTo(rung_ - 1, now);
  }
  // A step up that held: the link is good again, so later tries need not wait as long.
  if (lastMoveUp_ && now - *lastUp_ >= policy_.failedWithin) upWait_ = policy_.upAfter;
  return rung_;
}

}  // namespace mcu::core
