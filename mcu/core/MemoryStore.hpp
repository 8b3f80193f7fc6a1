#pragma once
// core::Store in memory (unit tests). Same contract as mcu/store/SqliteStore.
#include "mcu/core/Store.hpp"
