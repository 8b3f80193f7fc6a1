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

// The layouts the chair can choose. Pane 0 is always the first (for templates, the big) pane.
enum class LayoutKind {
  kGrid,           // gridLayout: every source the same size, up to 25
  kActiveSpeaker,  // 1 big pane on top, a strip of up to kMaxStripPanes thumbnails below it
  kPresenter,      // 1 big pane on the left, a column of up to kMaxStripPanes thumbnails right
  kTwoPlusEight,   // fixed template: 4 small on top, 2 big side by side, 4 small below
  kOnePlusSeven,   // fixed template on a 4x4 grid: big 3x3 top left, 3 small right, 4 below
};

inline constexpr int kMaxStripPanes = 8;

// 1 big pane (index 0) above a centred strip of `strip` thumbnails (clamped to [0, 8]). The strip
// is sized for at least 4 thumbnails, so with few rooms the big pane still gets 3/4 of the height.
// Every pane has the canvas aspect ratio and even sizes and offsets.
std::vector<Rect> speakerLayout(int strip, int canvasWidth, int canvasHeight);

// 1 big pane (index 0) left of a centred column of `strip` thumbnails; otherwise as above. The
// column leaves the big pane the full height band, which suits slides and shared screens.
std::vector<Rect> presenterLayout(int strip, int canvasWidth, int canvasHeight);

// Fixed templates on a 4x4 grid of canvas-shaped cells, centred: always 10 and 8 panes.
// 2+8: panes 0 and 1 are the big ones (middle rows), then the 4 small on top, then the 4 below.
std::vector<Rect> twoPlusEightLayout(int canvasWidth, int canvasHeight);
// 1+7: pane 0 is the big 3x3 one, then the right column top to bottom, then the bottom row.
std::vector<Rect> onePlusSevenLayout(int canvasWidth, int canvasHeight);

// Panes of `kind` for `sources` video sources: grid and the 1+N kinds grow with the sources (the
// strip is capped at kMaxStripPanes); the fixed templates always return all their panes.
std::vector<Rect> panesFor(LayoutKind kind, int sources, int canvasWidth, int canvasHeight);

// How many leading panes of `kind` are big ones (0 for the grid, 2 for 2+8, else 1).
int bigPaneCount(LayoutKind kind);

// One room's place in the composite, as the media layer applies it.
struct TilePlacement {
  std::string participant;
  std::string label;
  Rect rect;
  bool operator==(const TilePlacement&) const = default;
};

}  // namespace mcu::core
