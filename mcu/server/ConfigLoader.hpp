#pragma once
// Reads configs/mcu.json-style files (JSON with comments) into the typed core::Config.
#include <string>

#include "mcu/core/Config.hpp"

namespace mcu::server {

// Throws std::runtime_error with the file name and the offending key on a bad file.
core::Config loadConfig(const std::string& path);
// Parses text (used by loadConfig and tests); unknown keys are errors, missing keys keep defaults.
core::Config parseConfig(const std::string& text);

}  // namespace mcu::server
