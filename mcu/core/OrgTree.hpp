#pragma once
// The organisation tree: the units (province, departments, communes, ...) that hold meetings.
// A pure value model: no I/O, no JSON. mcu/server/OrgTreeLoader reads it from configs/org/.
//
// Ids are stable keys that history (recordings, logs, invitations) refers to; names may change.
// When units merge, the merged ids live on as formerIds of the surviving unit, so find() still
// resolves an old id to the unit that now stands for it.
#include <cstddef>
#include <functional>
#include <map>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace mcu::core {

enum class UnitKind { kProvince, kDepartment, kDistrict, kCity, kCommune, kWard, kOther };

// Data-file spelling of a kind: "province", "department", "district", "city", "commune", "ward",
// "other".
std::string_view unitKindName(UnitKind kind);
std::optional<UnitKind> parseUnitKind(std::string_view name);

struct Unit {
  std::string id;    // stable, e.g. "lc.ubnd", "lc.xa.ban-lau"
  std::string name;  // UTF-8 display name, e.g. "UBND tỉnh Lào Cai"
  UnitKind kind = UnitKind::kOther;
  std::string parentId;                // empty for the root
  int order = 0;                       // sibling order; ties are broken by name, then id
  std::vector<std::string> formerIds;  // ids merged into this unit; they resolve to it
  bool active = true;  // informational: queries return inactive units too, callers filter
  bool operator==(const Unit&) const = default;
};

// Every problem found in a set of units (or one bad operation), reported together so a data file
// can be fixed in one pass. what() joins the problems with "; ".
class OrgTreeError : public std::runtime_error {
 public:
  explicit OrgTreeError(std::vector<std::string> problems, const std::string& context = {});
  const std::vector<std::string>& problems() const { return problems_; }

 private:
  std::vector<std::string> problems_;
};

// A validated tree with exactly ONE root (the province): a deployment serves one organisation,
// and "the whole tree" must be a unit one can invite. Immutable; the operations return a new,
// re-validated tree. Unit pointers returned by queries borrow from this tree.
// Orders are deterministic: siblings sort by (order, name bytes, id).
class OrgTree {
 public:
  // Throws OrgTreeError listing every problem: empty or duplicate ids, empty names, missing
  // parents, no root or several roots, cycles, former ids that collide with live ids or with
  // each other.
  explicit OrgTree(std::vector<Unit> units);

  std::size_t size() const { return units_.size(); }
  const Unit& root() const { return units_[root_]; }

  // The unit with this id, or that absorbed it (formerIds); nullptr if unknown.
  const Unit* find(std::string_view id) const;
  // These throw OrgTreeError for an unknown id; they accept former ids.
  const Unit& at(std::string_view id) const;
  std::vector<const Unit*> children(std::string_view id) const;
  // The unit and all its descendants, pre-order.
  std::vector<const Unit*> subtree(std::string_view id) const;
  // Units of `kind` in the subtree of `within` (empty: the root), pre-order.
  std::vector<const Unit*> ofKind(UnitKind kind, std::string_view within = {}) const;
  // Root first, the unit last (breadcrumbs).
  std::vector<const Unit*> path(std::string_view id) const;
  // Every unit, pre-order from the root: the canonical order for writing a tree out.
  std::vector<Unit> units() const;

  OrgTree rename(std::string_view id, std::string newName) const;
  // Each from-unit disappears: its children move under `intoId`, and its id and former ids become
  // former ids of `intoId`. A from-unit may not be the root, `intoId` or an ancestor of it.
  OrgTree merge(const std::vector<std::string>& fromIds, std::string_view intoId) const;
  // Re-parents a unit with its subtree; not the root, not under itself or its descendants.
  OrgTree move(std::string_view id, std::string_view newParentId) const;

 private:
  std::size_t indexOf(std::string_view id) const;
  void appendSubtree(std::size_t index, std::vector<const Unit*>& out) const;
  bool isAncestorOrSelf(std::size_t ancestor, std::size_t index) const;
  std::vector<std::size_t> mergeSources(const std::vector<std::string>& fromIds,
                                        std::size_t into) const;

  std::vector<Unit> units_;
  std::map<std::string, std::size_t, std::less<>> byId_;  // live ids and former ids
  std::vector<std::vector<std::size_t>> children_;        // sorted sibling order
  std::vector<std::size_t> parent_;                       // root's parent is itself
  std::size_t root_ = 0;
};

}  // namespace mcu::core
