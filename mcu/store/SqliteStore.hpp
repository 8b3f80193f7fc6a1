#pragma once
#include "mcu/core/Store.hpp"
