#pragma once
#include "mcu/core/Security.hpp"
