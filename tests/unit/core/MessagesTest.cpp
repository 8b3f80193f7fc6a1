// Wire names of media kinds and leg states (mcu/core/Messages), used in docs/protocol.md.
#include "mcu/core/Messages.hpp"

#include <gtest/gtest.h>

namespace mcu::core {
namespace {

TEST(MediaKindNameTest, NamesBothKinds) {
  EXPECT_EQ(mediaKindName(MediaKind::kAudio), "audio");
  EXPECT_EQ(mediaKindName(MediaKind::kVideo), "video");
}

TEST(LegStateNameTest, NamesEveryState) {
  EXPECT_EQ(legStateName(LegState::kNew), "new");
  EXPECT_EQ(legStateName(LegState::kConnecting), "connecting");
  EXPECT_EQ(legStateName(LegState::kConnected), "connected");
  EXPECT_EQ(legStateName(LegState::kDisconnected), "disconnected");
  EXPECT_EQ(legStateName(LegState::kFailed), "failed");
  EXPECT_EQ(legStateName(LegState::kClosed), "closed");
}

}  // namespace
}  // namespace mcu::core
