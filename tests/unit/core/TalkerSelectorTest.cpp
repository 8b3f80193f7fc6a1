#include "mcu/core/TalkerSelector.hpp"

#include <gtest/gtest.h>

#include <set>

namespace mcu::core {
namespace {

using std::chrono::milliseconds;
using Slots = std::vector<std::optional<std::string>>;

constexpr int kLoud = 20;
constexpr int kQuiet = 100;

class TalkerSelectorTest : public ::testing::Test {
 protected:
  TalkerSelector sel{TalkerPolicy{3, 50, milliseconds(400), milliseconds(1500)}};
  milliseconds now{10000};

  void add(std::initializer_list<const char*> ids) {
    for (const char* id : ids) sel.addRoom(id);
  }
  // Levels arrive every 100 ms for `ms`; update() runs after each round, as the mixer's tick does.
  void talk(const std::map<std::string, int>& levels, int ms) {
    for (int t = 0; t < ms; t += 100) {
      now += milliseconds(100);
      for (const auto& [id, level] : levels) sel.onLevel(id, level, now);
      sel.update(now);
    }
  }
  std::set<std::string> talkers() const {
    std::set<std::string> out;
    for (const auto& s : sel.slots()) {
      if (s) out.insert(*s);
    }
    return out;
  }
};

TEST_F(TalkerSelectorTest, QuietRoomsHoldNoSlot) {
  add({"a", "b"});
  talk({{"a", kQuiet}, {"b", 127}}, 1000);
  EXPECT_EQ(sel.slots(), Slots(3));
}

TEST_F(TalkerSelectorTest, SpeakersTakeFreeSlotsLoudestFirst) {
  add({"a", "b", "c", "d", "e"});
  now += milliseconds(100);
  sel.onLevel("a", 40, now);
  sel.onLevel("b", 10, now);
  sel.onLevel("c", 30, now);
  sel.onLevel("d", 45, now);
  sel.onLevel("e", kQuiet, now);
  auto changes = sel.update(now);
  ASSERT_EQ(changes.size(), 3u);
  EXPECT_EQ(sel.slots(), (Slots{"b", "c", "a"}));
  EXPECT_EQ(changes[0].slot, 0);
  EXPECT_EQ(changes[0].before, std::nullopt);
  EXPECT_EQ(changes[0].after, "b");
  EXPECT_EQ(sel.slotOf("c"), 1);
  EXPECT_EQ(sel.slotOf("d"), std::nullopt);
}

TEST_F(TalkerSelectorTest, NeverMoreThanKAndNoRoomTwice) {
  add({"a", "b", "c", "d", "e", "f"});
  for (int round = 0; round < 50; ++round) {
    std::map<std::string, int> levels;
    for (const char* id : {"a", "b", "c", "d", "e", "f"}) levels[id] = (round * 7 + id[0]) % 90;
    talk(levels, 100);
    std::multiset<std::string> seen;
    for (const auto& s : sel.slots()) {
      if (s) seen.insert(*s);
    }
    EXPECT_LE(seen.size(), 3u);
    EXPECT_EQ(std::set<std::string>(seen.begin(), seen.end()).size(), seen.size());
  }
}

TEST_F(TalkerSelectorTest, ANewTalkerWaitsForTheHoldTimeThenTakesTheStalestSlot) {
  add({"a", "b", "c", "d"});
  talk({{"a", kLoud}, {"b", kLoud}, {"c", kLoud}, {"d", 127}}, 500);
  ASSERT_EQ(talkers(), (std::set<std::string>{"a", "b", "c"}));
  const int slotA = *sel.slotOf("a");
  // a stops; b and c go on; d starts. Within a's hold time d waits.
  talk({{"a", 127}, {"b", kLoud}, {"c", kLoud}, {"d", kLoud}}, 1000);
  EXPECT_FALSE(sel.slotOf("d"));
  // After it, d takes a's slot; the others keep theirs.
  talk({{"a", 127}, {"b", kLoud}, {"c", kLoud}, {"d", kLoud}}, 800);
  EXPECT_EQ(sel.slotOf("d"), slotA);
  EXPECT_EQ(talkers(), (std::set<std::string>{"b", "c", "d"}));
}

TEST_F(TalkerSelectorTest, ACoughDoesNotEvictASpeakerWithinItsHold) {
  add({"a", "b", "c", "d"});
  talk({{"a", kLoud}, {"b", kLoud}, {"c", kLoud}}, 300);
  talk({{"a", kLoud}, {"b", kLoud}, {"c", kLoud}, {"d", 5}}, 200);  // d coughs, loudest of all
  EXPECT_FALSE(sel.slotOf("d"));
  talk({{"a", kLoud}, {"b", kLoud}, {"c", kLoud}}, 3000);
  EXPECT_EQ(talkers(), (std::set<std::string>{"a", "b", "c"}));
}

TEST_F(TalkerSelectorTest, AMutedTalkerLeavesAtOnceAndIsNeverChosenWhileMuted) {
  add({"a", "b", "c", "d"});
  talk({{"a", kLoud}, {"b", kLoud}, {"c", kLoud}}, 300);
  sel.setEligible("b", false);
  auto changes = sel.update(now);
  ASSERT_EQ(changes.size(), 1u);
  EXPECT_EQ(changes[0].before, "b");
  EXPECT_EQ(changes[0].after, std::nullopt);
  talk({{"b", 0}, {"a", kLoud}}, 2000);
  EXPECT_FALSE(sel.slotOf("b"));
  sel.setEligible("b", true);
  talk({{"b", kLoud}}, 100);
  EXPECT_TRUE(sel.slotOf("b"));
}

TEST_F(TalkerSelectorTest, AFreedSlotIsTakenInTheSameUpdate) {
  add({"a", "b", "c", "d"});
  talk({{"a", kLoud}, {"b", kLoud}, {"c", kLoud}}, 300);
  const int slotB = *sel.slotOf("b");
  sel.removeRoom("b");
  now += milliseconds(100);
  sel.onLevel("d", kLoud, now);
  auto changes = sel.update(now);
  ASSERT_EQ(changes.size(), 1u);
  EXPECT_EQ(changes[0].slot, slotB);
  EXPECT_EQ(changes[0].before, "b");
  EXPECT_EQ(changes[0].after, "d");
}

TEST_F(TalkerSelectorTest, UnknownRoomsAreIgnored) {
  sel.onLevel("ghost", 0, now);
  sel.setEligible("ghost", true);
  EXPECT_TRUE(sel.update(now).empty());
}

}  // namespace
}  // namespace mcu::core
