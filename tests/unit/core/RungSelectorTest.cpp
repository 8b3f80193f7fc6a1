#include "mcu/core/RungSelector.hpp"

#include <gtest/gtest.h>

namespace mcu::core {
namespace {

using std::chrono::milliseconds;

// 720p, 360p, 180p.
const std::vector<int> kRungs = {1000, 450, 150};

class RungSelectorTest : public ::testing::Test {
 protected:
  milliseconds now{100000};
  RungSelector sel{kRungs, 0, now};

  // One receiver report (and optionally an estimate) per second for `seconds`.
  void reports(double loss, int seconds, std::optional<int> estimateKbps = std::nullopt) {
    for (int i = 0; i < seconds; ++i) {
      now += milliseconds(1000);
      sel.onLoss(loss, now);
      if (estimateKbps) sel.onEstimate(*estimateKbps, now);
      sel.update(now);
    }
  }
};

TEST_F(RungSelectorTest, ACleanLinkStaysOnTheTopRung) {
  reports(0.0, 60, 2500);
  EXPECT_EQ(sel.rung(), 0);
}

TEST_F(RungSelectorTest, OneLossyReportIsNotEnoughTwoInARowStepDown) {
  reports(0.0, 5);
  reports(0.3, 1);
  reports(0.0, 1);
  EXPECT_EQ(sel.rung(), 0);
  reports(0.3, 2);
  EXPECT_EQ(sel.rung(), 1);
}

TEST_F(RungSelectorTest, AnEstimateBelowTheRungJumpsStraightToARungItCarries) {
  reports(0.0, 5, 1500);
  ASSERT_EQ(sel.rung(), 0);
  reports(0.0, 1, 260);  // a 300 kb/s link: only 180p fits
  EXPECT_EQ(sel.rung(), 2);
}

TEST_F(RungSelectorTest, EstimatesAreIgnoredWhileTheyRampUpAfterTheStart) {
  reports(0.0, 3, 200);
  EXPECT_EQ(sel.rung(), 0);
  reports(0.0, 2, 200);
  EXPECT_EQ(sel.rung(), 2);
}

TEST_F(RungSelectorTest, AThinLossyLinkSettlesOnTheLowRungAndStaysThere) {
  // A 300 kb/s link: anything above 180p loses a third of its packets; 180p gets through.
  auto lossAt = [](int rung) { return rung == 2 ? 0.0 : 0.35; };
  int changes = 0;
  int last = sel.rung();
  for (int s = 0; s < 600; ++s) {
    reports(lossAt(sel.rung()), 1);
    if (sel.rung() != last) ++changes;
    last = sel.rung();
  }
  EXPECT_EQ(sel.rung(), 2);
  // Without an estimate it must probe upward now and then, but ever more rarely: a handful of
  // tries in ten minutes, not one every few seconds.
  EXPECT_LE(changes, 16);
}

TEST_F(RungSelectorTest, WithAnEstimateAThinLinkNeverTriesAHigherRung) {
  int changes = 0;
  int last = sel.rung();
  for (int s = 0; s < 300; ++s) {
    reports(sel.rung() == 2 ? 0.0 : 0.35, 1, 280);
    if (sel.rung() != last) ++changes;
    last = sel.rung();
  }
  EXPECT_EQ(sel.rung(), 2);
  EXPECT_LE(changes, 2);
}

TEST_F(RungSelectorTest, ARecoveredLinkClimbsBackOneRungAtATime) {
  reports(0.5, 2);
  reports(0.5, 2);
  ASSERT_EQ(sel.rung(), 2);
  reports(0.0, 7, 3000);
  EXPECT_EQ(sel.rung(), 2);  // not yet: the link must stay clean for a while
  reports(0.0, 2, 3000);
  EXPECT_EQ(sel.rung(), 1);
  reports(0.0, 10, 3000);
  EXPECT_EQ(sel.rung(), 0);
}

TEST_F(RungSelectorTest, AnEstimateTooLowForTheNextRungKeepsTheViewerWhereItIs) {
  reports(0.5, 4);
  ASSERT_EQ(sel.rung(), 2);
  reports(0.0, 60, 500);  // 450 * 1.3 > 500: 360p would not fit with room to spare
  EXPECT_EQ(sel.rung(), 2);
  reports(0.0, 10, 700);
  EXPECT_EQ(sel.rung(), 1);
}

TEST(RungSelector, OneRungOnlyNeverMoves) {
  milliseconds now{0};
  RungSelector sel({600}, 0, now);
  for (int i = 0; i < 20; ++i) {
    now += milliseconds(1000);
    sel.onLoss(0.9, now);
    sel.onEstimate(50, now);
    EXPECT_EQ(sel.update(now), 0);
  }
}

}  // namespace
}  // namespace mcu::core
