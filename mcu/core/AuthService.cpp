#include "mcu/core/AuthService.hpp"
