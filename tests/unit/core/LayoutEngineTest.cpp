// Layout kinds' geometry (mcu/core/Layout) and the choice of which source fills which pane
// (mcu/core/LayoutEngine): speaker switching, pins, forced room, screen share, stability.
#include "mcu/core/LayoutEngine.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <set>
#include <string>
#include <vector>

#include "mcu/core/Layout.hpp"
#include "tests/unit/core/Printers.hpp"

namespace mcu::core {
namespace {

using std::chrono::milliseconds;
constexpr int kW = 1280;
constexpr int kH = 720;
constexpr int kLoud = 30;
constexpr int kReportEveryMs = 20;

bool overlap(const Rect& a, const Rect& b) {
  return a.x < b.x + b.width && b.x < a.x + a.width && a.y < b.y + b.height && b.y < a.y + a.height;
}

std::string kindName(LayoutKind kind) {
  switch (kind) {
    case LayoutKind::kGrid:
      return "Grid";
    case LayoutKind::kActiveSpeaker:
      return "ActiveSpeaker";
    case LayoutKind::kPresenter:
      return "Presenter";
    case LayoutKind::kTwoPlusEight:
      return "TwoPlusEight";
    case LayoutKind::kOnePlusSeven:
      return "OnePlusSeven";
  }
  return "?";
}

const std::vector<LayoutKind> kAllKinds{LayoutKind::kGrid, LayoutKind::kActiveSpeaker,
                                        LayoutKind::kPresenter, LayoutKind::kTwoPlusEight,
                                        LayoutKind::kOnePlusSeven};

std::size_t expectedPanes(LayoutKind kind, int sources) {
  switch (kind) {
    case LayoutKind::kGrid:
      return std::clamp(sources, 0, 25);
    case LayoutKind::kActiveSpeaker:
    case LayoutKind::kPresenter:
      return sources <= 0 ? 0 : 1 + std::min(sources - 1, kMaxStripPanes);
    case LayoutKind::kTwoPlusEight:
      return 10;
    case LayoutKind::kOnePlusSeven:
      return 8;
  }
  return 0;
}

// ---- Geometry --------------------------------------------------------------------------------

struct Canvas {
  int width;
  int height;
};

class PanesTest : public ::testing::TestWithParam<std::tuple<LayoutKind, Canvas>> {
 protected:
  LayoutKind kind() const { return std::get<0>(GetParam()); }
  Canvas canvas() const { return std::get<1>(GetParam()); }
  std::vector<Rect> panes(int n) const {
    return panesFor(kind(), n, canvas().width, canvas().height);
  }
};

INSTANTIATE_TEST_SUITE_P(KindsAndCanvases, PanesTest,
                         ::testing::Combine(::testing::ValuesIn(kAllKinds),
                                            ::testing::Values(Canvas{1280, 720}, Canvas{640, 360},
                                                              Canvas{1001, 563})),
                         [](const auto& info) {
                           const Canvas c = std::get<1>(info.param);
                           return kindName(std::get<0>(info.param)) + "_" +
                                  std::to_string(c.width) + "x" + std::to_string(c.height);
                         });

TEST_P(PanesTest, HaveTheExpectedCount) {
  for (int n = 0; n <= 30; ++n) EXPECT_EQ(panes(n).size(), expectedPanes(kind(), n)) << n;
}

TEST_P(PanesTest, StayInsideTheCanvasWithEvenSizesAndOffsets) {
  for (int n = 1; n <= 30; ++n) {
    for (const Rect& r : panes(n)) {
      EXPECT_GE(r.x, 0) << n;
      EXPECT_GE(r.y, 0) << n;
      EXPECT_GT(r.width, 0) << n;
      EXPECT_GT(r.height, 0) << n;
      EXPECT_LE(r.x + r.width, canvas().width) << n;
      EXPECT_LE(r.y + r.height, canvas().height) << n;
      EXPECT_EQ(r.x % 2, 0) << n;
      EXPECT_EQ(r.y % 2, 0) << n;
      EXPECT_EQ(r.width % 2, 0) << n;
      EXPECT_EQ(r.height % 2, 0) << n;
    }
  }
}

TEST_P(PanesTest, NeverOverlap) {
  for (int n = 2; n <= 30; ++n) {
    const auto p = panes(n);
    for (std::size_t i = 0; i < p.size(); ++i) {
      for (std::size_t j = i + 1; j < p.size(); ++j) {
        EXPECT_FALSE(overlap(p[i], p[j])) << n << " sources: panes " << i << ", " << j;
      }
    }
  }
}

TEST_P(PanesTest, BigPanesAreLargerThanTheOthers) {
  const int big = bigPaneCount(kind());
  for (int n = 2; n <= 30; ++n) {
    const auto p = panes(n);
    for (int b = 0; b < big; ++b) {
      for (std::size_t i = big; i < p.size(); ++i) {
        EXPECT_GT(p[b].width * p[b].height, p[i].width * p[i].height) << n << ": pane " << i;
      }
    }
  }
}

TEST(PanesExactTest, GridKindIsTheGridLayout) {
  for (int n = 0; n <= 30; ++n)
    EXPECT_EQ(panesFor(LayoutKind::kGrid, n, kW, kH), gridLayout(n, kW, kH));
}

TEST(PanesExactTest, BigPaneCounts) {
  EXPECT_EQ(bigPaneCount(LayoutKind::kGrid), 0);
  EXPECT_EQ(bigPaneCount(LayoutKind::kActiveSpeaker), 1);
  EXPECT_EQ(bigPaneCount(LayoutKind::kPresenter), 1);
  EXPECT_EQ(bigPaneCount(LayoutKind::kTwoPlusEight), 2);
  EXPECT_EQ(bigPaneCount(LayoutKind::kOnePlusSeven), 1);
}

TEST(PanesExactTest, OneSourceFillsTheCanvasInTheOnePlusNKinds) {
  EXPECT_EQ(speakerLayout(0, kW, kH), (std::vector<Rect>{{0, 0, kW, kH}}));
  EXPECT_EQ(presenterLayout(0, kW, kH), (std::vector<Rect>{{0, 0, kW, kH}}));
}

TEST(PanesExactTest, SpeakerWithSevenThumbnailsBelow) {
  const auto p = speakerLayout(7, kW, kH);
  ASSERT_EQ(p.size(), 8u);
  EXPECT_EQ(p[0], (Rect{90, 0, 1098, 618}));
  for (int i = 1; i <= 7; ++i) EXPECT_EQ(p[i], (Rect{2 + (i - 1) * 182, 618, 182, 102})) << i;
}

TEST(PanesExactTest, SpeakerWithFewRoomsKeepsAQuarterHeightStrip) {
  const auto p = speakerLayout(2, kW, kH);
  EXPECT_EQ(p, (std::vector<Rect>{{160, 0, 960, 540}, {320, 540, 320, 180}, {640, 540, 320, 180}}));
}

TEST(PanesExactTest, PresenterWithAColumnOnTheRight) {
  const auto p = presenterLayout(8, kW, kH);
  ASSERT_EQ(p.size(), 9u);
  EXPECT_EQ(p[0], (Rect{0, 44, 1120, 630}));
  for (int i = 1; i <= 8; ++i) EXPECT_EQ(p[i], (Rect{1120, (i - 1) * 90, 160, 90})) << i;
}

TEST(PanesExactTest, TwoPlusEight) {
  EXPECT_EQ(twoPlusEightLayout(kW, kH), (std::vector<Rect>{{0, 180, 640, 360},
                                                           {640, 180, 640, 360},
                                                           {0, 0, 320, 180},
                                                           {320, 0, 320, 180},
                                                           {640, 0, 320, 180},
                                                           {960, 0, 320, 180},
                                                           {0, 540, 320, 180},
                                                           {320, 540, 320, 180},
                                                           {640, 540, 320, 180},
                                                           {960, 540, 320, 180}}));
}

TEST(PanesExactTest, OnePlusSeven) {
  EXPECT_EQ(onePlusSevenLayout(kW, kH), (std::vector<Rect>{{0, 0, 960, 540},
                                                           {960, 0, 320, 180},
                                                           {960, 180, 320, 180},
                                                           {960, 360, 320, 180},
                                                           {0, 540, 320, 180},
                                                           {320, 540, 320, 180},
                                                           {640, 540, 320, 180},
                                                           {960, 540, 320, 180}}));
}

// ---- Engine ----------------------------------------------------------------------------------

milliseconds at(int ms) {
  return milliseconds{ms};
}

// Level reports every 20 ms from `from` to `to` inclusive, as the mixer delivers them.
void speak(LayoutEngine& e, const std::string& room, int from, int to, int level = kLoud) {
  for (int t = from; t <= to; t += kReportEveryMs) e.onAudioLevel(room, level, at(t));
}

void hush(LayoutEngine& e, const std::string& room, int t) {
  e.onAudioLevel(room, kSilentLevel, at(t));
}

std::string room(int i) {
  return "r" + std::to_string(i);
}

LayoutEngine withRooms(int count, LayoutKind kind = LayoutKind::kGrid) {
  LayoutEngine e;
  for (int i = 0; i < count; ++i) e.addRoom(room(i), "Room " + std::to_string(i));
  e.setKind(kind);
  return e;
}

const TilePlacement* find(const std::vector<TilePlacement>& tiles, const std::string& id) {
  const auto it = std::ranges::find(tiles, id, &TilePlacement::participant);
  return it == tiles.end() ? nullptr : &*it;
}

std::set<std::string> shown(const std::vector<TilePlacement>& tiles) {
  std::set<std::string> ids;
  for (const auto& t : tiles) ids.insert(t.participant);
  return ids;
}

TEST(LayoutEngineTest, NoRoomsNoTiles) {
  LayoutEngine e;
  EXPECT_TRUE(e.compute(kW, kH, at(0)).empty());
}

TEST(LayoutEngineTest, GridShowsRoomsInJoinOrderOnTheGridLayout) {
  auto e = withRooms(5);
  const auto tiles = e.compute(kW, kH, at(0));
  const auto rects = gridLayout(5, kW, kH);
  ASSERT_EQ(tiles.size(), 5u);
  for (int i = 0; i < 5; ++i) {
    EXPECT_EQ(tiles[i], (TilePlacement{room(i), "Room " + std::to_string(i), rects[i]}));
  }
}

TEST(LayoutEngineTest, TwentyFiveRoomsFillTheGridAndATwentySixthIsLeftOut) {
  auto e = withRooms(25);
  auto tiles = e.compute(kW, kH, at(0));
  ASSERT_EQ(tiles.size(), 25u);
  EXPECT_EQ(shown(tiles).size(), 25u);
  for (int i = 0; i < 25; ++i) EXPECT_EQ(tiles[i].rect, gridLayout(25, kW, kH)[i]) << i;
  e.addRoom("late", "Late");
  tiles = e.compute(kW, kH, at(0));
  EXPECT_EQ(tiles.size(), 25u);
  EXPECT_EQ(find(tiles, "late"), nullptr);
}

TEST(LayoutEngineTest, PinnedRoomKeepsSeatOneEvenWhenSilent) {
  auto e = withRooms(4);
  e.addRoom("hall", "Province hall");
  e.pin(0, "hall");
  speak(e, room(2), 0, 1000);
  for (LayoutKind kind : kAllKinds) {
    e.setKind(kind);
    const auto tiles = e.compute(kW, kH, at(1000));
    const TilePlacement* hall = find(tiles, "hall");
    ASSERT_NE(hall, nullptr) << kindName(kind);
    EXPECT_EQ(hall->rect, panesFor(kind, 5, kW, kH)[0]) << kindName(kind);
    EXPECT_NE(find(tiles, room(2)), nullptr) << kindName(kind) << ": the speaker is still shown";
  }
}

TEST(LayoutEngineTest, MoreRoomsThanPanesKeepsPinnedSpeakerAndMostRecent) {
  auto e = withRooms(12, LayoutKind::kActiveSpeaker);  // 9 panes for 12 rooms
  e.pin(2, room(11));
  speak(e, room(8), 0, 1000);
  hush(e, room(8), 1020);
  speak(e, room(9), 2000, 3000);
  hush(e, room(9), 3020);
  speak(e, room(10), 6000, 7000);
  ASSERT_EQ(e.speaker(), room(10));
  const auto tiles = e.compute(kW, kH, at(7000));
  const auto panes = panesFor(LayoutKind::kActiveSpeaker, 12, kW, kH);
  ASSERT_EQ(tiles.size(), 9u);
  EXPECT_EQ(find(tiles, room(10))->rect, panes[0]);
  EXPECT_EQ(find(tiles, room(11))->rect, panes[2]);
  // Then the recent r9, r8 and, never heard, the earliest joiners r0..r4.
  EXPECT_EQ(shown(tiles), (std::set<std::string>{room(0), room(1), room(2), room(3), room(4),
                                                 room(8), room(9), room(10), room(11)}));
}

TEST(LayoutEngineTest, FirstSustainedTalkerBecomesSpeakerAfterSwitchAfter) {
  auto e = withRooms(3, LayoutKind::kActiveSpeaker);
  speak(e, room(1), 0, 680);
  EXPECT_EQ(e.speaker(), std::nullopt);
  speak(e, room(1), 700, 700);
  EXPECT_EQ(e.speaker(), room(1));
  EXPECT_EQ(e.compute(kW, kH, at(700))[0].participant, room(1));
}

TEST(LayoutEngineTest, ACoughNeitherSwitchesNorEntersTheStrip) {
  auto e = withRooms(10, LayoutKind::kActiveSpeaker);  // 9 panes: r9 is left out
  speak(e, room(0), 0, 800);
  hush(e, room(0), 820);
  const auto before = e.compute(kW, kH, at(1000));
  speak(e, room(9), 5000, 5300);
  hush(e, room(9), 5320);
  EXPECT_EQ(e.speaker(), room(0));
  EXPECT_EQ(e.compute(kW, kH, at(8000)), before);
}

TEST(LayoutEngineTest, SustainedTalkSwitchesAfterSwitchAfter) {
  auto e = withRooms(3, LayoutKind::kActiveSpeaker);
  speak(e, room(0), 0, 800);
  hush(e, room(0), 820);
  speak(e, room(1), 5000, 5680);
  EXPECT_EQ(e.speaker(), room(0));
  speak(e, room(1), 5700, 5700);
  EXPECT_EQ(e.speaker(), room(1));
  const auto tiles = e.compute(kW, kH, at(5700));
  EXPECT_EQ(tiles[0].participant, room(1));
  EXPECT_NE(find(tiles, room(0)), nullptr);
}

TEST(LayoutEngineTest, ANewTalkerDuringTheHoldWaitsUntilItExpires) {
  auto e = withRooms(3, LayoutKind::kActiveSpeaker);
  speak(e, room(0), 0, 700);  // speaker from 700, held until 2700
  hush(e, room(0), 720);
  speak(e, room(1), 1000, 2680);
  EXPECT_EQ(e.speaker(), room(0));
  speak(e, room(1), 2700, 2700);
  EXPECT_EQ(e.speaker(), room(1));
}

TEST(LayoutEngineTest, ALouderSpeakerKeepsThePaneAgainstAQuieterTalker) {
  auto e = withRooms(2, LayoutKind::kActiveSpeaker);
  for (int t = 0; t <= 6000; t += kReportEveryMs) {
    e.onAudioLevel(room(0), 20, at(t));
    if (t >= 1000) e.onAudioLevel(room(1), 40, at(t));
  }
  EXPECT_EQ(e.speaker(), room(0));
}

TEST(LayoutEngineTest, ASpeakerWhoStopsReportingIsSilentAfterTheTimeout) {
  auto e = withRooms(2, LayoutKind::kActiveSpeaker);
  speak(e, room(0), 0, 3000);  // then its reports stop without a silent one
  // r0's last report counts until 3500, so r1 is the loudest from 3520 and takes over 700 later.
  speak(e, room(1), 3200, 4200);
  EXPECT_EQ(e.speaker(), room(0));
  speak(e, room(1), 4220, 4220);
  EXPECT_EQ(e.speaker(), room(1));
}

TEST(LayoutEngineTest, ForcedRoomOverridesTheSpeakerUntilCleared) {
  auto e = withRooms(4, LayoutKind::kActiveSpeaker);
  speak(e, room(1), 0, 1000);
  EXPECT_TRUE(e.forceBig(room(3)));
  EXPECT_EQ(e.compute(kW, kH, at(1000))[0].participant, room(3));
  speak(e, room(2), 4000, 6000);
  EXPECT_EQ(e.compute(kW, kH, at(6000))[0].participant, room(3));
  e.clearForced();
  EXPECT_EQ(e.compute(kW, kH, at(6000))[0].participant, room(2));
  EXPECT_FALSE(e.forceBig("nobody"));
}

TEST(LayoutEngineTest, ForcedRoomTakesTheBigPaneFromAPin) {
  auto e = withRooms(4, LayoutKind::kActiveSpeaker);
  e.pin(0, room(0));
  e.forceBig(room(3));
  const auto tiles = e.compute(kW, kH, at(0));
  EXPECT_EQ(tiles[0].participant, room(3));
  EXPECT_NE(find(tiles, room(0)), nullptr);
}

TEST(LayoutEngineTest, TwoPlusEightPutsForcedAndSpeakerInTheTwoBigPanes) {
  auto e = withRooms(12, LayoutKind::kTwoPlusEight);
  speak(e, room(11), 0, 1000);
  e.forceBig(room(10));
  const auto tiles = e.compute(kW, kH, at(1000));
  ASSERT_EQ(tiles.size(), 10u);
  EXPECT_EQ(tiles[0].participant, room(10));
  EXPECT_EQ(tiles[1].participant, room(11));
}

TEST(LayoutEngineTest, FixedTemplatesLeaveUnusedPanesOut) {
  auto e = withRooms(3, LayoutKind::kOnePlusSeven);
  const auto tiles = e.compute(kW, kH, at(0));
  const auto panes = onePlusSevenLayout(kW, kH);
  ASSERT_EQ(tiles.size(), 3u);
  for (int i = 0; i < 3; ++i) EXPECT_EQ(tiles[i].rect, panes[i]) << i;
}

TEST(LayoutEngineTest, ShareTurnsToPresenterWithTheScreenBigAndStopRestores) {
  auto e = withRooms(3, LayoutKind::kActiveSpeaker);
  e.pin(0, room(0));
  EXPECT_TRUE(e.startShare(room(1)));
  EXPECT_EQ(e.kind(), LayoutKind::kPresenter);
  auto tiles = e.compute(kW, kH, at(0));
  ASSERT_EQ(tiles.size(), 4u);
  EXPECT_EQ(tiles[0], (TilePlacement{"r1#screen", "Room 1 (màn hình)",
                                     panesFor(LayoutKind::kPresenter, 4, kW, kH)[0]}));
  EXPECT_NE(find(tiles, room(1)), nullptr) << "the sharer's camera stays";
  EXPECT_NE(find(tiles, room(0)), nullptr) << "the displaced pinned room stays";
  e.stopShare(room(1));
  EXPECT_EQ(e.kind(), LayoutKind::kActiveSpeaker);
  tiles = e.compute(kW, kH, at(0));
  EXPECT_EQ(tiles.size(), 3u);
  EXPECT_EQ(tiles[0].participant, room(0));
  EXPECT_FALSE(e.startShare("nobody"));
}

TEST(LayoutEngineTest, AKindChosenDuringAShareStaysAfterIt) {
  auto e = withRooms(3, LayoutKind::kActiveSpeaker);
  e.startShare(room(1));
  e.setKind(LayoutKind::kOnePlusSeven);
  EXPECT_EQ(e.kind(), LayoutKind::kOnePlusSeven);
  EXPECT_EQ(e.compute(kW, kH, at(0))[0].participant, "r1#screen");
  e.stopShare(room(1));
  EXPECT_EQ(e.kind(), LayoutKind::kOnePlusSeven);
}

TEST(LayoutEngineTest, ANewShareReplacesTheOldAndKeepsTheKindToRestore) {
  auto e = withRooms(3, LayoutKind::kGrid);
  e.startShare(room(1));
  e.startShare(room(2));
  const auto tiles = e.compute(kW, kH, at(0));
  EXPECT_EQ(tiles[0].participant, "r2#screen");
  EXPECT_EQ(find(tiles, "r1#screen"), nullptr);
  e.stopShare(room(1));  // not the sharer any more: no effect
  EXPECT_EQ(e.kind(), LayoutKind::kPresenter);
  e.stopShare(room(2));
  EXPECT_EQ(e.kind(), LayoutKind::kGrid);
}

TEST(LayoutEngineTest, LeavingRemovesTheRoomAndLendsItsPinnedSeatUntilItRejoins) {
  auto e = withRooms(3);
  e.addRoom("hall", "Province hall");
  e.pin(0, "hall");
  auto tiles = e.compute(kW, kH, at(0));
  EXPECT_EQ(tiles[0].participant, "hall");
  e.removeRoom("hall");
  tiles = e.compute(kW, kH, at(0));
  EXPECT_EQ(tiles.size(), 3u);
  EXPECT_EQ(find(tiles, "hall"), nullptr);
  EXPECT_EQ(tiles[0].rect, gridLayout(3, kW, kH)[0]);
  e.addRoom("hall", "Province hall");
  EXPECT_EQ(e.compute(kW, kH, at(0))[0].participant, "hall");
}

TEST(LayoutEngineTest, LeavingClearsSpeakerForcedAndShare) {
  auto e = withRooms(3, LayoutKind::kActiveSpeaker);
  speak(e, room(1), 0, 1000);
  e.forceBig(room(1));
  e.startShare(room(1));
  e.removeRoom(room(1));
  EXPECT_EQ(e.speaker(), std::nullopt);
  EXPECT_EQ(e.kind(), LayoutKind::kActiveSpeaker);
  const auto tiles = e.compute(kW, kH, at(1000));
  EXPECT_EQ(shown(tiles), (std::set<std::string>{room(0), room(2)}));
}

TEST(LayoutEngineTest, UnpinFreesTheSeat) {
  auto e = withRooms(3);
  e.pin(0, room(2));
  EXPECT_EQ(e.compute(kW, kH, at(0))[0].participant, room(2));
  e.unpin(0);
  e.pin(1, room(2));  // a room holds one seat at most
  const auto tiles = e.compute(kW, kH, at(0));
  EXPECT_EQ(tiles[1].participant, room(2));
}

TEST(LayoutEngineTest, RepeatedComputesGiveTheSameLayout) {
  auto e = withRooms(12, LayoutKind::kActiveSpeaker);
  speak(e, room(5), 0, 1000);
  const auto first = e.compute(kW, kH, at(1000));
  EXPECT_EQ(e.compute(kW, kH, at(1000)), first);
  EXPECT_EQ(e.compute(kW, kH, at(9000)), first);
}

TEST(LayoutEngineTest, EqualHistoriesGiveEqualLayouts) {
  auto run = [] {
    auto e = withRooms(12, LayoutKind::kTwoPlusEight);
    speak(e, room(7), 0, 1000);
    speak(e, room(3), 4000, 5000);
    return e.compute(kW, kH, at(5000));
  };
  EXPECT_EQ(run(), run());
}

// A new speaker takes the big pane; the old one moves into the pane the newcomer displaced and
// every other room stays where it was.
TEST(LayoutEngineTest, SmallPanesKeepTheirRoomsWhenTheSpeakerChanges) {
  auto e = withRooms(10, LayoutKind::kActiveSpeaker);  // 9 panes: r0 big, r1..r8 small
  const auto before = e.compute(kW, kH, at(0));
  ASSERT_EQ(before[0].participant, room(0));
  speak(e, room(9), 1000, 2000);
  const auto after = e.compute(kW, kH, at(2000));
  ASSERT_EQ(after.size(), 9u);
  EXPECT_EQ(after[0].participant, room(9));
  for (int i = 1; i <= 7; ++i) EXPECT_EQ(find(after, room(i))->rect, before[i].rect) << i;
  EXPECT_EQ(find(after, room(0))->rect, before[8].rect);
  EXPECT_EQ(find(after, room(8)), nullptr);
}

// Only the room from the vanished last cell moves, into the leaver's cell; a joiner goes last.
TEST(LayoutEngineTest, GridPositionsSurviveALeaveAndAJoin) {
  auto e = withRooms(4);
  e.compute(kW, kH, at(0));
  e.removeRoom(room(1));
  auto tiles = e.compute(kW, kH, at(0));
  ASSERT_EQ(tiles.size(), 3u);
  EXPECT_EQ(tiles[0].participant, room(0));
  EXPECT_EQ(tiles[1].participant, room(3));
  EXPECT_EQ(tiles[2].participant, room(2));
  e.addRoom("new", "New");
  tiles = e.compute(kW, kH, at(0));
  ASSERT_EQ(tiles.size(), 4u);
  EXPECT_EQ(tiles[1].participant, room(3));
  EXPECT_EQ(tiles[3].participant, "new");
}

}  // namespace
}  // namespace mcu::core
