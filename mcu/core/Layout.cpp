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

namespace {
// The height of a canvas-shaped rect `width` wide, rounded down to even.
int heightFor(int width, int canvasWidth, int canvasHeight) {
  return evenDown(static_cast<int>(static_cast<long>(width) * canvasHeight / canvasWidth));
}
int widthFor(int height, int canvasWidth, int canvasHeight) {
  return evenDown(static_cast<int>(static_cast<long>(height) * canvasWidth / canvasHeight));
}
constexpr int kMinStripSlots = 4;
constexpr int kTemplateCells = 4;

// Cell (col, row) spanning `span` cells of a centred 4x4 grid of canvas-shaped cells.
Rect cell(int col, int row, int span, int canvasWidth, int canvasHeight) {
  const int cw = evenDown(canvasWidth / kTemplateCells);
  const int ch = evenDown(canvasHeight / kTemplateCells);
  const int left = evenDown((canvasWidth - kTemplateCells * cw) / 2);
  const int top = evenDown((canvasHeight - kTemplateCells * ch) / 2);
  return Rect{left + col * cw, top + row * ch, span * cw, span * ch};
}
}  // namespace

std::vector<Rect> speakerLayout(int strip, int canvasWidth, int canvasHeight) {
  strip = std::clamp(strip, 0, kMaxStripPanes);
  if (strip == 0) return gridLayout(1, canvasWidth, canvasHeight);
  const int thumbW = evenDown(canvasWidth / std::max(strip, kMinStripSlots));
  const int thumbH = heightFor(thumbW, canvasWidth, canvasHeight);
  const int bigH = evenDown(canvasHeight - thumbH);
  const int bigW = widthFor(bigH, canvasWidth, canvasHeight);
  std::vector<Rect> panes{Rect{evenDown((canvasWidth - bigW) / 2), 0, bigW, bigH}};
  const int left = evenDown((canvasWidth - strip * thumbW) / 2);
  for (int i = 0; i < strip; ++i) panes.push_back(Rect{left + i * thumbW, bigH, thumbW, thumbH});
  return panes;
}

std::vector<Rect> presenterLayout(int strip, int canvasWidth, int canvasHeight) {
  strip = std::clamp(strip, 0, kMaxStripPanes);
  if (strip == 0) return gridLayout(1, canvasWidth, canvasHeight);
  const int thumbH = evenDown(canvasHeight / std::max(strip, kMinStripSlots));
  const int thumbW = widthFor(thumbH, canvasWidth, canvasHeight);
  const int bigW = evenDown(canvasWidth - thumbW);
  const int bigH = heightFor(bigW, canvasWidth, canvasHeight);
  std::vector<Rect> panes{Rect{0, evenDown((canvasHeight - bigH) / 2), bigW, bigH}};
  const int top = evenDown((canvasHeight - strip * thumbH) / 2);
  for (int i = 0; i < strip; ++i) panes.push_back(Rect{bigW, top + i * thumbH, thumbW, thumbH});
  return panes;
}

std::vector<Rect> twoPlusEightLayout(int canvasWidth, int canvasHeight) {
  std::vector<Rect> panes{cell(0, 1, 2, canvasWidth, canvasHeight),
                          cell(2, 1, 2, canvasWidth, canvasHeight)};
  for (int row : {0, 3}) {
    for (int col = 0; col < kTemplateCells; ++col) {
      panes.push_back(cell(col, row, 1, canvasWidth, canvasHeight));
    }
  }
  return panes;
}

std::vector<Rect> onePlusSevenLayout(int canvasWidth, int canvasHeight) {
  std::vector<Rect> panes{cell(0, 0, 3, canvasWidth, canvasHeight)};
  for (int row = 0; row < 3; ++row) panes.push_back(cell(3, row, 1, canvasWidth, canvasHeight));
  for (int col = 0; col < 4; ++col) panes.push_back(cell(col, 3, 1, canvasWidth, canvasHeight));
  return panes;
}

std::vector<Rect> panesFor(LayoutKind kind, int sources, int canvasWidth, int canvasHeight) {
  switch (kind) {
    case LayoutKind::kGrid:
      return gridLayout(sources, canvasWidth, canvasHeight);
    case LayoutKind::kActiveSpeaker:
      if (sources <= 0) return {};
      return speakerLayout(sources - 1, canvasWidth, canvasHeight);
    case LayoutKind::kPresenter:
      if (sources <= 0) return {};
      return presenterLayout(sources - 1, canvasWidth, canvasHeight);
    case LayoutKind::kTwoPlusEight:
      return twoPlusEightLayout(canvasWidth, canvasHeight);
    case LayoutKind::kOnePlusSeven:
      return onePlusSevenLayout(canvasWidth, canvasHeight);
  }
  return {};
}

int bigPaneCount(LayoutKind kind) {
  switch (kind) {
    case LayoutKind::kGrid:
      return 0;
    case LayoutKind::kTwoPlusEight:
      return 2;
    default:
      return 1;
  }
}

}  // namespace mcu::core
