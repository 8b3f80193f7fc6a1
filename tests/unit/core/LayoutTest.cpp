// Grid geometry of the continuous-presence composite (mcu/core/Layout).
#include "mcu/core/Layout.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdlib>
#include <set>
#include <string>
#include <vector>

#include "tests/unit/core/Printers.hpp"

namespace mcu::core {
namespace {

struct Canvas {
  int width;
  int height;
};

std::string describe(int count, Canvas c) {
  return std::to_string(count) + " rooms on " + std::to_string(c.width) + "x" +
         std::to_string(c.height);
}

bool overlap(const Rect& a, const Rect& b) {
  return a.x < b.x + b.width && b.x < a.x + a.width && a.y < b.y + b.height && b.y < a.y + a.height;
}

// The two common canvases plus one with odd sides, for which nothing divides evenly.
class GridLayoutTest : public ::testing::TestWithParam<Canvas> {};

INSTANTIATE_TEST_SUITE_P(Canvases, GridLayoutTest,
                         ::testing::Values(Canvas{1280, 720}, Canvas{640, 360}, Canvas{1001, 563}),
                         [](const auto& info) {
                           return std::to_string(info.param.width) + "x" +
                                  std::to_string(info.param.height);
                         });

TEST(GridSideTest, IsTheSmallestSquareHoldingTheRooms) {
  EXPECT_EQ(gridSide(1), 1);
  for (int n = 2; n <= 4; ++n) EXPECT_EQ(gridSide(n), 2) << n;
  for (int n = 5; n <= 9; ++n) EXPECT_EQ(gridSide(n), 3) << n;
  for (int n = 10; n <= 16; ++n) EXPECT_EQ(gridSide(n), 4) << n;
  for (int n = 17; n <= 25; ++n) EXPECT_EQ(gridSide(n), 5) << n;
}

TEST_P(GridLayoutTest, HasOneTilePerRoomUpTo25) {
  const Canvas c = GetParam();
  for (int n = 0; n <= 25; ++n) {
    EXPECT_EQ(gridLayout(n, c.width, c.height).size(), static_cast<std::size_t>(n))
        << describe(n, c);
  }
}

TEST_P(GridLayoutTest, ClampsCountsAbove25AndBelowZero) {
  const Canvas c = GetParam();
  const auto full = gridLayout(25, c.width, c.height);
  for (int n : {26, 30, 100}) EXPECT_EQ(gridLayout(n, c.width, c.height), full) << n;
  EXPECT_TRUE(gridLayout(-1, c.width, c.height).empty());
}

TEST_P(GridLayoutTest, TilesStayInsideTheCanvas) {
  const Canvas c = GetParam();
  for (int n = 1; n <= 25; ++n) {
    for (const Rect& r : gridLayout(n, c.width, c.height)) {
      EXPECT_GE(r.x, 0) << describe(n, c);
      EXPECT_GE(r.y, 0) << describe(n, c);
      EXPECT_GT(r.width, 0) << describe(n, c);
      EXPECT_GT(r.height, 0) << describe(n, c);
      EXPECT_LE(r.x + r.width, c.width) << describe(n, c);
      EXPECT_LE(r.y + r.height, c.height) << describe(n, c);
    }
  }
}

TEST_P(GridLayoutTest, TilesNeverOverlap) {
  const Canvas c = GetParam();
  for (int n = 2; n <= 25; ++n) {
    const auto tiles = gridLayout(n, c.width, c.height);
    for (std::size_t i = 0; i < tiles.size(); ++i) {
      for (std::size_t j = i + 1; j < tiles.size(); ++j) {
        EXPECT_FALSE(overlap(tiles[i], tiles[j])) << describe(n, c) << ": tiles " << i << ", " << j;
      }
    }
  }
}

// I420 has one chroma sample per 2x2 pixels: odd sizes or offsets smear a tile's edge.
TEST_P(GridLayoutTest, TileSizesAndOffsetsAreEven) {
  const Canvas c = GetParam();
  for (int n = 1; n <= 25; ++n) {
    for (const Rect& r : gridLayout(n, c.width, c.height)) {
      EXPECT_EQ(r.width % 2, 0) << describe(n, c);
      EXPECT_EQ(r.height % 2, 0) << describe(n, c);
      EXPECT_EQ(r.x % 2, 0) << describe(n, c);
      EXPECT_EQ(r.y % 2, 0) << describe(n, c);
    }
  }
}

TEST_P(GridLayoutTest, TilesAreTheLargestEvenCellOfTheSquareGrid) {
  const Canvas c = GetParam();
  for (int n = 1; n <= 25; ++n) {
    const int side = gridSide(n);
    for (const Rect& r : gridLayout(n, c.width, c.height)) {
      EXPECT_EQ(r.width, (c.width / side) & ~1) << describe(n, c);
      EXPECT_EQ(r.height, (c.height / side) & ~1) << describe(n, c);
    }
  }
}

// Each side is rounded down to an even number on its own, so a tile's width may be off from what
// its height implies by less than 2 px times the canvas ratio.
TEST_P(GridLayoutTest, TilesKeepTheCanvasAspectRatio) {
  const Canvas c = GetParam();
  for (int n = 1; n <= 25; ++n) {
    for (const Rect& r : gridLayout(n, c.width, c.height)) {
      const long error = std::labs(long(r.width) * c.height - long(r.height) * c.width);
      EXPECT_LT(error, 2L * std::max(c.width, c.height)) << describe(n, c);
    }
  }
}

TEST_P(GridLayoutTest, TilesAreRowMajorInRowsOfGridSide) {
  const Canvas c = GetParam();
  for (int n = 1; n <= 25; ++n) {
    const int side = gridSide(n);
    const auto tiles = gridLayout(n, c.width, c.height);
    for (int i = 1; i < n; ++i) {
      const Rect& prev = tiles[i - 1];
      const Rect& cur = tiles[i];
      if (i % side == 0) {
        EXPECT_EQ(cur.y, prev.y + prev.height) << describe(n, c) << ": tile " << i;
      } else {
        EXPECT_EQ(cur.y, prev.y) << describe(n, c) << ": tile " << i;
        EXPECT_EQ(cur.x, prev.x + prev.width) << describe(n, c) << ": tile " << i;
      }
    }
    std::set<int> rows;
    for (const Rect& r : tiles) rows.insert(r.y);
    EXPECT_EQ(static_cast<int>(rows.size()), (n + side - 1) / side) << describe(n, c);
  }
}

// Centred with even offsets: the margin after a row (or below the rows) is 0..3 px wider than
// the margin before it.
TEST_P(GridLayoutTest, EveryRowIsCentredHorizontally) {
  const Canvas c = GetParam();
  for (int n = 1; n <= 25; ++n) {
    const int side = gridSide(n);
    const auto tiles = gridLayout(n, c.width, c.height);
    for (int start = 0; start < n; start += side) {
      const Rect& first = tiles[start];
      const Rect& last = tiles[std::min(n, start + side) - 1];
      const int before = first.x;
      const int after = c.width - (last.x + last.width);
      EXPECT_GE(after - before, 0) << describe(n, c) << ": row from tile " << start;
      EXPECT_LE(after - before, 3) << describe(n, c) << ": row from tile " << start;
    }
  }
}

TEST_P(GridLayoutTest, UsedRowsAreCentredVertically) {
  const Canvas c = GetParam();
  for (int n = 1; n <= 25; ++n) {
    const auto tiles = gridLayout(n, c.width, c.height);
    const int above = tiles.front().y;
    const int below = c.height - (tiles.back().y + tiles.back().height);
    EXPECT_GE(below - above, 0) << describe(n, c);
    EXPECT_LE(below - above, 3) << describe(n, c);
  }
}

TEST(GridLayoutExactTest, NoRoomsGiveNoTiles) {
  EXPECT_TRUE(gridLayout(0, 1280, 720).empty());
}

TEST(GridLayoutExactTest, OneRoomFillsTheCanvas) {
  EXPECT_EQ(gridLayout(1, 1280, 720), (std::vector<Rect>{{0, 0, 1280, 720}}));
  EXPECT_EQ(gridLayout(1, 640, 360), (std::vector<Rect>{{0, 0, 640, 360}}));
}

TEST(GridLayoutExactTest, OneRoomOnAnOddCanvasIsTheLargestEvenRect) {
  EXPECT_EQ(gridLayout(1, 1001, 563), (std::vector<Rect>{{0, 0, 1000, 562}}));
}

TEST(GridLayoutExactTest, TwoRoomsShareTheMiddleRow) {
  EXPECT_EQ(gridLayout(2, 640, 360), (std::vector<Rect>{{0, 90, 320, 180}, {320, 90, 320, 180}}));
}

TEST(GridLayoutExactTest, ThreeRoomsCentreTheThirdOnTheSecondRow) {
  EXPECT_EQ(gridLayout(3, 640, 360),
            (std::vector<Rect>{{0, 0, 320, 180}, {320, 0, 320, 180}, {160, 180, 320, 180}}));
}

TEST(GridLayoutExactTest, FourRoomsFillATwoByTwoGrid) {
  EXPECT_EQ(gridLayout(4, 1280, 720),
            (std::vector<Rect>{
                {0, 0, 640, 360}, {640, 0, 640, 360}, {0, 360, 640, 360}, {640, 360, 640, 360}}));
}

TEST(GridLayoutExactTest, FiveRoomsUseTwoCentredRowsOfAThreeByThreeGrid) {
  EXPECT_EQ(gridLayout(5, 1280, 720), (std::vector<Rect>{{0, 120, 426, 240},
                                                         {426, 120, 426, 240},
                                                         {852, 120, 426, 240},
                                                         {214, 360, 426, 240},
                                                         {640, 360, 426, 240}}));
}

TEST(GridLayoutExactTest, TwentyFiveRoomsTileTheWholeCanvas) {
  const auto tiles = gridLayout(25, 1280, 720);
  ASSERT_EQ(tiles.size(), 25u);
  for (int i = 0; i < 25; ++i) {
    EXPECT_EQ(tiles[i], (Rect{(i % 5) * 256, (i / 5) * 144, 256, 144})) << i;
  }
}

}  // namespace
}  // namespace mcu::core
