#pragma once
// Continuous-presence layout geometry. Pure functions: no media, no state.
#include <string>
#include <vector>

namespace mcu::core {

struct Rect {
  int x = 0;
  int y = 0;
  int width = 0;
  int height = 0;
  bool operator==(const Rect&) const = default;
};

// Side of the square grid used for `count` rooms: 1, 2 (2..4 rooms), 3 (5..9), 4, 5 (..25).
int gridSide(int count);

// Tiles for `count` rooms on a canvas, row-major. Every tile has the canvas aspect ratio and even
// dimensions (I420); a partly filled last row is centred, and so are the used rows vertically.
// count is clamped to [0, 25].
std::vector<Rect> gridLayout(int count, int canvasWidth, int canvasHeight);

// One room's place in the composite, as the media layer applies it.
struct TilePlacement {
  std::string participant;
  std::string label;
  Rect rect;
  bool operator==(const TilePlacement&) const = default;
};

}  // namespace mcu::core
