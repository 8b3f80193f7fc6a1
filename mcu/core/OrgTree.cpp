#include "mcu/core/OrgTree.hpp"

#include <algorithm>
#include <array>
#include <set>
#include <tuple>
#include <utility>

namespace mcu::core {

namespace {

constexpr std::array<std::pair<UnitKind, std::string_view>, 7> kKindNames = {{
    {UnitKind::kProvince, "province"},
    {UnitKind::kDepartment, "department"},
    {UnitKind::kDistrict, "district"},
    {UnitKind::kCity, "city"},
    {UnitKind::kCommune, "commune"},
    {UnitKind::kWard, "ward"},
    {UnitKind::kOther, "other"},
}};

std::string quoted(std::string_view s) {
  return "'" + std::string(s) + "'";
}

std::string joined(const std::vector<std::string>& problems, const std::string& context) {
  std::string out = context.empty() ? "" : context + ": ";
  for (std::size_t i = 0; i < problems.size(); ++i) out += (i ? "; " : "") + problems[i];
  return out;
}

using IdIndex = std::map<std::string, std::size_t, std::less<>>;

void checkIds(const std::vector<Unit>& units, IdIndex& ids, std::vector<std::string>& problems) {
  for (std::size_t i = 0; i < units.size(); ++i) {
    const Unit& u = units[i];
    if (u.id.empty()) {
      problems.push_back("unit #" + std::to_string(i) + ": empty id");
      continue;
    }
    if (!ids.emplace(u.id, i).second) problems.push_back("duplicate id " + quoted(u.id));
    if (u.name.empty()) problems.push_back("unit " + quoted(u.id) + ": empty name");
  }
}

void checkFormerIds(const std::vector<Unit>& units, const IdIndex& ids, IdIndex& former,
                    std::vector<std::string>& problems) {
  for (std::size_t i = 0; i < units.size(); ++i) {
    for (const auto& f : units[i].formerIds) {
      const std::string who = "unit " + quoted(units[i].id) + ": former id " + quoted(f);
      if (f.empty()) {
        problems.push_back("unit " + quoted(units[i].id) + ": empty former id");
      } else if (ids.count(f)) {
        problems.push_back(who + " is the id of a live unit");
      } else if (auto [it, added] = former.emplace(f, i); !added) {
        problems.push_back(who + " is also claimed by " + quoted(units[it->second].id));
      }
    }
  }
}

void checkParents(const std::vector<Unit>& units, const IdIndex& ids, const IdIndex& former,
                  std::vector<std::string>& problems) {
  std::vector<std::string> roots;
  for (const Unit& u : units) {
    if (u.parentId.empty()) {
      roots.push_back(quoted(u.id));
    } else if (!ids.count(u.parentId)) {
      auto it = former.find(u.parentId);
      problems.push_back("unit " + quoted(u.id) + ": parent " + quoted(u.parentId) +
                         (it == former.end()
                              ? " does not exist"
                              : " is a former id of " + quoted(units[it->second].id)));
    }
  }
  if (roots.empty()) problems.push_back("no root: exactly one unit must have no parent");
  if (roots.size() > 1) {
    std::string list;
    for (const auto& r : roots) list += (list.empty() ? "" : ", ") + r;
    problems.push_back("several roots (" + list + "): exactly one unit may have no parent");
  }
}

std::string describeCycle(const std::vector<Unit>& units, std::vector<std::size_t> cycle) {
  // Start at the smallest id so the message does not depend on input order.
  auto smallest = std::min_element(cycle.begin(), cycle.end(),
                                   [&](auto a, auto b) { return units[a].id < units[b].id; });
  std::rotate(cycle.begin(), smallest, cycle.end());
  std::string out = "cycle: ";
  for (auto i : cycle) out += quoted(units[i].id) + " -> ";
  return out + quoted(units[cycle.front()].id);
}

void checkCycles(const std::vector<Unit>& units, const IdIndex& ids,
                 std::vector<std::string>& problems) {
  enum State { kNew, kOnPath, kDone };
  std::vector<State> state(units.size(), kNew);
  for (const auto& [id, start] : ids) {
    std::vector<std::size_t> path;
    std::size_t cur = start;
    while (state[cur] == kNew) {
      state[cur] = kOnPath;
      path.push_back(cur);
      auto parent = ids.find(units[cur].parentId);
      if (parent == ids.end()) break;
      cur = parent->second;
    }
    if (state[cur] == kOnPath && !units[cur].parentId.empty() && ids.count(units[cur].parentId)) {
      auto from = std::find(path.begin(), path.end(), cur);
      if (from != path.end()) problems.push_back(describeCycle(units, {from, path.end()}));
    }
    for (auto i : path) state[i] = kDone;
  }
}

}  // namespace

std::string_view unitKindName(UnitKind kind) {
  for (const auto& [k, name] : kKindNames) {
    if (k == kind) return name;
  }
  return "other";
}

std::optional<UnitKind> parseUnitKind(std::string_view name) {
  for (const auto& [k, n] : kKindNames) {
    if (n == name) return k;
  }
  return std::nullopt;
}

OrgTreeError::OrgTreeError(std::vector<std::string> problems, const std::string& context)
    : std::runtime_error(joined(problems, context)), problems_(std::move(problems)) {}

OrgTree::OrgTree(std::vector<Unit> units) : units_(std::move(units)) {
  std::vector<std::string> problems;
  IdIndex ids;
  IdIndex former;
  checkIds(units_, ids, problems);
  checkFormerIds(units_, ids, former, problems);
  checkParents(units_, ids, former, problems);
  checkCycles(units_, ids, problems);
  if (!problems.empty()) throw OrgTreeError(std::move(problems));

  byId_ = std::move(ids);
  byId_.merge(former);
  parent_.resize(units_.size());
  children_.resize(units_.size());
  for (std::size_t i = 0; i < units_.size(); ++i) {
    if (units_[i].parentId.empty()) {
      root_ = parent_[i] = i;
    } else {
      parent_[i] = byId_.find(units_[i].parentId)->second;
      children_[parent_[i]].push_back(i);
    }
  }
  auto key = [this](std::size_t i) {
    return std::tie(units_[i].order, units_[i].name, units_[i].id);
  };
  for (auto& siblings : children_) {
    std::sort(siblings.begin(), siblings.end(), [&](auto a, auto b) { return key(a) < key(b); });
  }
}

const Unit* OrgTree::find(std::string_view id) const {
  auto it = byId_.find(id);
  return it == byId_.end() ? nullptr : &units_[it->second];
}

std::size_t OrgTree::indexOf(std::string_view id) const {
  auto it = byId_.find(id);
  if (it == byId_.end()) throw OrgTreeError({"unknown unit " + quoted(id)});
  return it->second;
}

const Unit& OrgTree::at(std::string_view id) const {
  return units_[indexOf(id)];
}

std::vector<const Unit*> OrgTree::children(std::string_view id) const {
  std::vector<const Unit*> out;
  for (auto c : children_[indexOf(id)]) out.push_back(&units_[c]);
  return out;
}

void OrgTree::appendSubtree(std::size_t index, std::vector<const Unit*>& out) const {
  out.push_back(&units_[index]);
  for (auto c : children_[index]) appendSubtree(c, out);
}

std::vector<const Unit*> OrgTree::subtree(std::string_view id) const {
  std::vector<const Unit*> out;
  appendSubtree(indexOf(id), out);
  return out;
}

std::vector<const Unit*> OrgTree::ofKind(UnitKind kind, std::string_view within) const {
  auto all = subtree(within.empty() ? std::string_view(root().id) : within);
  std::erase_if(all, [kind](const Unit* u) { return u->kind != kind; });
  return all;
}

std::vector<const Unit*> OrgTree::path(std::string_view id) const {
  std::vector<const Unit*> out;
  std::size_t i = indexOf(id);
  out.push_back(&units_[i]);
  for (; i != root_; i = parent_[i]) out.push_back(&units_[parent_[i]]);
  std::reverse(out.begin(), out.end());
  return out;
}

std::vector<Unit> OrgTree::units() const {
  std::vector<Unit> out;
  for (const Unit* u : subtree(root().id)) out.push_back(*u);
  return out;
}

bool OrgTree::isAncestorOrSelf(std::size_t ancestor, std::size_t index) const {
  for (;; index = parent_[index]) {
    if (index == ancestor) return true;
    if (index == root_) return false;
  }
}

OrgTree OrgTree::rename(std::string_view id, std::string newName) const {
  auto units = units_;
  units[indexOf(id)].name = std::move(newName);
  return OrgTree(std::move(units));
}

OrgTree OrgTree::move(std::string_view id, std::string_view newParentId) const {
  const std::size_t i = indexOf(id);
  const std::size_t p = indexOf(newParentId);
  if (i == root_) throw OrgTreeError({"cannot move the root " + quoted(units_[i].id)});
  if (isAncestorOrSelf(i, p)) {
    throw OrgTreeError({"cannot move " + quoted(units_[i].id) + " under its own subtree (" +
                        quoted(units_[p].id) + ")"});
  }
  auto units = units_;
  units[i].parentId = units_[p].id;
  return OrgTree(std::move(units));
}

std::vector<std::size_t> OrgTree::mergeSources(const std::vector<std::string>& fromIds,
                                               std::size_t into) const {
  std::vector<std::string> problems;
  std::vector<std::size_t> from;  // in the caller's order, without repeats
  if (fromIds.empty()) problems.push_back("nothing to merge into " + quoted(units_[into].id));
  for (const auto& id : fromIds) {
    const Unit* u = find(id);
    if (!u) {
      problems.push_back("unknown unit " + quoted(id));
      continue;
    }
    const auto i = static_cast<std::size_t>(u - units_.data());
    if (i == root_) problems.push_back("cannot merge the root " + quoted(u->id));
    if (isAncestorOrSelf(i, into)) {
      problems.push_back("cannot merge " + quoted(u->id) + " into itself or its descendant " +
                         quoted(units_[into].id));
    }
    if (std::find(from.begin(), from.end(), i) == from.end()) from.push_back(i);
  }
  if (!problems.empty()) throw OrgTreeError(std::move(problems));
  return from;
}

OrgTree OrgTree::merge(const std::vector<std::string>& fromIds, std::string_view intoId) const {
  const std::size_t into = indexOf(intoId);
  std::set<std::string_view> gone;
  Unit target = units_[into];
  for (auto i : mergeSources(fromIds, into)) {
    gone.insert(units_[i].id);
    target.formerIds.push_back(units_[i].id);
    for (const auto& f : units_[i].formerIds) target.formerIds.push_back(f);
  }
  std::vector<Unit> units;
  for (std::size_t i = 0; i < units_.size(); ++i) {
    if (gone.count(units_[i].id)) continue;
    units.push_back(i == into ? target : units_[i]);
    if (gone.count(units.back().parentId)) units.back().parentId = target.id;
  }
  return OrgTree(std::move(units));
}

}  // namespace mcu::core
