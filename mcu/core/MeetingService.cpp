#include "mcu/core/MeetingService.hpp"
