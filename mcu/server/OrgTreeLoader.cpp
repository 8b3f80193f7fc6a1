#include "mcu/server/OrgTreeLoader.hpp"

#include <algorithm>
#include <array>
#include <cctype>
#include <charconv>
#include <filesystem>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <sstream>
#include <stdexcept>
#include <string_view>
#include <utility>

namespace mcu::server {

namespace {

using nlohmann::json;

constexpr std::string_view kKinds = "province, department, district, city, commune, ward, other";

core::UnitKind kindOf(const std::string& name, const std::string& where) {
  if (auto kind = core::parseUnitKind(name)) return *kind;
  throw std::runtime_error(where + ": unknown kind '" + name + "' (expected one of " +
                           std::string(kKinds) + ")");
}

// ------------------------------------------------------------------------------------------ JSON

// One element of "units": reads known keys, refuses unknown ones. `where_` names the element by
// index and, when it has one, by id, so an error in a long file is easy to find.
class UnitFields {
 public:
  UnitFields(const json& j, std::size_t index) : j_(j), where_("units[" + std::to_string(index)) {
    if (!j_.is_object()) throw std::runtime_error(where_ + "]: expected an object");
    if (auto id = j_.find("id"); id != j_.end() && id->is_string()) {
      where_ += " '" + id->get<std::string>() + "'";
    }
    where_ += "]";
  }
  template <typename T>
  bool get(const char* key, T& out) {
    known_.push_back(key);
    auto it = j_.find(key);
    if (it == j_.end() || (it->is_null() && std::string_view(key) == "parent")) return false;
    if constexpr (std::is_same_v<T, int>) {
      if (!it->is_number_integer() || !std::in_range<int>(it->get<std::int64_t>())) {
        throw std::runtime_error(at(key) + ": expected an integer, got " + it->dump());
      }
    }
    try {
      out = it->template get<T>();
    } catch (const json::exception& e) {
      throw std::runtime_error(at(key) + ": " + e.what());
    }
    return true;
  }
  void require(const char* key, std::string& out) {
    if (!get(key, out) || out.empty()) throw std::runtime_error(at(key) + ": required");
  }
  void done() const {
    for (const auto& [key, value] : j_.items()) {
      if (std::find(known_.begin(), known_.end(), key) == known_.end()) {
        throw std::runtime_error(where_ + ": unknown key '" + key + "'");
      }
    }
  }
  std::string at(const char* key) const { return where_ + "." + key; }

 private:
  const json& j_;
  std::string where_;
  std::vector<std::string> known_;
};

core::Unit readJsonUnit(const json& j, std::size_t index) {
  core::Unit u;
  UnitFields f(j, index);
  std::string kind;
  f.require("id", u.id);
  f.require("name", u.name);
  f.require("kind", kind);
  u.kind = kindOf(kind, f.at("kind"));
  f.get("parent", u.parentId);
  f.get("order", u.order);
  f.get("formerIds", u.formerIds);
  f.get("active", u.active);
  f.done();
  return u;
}

// ------------------------------------------------------------------------------------------- CSV

// Catches files saved in a legacy code page (Windows-1258, TCVN3), which would otherwise show as
// garbled names. Checks the byte structure only (not overlong forms).
bool isUtf8(std::string_view s) {
  for (std::size_t i = 0; i < s.size();) {
    const auto c = static_cast<unsigned char>(s[i++]);
    const int more = c < 0x80                ? 0
                     : c >= 0xC2 && c < 0xE0 ? 1
                     : c >= 0xE0 && c < 0xF0 ? 2
                     : c >= 0xF0 && c < 0xF5 ? 3
                                             : -1;
    if (more < 0 || i + more > s.size()) return false;
    for (int k = 0; k < more; ++k) {
      if ((static_cast<unsigned char>(s[i++]) & 0xC0) != 0x80) return false;
    }
  }
  return true;
}

std::string trim(std::string_view s) {
  const auto first = s.find_first_not_of(" \t");
  if (first == std::string_view::npos) return {};
  return std::string(s.substr(first, s.find_last_not_of(" \t") - first + 1));
}

std::runtime_error lineError(std::size_t line, const std::string& what) {
  return std::runtime_error("line " + std::to_string(line) + ": " + what);
}

// RFC 4180 records. A quoted field may span lines; a record's number is the line it starts on.
class CsvReader {
 public:
  explicit CsvReader(std::string_view text) : text_(text) {
    if (text_.starts_with("\xEF\xBB\xBF")) text_.remove_prefix(3);
  }
  bool atEnd() const { return pos_ >= text_.size(); }
  std::size_t line() const { return line_; }

  std::vector<std::string> record() {
    std::vector<std::string> fields;
    for (;;) {
      fields.push_back(field());
      if (atEnd()) return fields;
      const char c = text_[pos_++];
      if (c == ',') continue;
      if (c == '\r' && !atEnd() && text_[pos_] == '\n') ++pos_;
      ++line_;
      return fields;
    }
  }

 private:
  std::string field() {
    const auto start = text_.find_first_not_of(" \t", pos_);
    if (start != std::string_view::npos && text_[start] == '"') {
      pos_ = start + 1;
      return quotedField();
    }
    const auto end = std::min(text_.find_first_of(",\r\n", pos_), text_.size());
    const auto raw = text_.substr(pos_, end - pos_);
    pos_ = end;
    if (raw.find('"') != std::string_view::npos) {
      throw lineError(line_, "quote inside an unquoted field (quote the whole field)");
    }
    return trim(raw);
  }
  std::string quotedField() {
    const std::size_t startLine = line_;
    std::string out;
    for (;;) {
      if (atEnd()) throw lineError(startLine, "quoted field is never closed");
      const char c = text_[pos_++];
      if (c == '"' && (atEnd() || text_[pos_] != '"')) break;
      if (c == '"') ++pos_;  // "" is an escaped quote
      if (c == '\n') ++line_;
      out += c;
    }
    pos_ = std::min(text_.find_first_not_of(" \t", pos_), text_.size());
    if (!atEnd() && text_[pos_] != ',' && text_[pos_] != '\r' && text_[pos_] != '\n') {
      throw lineError(line_, "unexpected text after a closing quote");
    }
    return out;
  }

  std::string_view text_;
  std::size_t pos_ = 0;
  std::size_t line_ = 1;
};

constexpr std::array<std::string_view, 7> kColumns = {"id",    "name",      "kind",  "parent",
                                                      "order", "formerIds", "active"};

using Columns = std::map<std::string, std::size_t, std::less<>>;

Columns readHeader(const std::vector<std::string>& header, std::size_t line) {
  Columns columns;
  for (std::size_t i = 0; i < header.size(); ++i) {
    if (std::find(kColumns.begin(), kColumns.end(), header[i]) == kColumns.end()) {
      throw lineError(line, "unknown column '" + header[i] +
                                "' (expected id, name, kind, parent, order, formerIds, active)");
    }
    if (!columns.emplace(header[i], i).second) {
      throw lineError(line, "column '" + header[i] + "' appears twice");
    }
  }
  for (const char* required : {"id", "name", "kind", "parent"}) {
    if (!columns.count(required))
      throw lineError(line, "missing column '" + std::string(required) + "'");
  }
  return columns;
}

std::vector<std::string> splitIds(const std::string& list) {
  std::vector<std::string> ids;
  std::istringstream in(list);
  for (std::string id; std::getline(in, id, ';');) {
    if (auto t = trim(id); !t.empty()) ids.push_back(t);
  }
  return ids;
}

int parseOrder(const std::string& s, std::size_t line) {
  if (s.empty()) return 0;
  int value = 0;
  const auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), value);
  if (ec != std::errc() || end != s.data() + s.size()) {
    throw lineError(line, "order: expected an integer, got '" + s + "'");
  }
  return value;
}

bool parseActive(const std::string& s, std::size_t line) {
  if (s.empty() || s == "true" || s == "1" || s == "yes") return true;
  if (s == "false" || s == "0" || s == "no") return false;
  throw lineError(line, "active: expected true or false, got '" + s + "'");
}

core::Unit readCsvUnit(const Columns& columns, const std::vector<std::string>& fields,
                       std::size_t line) {
  auto get = [&](std::string_view column) -> std::string {
    auto it = columns.find(column);
    if (it == columns.end()) return {};
    if (!isUtf8(fields[it->second])) {
      throw lineError(line, std::string(column) + ": not UTF-8 (save the file as UTF-8)");
    }
    return fields[it->second];
  };
  core::Unit u;
  u.id = get("id");
  u.name = get("name");
  if (u.id.empty()) throw lineError(line, "id: required");
  if (u.name.empty()) throw lineError(line, "name: required");
  u.kind = kindOf(get("kind"), "line " + std::to_string(line) + ": kind");
  u.parentId = get("parent");
  u.order = parseOrder(get("order"), line);
  u.formerIds = splitIds(get("formerIds"));
  u.active = parseActive(get("active"), line);
  return u;
}

std::string readFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw std::runtime_error("cannot read org tree file " + path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

}  // namespace

std::vector<core::Unit> parseOrgUnitsJson(const std::string& text) {
  json root;
  try {
    root = json::parse(text, nullptr, true, /*ignore_comments=*/true);
  } catch (const json::exception& e) {
    throw std::runtime_error(std::string("not valid JSON: ") + e.what());
  }
  if (!root.is_object()) throw std::runtime_error("expected an object with a \"units\" array");
  for (const auto& [key, value] : root.items()) {
    if (key != "units") throw std::runtime_error("unknown key '" + key + "'");
  }
  if (!root.contains("units") || !root["units"].is_array()) {
    throw std::runtime_error("units: expected an array");
  }
  std::vector<core::Unit> units;
  for (std::size_t i = 0; i < root["units"].size(); ++i) {
    units.push_back(readJsonUnit(root["units"][i], i));
  }
  return units;
}

std::vector<core::Unit> parseOrgUnitsCsv(const std::string& text) {
  CsvReader reader(text);
  if (reader.atEnd()) throw lineError(1, "empty file: expected a header (id,name,kind,parent)");
  const Columns columns = readHeader(reader.record(), 1);
  std::vector<core::Unit> units;
  while (!reader.atEnd()) {
    const std::size_t line = reader.line();
    const auto fields = reader.record();
    if (fields.size() == 1 && fields[0].empty()) continue;  // blank line
    if (fields.size() != columns.size()) {
      throw lineError(line, "expected " + std::to_string(columns.size()) + " fields, got " +
                                std::to_string(fields.size()));
    }
    units.push_back(readCsvUnit(columns, fields, line));
  }
  return units;
}

core::OrgTree loadOrgTree(const std::string& path) {
  std::string ext = std::filesystem::path(path).extension().string();
  std::transform(ext.begin(), ext.end(), ext.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  if (ext != ".json" && ext != ".csv") {
    throw std::runtime_error(path + ": unknown org tree format (expected .json or .csv)");
  }
  const std::string text = readFile(path);
  std::vector<core::Unit> units;
  try {
    units = ext == ".json" ? parseOrgUnitsJson(text) : parseOrgUnitsCsv(text);
  } catch (const std::exception& e) {
    throw std::runtime_error(path + ": " + e.what());
  }
  try {
    return core::OrgTree(std::move(units));
  } catch (const core::OrgTreeError& e) {
    throw core::OrgTreeError(e.problems(), path);
  }
}

}  // namespace mcu::server
