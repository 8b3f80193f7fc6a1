// The organisation tree (GET /units, pre-order from the root) and the checkbox picker of the
// create-meeting form, which turns ticks into an invite {units, subtrees, kinds}.
import { t } from './i18n.js';
import { h, fold } from './host-util.js';

export class OrgTree {
  constructor(units) {
    this.units = units;
    this.byId = new Map(units.map((u) => [u.id, u]));
    this.children = new Map();
    this.roots = [];
    for (const u of units) { // keeps the server's sibling order
      if (u.parent != null && this.byId.has(u.parent)) {
        if (!this.children.has(u.parent)) this.children.set(u.parent, []);
        this.children.get(u.parent).push(u);
      } else {
        this.roots.push(u);
      }
    }
  }

  kids(id) {
    return this.children.get(id) ?? [];
  }

  *descendants(id) {
    for (const c of this.kids(id)) {
      yield c;
      yield* this.descendants(c.id);
    }
  }

  // [unit, depth] in pre-order.
  *walk() {
    const self = this;
    function* visit(u, depth) {
      yield [u, depth];
      for (const c of self.kids(u.id)) yield* visit(c, depth + 1);
    }
    for (const r of this.roots) yield* visit(r, 0);
  }
}

// Quick selections by kind (invite.kinds).
export const KIND_GROUPS = {
  communes: ['commune', 'ward'],
  departments: ['department'],
};

let pickerCount = 0;

// Ticking a unit ticks every active unit below it too; unticking clears them. A ticked unit whose
// whole active subtree is ticked goes out as one `subtrees` entry; other ticks go as `units`.
// Units of a kind chosen with a quick button are covered by `kinds` and not listed again.
export class UnitPicker {
  constructor(container, { onChange } = {}) {
    this.container = container;
    this.onChange = onChange ?? (() => {});
    this.tree = null;
    this.ticked = new Set();
    this.kinds = new Set();
    this.filter = '';
    this.prefix = `unit-${++pickerCount}`;
    this.nodes = new Map(); // unit id → {li, input, hint}
    container.addEventListener('change', (e) => {
      const id = e.target?.dataset?.unitId;
      if (id != null && e.target.type === 'checkbox') this.tick(id, e.target.checked);
    });
  }

  setTree(tree) {
    this.tree = tree;
    for (const id of [...this.ticked]) if (!tree.byId.has(id)) this.ticked.delete(id);
    this.build();
  }

  covered(u) {
    return this.kinds.has(u.kind);
  }

  selected(u) {
    return u.active !== false && (this.ticked.has(u.id) || this.covered(u));
  }

  activeDescendants(id) {
    return [...this.tree.descendants(id)].filter((d) => d.active !== false);
  }

  fullSubtree(u) {
    const below = this.activeDescendants(u.id);
    return below.length > 0 && below.every((d) => this.selected(d));
  }

  tick(id, on) {
    const u = this.tree?.byId.get(id);
    if (!u) return;
    for (const x of [u, ...this.tree.descendants(id)]) {
      if (on && x.active !== false) this.ticked.add(x.id);
      else if (!on) this.ticked.delete(x.id);
    }
    this.changed();
  }

  kindsOn(kinds) {
    return kinds.every((k) => this.kinds.has(k));
  }

  setKinds(kinds, on) {
    for (const k of kinds) {
      if (on) this.kinds.add(k);
      else this.kinds.delete(k);
    }
    this.changed();
  }

  clear() {
    this.ticked.clear();
    this.kinds.clear();
    this.changed();
  }

  changed() {
    this.sync();
    this.onChange();
  }

  count() {
    if (!this.tree) return 0;
    return this.tree.units.filter((u) => this.selected(u)).length;
  }

  selection() {
    const units = [];
    const subtrees = [];
    const visit = (u) => {
      const ticked = this.ticked.has(u.id) && u.active !== false;
      if (ticked && this.fullSubtree(u)) {
        subtrees.push(u.id);
        return;
      }
      if (ticked && !this.covered(u)) units.push(u.id);
      for (const c of this.tree.kids(u.id)) visit(c);
    };
    for (const r of this.tree?.roots ?? []) visit(r);
    return { units, subtrees, kinds: [...this.kinds] };
  }

  setFilter(text) {
    this.filter = fold(text.trim());
    this.applyFilter();
  }

  // ---- DOM ----

  build() {
    this.nodes.clear();
    const list = (units) => h('ul', { class: 'unit-list' }, units.map((u) => this.node(u)));
    this.container.replaceChildren(list(this.tree.roots));
    this.sync();
    this.applyFilter();
  }

  node(u) {
    const id = `${this.prefix}-${this.nodes.size}`;
    const input = h('input', {
      type: 'checkbox',
      id,
      'data-testid': 'unit-checkbox',
      'data-unit-id': u.id,
      'aria-describedby': `${id}-hint`,
    });
    const hint = h('span', { class: 'unit-hint', id: `${id}-hint` });
    const kind = h('span', { class: 'unit-kind' });
    const li = h('li', { class: 'unit-node', 'data-unit-id': u.id },
      h('div', { class: 'unit-line' }, input,
        h('label', { for: id }, h('span', { class: 'unit-name', text: u.name }), kind), hint));
    if (u.active === false) li.classList.add('is-inactive');
    this.nodes.set(u.id, { li, input, hint, kind });
    const kids = this.tree.kids(u.id);
    if (kids.length) li.append(h('ul', { class: 'unit-list' }, kids.map((c) => this.node(c))));
    return li;
  }

  // Brings checkboxes and hints in line with the selection (and the language).
  sync() {
    for (const [uid, n] of this.nodes) {
      const u = this.tree.byId.get(uid);
      const inactive = u.active === false;
      n.input.checked = this.selected(u);
      n.input.disabled = inactive || this.covered(u);
      n.kind.textContent = ` · ${t(`host.kind.${u.kind}`)}`;
      const below = this.tree.kids(uid).length ? this.activeDescendants(uid) : [];
      let hint = '';
      if (inactive) hint = t('host.invite.inactive');
      else if (this.covered(u)) hint = t('host.invite.byKind');
      else if (below.length && this.ticked.has(uid) && this.fullSubtree(u)) {
        hint = t('host.invite.wholeSubtree', { n: below.length });
      } else if (below.length) {
        const k = below.filter((d) => this.selected(d)).length;
        hint = t('host.invite.below', { k, n: below.length });
      }
      n.hint.textContent = hint;
      n.li.classList.toggle('is-subtree', this.ticked.has(uid) && below.length > 0 &&
        this.fullSubtree(u));
    }
  }

  // Hides units that neither match the filter nor have a match below them.
  applyFilter() {
    const q = this.filter;
    const visit = (u) => {
      const self = !q || fold(u.name).includes(q) || fold(u.id).includes(q);
      let below = false;
      for (const c of this.tree.kids(u.id)) below = visit(c) || below;
      const show = self || below;
      this.nodes.get(u.id).li.hidden = !show;
      return show;
    };
    for (const r of this.tree?.roots ?? []) visit(r);
  }
}
