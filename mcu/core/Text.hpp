#pragma once
// Checks of user-supplied text (room names, titles, notices), shared by the core's validators.
#include <string>

namespace mcu::core {

// Without leading and trailing spaces, tabs and line breaks.
std::string trim(const std::string& s);
// C0 controls, DEL, and C1 controls (U+0080..U+009F, UTF-8 C2 80..C2 9F). s is valid UTF-8.
bool hasControlChars(const std::string& s);
// Number of Unicode code points in a UTF-8 string; -1 if it is not valid UTF-8.
int utf8Length(const std::string& s);

}  // namespace mcu::core
