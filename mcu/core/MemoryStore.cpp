#include "mcu/core/MemoryStore.hpp"
