// The admin area's Apps section: upload a ZAF package (showing every validation finding), list apps
// and installations, install with a settings form built from the manifest's parameters, edit
// settings, enable or disable, uninstall, delete an app.
//
// Secure settings are write-only: the server never sends their values, only whether each is set
// (`secure_settings`). Their inputs are password fields that start empty; leaving one empty keeps the
// stored value, typing replaces it, and "Clear" removes it (sent as an empty string).
import { get, post, put, del, upload, ApiError } from '../api.js';
import { h, icon, uid } from '../dom.js';
import { toast, loading, timeEl } from '../ui.js';

/**
 * @typedef {{id: number, name: string, kind: string, required: boolean, secure: boolean, default_value: any}} Parameter
 * @typedef {{id: number, name: string, version: string|null, author_name: string|null, short_description: string,
 *   installation_count: number, parameters: Parameter[], updated_at: string}} App
 * @typedef {{id: number, app_id: number, enabled: boolean, settings: Record<string, any>,
 *   secure_settings: Record<string, boolean>, updated_at: string}} Installation
 * @typedef {{key: string, severity: 'error'|'warning', message: string, file?: string, json_path?: string}} Finding
 */

/**
 * Renders the section into `content`.
 * @param {import('../app.js').PageContext} ctx
 * @param {HTMLElement} content
 */
export async function appsSection(ctx, content) {
  const findings = h('div', { id: 'app-findings', 'aria-live': 'polite' });
  const lists = h('div', { class: 'apps-admin-lists' });
  const editor = h('div', { id: 'app-settings' });
  const fileInput = h('input', { type: 'file', id: 'app-upload-file', accept: '.zip,application/zip', class: 'visually-hidden' });
  const uploadButton = h('label', { for: 'app-upload-file', class: 'btn btn-primary', role: 'button', tabindex: '0' },
    icon('apps'), 'Upload app package');
  uploadButton.addEventListener('keydown', (e) => {
    if (e.key === 'Enter' || e.key === ' ') { e.preventDefault(); fileInput.click(); }
  });

  const refresh = async () => {
    const [apps, installations] = await Promise.all([
      get('/api/v2/apps.json', { signal: ctx.signal }),
      get('/api/v2/apps/installations.json', { signal: ctx.signal }),
    ]);
    if (ctx.signal.aborted) return;
    renderLists(lists, apps.apps ?? [], installations.installations ?? [], { refresh, editor });
  };

  fileInput.addEventListener('change', async () => {
    const file = fileInput.files?.[0];
    fileInput.value = '';
    if (!file) return;
    findings.replaceChildren(loading());
    const form = new FormData();
    form.append('uploaded_data', file, file.name);
    try {
      const uploaded = await upload('/api/v2/apps/uploads.json', form);
      const { job_id: jobId } = await post('/api/v2/apps.json', { upload_id: uploaded.id });
      const job = await get(`/api/v2/apps/job_statuses/${encodeURIComponent(jobId)}.json`);
      if (job.status !== 'completed') throw new Error(job.message || 'The app could not be created.');
      findings.replaceChildren(findingsPanel(uploaded.findings ?? [], `${file.name} was uploaded as a new app.`));
      toast('App uploaded');
      await refresh();
    } catch (err) {
      const body = err instanceof ApiError ? err.body : null;
      if (body && Array.isArray(body.findings)) {
        findings.replaceChildren(findingsPanel(body.findings, `${file.name} was not uploaded: fix the errors below and try again. Nothing was stored.`));
      } else {
        findings.replaceChildren(h('div', { class: 'banner banner-error', role: 'alert' }, errorText(err)));
      }
    }
  });

  content.replaceChildren(
    h('div', { class: 'list-header' },
      h('div', { class: 'list-heading' }, h('h1', { class: 'list-title' }, 'Apps'),
        h('span', { class: 'list-count' }, 'Zendesk Apps Framework v2')),
      h('div', { class: 'list-actions' }, fileInput, uploadButton)),
    h('div', { class: 'list-body apps-admin' }, findings, editor, lists));
  await refresh();
}

/** @param {unknown} err */
function errorText(err) {
  return err instanceof Error ? err.message : String(err);
}

/**
 * Validation findings as a list: errors first, each with its place in the package.
 * @param {Finding[]} list
 * @param {string} summary
 */
function findingsPanel(list, summary) {
  const errors = list.filter((f) => f.severity === 'error');
  const warnings = list.filter((f) => f.severity !== 'error');
  const kind = errors.length ? 'error' : warnings.length ? 'warn' : 'info';
  const counts = [errors.length ? `${errors.length} error${errors.length === 1 ? '' : 's'}` : '',
    warnings.length ? `${warnings.length} warning${warnings.length === 1 ? '' : 's'}` : ''].filter(Boolean).join(', ');
  return h('section', { class: `app-findings banner-${kind}`, 'aria-label': 'Package validation' },
    h('p', { class: 'app-findings-summary', role: errors.length ? 'alert' : 'status' }, summary, counts ? ` (${counts})` : ''),
    list.length ? h('ul', { class: 'app-findings-list' }, [...errors, ...warnings].map((f) => h('li', { class: `finding finding-${f.severity}`, 'data-key': f.key },
      h('span', { class: `finding-severity finding-severity-${f.severity}` }, f.severity),
      h('code', { class: 'finding-where' }, [f.file ?? 'package', f.json_path ? `:${f.json_path}` : ''].join('')),
      h('span', { class: 'finding-message' }, f.message),
      h('code', { class: 'finding-key muted' }, f.key)))) : null);
}

/**
 * @param {HTMLElement} lists
 * @param {App[]} apps
 * @param {Installation[]} installations
 * @param {{refresh: () => Promise<void>, editor: HTMLElement}} o
 */
function renderLists(lists, apps, installations, o) {
  const appById = new Map(apps.map((a) => [a.id, a]));
  const appsTable = apps.length
    ? h('table', { class: 'tickets admin-table', 'aria-label': 'Apps' },
      h('thead', null, h('tr', null, ['App', 'Version', 'Author', 'Installations', 'Updated', ''].map((t) => h('th', { scope: 'col' }, t)))),
      h('tbody', null, apps.map((a) => h('tr', { 'data-app-id': a.id },
        h('td', null, h('strong', null, a.name), a.short_description ? h('div', { class: 'muted small' }, a.short_description) : null),
        h('td', { class: 'mono' }, a.version ?? ''),
        h('td', null, a.author_name ?? ''),
        h('td', null, String(a.installation_count)),
        h('td', null, timeEl(a.updated_at)),
        h('td', null, h('div', { class: 'row-actions' },
          h('button', { type: 'button', class: 'btn btn-small btn-primary', onclick: () => openEditor(o.editor, a, null, o.refresh) }, 'Install'),
          h('button', { type: 'button', class: 'btn btn-small', 'aria-label': `Delete ${a.name}`, onclick: async () => {
            if (!window.confirm(`Delete ${a.name}? Its installations are removed too.`)) return;
            await act(() => del(`/api/v2/apps/${a.id}.json`), `${a.name} deleted`, o.refresh);
          } }, 'Delete')))))))
    : h('div', { class: 'empty-state', id: 'admin-apps' }, icon('apps', 'icon icon-xl'), h('h2', null, 'No apps yet'),
      h('p', null, 'Upload a package made with `zaffre app package` (or zcli) to add an app.'));

  const installTable = installations.length
    ? h('table', { class: 'tickets admin-table', 'aria-label': 'Installations' },
      h('thead', null, h('tr', null, ['Installation', 'App', 'Status', 'Secure settings', 'Updated', ''].map((t) => h('th', { scope: 'col' }, t)))),
      h('tbody', null, installations.map((i) => {
        const app = appById.get(i.app_id);
        const secure = Object.entries(i.secure_settings ?? {});
        return h('tr', { 'data-installation-id': i.id },
          h('td', null, h('strong', null, String(i.settings?.name ?? app?.name ?? i.id))),
          h('td', null, app?.name ?? `#${i.app_id}`),
          h('td', null, h('span', { class: `pill ${i.enabled ? 'pill-open' : 'pill-closed'}` }, i.enabled ? 'Enabled' : 'Disabled')),
          h('td', { class: 'small' }, secure.length
            ? secure.map(([name, set]) => h('span', { class: 'secure-state' }, `${name}: ${set ? 'set' : 'not set'}`))
            : h('span', { class: 'muted' }, 'none')),
          h('td', null, timeEl(i.updated_at)),
          h('td', null, h('div', { class: 'row-actions' },
            app ? h('button', { type: 'button', class: 'btn btn-small', onclick: () => openEditor(o.editor, app, i, o.refresh) }, 'Edit settings') : null,
            h('button', { type: 'button', class: 'btn btn-small', onclick: () => act(
              () => put(`/api/v2/apps/installations/${i.id}.json`, { enabled: !i.enabled }),
              i.enabled ? 'Disabled' : 'Enabled', o.refresh) }, i.enabled ? 'Disable' : 'Enable'),
            h('button', { type: 'button', class: 'btn btn-small', onclick: async () => {
              if (!window.confirm('Uninstall? Its settings and the ticket fields it added are removed.')) return;
              await act(() => del(`/api/v2/apps/installations/${i.id}.json`), 'Uninstalled', o.refresh);
            } }, 'Uninstall'))));
      })))
    : h('p', { class: 'muted', id: 'no-installations' }, 'Nothing is installed.');

  lists.replaceChildren(
    h('h2', { class: 'section-title' }, 'Apps'), appsTable,
    h('h2', { class: 'section-title' }, 'Installations'), installTable);
}

/**
 * Runs a write, reports the outcome, refreshes the lists.
 * @param {() => Promise<unknown>} write
 * @param {string} done
 * @param {() => Promise<void>} refresh
 */
async function act(write, done, refresh) {
  try {
    await write();
    toast(done);
  } catch (err) {
    toast(errorText(err), 'error');
  }
  await refresh();
}

/** `api_token` → `Api token`. @param {string} name */
function labelFor(name) {
  const words = name.replace(/([a-z])([A-Z])/g, '$1 $2').replace(/[_-]+/g, ' ').trim().toLowerCase();
  return words.charAt(0).toUpperCase() + words.slice(1);
}

/**
 * Opens the settings form to install `app` (when `installation` is null) or edit an installation.
 * @param {HTMLElement} editor
 * @param {App} app
 * @param {Installation|null} installation
 * @param {() => Promise<void>} refresh
 */
function openEditor(editor, app, installation, refresh) {
  const editing = installation !== null;
  /** @type {Array<{param: Parameter, input: HTMLInputElement|HTMLTextAreaElement, error: HTMLElement, clear?: HTMLInputElement}>} */
  const controls = [];
  const nameId = uid('setting');
  const nameInput = h('input', { type: 'text', id: nameId, name: 'name', required: true, maxlength: '255',
    value: String(installation?.settings?.name ?? app.name) });
  const nameError = h('div', { class: 'field-error', hidden: true });
  const formError = h('div', { class: 'banner banner-error', role: 'alert', hidden: true });

  const fields = app.parameters.filter((p) => p.kind !== 'hidden').map((p) => {
    const id = uid('setting');
    const error = h('div', { class: 'field-error', hidden: true });
    const current = installation?.settings?.[p.name];
    const initial = editing ? current : p.default_value;
    /** @type {HTMLInputElement|HTMLTextAreaElement} */
    let input;
    /** @type {HTMLInputElement|undefined} */
    let clear;
    let hint = null;
    if (p.secure || p.kind === 'oauth') {
      const isSet = Boolean(installation?.secure_settings?.[p.name]);
      input = h('input', { type: 'password', id, name: p.name, autocomplete: 'new-password', spellcheck: 'false',
        placeholder: isSet ? 'Set: type to replace' : 'Not set', required: p.required && !isSet,
        'data-secure': 'true', 'data-set': String(isSet) });
      hint = h('div', { class: 'field-hint' },
        h('span', { class: `secure-badge ${isSet ? 'is-set' : 'not-set'}` }, isSet ? 'Set' : 'Not set'),
        ' Secure: stored encrypted and never shown again. ',
        isSet && !p.required ? (clear = h('input', { type: 'checkbox', id: `${id}-clear` })) : null,
        isSet && !p.required ? h('label', { for: `${id}-clear` }, 'Clear it') : null);
    } else if (p.kind === 'checkbox') {
      input = h('input', { type: 'checkbox', id, name: p.name, checked: initial === true || initial === 'true' });
    } else if (p.kind === 'multiline') {
      input = h('textarea', { id, name: p.name, rows: '3', required: p.required, value: initial == null ? '' : String(initial) });
    } else {
      const type = p.kind === 'number' ? 'number' : p.kind === 'url' ? 'url' : 'text';
      input = h('input', { type, id, name: p.name, required: p.required, step: type === 'number' ? 'any' : undefined,
        placeholder: p.kind === 'url' ? 'https://' : undefined, value: initial == null ? '' : String(initial) });
    }
    controls.push({ param: p, input, error, clear });
    const label = h('label', { for: id }, labelFor(p.name), p.required ? h('span', { class: 'required-mark', 'aria-hidden': 'true' }, ' *') : null);
    return h('div', { class: p.kind === 'checkbox' ? 'field field-inline' : 'field', 'data-setting': p.name },
      p.kind === 'checkbox' ? [input, label] : [label, input], hint, error);
  });

  const submit = h('button', { type: 'submit', class: 'btn btn-primary' }, editing ? 'Save settings' : 'Install');
  const form = h('form', { class: 'app-settings-form', novalidate: true, 'aria-label': editing ? `Settings of ${app.name}` : `Install ${app.name}` },
    h('div', { class: 'app-settings-head' },
      h('h2', { class: 'section-title' }, editing ? `Settings: ${String(installation?.settings?.name ?? app.name)}` : `Install ${app.name}`),
      h('button', { type: 'button', class: 'btn btn-small', onclick: () => editor.replaceChildren() }, 'Cancel')),
    formError,
    h('div', { class: 'field', 'data-setting': 'name' }, h('label', { for: nameId }, 'Installation name', h('span', { class: 'required-mark', 'aria-hidden': 'true' }, ' *')), nameInput, nameError),
    fields,
    h('div', { class: 'app-settings-foot' }, submit));

  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    formError.hidden = true;
    for (const c of [...controls.map((x) => x.error), nameError]) { c.hidden = true; c.textContent = ''; }
    // Required fields are enforced here too, so nothing is sent that the server would refuse.
    let missing = false;
    if (!nameInput.value.trim()) { nameError.textContent = 'Required'; nameError.hidden = false; missing = true; }
    /** @type {Record<string, unknown>} */
    const settings = { name: nameInput.value.trim() };
    for (const { param, input, error, clear } of controls) {
      const secret = input.dataset.secure === 'true';
      if (param.kind === 'checkbox' && input instanceof HTMLInputElement) { settings[param.name] = input.checked; continue; }
      const value = input.value;
      if (secret) {
        if (clear?.checked) settings[param.name] = '';
        else if (value) settings[param.name] = value;
        if (param.required && !value && input.dataset.set !== 'true') { error.textContent = 'Required'; error.hidden = false; missing = true; }
        continue;
      }
      if (param.required && !value.trim()) { error.textContent = 'Required'; error.hidden = false; missing = true; continue; }
      if (value.trim() === '') { if (editing) settings[param.name] = null; continue; }
      settings[param.name] = param.kind === 'number' ? Number(value) : value;
    }
    if (missing) { formError.textContent = 'Fill in the required settings.'; formError.hidden = false; return; }
    submit.disabled = true;
    try {
      if (editing && installation) await put(`/api/v2/apps/installations/${installation.id}.json`, { settings });
      else await post('/api/v2/apps/installations.json', { app_id: app.id, settings });
      toast(editing ? 'Settings saved' : `${app.name} installed`);
      editor.replaceChildren();
      await refresh();
    } catch (err) {
      submit.disabled = false;
      const details = err instanceof ApiError ? err.body?.details : null;
      if (details && typeof details === 'object') {
        for (const [attribute, problems] of Object.entries(details)) {
          const name = attribute.replace(/^settings\./, '');
          const target = name === 'name' ? nameError : controls.find((c) => c.param.name === name)?.error;
          const text = (/** @type {any[]} */ (problems)).map((p) => p.description).join(' ');
          if (target) { target.textContent = text; target.hidden = false; }
        }
      }
      formError.textContent = errorText(err);
      formError.hidden = false;
    }
  });
  editor.replaceChildren(form);
  nameInput.focus();
}
