#include "mcu/core/Layout.hpp"

#include <algorithm>

namespace mcu::core {

namespace {
constexpr int kMaxTiles = 25;
int evenDown(int v) {
  return v & ~1;
}
}  // namespace

int gridSide(int count) {
  int side = 1;
  while (side * side < count) ++side;
  return side;
}

std::vector<Rect> gridLayout(int count, int canvasWidth, int canvasHeight) {
  count = std::clamp(count, 0, kMaxTiles);
  std::vector<Rect> tiles;
  if (count == 0) return tiles;
  const int side = gridSide(count);
  const int tileW = evenDown(canvasWidth / side);
  const int tileH = evenDown(canvasHeight / side);
  const int rows = (count + side - 1) / side;
  const int top = evenDown((canvasHeight - rows * tileH) / 2);
  tiles.reserve(count);
  for (int i = 0; i < count; ++i) {
    const int row = i / side;
    const int col = i % side;
    const int inRow = std::min(side, count - row * side);
    const int left = evenDown((canvasWidth - inRow * tileW) / 2);
    tiles.push_back(Rect{left + col * tileW, top + row * tileH, tileW, tileH});
  }
  return tiles;
}

}  // namespace mcu::core
