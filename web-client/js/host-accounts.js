// Host console (admin only): accounts — list, create (a generated password is shown once),
// disable and enable.
import { t } from './i18n.js';
import { api } from './api.js';
import {
  $, h, announce, showError, formatDateTime, byName, copyAndAnnounce, confirmable,
} from './host-util.js';

export class AccountsView {
  constructor(ctx) {
    this.ctx = ctx; // {account()}
    this.accounts = [];
    this.loaded = false;
    this.visit = 0;
    this.created = null; // {username, password}: shown once
    this.form = $('account-form');
    this.formError = $('account-create-error');
    this.listEl = $('accounts-list');
    this.errorEl = $('accounts-error');
    this.createdEl = $('account-created');
    this.form.addEventListener('submit', (e) => {
      e.preventDefault();
      this.create();
    });
  }

  show() {
    this.visit++;
    this.render();
    this.load();
  }

  hide() {
    this.visit++;
    this.created = null;
    this.renderCreated();
  }

  async load() {
    const visit = this.visit;
    try {
      const reply = await api.accounts();
      if (visit !== this.visit) return;
      this.accounts = Array.isArray(reply?.accounts) ? reply.accounts : [];
      this.loaded = true;
      showError(this.errorEl, null);
      this.render();
    } catch (err) {
      if (visit === this.visit && !err.sessionEnded) showError(this.errorEl, err);
    }
  }

  render() {
    this.renderCreated();
    if (!this.loaded) {
      const cell = h('td', { colspan: 6, class: 'muted', text: t('host.loading') });
      this.listEl.replaceChildren(h('tr', {}, cell));
      return;
    }
    const sorted = [...this.accounts].sort((a, b) => byName(a.username, b.username));
    this.listEl.replaceChildren(...sorted.map((a) => this.row(a)));
  }

  row(a) {
    const me = this.ctx.account();
    const errorEl = h('p', { class: 'field-error row-error', role: 'alert', hidden: true });
    const flags = [
      h('span', {
        class: `badge ${a.disabled ? 'badge-disabled' : 'badge-ok'}`,
        'data-testid': 'account-status',
        text: a.disabled ? t('host.accounts.disabled') : t('host.accounts.enabled'),
      }),
      a.mustChangePassword
        ? h('span', { class: 'badge', text: t('host.accounts.mustChange') }) : null,
    ];
    let action = null;
    if (me?.id !== a.id) { // admins cannot disable themselves
      const button = h('button', {
        type: 'button',
        class: `btn btn-small ${a.disabled ? 'btn-secondary' : 'btn-danger'}`,
        'data-testid': a.disabled ? 'account-enable' : 'account-disable',
        text: a.disabled ? t('host.accounts.enable') : t('host.accounts.disable'),
      });
      const run = () => this.setDisabled(a, !a.disabled, errorEl);
      if (a.disabled) {
        button.addEventListener('click', () => {
          button.disabled = true;
          run().finally(() => { button.disabled = false; });
        });
      } else {
        confirmable(button, {
          question: t('host.accounts.disableQuestion', { username: a.username }),
          confirmLabel: t('host.accounts.disableConfirm'),
          onConfirm: run,
        });
      }
      action = button;
    } else {
      action = h('span', { class: 'muted', text: t('host.accounts.you') });
    }
    return h('tr', { 'data-testid': 'account-row', 'data-account-id': a.id },
      h('th', { scope: 'row', class: 'account-username', text: a.username }),
      h('td', { 'data-label': t('host.accounts.displayName'), text: a.displayName || '' }),
      h('td', { 'data-label': t('host.accounts.role'), text: t(`host.role.${a.role}`) }),
      h('td', { 'data-label': t('host.accounts.status') }, flags),
      h('td', { 'data-label': t('host.accounts.createdAt'), text: formatDateTime(a.createdAt) }),
      h('td', { class: 'account-actions' }, action, errorEl));
  }

  async setDisabled(a, disabled, errorEl) {
    showError(errorEl, null);
    try {
      const updated = await api.updateAccount(a.id, { disabled });
      const i = this.accounts.findIndex((x) => x.id === a.id);
      if (i >= 0) this.accounts[i] = updated;
      this.render();
      this.listEl.querySelector(`[data-account-id="${CSS.escape(String(a.id))}"] button`)?.focus();
      announce(t(disabled ? 'host.accounts.disabledDone' : 'host.accounts.enabledDone',
        { username: a.username }));
    } catch (err) {
      if (!err.sessionEnded) showError(errorEl, err);
    }
  }

  async create() {
    const username = $('account-username').value.trim();
    if (!username) {
      showError(this.formError, 'host.accounts.usernameRequired');
      $('account-username').focus();
      return;
    }
    const body = { username, role: $('account-role').value };
    const displayName = $('account-display-name').value.trim();
    if (displayName) body.displayName = displayName;
    const password = $('account-password').value;
    if (password) body.password = password;
    showError(this.formError, null);
    const submit = $('account-create-submit');
    submit.disabled = true;
    try {
      const reply = await api.createAccount(body);
      const account = reply?.account;
      if (account) this.accounts.push(account);
      this.form.reset();
      this.created = reply?.initialPassword
        ? { username: account?.username ?? username, password: reply.initialPassword } : null;
      this.render();
      announce(t('host.accounts.created', { username: account?.username ?? username }));
      if (this.created) $('account-initial-password').focus();
    } catch (err) {
      if (!err.sessionEnded) showError(this.formError, err);
    } finally {
      submit.disabled = false;
    }
  }

  renderCreated() {
    const c = this.created;
    this.createdEl.hidden = !c;
    if (!c) {
      this.createdEl.replaceChildren();
      return;
    }
    this.createdEl.replaceChildren(
      h('p', {
        class: 'issued-heading',
        id: 'account-created-heading',
        text: t('host.accounts.initialPassword', { username: c.username }),
      }),
      h('div', { class: 'copy-row' },
        h('input', {
          id: 'account-initial-password',
          class: 'link-url',
          readonly: true,
          'data-testid': 'account-initial-password',
          'aria-labelledby': 'account-created-heading',
          value: c.password,
        }),
        h('button', {
          type: 'button',
          class: 'btn btn-primary btn-small',
          'data-testid': 'account-initial-password-copy',
          text: t('host.copy'),
          onclick: () => copyAndAnnounce(c.password),
        })),
      h('p', { class: 'warn', text: t('host.accounts.initialPasswordWarning') }),
      h('button', {
        type: 'button',
        class: 'btn btn-secondary btn-small',
        text: t('host.links.dismiss'),
        onclick: () => {
          this.created = null;
          this.renderCreated();
          $('account-username').focus();
        },
      }));
  }
}
