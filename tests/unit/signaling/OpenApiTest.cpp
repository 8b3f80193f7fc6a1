// docs/openapi.yaml against the REST API's route table: every method and path served is
// described, and nothing described is missing from the server. The yaml is read by indentation
// (two spaces per level, as the file is written) rather than with a YAML library: only the keys
// under `paths:` matter.
#include <gtest/gtest.h>

#include <fstream>
#include <set>
#include <sstream>
#include <string>
#include <utility>

#include "signaling/RestApi.hpp"

namespace mcu::signaling {
namespace {

using Endpoint = std::pair<std::string, std::string>;  // method, path

// "/units/{unitId}/room-link" -> "/units/{}/room-link": the two sides name parameters freely.
std::string withoutParameterNames(const std::string& path) {
  std::string out;
  bool inName = false;
  for (char c : path) {
    if (c == '}') inName = false;
    if (!inName) out += c;
    if (c == '{') inName = true;
  }
  return out;
}

std::string upper(std::string text) {
  for (char& c : text) c = static_cast<char>(c >= 'a' && c <= 'z' ? c - 'a' + 'A' : c);
  return text;
}

std::multiset<Endpoint> documentedEndpoints(const std::string& file) {
  static const std::set<std::string> kMethods{"get",   "put",     "post", "delete",
                                              "patch", "options", "head", "trace"};
  std::ifstream in(file);
  EXPECT_TRUE(in) << "cannot read " << file;
  std::multiset<Endpoint> out;
  std::string line, path;
  bool inPaths = false;
  while (std::getline(in, line)) {
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (line.empty() || line.find_first_not_of(' ') == std::string::npos) continue;
    if (line[0] != ' ' && line[0] != '#') {  // a top-level key
      inPaths = line == "paths:";
      continue;
    }
    if (!inPaths) continue;
    if (line.rfind("  /", 0) == 0 && line.back() == ':') {
      path = line.substr(2, line.size() - 3);
    } else if (line.rfind("    ", 0) == 0 && line[4] != ' ' && line.back() == ':') {
      const std::string key = line.substr(4, line.size() - 5);
      if (kMethods.count(key)) out.emplace(upper(key), withoutParameterNames(path));
    }
  }
  return out;
}

std::string listOf(const std::multiset<Endpoint>& endpoints) {
  std::ostringstream out;
  for (const auto& [method, path] : endpoints) out << "\n  " << method << ' ' << path;
  return out.str();
}

TEST(OpenApiTest, DescribesExactlyTheRoutesServed) {
  std::multiset<Endpoint> served;
  for (const auto& [method, path] : RestApi::endpoints()) {
    served.emplace(method, withoutParameterNames(path));
  }
  const auto documented = documentedEndpoints(MCU_OPENAPI_YAML);
  ASSERT_GT(documented.size(), 10u) << "the paths of " << MCU_OPENAPI_YAML << " were not found";
  std::multiset<Endpoint> undocumented, unserved;
  for (const auto& e : served) {
    if (documented.count(e) != 1) undocumented.insert(e);
  }
  for (const auto& e : documented) {
    if (served.count(e) != 1) unserved.insert(e);
  }
  EXPECT_TRUE(undocumented.empty())
      << "served but not described once in docs/openapi.yaml:" << listOf(undocumented);
  EXPECT_TRUE(unserved.empty()) << "described in docs/openapi.yaml but not served once:"
                                << listOf(unserved);
}

TEST(OpenApiTest, ParameterNamesDoNotMatterButPositionsDo) {
  EXPECT_EQ(withoutParameterNames("/units/{unitId}/room-link"), "/units/{}/room-link");
  EXPECT_EQ(withoutParameterNames("/meetings/{id}"), "/meetings/{}");
  EXPECT_NE(withoutParameterNames("/a/{x}/b"), withoutParameterNames("/a/b/{x}"));
}

}  // namespace
}  // namespace mcu::signaling
