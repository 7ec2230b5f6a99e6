// The parts of the ticket page that edit a TicketModel: the properties panel (system fields, tags
// and every active custom field with the control its type needs) and the composer with its
// "Submit as <status>" split button. Controls write to the model; the model's change events write
// back to the controls, so a change from an app or a live refresh shows up the same way.
import { h, icon, replace, uid } from './dom.js';
import { STATUSES, PRIORITIES, TYPES, sameValue, normalizeTags } from './ticket-model.js';
import { STATUS_LABELS, PRIORITY_LABELS, TYPE_LABELS } from './format.js';
import { allUsers, agents, allGroups, userName, groupById, organizationById, userById } from './directory.js';
import { toggleMenu, closeMenus } from './ui.js';

/** @typedef {import('./ticket-model.js').TicketModel} TicketModel */
/** @typedef {import('./directory.js').TicketField} TicketField */

const SYSTEM_TYPES = new Set(['subject', 'description', 'status', 'priority', 'tickettype', 'group', 'assignee']);

/** @type {Record<string, string>} */
const LABELS = {
  subject: 'Subject', description: 'Description', requester_id: 'Requester', assignee_id: 'Assignee',
  group_id: 'Group', status: 'Status', priority: 'Priority', type: 'Type', tags: 'Tags', 'comment.text': 'Comment',
};

/** The active custom fields, in admin order. @param {TicketField[]} fields */
export function activeCustomFields(fields) {
  return fields.filter((f) => !SYSTEM_TYPES.has(f.type) && f.active !== false);
}

/**
 * Human label of a model property. @param {string} property @param {TicketField[]} fields
 */
export function propertyLabel(property, fields) {
  const m = /^custom_field_(\d+)$/.exec(property);
  if (m) return fields.find((f) => f.id === Number(m[1]))?.title ?? property;
  return LABELS[property] ?? property;
}

/**
 * Human rendering of a property value, for notices ("changed Status to Pending").
 * @param {string} property @param {unknown} value @param {TicketField[]} fields
 */
export function displayValue(property, value, fields) {
  if (value === null || value === undefined || value === '') return '(empty)';
  if (property === 'status') return STATUS_LABELS[String(value)] ?? String(value);
  if (property === 'priority') return PRIORITY_LABELS[String(value)] ?? String(value);
  if (property === 'type') return TYPE_LABELS[String(value)] ?? String(value);
  if (property === 'requester_id' || property === 'assignee_id') return userName(Number(value));
  if (property === 'group_id') return groupById(Number(value))?.name ?? `Group #${value}`;
  if (property === 'tags') return Array.isArray(value) && value.length ? value.join(', ') : '(no tags)';
  const m = /^custom_field_(\d+)$/.exec(property);
  if (m) {
    const f = fields.find((x) => x.id === Number(m[1]));
    if (f?.type === 'checkbox') return value ? 'checked' : 'unchecked';
    if (f?.type === 'tagger') return f.custom_field_options?.find((o) => o.value === value)?.name ?? String(value);
  }
  return String(value);
}

/**
 * @param {HTMLSelectElement} select
 * @param {unknown} value
 * @param {(v: string) => string} labelFor label for a value not among the options
 */
function setSelectValue(select, value, labelFor) {
  const v = value === null || value === undefined ? '' : String(value);
  if (![...select.options].some((o) => o.value === v)) select.append(h('option', { value: v }, labelFor(v)));
  select.value = v;
}

/**
 * @param {Array<{value: string, label: string}>} options
 * @param {string} [emptyLabel] an extra first option meaning "none"
 */
function optionList(options, emptyLabel) {
  return [emptyLabel !== undefined ? h('option', { value: '' }, emptyLabel) : null,
    ...options.map((o) => h('option', { value: o.value }, o.label))];
}

/**
 * Builds the properties panel bound to the model.
 * @param {TicketModel} model
 * @param {{fields: TicketField[], isNew: boolean, onCleanup: (fn: () => void) => void}} options
 */
export function propertiesPanel(model, options) {
  const { fields, onCleanup } = options;
  /** @type {Map<string, HTMLElement>} */
  const wrappers = new Map();

  /**
   * One labelled field with an error slot. The control gets the label and the error wired up.
   * @param {string} property
   * @param {string} label
   * @param {HTMLElement} control
   * @param {{inline?: boolean, extra?: import('./dom.js').Child, target?: HTMLElement, required?: boolean, hint?: string}} [o]
   *   target: the element the label names when `control` is a wrapper (the tag editor)
   */
  const field = (property, label, control, o = {}) => {
    const target = o.target ?? control;
    const id = target.id || uid('f');
    target.id = id;
    const errId = `${id}-error`;
    target.setAttribute('aria-describedby', errId);
    if (o.required) target.setAttribute('aria-required', 'true');
    // The asterisk sits outside the label so the accessible name stays the field's title;
    // aria-required carries the meaning.
    const mark = o.required ? h('span', { class: 'required-mark', 'aria-hidden': 'true' }, '*') : null;
    const labelEl = mark ? h('span', { class: 'label-row' }, h('label', { for: id, title: o.hint || undefined }, label), mark)
      : h('label', { for: id, title: o.hint || undefined }, label);
    const wrapper = h('div', { class: `field${o.inline ? ' field-inline' : ''}`, 'data-field': property },
      o.inline ? [control, labelEl] : [labelEl, control], o.extra ?? null,
      h('p', { class: 'field-error', id: errId, role: 'alert', hidden: true }));
    wrappers.set(property, wrapper);
    return wrapper;
  };

  /**
   * Two-way binding between a control and a model property.
   * @param {string} property
   * @param {HTMLElement} control
   * @param {string} eventName
   * @param {() => unknown} read
   * @param {(value: unknown) => void} write
   */
  const bind = (property, control, eventName, read, write) => {
    write(model.get(property));
    control.addEventListener(eventName, () => {
      model.set(property, read(), { source: 'ui' });
      clearFieldError(property);
    });
    onCleanup(model.on(`ticket.${property}.changed`, (d) => {
      if (!sameValue(read(), d.value) || d.source !== 'ui') write(d.value);
    }));
  };

  /** @param {string} property @param {string} label @param {HTMLSelectElement} select @param {(v: string) => string} fallback */
  const selectField = (property, label, select, fallback) => {
    bind(property, select, 'change', () => select.value || null, (v) => setSelectValue(select, v, fallback));
    return field(property, label, select);
  };

  const requesterSelect = h('select', { id: 'prop-requester' },
    optionList(allUsers().map((u) => ({ value: String(u.id), label: u.email ? `${u.name} <${u.email}>` : u.name })), '— Choose requester —'));
  const orgLine = h('p', { class: 'field-hint' });
  const updateOrg = () => {
    const requester = userById(/** @type {number|null} */ (model.get('requester_id')));
    const orgId = /** @type {number|null} */ (model.get('organization_id')) ?? requester?.organization_id ?? null;
    const org = organizationById(orgId);
    replace(orgLine, requester ? h('a', { href: `/users/${requester.id}` }, 'View requester') : null,
      org ? [' · ', h('a', { href: `/organizations/${org.id}` }, org.name)] : null);
  };
  updateOrg();
  onCleanup(model.on('ticket.requester_id.changed', updateOrg));

  const requester = selectField('requester_id', 'Requester', requesterSelect, (v) => userName(Number(v)));
  requester.append(orgLine);

  const assignee = selectField('assignee_id', 'Assignee', h('select', { id: 'prop-assignee' },
    optionList(agents().map((u) => ({ value: String(u.id), label: u.name })), '— Unassigned —')), (v) => userName(Number(v)));
  const group = selectField('group_id', 'Group', h('select', { id: 'prop-group' },
    optionList(allGroups().map((g) => ({ value: String(g.id), label: g.name })), '—')), (v) => `Group #${v}`);

  const status = selectField('status', 'Status', h('select', { id: 'prop-status' },
    STATUSES.map((s) => h('option', { value: s, disabled: s === 'closed' }, STATUS_LABELS[s]))), (v) => v);
  const type = selectField('type', 'Type', h('select', { id: 'prop-type' },
    optionList(TYPES.map((t) => ({ value: t, label: TYPE_LABELS[t] })), '—')), (v) => v);
  const priority = selectField('priority', 'Priority', h('select', { id: 'prop-priority' },
    optionList(PRIORITIES.map((p) => ({ value: p, label: PRIORITY_LABELS[p] })), '—')), (v) => v);

  const tagsEditor = tagEditor(model, onCleanup);
  const tags = field('tags', 'Tags', tagsEditor.box, { target: tagsEditor.input });

  const custom = activeCustomFields(fields).map((f) => customField(f));

  /** @param {TicketField} f */
  function customField(f) {
    const property = `custom_field_${f.id}`;
    const id = `prop-cf-${f.id}`;
    const label = f.title;
    if (f.type === 'checkbox') {
      const box = h('input', { id, type: 'checkbox' });
      bind(property, box, 'change', () => box.checked, (v) => { box.checked = Boolean(v); });
      return field(property, label, box, { inline: true, required: f.required, hint: f.description });
    }
    if (f.type === 'tagger') {
      const select = h('select', { id }, optionList((f.custom_field_options ?? []).map((o) => ({ value: o.value, label: o.name })), '—'));
      bind(property, select, 'change', () => select.value || null, (v) => setSelectValue(select, v, (x) => x));
      return field(property, label, select, { required: f.required, hint: f.description });
    }
    if (f.type === 'textarea') {
      const area = h('textarea', { id, rows: 3 });
      bind(property, area, 'input', () => area.value, (v) => { area.value = v == null ? '' : String(v); });
      return field(property, label, area, { required: f.required, hint: f.description });
    }
    // Numbers stay free text: the server validates and its 422 is shown next to the field.
    const input = h('input', { id, type: f.type === 'date' ? 'date' : 'text', autocomplete: 'off',
      inputmode: f.type === 'integer' ? 'numeric' : f.type === 'decimal' ? 'decimal' : undefined });
    const evName = f.type === 'date' ? 'change' : 'input';
    bind(property, input, evName, () => input.value,
      (v) => { input.value = v == null ? '' : f.type === 'date' ? String(v).slice(0, 10) : String(v); });
    return field(property, label, input, { required: f.required, hint: f.description });
  }

  const element = h('aside', { class: 'props', 'aria-label': 'Ticket properties' },
    h('div', { class: 'props-group' }, requester, assignee, group),
    h('div', { class: 'props-group props-grid' }, status, type, priority),
    h('div', { class: 'props-group' }, tags),
    custom.length ? h('div', { class: 'props-group' }, h('h3', { class: 'props-heading' }, 'Details'), custom) : null);

  const refreshDirty = () => {
    const dirty = new Set(model.dirtyProperties());
    const conflicted = new Set(model.conflicts().map((c) => c.property));
    for (const [prop, w] of wrappers) {
      w.classList.toggle('is-dirty', dirty.has(prop));
      w.classList.toggle('has-conflict', conflicted.has(prop));
    }
  };
  onCleanup(model.onAny(refreshDirty));
  refreshDirty();

  /** @param {string} property */
  function clearFieldError(property) {
    const w = wrappers.get(property);
    if (!w) return;
    w.classList.remove('has-error');
    const p = /** @type {HTMLElement} */ (w.querySelector('.field-error'));
    p.hidden = true;
    p.textContent = '';
    w.querySelector('input,select,textarea')?.removeAttribute('aria-invalid');
  }

  return { element, wrappers, clearFieldError };
}

/**
 * Tags as removable chips plus an input; Enter, space or comma adds, Backspace removes the last.
 * @param {TicketModel} model
 * @param {(fn: () => void) => void} onCleanup
 */
function tagEditor(model, onCleanup) {
  const input = h('input', { id: 'prop-tags', type: 'text', autocomplete: 'off', placeholder: 'Add tag' });
  const chips = h('span', { class: 'tag-chips' });
  const box = h('div', { class: 'tag-editor', onclick: (/** @type {MouseEvent} */ ev) => { if (ev.target === box) input.focus(); } }, chips, input);
  const draw = () => {
    const list = /** @type {string[]} */ (model.get('tags'));
    replace(chips, list.map((t) => h('span', { class: 'tag' }, t,
      h('button', { type: 'button', class: 'tag-remove', 'aria-label': `Remove tag ${t}`,
        onclick: () => model.set('tags', list.filter((x) => x !== t)) }, '×'))));
  };
  const commit = () => {
    const added = normalizeTags(input.value);
    input.value = '';
    if (added.length) model.set('tags', [.../** @type {string[]} */ (model.get('tags')), ...added]);
  };
  input.addEventListener('keydown', (ev) => {
    if (ev.key === 'Enter' || ev.key === ' ' || ev.key === ',') {
      if (input.value.trim()) { ev.preventDefault(); commit(); } else if (ev.key === 'Enter') ev.preventDefault();
    } else if (ev.key === 'Backspace' && input.value === '') {
      const list = /** @type {string[]} */ (model.get('tags'));
      if (list.length) model.set('tags', list.slice(0, -1));
    }
  });
  input.addEventListener('blur', commit);
  onCleanup(model.on('ticket.tags.changed', draw));
  draw();
  return { box, input };
}

/**
 * Shows 422 messages next to their fields; returns the messages that had no field to sit beside.
 * @param {Map<string, HTMLElement>} wrappers
 * @param {Map<string, string[]>} errors
 * @param {TicketField[]} fields
 */
export function showFieldErrors(wrappers, errors, fields) {
  /** @type {string[]} */
  const unplaced = [];
  let first = /** @type {HTMLElement|null} */ (null);
  for (const [property, messages] of errors) {
    const w = wrappers.get(property);
    if (!w) {
      // Zendesk's messages usually name the field already ("Status: is not valid").
      const label = propertyLabel(property, fields);
      unplaced.push(...messages.map((m) => (property === 'base' || m.startsWith(label) ? m : `${label}: ${m}`)));
      continue;
    }
    w.classList.add('has-error');
    const p = /** @type {HTMLElement} */ (w.querySelector('.field-error'));
    p.textContent = messages.join(' ');
    p.hidden = false;
    const control = /** @type {HTMLElement|null} */ (w.querySelector('input,select,textarea'));
    control?.setAttribute('aria-invalid', 'true');
    first ??= control;
  }
  first?.focus();
  return unplaced;
}

/** @param {Map<string, HTMLElement>} wrappers */
export function clearAllFieldErrors(wrappers) {
  for (const w of wrappers.values()) {
    w.classList.remove('has-error');
    const p = /** @type {HTMLElement|null} */ (w.querySelector('.field-error'));
    if (p) { p.hidden = true; p.textContent = ''; }
    w.querySelector('[aria-invalid]')?.removeAttribute('aria-invalid');
  }
}

/**
 * The composer: public reply / internal note toggle, the text, and the split submit button.
 * @param {TicketModel} model
 * @param {{isNew: boolean, onSubmit: (status?: string) => void, onCleanup: (fn: () => void) => void,
 *   wrappers: Map<string, HTMLElement>}} options
 */
export function composer(model, options) {
  const { onCleanup } = options;
  const textId = options.isNew ? 'new-ticket-description' : 'composer-body';
  const text = h('textarea', { id: textId, class: 'composer-text', rows: options.isNew ? 8 : 4,
    placeholder: options.isNew ? 'Describe the request…' : 'Write a reply…', 'aria-describedby': `${textId}-error` });
  const label = h('label', { for: textId, class: 'visually-hidden' }, options.isNew ? 'Description' : 'Comment');
  const publicBtn = h('button', { type: 'button', class: 'composer-mode', 'data-mode': 'publicReply' }, icon('reply'), 'Public reply');
  const noteBtn = h('button', { type: 'button', class: 'composer-mode', 'data-mode': 'internalNote' }, icon('lock'), 'Internal note');
  const modes = h('div', { class: 'composer-modes', role: 'group', 'aria-label': 'Comment type' }, publicBtn, noteBtn);
  const error = h('p', { class: 'field-error', id: `${textId}-error`, role: 'alert', hidden: true });
  const submitLabel = h('span');
  const submit = h('button', { type: 'submit', class: 'btn btn-primary split-main', id: 'submit-button' }, submitLabel);
  const caret = h('button', { type: 'button', class: 'btn btn-primary split-caret', 'aria-haspopup': 'menu',
    'aria-expanded': 'false', 'aria-label': 'Submit as another status', id: 'submit-menu-button' }, icon('chevron-down'));
  const menu = h('div', { class: 'menu submit-menu', role: 'menu', 'data-menu': true, hidden: true, 'aria-label': 'Submit as' });
  const split = h('div', { class: 'split-button' }, submit, caret, menu);
  const formBox = h('form', { class: 'composer', 'aria-label': options.isNew ? 'Description and submit' : 'Reply' },
    h('div', { class: 'composer-head' }, modes,
      h('span', { class: 'composer-hint' }, h('kbd', null, 'Ctrl'), '+', h('kbd', null, 'Enter'), ' to submit')),
    h('div', { class: 'field composer-field', 'data-field': 'comment.text' }, label, text, error),
    h('div', { class: 'composer-foot' }, h('div', { class: 'composer-status', role: 'status', 'aria-live': 'polite' }), split));
  options.wrappers.set('comment.text', /** @type {HTMLElement} */ (formBox.querySelector('[data-field="comment.text"]')));

  const drawMode = () => {
    const mode = model.get('comment.type');
    formBox.classList.toggle('internal', mode === 'internalNote');
    publicBtn.setAttribute('aria-pressed', String(mode !== 'internalNote'));
    noteBtn.setAttribute('aria-pressed', String(mode === 'internalNote'));
    text.placeholder = options.isNew ? 'Describe the request…' : mode === 'internalNote'
      ? 'Add an internal note (only agents see it)…' : 'Write a public reply to the requester…';
  };
  const drawSubmit = () => {
    const status = String(model.get('status'));
    submitLabel.textContent = `Submit as ${STATUS_LABELS[status] ?? status}`;
    replace(menu, STATUSES.filter((s) => s !== 'closed' && (s !== 'new' || status === 'new')).map((s) =>
      h('button', { type: 'button', role: 'menuitem', class: `menu-item status-item`, 'data-status': s,
        onclick: () => { closeMenus(); options.onSubmit(s); } },
      h('span', { class: `pill pill-${s} pill-dot`, 'aria-hidden': 'true' }), `Submit as ${STATUS_LABELS[s]}`)));
  };
  publicBtn.addEventListener('click', () => model.set('comment.type', 'publicReply'));
  noteBtn.addEventListener('click', () => model.set('comment.type', 'internalNote'));
  text.value = String(model.get('comment.text') ?? '');
  text.addEventListener('input', () => {
    model.set('comment.text', text.value);
    error.hidden = true;
    formBox.querySelector('[data-field="comment.text"]')?.classList.remove('has-error');
  });
  onCleanup(model.on('ticket.comment.text.changed', (d) => { if (text.value !== d.value) text.value = String(d.value ?? ''); }));
  onCleanup(model.on('ticket.comment.type.changed', drawMode));
  onCleanup(model.on('ticket.status.changed', drawSubmit));
  caret.addEventListener('click', () => toggleMenu(caret, menu));
  formBox.addEventListener('submit', (ev) => { ev.preventDefault(); options.onSubmit(); });
  drawMode();
  drawSubmit();

  /** @param {boolean} busy @param {string} [message] */
  const setBusy = (busy, message = '') => {
    submit.disabled = busy;
    caret.disabled = busy;
    formBox.setAttribute('aria-busy', String(busy));
    /** @type {HTMLElement} */ (formBox.querySelector('.composer-status')).textContent = message;
  };
  return { element: formBox, text, setBusy };
}
