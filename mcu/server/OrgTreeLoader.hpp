#pragma once
// Reads the organisation tree (core::OrgTree) from configs/org/ files: JSON with comments or CSV.
// The formats are documented in configs/README.md.
#include <string>
#include <vector>

#include "mcu/core/OrgTree.hpp"

namespace mcu::server {

// {"units": [{"id", "name", "kind", "parent", "order", "formerIds", "active"}]}, comments allowed.
// Unknown keys and wrong types are errors naming the unit's index, its id and the key.
// Throws std::runtime_error; the units are not checked as a tree (see core::OrgTree).
std::vector<core::Unit> parseOrgUnitsJson(const std::string& text);

// UTF-8 CSV (a leading BOM is skipped) whose header names the columns: id, name, kind, parent
// required; order, formerIds (';'-separated), active optional; any column order. RFC 4180
// quoting ("a, b", "say ""hi"""); blank lines are skipped. Throws std::runtime_error naming the
// line ("line 7: expected 4 fields, got 3").
std::vector<core::Unit> parseOrgUnitsCsv(const std::string& text);

// Picks the format from the extension (.json or .csv, any case) and builds the tree.
// Syntax errors: std::runtime_error; tree problems: core::OrgTreeError. Both name the file.
core::OrgTree loadOrgTree(const std::string& path);

}  // namespace mcu::server
