// The org tree loader (mcu/server/OrgTreeLoader): JSON with comments and CSV into core::OrgTree,
// and the two shipped files in configs/org/.
#include "mcu/server/OrgTreeLoader.hpp"

#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <stdexcept>
#include <string>
#include <vector>

namespace mcu::server {
namespace {

using core::OrgTree;
using core::Unit;
using core::UnitKind;

// The message of the std::runtime_error `parse` throws, or a test failure if it does not throw.
template <typename F>
std::string errorOf(F parse) {
  try {
    parse();
  } catch (const std::runtime_error& e) {
    return e.what();
  }
  ADD_FAILURE() << "expected an error";
  return {};
}

bool contains(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

std::string jsonError(const std::string& text) {
  return errorOf([&] { parseOrgUnitsJson(text); });
}

std::string csvError(const std::string& text) {
  return errorOf([&] { parseOrgUnitsCsv(text); });
}

TEST(ParseOrgUnitsJsonTest, ReadsEveryKeyWithComments) {
  const auto units = parseOrgUnitsJson(R"({
    // the root
    "units": [
      {"id": "p", "name": "UBND tỉnh", "kind": "province", "parent": null},
      /* a merged commune */
      {"id": "p.x", "name": "xã Bản Lầu", "kind": "commune", "parent": "p", "order": -3,
       "formerIds": ["p.old1", "p.old2"], "active": false}
    ]
  })");
  ASSERT_EQ(units.size(), 2u);
  EXPECT_EQ(units[0], (Unit{"p", "UBND tỉnh", UnitKind::kProvince, "", 0, {}, true}));
  EXPECT_EQ(units[1],
            (Unit{"p.x", "xã Bản Lầu", UnitKind::kCommune, "p", -3, {"p.old1", "p.old2"}, false}));
}

TEST(ParseOrgUnitsJsonTest, UnknownKeyNamesUnitAndKey) {
  const auto e = jsonError(R"({"units": [
      {"id": "p", "name": "P", "kind": "province"},
      {"id": "p.x", "nmae": "X", "name": "X", "kind": "commune", "parent": "p"}]})");
  EXPECT_EQ(e, "units[1 'p.x']: unknown key 'nmae'");
  EXPECT_EQ(jsonError(R"({"unit": []})"), "unknown key 'unit'");
}

TEST(ParseOrgUnitsJsonTest, BadValuesNameUnitAndKey) {
  EXPECT_EQ(jsonError(R"({"units": [{"id": "p", "kind": "province"}]})"),
            "units[0 'p'].name: required");
  EXPECT_TRUE(contains(jsonError(R"({"units": [{"id": "p", "name": "P", "kind": "tỉnh"}]})"),
                       "units[0 'p'].kind: unknown kind 'tỉnh' (expected one of province"));
  EXPECT_TRUE(
      contains(jsonError(R"({"units": [{"id": "p", "name": "P", "kind": "other", "order": 1.5}]})"),
               "units[0 'p'].order: expected an integer"));
  EXPECT_TRUE(contains(
      jsonError(R"({"units": [{"id": "p", "name": "P", "kind": "other", "formerIds": "x"}]})"),
      "units[0 'p'].formerIds"));
  EXPECT_TRUE(contains(jsonError(R"({"units": [{"id": 7}]})"), "units[0].id"));
  EXPECT_TRUE(contains(jsonError(R"({"units": [1]})"), "units[0]: expected an object"));
  EXPECT_TRUE(contains(jsonError(R"({"units": {}})"), "units: expected an array"));
  EXPECT_TRUE(contains(jsonError("{"), "not valid JSON"));
}

TEST(ParseOrgUnitsCsvTest, QuotesCommasBomCrlfAndVietnamese) {
  const std::string text =
      "\xEF\xBB\xBFid,name,kind,parent,order,formerIds\r\n"
      "p,\"UBND tỉnh Lào Cai, cơ quan \"\"chính\"\"\",province,,,\r\n"
      "\r\n"
      "p.x , xã Tả Van ,commune,p,2,\"p.old1; p.old2\"\r\n"
      "p.y,\"Sở Y tế\nTầng 2\",department,p,-1,\n";
  const auto units = parseOrgUnitsCsv(text);
  ASSERT_EQ(units.size(), 3u);
  EXPECT_EQ(
      units[0],
      (Unit{"p", "UBND tỉnh Lào Cai, cơ quan \"chính\"", UnitKind::kProvince, "", 0, {}, true}));
  EXPECT_EQ(units[1],
            (Unit{"p.x", "xã Tả Van", UnitKind::kCommune, "p", 2, {"p.old1", "p.old2"}, true}));
  EXPECT_EQ(units[2], (Unit{"p.y", "Sở Y tế\nTầng 2", UnitKind::kDepartment, "p", -1, {}, true}));
  EXPECT_EQ(OrgTree(units).children("p").size(), 2u);
}

TEST(ParseOrgUnitsCsvTest, ColumnsInAnyOrderOptionalOnesMayBeLeftOut) {
  const auto units = parseOrgUnitsCsv(
      "parent,kind,id,name,active\n,province,p,P,\np,ward,p.w,phường Cốc Lếu,false\n");
  ASSERT_EQ(units.size(), 2u);
  EXPECT_EQ(units[1], (Unit{"p.w", "phường Cốc Lếu", UnitKind::kWard, "p", 0, {}, false}));
}

TEST(ParseOrgUnitsCsvTest, ErrorsCarryLineNumbers) {
  const std::string header = "id,name,kind,parent\n";
  EXPECT_EQ(csvError(header + "p,P,province,\np.x,X,commune\n"),
            "line 3: expected 4 fields, got 3");
  // A quoted field spanning lines: later records keep their physical line numbers.
  EXPECT_EQ(csvError(header + "p,\"P\nP\",province,\n\np.x,X,xã,p\n"),
            "line 5: kind: unknown kind 'xã' (expected one of province, department, district, "
            "city, commune, ward, other)");
  EXPECT_EQ(csvError(header + "p,P,province,\np.x,\"X,commune,p\n"),
            "line 3: quoted field is never closed");
  EXPECT_EQ(csvError(header + "p,P\"x\",province,\n"),
            "line 2: quote inside an unquoted field (quote the whole field)");
  EXPECT_EQ(csvError(header + "p,\"P\"x,province,\n"),
            "line 2: unexpected text after a closing quote");
  EXPECT_EQ(csvError(header + ",P,province,\n"), "line 2: id: required");
  EXPECT_EQ(csvError("id,name,kind,parent,order\np,P,province,,first\n"),
            "line 2: order: expected an integer, got 'first'");
  EXPECT_EQ(csvError(header + "p,x\xE0 B\xE1n,province,\n"),
            "line 2: name: not UTF-8 (save the file as UTF-8)");
}

TEST(ParseOrgUnitsCsvTest, HeaderErrors) {
  EXPECT_EQ(csvError(""), "line 1: empty file: expected a header (id,name,kind,parent)");
  EXPECT_EQ(csvError("id,name,kind\n"), "line 1: missing column 'parent'");
  EXPECT_TRUE(
      contains(csvError("id,name,kind,parent,colour\n"), "line 1: unknown column 'colour'"));
  EXPECT_EQ(csvError("id,name,kind,parent,id\n"), "line 1: column 'id' appears twice");
}

class LoadOrgTreeTest : public ::testing::Test {
 protected:
  std::string write(const std::string& name, const std::string& text) {
    const auto path =
        (std::filesystem::temp_directory_path() / (std::to_string(::getpid()) + "-" + name))
            .string();
    std::ofstream(path, std::ios::binary) << text;
    written_.push_back(path);
    return path;
  }
  void TearDown() override {
    for (const auto& p : written_) std::remove(p.c_str());
  }

 private:
  std::vector<std::string> written_;
};

TEST_F(LoadOrgTreeTest, PicksFormatByExtension) {
  const auto csv = write("tree.CSV", "id,name,kind,parent\np,P,province,\n");
  const auto json =
      write("tree.json", R"({"units": [{"id": "p", "name": "P", "kind": "province"}]})");
  EXPECT_EQ(loadOrgTree(csv).size(), 1u);
  EXPECT_EQ(loadOrgTree(json).size(), 1u);
  const auto txt = write("tree.txt", "");
  EXPECT_TRUE(contains(errorOf([&] { loadOrgTree(txt); }), "unknown org tree format"));
  EXPECT_TRUE(contains(errorOf([&] { loadOrgTree("/nonexistent/tree.json"); }), "cannot read"));
}

TEST_F(LoadOrgTreeTest, ErrorsNameTheFile) {
  const auto bad = write("bad.csv", "id,name,kind,parent\np,P,province\n");
  EXPECT_EQ(errorOf([&] { loadOrgTree(bad); }), bad + ": line 2: expected 4 fields, got 3");

  const auto twoRoots = write("roots.csv", "id,name,kind,parent\np,P,province,\nq,Q,province,\n");
  try {
    loadOrgTree(twoRoots);
    FAIL() << "expected OrgTreeError";
  } catch (const core::OrgTreeError& e) {
    EXPECT_EQ(e.problems().size(), 1u);
    EXPECT_TRUE(contains(e.what(), twoRoots + ": several roots")) << e.what();
  }
}

std::vector<std::string> names(const std::vector<const Unit*>& units) {
  std::vector<std::string> out;
  for (const Unit* u : units) out.push_back(u->name);
  return out;
}

TEST(ShippedOrgTreeTest, LaoCaiLoadsWithSixDepartments) {
  const OrgTree tree = loadOrgTree(MCU_SHIPPED_ORG_LAO_CAI);
  EXPECT_EQ(tree.size(), 14u);
  EXPECT_EQ(tree.root().id, "lc.ubnd");
  EXPECT_EQ(tree.root().name, "UBND tỉnh Lào Cai");
  EXPECT_EQ(names(tree.ofKind(UnitKind::kDepartment)),
            (std::vector<std::string>{"Sở Thông tin và Truyền thông", "Sở Xây dựng", "Sở Y tế",
                                      "Sở Tài nguyên và Môi trường", "Sở Giao thông Vận tải",
                                      "Sở Kế hoạch và Đầu tư"}));
  EXPECT_EQ(names(tree.ofKind(UnitKind::kCity)),
            std::vector<std::string>{"UBND thành phố Lào Cai"});
  EXPECT_EQ(tree.ofKind(UnitKind::kCommune).size() + tree.ofKind(UnitKind::kWard).size(), 6u);
  EXPECT_EQ(tree.path("lc.xa.ban-lau").size(), 2u) << "no district level after the 2025 reform";
}

TEST(ShippedOrgTreeTest, ExampleDistrictsLoadsWithThreeLevels) {
  const OrgTree tree = loadOrgTree(MCU_SHIPPED_ORG_DISTRICTS);
  EXPECT_EQ(tree.size(), 13u);
  EXPECT_EQ(tree.ofKind(UnitKind::kDistrict).size(), 2u);
  EXPECT_EQ(tree.ofKind(UnitKind::kCommune).size(), 4u);
  EXPECT_EQ(tree.ofKind(UnitKind::kWard).size(), 4u);
  EXPECT_EQ(names(tree.path("lc.sp.xa.ta-van")),
            (std::vector<std::string>{"UBND tỉnh Lào Cai", "UBND thị xã Sa Pa", "xã Tả Van"}));
  ASSERT_NE(tree.find("lc.tp.phuong.pho-moi"), nullptr);
  EXPECT_EQ(tree.find("lc.tp.phuong.pho-moi")->name, "phường Lào Cai");
}

}  // namespace
}  // namespace mcu::server
