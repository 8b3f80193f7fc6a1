#include "mcu/store/SqliteStore.hpp"
