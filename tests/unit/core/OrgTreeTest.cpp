// The organisation tree model (mcu/core/OrgTree): validation, queries, and the operations that
// return a new tree.
#include "mcu/core/OrgTree.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <string>
#include <vector>

namespace mcu::core {
namespace {

Unit unit(std::string id, std::string name, UnitKind kind, std::string parent = {}, int order = 0,
          std::vector<std::string> formerIds = {}) {
  return Unit{std::move(id), std::move(name),      kind, std::move(parent),
              order,         std::move(formerIds), true};
}

std::vector<std::string> ids(const std::vector<const Unit*>& units) {
  std::vector<std::string> out;
  for (const Unit* u : units) out.push_back(u->id);
  return out;
}

// Province → (departments, communes directly): the post-2025 shape.
std::vector<Unit> flatProvince() {
  return {
      unit("p", "UBND tỉnh", UnitKind::kProvince),
      unit("p.yt", "Sở Y tế", UnitKind::kDepartment, "p", 10),
      unit("p.xd", "Sở Xây dựng", UnitKind::kDepartment, "p", 10),
      unit("p.xa.b", "xã B", UnitKind::kCommune, "p", 20),
      unit("p.xa.a", "xã A", UnitKind::kCommune, "p", 20),
      unit("p.ph.c", "phường C", UnitKind::kWard, "p", 15),
  };
}

// Province → district → commune → village office: four levels.
std::vector<Unit> fourLevels() {
  return {
      unit("p", "Tỉnh", UnitKind::kProvince),
      unit("d1", "Huyện Một", UnitKind::kDistrict, "p", 1),
      unit("d2", "Huyện Hai", UnitKind::kDistrict, "p", 2),
      unit("d1.x1", "xã Một", UnitKind::kCommune, "d1"),
      unit("d1.x2", "xã Hai", UnitKind::kCommune, "d1"),
      unit("d2.x3", "xã Ba", UnitKind::kCommune, "d2"),
      unit("d1.x1.o", "Văn phòng thôn", UnitKind::kOther, "d1.x1"),
  };
}

std::vector<std::string> problemsOf(std::vector<Unit> units) {
  try {
    OrgTree tree(std::move(units));
  } catch (const OrgTreeError& e) {
    return e.problems();
  }
  ADD_FAILURE() << "expected OrgTreeError";
  return {};
}

bool mentions(const std::vector<std::string>& problems, const std::string& text) {
  for (const auto& p : problems) {
    if (p.find(text) != std::string::npos) return true;
  }
  return false;
}

TEST(UnitKindTest, NamesRoundTrip) {
  for (auto kind : {UnitKind::kProvince, UnitKind::kDepartment, UnitKind::kDistrict,
                    UnitKind::kCity, UnitKind::kCommune, UnitKind::kWard, UnitKind::kOther}) {
    EXPECT_EQ(parseUnitKind(unitKindName(kind)), kind) << unitKindName(kind);
  }
  EXPECT_EQ(parseUnitKind("Commune"), std::nullopt);
  EXPECT_EQ(parseUnitKind("xã"), std::nullopt);
}

TEST(OrgTreeValidationTest, AcceptsAValidTree) {
  OrgTree tree(flatProvince());
  EXPECT_EQ(tree.size(), 6u);
  EXPECT_EQ(tree.root().id, "p");
}

TEST(OrgTreeValidationTest, DuplicateId) {
  auto units = flatProvince();
  units.push_back(unit("p.yt", "Sở Y tế 2", UnitKind::kDepartment, "p"));
  auto problems = problemsOf(units);
  ASSERT_EQ(problems.size(), 1u);
  EXPECT_NE(std::string(problems[0]).find("duplicate id 'p.yt'"), std::string::npos) << problems[0];
}

TEST(OrgTreeValidationTest, MissingParent) {
  auto units = flatProvince();
  units.push_back(unit("x", "xã X", UnitKind::kCommune, "nowhere"));
  auto problems = problemsOf(units);
  ASSERT_EQ(problems.size(), 1u);
  EXPECT_EQ(problems[0], "unit 'x': parent 'nowhere' does not exist");
}

TEST(OrgTreeValidationTest, ParentThatIsAFormerIdSaysSo) {
  auto units = flatProvince();
  units[1].formerIds = {"p.old"};
  units.push_back(unit("x", "xã X", UnitKind::kCommune, "p.old"));
  EXPECT_EQ(problemsOf(units),
            std::vector<std::string>{"unit 'x': parent 'p.old' is a former id of 'p.yt'"});
}

TEST(OrgTreeValidationTest, Cycle) {
  auto units = flatProvince();
  units.push_back(unit("c", "C", UnitKind::kOther, "a"));
  units.push_back(unit("a", "A", UnitKind::kOther, "b"));
  units.push_back(unit("b", "B", UnitKind::kOther, "c"));
  units.push_back(unit("under", "Under", UnitKind::kOther, "b"));  // hangs off the cycle
  EXPECT_EQ(problemsOf(units), std::vector<std::string>{"cycle: 'a' -> 'b' -> 'c' -> 'a'"});
}

TEST(OrgTreeValidationTest, SelfParentIsACycle) {
  auto units = flatProvince();
  units.push_back(unit("s", "S", UnitKind::kOther, "s"));
  EXPECT_EQ(problemsOf(units), std::vector<std::string>{"cycle: 's' -> 's'"});
}

TEST(OrgTreeValidationTest, ExactlyOneRoot) {
  auto units = flatProvince();
  units.push_back(unit("q", "Tỉnh khác", UnitKind::kProvince));
  auto problems = problemsOf(units);
  ASSERT_EQ(problems.size(), 1u);
  EXPECT_NE(std::string(problems[0]).find("several roots ('p', 'q')"), std::string::npos)
      << problems[0];

  EXPECT_TRUE(mentions(problemsOf({}), "no root"));
}

TEST(OrgTreeValidationTest, FormerIdCollisions) {
  auto units = flatProvince();
  units[1].formerIds = {"p.xd"};   // a live id
  units[3].formerIds = {"p.old"};  // claimed twice
  units[4].formerIds = {"p.old"};
  auto problems = problemsOf(units);
  EXPECT_EQ(problems.size(), 2u);
  EXPECT_TRUE(mentions(problems, "unit 'p.yt': former id 'p.xd' is the id of a live unit"));
  EXPECT_TRUE(mentions(problems, "former id 'p.old' is also claimed by"));
}

TEST(OrgTreeValidationTest, ReportsEveryProblemAtOnce) {
  auto units = flatProvince();
  units.push_back(unit("p.yt", "dup", UnitKind::kDepartment, "p"));
  units.push_back(unit("x", "X", UnitKind::kCommune, "nowhere"));
  units.push_back(unit("a", "A", UnitKind::kOther, "b"));
  units.push_back(unit("b", "B", UnitKind::kOther, "a"));
  units.push_back(unit("q", "Q", UnitKind::kProvince));
  units.push_back(unit("y", "", UnitKind::kCommune, "p", 0, {"p.xd"}));
  try {
    OrgTree tree(units);
    FAIL() << "expected OrgTreeError";
  } catch (const OrgTreeError& e) {
    const auto& problems = e.problems();
    EXPECT_EQ(problems.size(), 6u) << e.what();
    EXPECT_TRUE(mentions(problems, "duplicate id 'p.yt'"));
    EXPECT_TRUE(mentions(problems, "parent 'nowhere' does not exist"));
    EXPECT_TRUE(mentions(problems, "cycle: 'a' -> 'b' -> 'a'"));
    EXPECT_TRUE(mentions(problems, "several roots"));
    EXPECT_TRUE(mentions(problems, "unit 'y': empty name"));
    EXPECT_TRUE(mentions(problems, "former id 'p.xd' is the id of a live unit"));
    EXPECT_NE(std::string(e.what()).find("; "), std::string::npos) << e.what();
  }
}

TEST(OrgTreeQueryTest, ChildrenSortByOrderThenNameThenId) {
  OrgTree tree(flatProvince());
  EXPECT_EQ(ids(tree.children("p")),
            (std::vector<std::string>{"p.xd", "p.yt", "p.ph.c", "p.xa.a", "p.xa.b"}));
  EXPECT_TRUE(tree.children("p.xa.a").empty());
}

TEST(OrgTreeQueryTest, OrderDoesNotDependOnInputOrder) {
  auto units = fourLevels();
  std::reverse(units.begin(), units.end());
  EXPECT_EQ(OrgTree(units).units(), OrgTree(fourLevels()).units());
}

TEST(OrgTreeQueryTest, SubtreeIsPreOrder) {
  OrgTree tree(fourLevels());
  EXPECT_EQ(ids(tree.subtree("p")),
            (std::vector<std::string>{"p", "d1", "d1.x2", "d1.x1", "d1.x1.o", "d2", "d2.x3"}));
  EXPECT_EQ(ids(tree.subtree("d1")), (std::vector<std::string>{"d1", "d1.x2", "d1.x1", "d1.x1.o"}));
  EXPECT_EQ(ids(tree.subtree("d2.x3")), std::vector<std::string>{"d2.x3"});
}

TEST(OrgTreeQueryTest, OfKindWholeTreeOrWithin) {
  OrgTree tree(fourLevels());
  EXPECT_EQ(ids(tree.ofKind(UnitKind::kCommune)),
            (std::vector<std::string>{"d1.x2", "d1.x1", "d2.x3"}));
  EXPECT_EQ(ids(tree.ofKind(UnitKind::kCommune, "d2")), std::vector<std::string>{"d2.x3"});
  EXPECT_TRUE(tree.ofKind(UnitKind::kWard).empty());
  EXPECT_EQ(ids(OrgTree(flatProvince()).ofKind(UnitKind::kDepartment)),
            (std::vector<std::string>{"p.xd", "p.yt"}));
}

TEST(OrgTreeQueryTest, PathFromRoot) {
  OrgTree tree(fourLevels());
  EXPECT_EQ(ids(tree.path("d1.x1.o")), (std::vector<std::string>{"p", "d1", "d1.x1", "d1.x1.o"}));
  EXPECT_EQ(ids(tree.path("p")), std::vector<std::string>{"p"});
}

TEST(OrgTreeQueryTest, ThreeLevels) {
  auto units = fourLevels();
  units.pop_back();
  OrgTree tree(units);
  EXPECT_EQ(tree.size(), 6u);
  EXPECT_EQ(ids(tree.path("d2.x3")), (std::vector<std::string>{"p", "d2", "d2.x3"}));
  EXPECT_EQ(tree.ofKind(UnitKind::kDistrict).size(), 2u);
}

TEST(OrgTreeQueryTest, UnknownIds) {
  OrgTree tree(flatProvince());
  EXPECT_EQ(tree.find("nope"), nullptr);
  EXPECT_THROW(tree.at("nope"), OrgTreeError);
  EXPECT_THROW(tree.children("nope"), OrgTreeError);
  EXPECT_THROW(tree.subtree("nope"), OrgTreeError);
  EXPECT_THROW(tree.ofKind(UnitKind::kCommune, "nope"), OrgTreeError);
  EXPECT_THROW(tree.path("nope"), OrgTreeError);
}

TEST(OrgTreeQueryTest, FindResolvesFormerIds) {
  auto units = flatProvince();
  units[3].formerIds = {"p.xa.old"};
  OrgTree tree(units);
  ASSERT_NE(tree.find("p.xa.old"), nullptr);
  EXPECT_EQ(tree.find("p.xa.old")->id, "p.xa.b");
  EXPECT_EQ(ids(tree.path("p.xa.old")), (std::vector<std::string>{"p", "p.xa.b"}));
}

TEST(OrgTreeOperationTest, RenameKeepsIdAndResorts) {
  const OrgTree tree(flatProvince());
  const OrgTree renamed = tree.rename("p.xa.b", "xã Á");
  EXPECT_EQ(renamed.at("p.xa.b").name, "xã Á");
  EXPECT_EQ(tree.at("p.xa.b").name, "xã B") << "the original tree is unchanged";
  EXPECT_EQ(renamed.size(), tree.size());
  // "xã A" < "xã Á" bytewise, so the renamed commune still sorts after it; ids are untouched.
  EXPECT_EQ(ids(renamed.ofKind(UnitKind::kCommune)),
            (std::vector<std::string>{"p.xa.a", "p.xa.b"}));
  EXPECT_THROW((void)tree.rename("p.xa.b", ""), OrgTreeError);
  EXPECT_THROW((void)tree.rename("nope", "x"), OrgTreeError);
}

TEST(OrgTreeOperationTest, MergeMovesChildrenAndKeepsOldIdsResolvable) {
  const OrgTree tree(fourLevels());
  const OrgTree merged = tree.merge({"d1"}, "d2");
  EXPECT_EQ(merged.size(), tree.size() - 1);
  EXPECT_EQ(ids(merged.children("p")), std::vector<std::string>{"d2"});
  EXPECT_EQ(ids(merged.children("d2")), (std::vector<std::string>{"d2.x3", "d1.x2", "d1.x1"}));
  EXPECT_EQ(merged.find("d1")->id, "d2");
  EXPECT_EQ(merged.at("d2").formerIds, std::vector<std::string>{"d1"});
  const auto all = ids(merged.subtree("p"));
  EXPECT_EQ(std::count(all.begin(), all.end(), "d1"), 0);
  EXPECT_EQ(ids(merged.path("d1.x1.o")), (std::vector<std::string>{"p", "d2", "d1.x1", "d1.x1.o"}));
}

TEST(OrgTreeOperationTest, MergeSeveralCarriesFormerIdsAlong) {
  auto units = fourLevels();
  units[4].formerIds = {"old.x2"};  // d1.x2 already absorbed a unit once
  const OrgTree merged = OrgTree(units).merge({"d1.x2", "d1.x1"}, "d2.x3");
  EXPECT_EQ(merged.at("d2.x3").formerIds, (std::vector<std::string>{"d1.x2", "old.x2", "d1.x1"}));
  for (const char* old : {"d1.x2", "old.x2", "d1.x1"}) EXPECT_EQ(merged.find(old)->id, "d2.x3");
  EXPECT_TRUE(merged.children("d1").empty());
  EXPECT_EQ(ids(merged.children("d2.x3")), std::vector<std::string>{"d1.x1.o"});
  EXPECT_EQ(ids(merged.ofKind(UnitKind::kCommune)), std::vector<std::string>{"d2.x3"});
}

TEST(OrgTreeOperationTest, MergeOfAParentAndItsChild) {
  const OrgTree merged = OrgTree(fourLevels()).merge({"d1", "d1.x1"}, "d2");
  // All order 0, so by name: "Văn phòng thôn" < "xã Ba" < "xã Hai".
  EXPECT_EQ(ids(merged.subtree("d2")),
            (std::vector<std::string>{"d2", "d1.x1.o", "d2.x3", "d1.x2"}));
}

TEST(OrgTreeOperationTest, MergeRefusesBadSourcesListingAll) {
  const OrgTree tree(fourLevels());
  try {
    (void)tree.merge({"p", "nope", "d1", "d1.x1"}, "d1.x1");
    FAIL() << "expected OrgTreeError";
  } catch (const OrgTreeError& e) {
    EXPECT_EQ(e.problems().size(), 5u) << e.what();  // root (also ancestor), unknown, 2 ancestors
    EXPECT_TRUE(mentions(e.problems(), "cannot merge the root 'p'"));
    EXPECT_TRUE(mentions(e.problems(), "unknown unit 'nope'"));
    EXPECT_TRUE(mentions(e.problems(), "cannot merge 'd1.x1' into itself"));
  }
  EXPECT_THROW((void)tree.merge({}, "d1"), OrgTreeError);
  EXPECT_THROW((void)tree.merge({"d1"}, "nope"), OrgTreeError);
}

TEST(OrgTreeOperationTest, MoveReparentsASubtree) {
  const OrgTree moved = OrgTree(fourLevels()).move("d1.x1", "d2");
  EXPECT_EQ(ids(moved.children("d2")), (std::vector<std::string>{"d2.x3", "d1.x1"}));
  EXPECT_EQ(ids(moved.path("d1.x1.o")), (std::vector<std::string>{"p", "d2", "d1.x1", "d1.x1.o"}));
  EXPECT_EQ(moved.at("d1.x1").parentId, "d2");
}

TEST(OrgTreeOperationTest, MoveRefusesRootAndCycles) {
  const OrgTree tree(fourLevels());
  EXPECT_THROW((void)tree.move("p", "d1"), OrgTreeError);
  EXPECT_THROW((void)tree.move("d1", "d1.x1.o"), OrgTreeError);
  EXPECT_THROW((void)tree.move("d1", "d1"), OrgTreeError);
  EXPECT_THROW((void)tree.move("d1", "nope"), OrgTreeError);
}

TEST(OrgTreeOperationTest, OperationsAreDeterministic) {
  const OrgTree tree(fourLevels());
  const auto a = tree.merge({"d1"}, "d2").move("d1.x1", "p").rename("d2", "Huyện Mới");
  const auto b = tree.merge({"d1"}, "d2").move("d1.x1", "p").rename("d2", "Huyện Mới");
  EXPECT_EQ(a.units(), b.units());
}

}  // namespace
}  // namespace mcu::core
