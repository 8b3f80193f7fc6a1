#include "mcu/core/Store.hpp"
