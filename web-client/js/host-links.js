// Host console: bridge points' room links — issue (shown once), re-issue, revoke.
import { t } from './i18n.js';
import { api } from './api.js';
import {
  $, h, announce, showError, formatDateTime, fold, copyAndAnnounce, confirmable,
} from './host-util.js';
import { OrgTree } from './host-orgtree.js';

export class LinksView {
  constructor() {
    this.tree = null;
    this.links = new Map(); // unit id → {unitId, createdAt}
    this.issued = null; // {unitId, url}: shown once, forgotten when the view is left
    this.filter = '';
    this.visit = 0;
    this.listEl = $('links-list');
    this.errorEl = $('links-error');
    $('links-filter').addEventListener('input', (e) => {
      this.filter = fold(e.target.value.trim());
      this.applyFilter();
    });
    $('links-refresh').addEventListener('click', () => this.load());
  }

  show() {
    this.visit++;
    this.render();
    this.load();
  }

  hide() {
    this.visit++;
    this.issued = null; // the secret is not kept once the host moves on
  }

  async load() {
    const visit = this.visit;
    this.listEl.setAttribute('aria-busy', 'true');
    try {
      const [units, links] = await Promise.all([api.units(), api.roomLinks()]);
      if (visit !== this.visit) return;
      this.tree = new OrgTree(Array.isArray(units?.units) ? units.units : []);
      this.links = new Map((links?.links ?? []).map((l) => [l.unitId, l]));
      showError(this.errorEl, null);
      this.render();
    } catch (err) {
      if (visit === this.visit && !err.sessionEnded) showError(this.errorEl, err);
    } finally {
      if (visit === this.visit) this.listEl.removeAttribute('aria-busy');
    }
  }

  render() {
    if (!this.tree) {
      this.listEl.replaceChildren(h('li', { class: 'muted', text: t('host.loading') }));
      return;
    }
    const rows = [];
    for (const [u, depth] of this.tree.walk()) {
      if (u.active === false && !this.links.has(u.id)) continue;
      rows.push(this.row(u, depth));
    }
    this.listEl.replaceChildren(...rows);
    this.applyFilter();
  }

  applyFilter() {
    for (const li of this.listEl.querySelectorAll('.link-row')) {
      const u = this.tree?.byId.get(li.dataset.unitId);
      li.hidden = Boolean(this.filter) && !!u &&
        !fold(u.name).includes(this.filter) && !fold(u.id).includes(this.filter);
    }
  }

  rerow(unitId) {
    const old = this.listEl.querySelector(`.link-row[data-unit-id="${CSS.escape(unitId)}"]`);
    if (!old) return null;
    const row = this.row(this.tree.byId.get(unitId), Number(old.dataset.depth) || 0);
    old.replaceWith(row);
    return row;
  }

  row(u, depth) {
    const link = this.links.get(u.id);
    const errorEl = h('p', { class: 'field-error row-error', role: 'alert', hidden: true });
    const issue = h('button', {
      type: 'button',
      class: 'btn btn-primary btn-small',
      'data-testid': 'room-link-issue',
      text: link ? t('host.links.reissue') : t('host.links.issue'),
    });
    if (link) {
      confirmable(issue, {
        question: t('host.links.reissueQuestion'),
        confirmLabel: t('host.links.reissueConfirm'),
        onConfirm: () => this.issue(u, errorEl),
      });
    } else {
      issue.addEventListener('click', () => {
        issue.disabled = true;
        this.issue(u, errorEl).finally(() => { issue.disabled = false; });
      });
    }
    const revoke = link ? confirmable(h('button', {
      type: 'button',
      class: 'btn btn-secondary btn-small',
      'data-testid': 'room-link-revoke',
      text: t('host.links.revoke'),
    }), {
      question: t('host.links.revokeQuestion'),
      confirmLabel: t('host.links.revokeConfirm'),
      onConfirm: () => this.revoke(u, errorEl),
    }) : null;

    return h('li', {
      class: 'link-row',
      'data-testid': 'link-row',
      'data-unit-id': u.id,
      'data-depth': depth,
      style: `--depth: ${depth}`,
    },
    h('div', { class: 'link-main' },
      h('span', { class: 'unit-name', text: u.name }),
      h('span', { class: 'unit-kind', text: ` · ${t(`host.kind.${u.kind}`)}` }),
      u.active === false ? h('span', { class: 'badge', text: t('host.invite.inactive') }) : null,
      h('span', {
        class: `link-status ${link ? 'is-active' : ''}`,
        'data-testid': 'link-status',
        'data-active': String(Boolean(link)),
        text: link ? t('host.links.activeSince', { time: formatDateTime(link.createdAt) })
          : t('host.links.none'),
      })),
    h('div', { class: 'link-actions' }, issue, revoke),
    errorEl,
    this.issued?.unitId === u.id ? this.issuedPanel(u) : null);
  }

  issuedPanel(u) {
    const url = this.issued.url;
    const headingId = `issued-${u.id.replace(/[^\w-]/g, '_')}`;
    const input = h('input', {
      class: 'link-url',
      readonly: true,
      'data-testid': 'room-link-url',
      'aria-labelledby': headingId,
      value: url,
    });
    return h('div', { class: 'issued-link', role: 'group', 'aria-labelledby': headingId },
      h('p', {
        class: 'issued-heading',
        id: headingId,
        text: t('host.links.issuedHeading', { name: u.name }),
      }),
      h('div', { class: 'copy-row' }, input,
        h('button', {
          type: 'button',
          class: 'btn btn-primary btn-small',
          'data-testid': 'room-link-copy',
          text: t('host.copy'),
          onclick: () => copyAndAnnounce(url),
        })),
      h('p', { class: 'warn', text: t('host.links.issuedWarning') }),
      h('button', {
        type: 'button',
        class: 'btn btn-secondary btn-small',
        'data-testid': 'room-link-dismiss',
        text: t('host.links.dismiss'),
        onclick: () => {
          this.issued = null;
          this.rerow(u.id)?.querySelector('[data-testid="room-link-issue"]')?.focus();
        },
      }));
  }

  async issue(u, errorEl) {
    showError(errorEl, null);
    try {
      const reply = await api.issueRoomLink(u.id);
      this.issued = { unitId: u.id, url: location.origin + reply.url };
      this.links.set(u.id, { unitId: u.id, createdAt: new Date().toISOString() });
      const row = this.rerow(u.id);
      const input = row?.querySelector('[data-testid="room-link-url"]');
      input?.focus();
      input?.select();
      announce(t('host.links.issuedAnnounce', { name: u.name }));
    } catch (err) {
      if (!err.sessionEnded) showError(errorEl, err);
    }
  }

  async revoke(u, errorEl) {
    showError(errorEl, null);
    try {
      await api.revokeRoomLink(u.id);
      this.links.delete(u.id);
      if (this.issued?.unitId === u.id) this.issued = null;
      this.rerow(u.id)?.querySelector('[data-testid="room-link-issue"]')?.focus();
      announce(t('host.links.revoked', { name: u.name }));
    } catch (err) {
      if (err.sessionEnded) return;
      let target = errorEl;
      if (err.code === 'not_found') { // already gone (another host): show it as such
        this.links.delete(u.id);
        target = this.rerow(u.id)?.querySelector('.row-error') ?? errorEl;
      }
      showError(target, err);
    }
  }
}
