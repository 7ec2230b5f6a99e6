// The conformance suite: two test apps (tests/browser/apps/conformance, and the same files with
// the manifest of tests/browser/apps/locations for the other locations and their options)
// exercise the rows of docs/sdk-api.md in headless Chromium, twice: with zaffre's SDK, and with Zendesk's npm package
// zendesk_app_framework_sdk@2.0.11 bundled by esbuild at test time (not committed) and served in
// place of zaffre's. Both must behave the same against zaffre's host.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startServer, launchBrowser, newPage, login, someOpenTicket, waitFor, customField } from './harness.mjs';
import { writeApp, installApp, officialSdkBundle } from './apps.mjs';


/** @type {import('./harness.mjs').Server} */
let server;
/** @type {import('playwright-core').Browser} */
let browser;
/** @type {{appId: number, installationId: number}} */
let installed;
/** The app in every other location: autoLoad false, autoHide, size. @type {{appId: number, installationId: number}} */
let locations;
/** Zendesk's SDK as a classic script that sets window.ZAFClient. */
let officialBundle = '';
/** One signed-in browser context for every test: sign-ins are rate limited per email. */
/** @type {import('playwright-core').BrowserContext} */
let signedIn;

before(async () => {
  server = await startServer();
  browser = await launchBrowser();
  installed = await installApp(server, await writeApp('Conformance', 'conformance'), { greeting: 'Hej', api_token: 'sekrit-token' });
  locations = await installApp(server, await writeApp('Locations', ['conformance', 'locations']));
  officialBundle = await officialSdkBundle();
  const first = await newPage(browser);
  await login(first.page, server.url);
  signedIn = first.context;
  await first.page.close();
});
after(async () => {
  await browser?.close();
  await server?.stop();
});

/**
 * A signed-in page at `path` whose app frames load `sdk`.
 * @param {'zaffre'|'zendesk'} sdk @param {string} path
 */
async function openPage(sdk, path) {
  const page = await signedIn.newPage();
  if (sdk === 'zendesk') {
    // Routes of a page apply to its iframes too.
    await page.route('**/__zaffre/zaf_sdk.js*', (route) => route.fulfill({ status: 200, contentType: 'text/javascript', body: officialBundle }));
  }
  await page.goto(server.url + path);
  await page.locator('#shell:not([hidden])').waitFor();
  return page;
}

/**
 * The registered frame of an app in a location, if there is one now.
 * @param {import('playwright-core').Page} page @param {number} appId @param {string} where
 */
async function frameIn(page, appId, where) {
  for (const f of page.frames()) {
    if (!f.url().startsWith(`http://app-${appId}.localhost:`)) continue;
    const loc = await f.evaluate(() => /** @type {any} */ (window).registered?.context?.location).catch(() => null);
    if (loc === where) return f;
  }
  return null;
}

/** Waits for an app to register in a location. @param {import('playwright-core').Page} page @param {number} appId @param {string} where */
async function registeredFrame(page, appId, where) {
  return /** @type {import('playwright-core').Frame} */ (await waitFor(() => frameIn(page, appId, where),
    { message: `the ${where} app registers` }));
}

/**
 * Opens a ticket page (or `path`) with the conformance app registered in `where`.
 * @param {'zaffre'|'zendesk'} sdk
 * @param {string} [path]
 * @param {string} [where]
 */
async function open(sdk, path, where = 'ticket_sidebar') {
  const ticket = await someOpenTicket(server);
  const page = await openPage(sdk, path ?? `/tickets/${ticket.id}`);
  // Each test closes its page; the signed-in context stays.
  const context = { close: () => page.close() };
  const frame = await registeredFrame(page, installed.appId, where);
  return { page, context, ticket, frame };
}

/** Waits until the app frame has seen an event (with a payload containing `part`). @param {import('playwright-core').Frame} frame @param {string} name @param {string} [part] */
async function seen(frame, name, part = '') {
  await waitFor(async () => (/** @type {any[]} */ (await frame.evaluate('window.seen')))
    .some(([n, m]) => n === name && JSON.stringify(m).includes(part)), { message: `${name} arrives${part ? ` with ${part}` : ''}` });
}

/** Runs code in the app frame with its client. @param {import('playwright-core').Frame} frame @param {string} body */
function inApp(frame, body) {
  return frame.evaluate(`(async () => { const client = window.client; ${body} })()`);
}

for (const sdk of /** @type {const} */ (['zaffre', 'zendesk'])) {
  test(`${sdk} SDK: registration carries metadata and context`, async () => {
    const { frame, ticket, context } = await open(sdk);
    // The SDK under test is the one in the frame (the browser caches zaffre's for good: the
    // route must still win). Only zaffre's client has a send queue of its own.
    assert.equal(await inApp(frame, "return '_queue' in client;"), sdk === 'zaffre');
    const reg = /** @type {any} */ (await inApp(frame, 'return window.registered;'));
    const guid = new URL(frame.url()).searchParams.get('app_guid');
    assert.equal(reg.metadata.appId, installed.appId);
    assert.equal(reg.metadata.installationId, installed.installationId);
    assert.equal(reg.metadata.name, 'Conformance');
    assert.equal(reg.metadata.version, '2.3.4');
    assert.equal(reg.metadata.settings.greeting, 'Hej');
    assert.equal(reg.metadata.settings.title, 'Conformance');
    assert.ok(!JSON.stringify(reg.metadata).includes('sekrit-token'), 'secure settings never reach the app');
    assert.deepEqual(reg.metadata.plan, { name: 'zaffre' });
    assert.equal(reg.context.instanceGuid, guid);
    assert.equal(reg.context.product, 'support');
    assert.equal(reg.context.location, 'ticket_sidebar');
    assert.equal(reg.context.ticketId, ticket.id);
    assert.equal(reg.context.host, 'zendesk');
    assert.ok('subdomain' in reg.context.account);
    // A visible sidebar app is activated once registered.
    await seen(frame, 'app.activated');
    assert.deepEqual(await inApp(frame, 'return client.context();'), reg.context);
    assert.deepEqual(await inApp(frame, 'return client.metadata();'), reg.metadata);
    await context.close();
  });

  test(`${sdk} SDK: get ticket paths, currentUser, currentAccount, errors`, async () => {
    const { frame, ticket, context } = await open(sdk);
    const field = await customField(server, 'text');
    const api = (await server.api('GET', `/api/v2/tickets/${ticket.id}.json`)).ticket;
    const paths = ['ticket.id', 'ticket.subject', 'ticket.description', 'ticket.status', 'ticket.priority', 'ticket.type',
      'ticket.tags', 'ticket.requester.id', 'ticket.requester.name', 'ticket.assignee.user.id', 'ticket.assignee.group.id',
      'ticket.organization', `ticket.customField:custom_field_${field.id}`, 'ticket.comment.text', 'ticket.comment.type',
      'ticket.comments', 'ticket.form', 'ticket.via', 'ticket.collaborators', 'ticket.createdAt', 'ticket.updatedAt',
      'currentUser', 'currentAccount', 'instances'];
    const got = /** @type {any} */ (await inApp(frame, `return client.get(${JSON.stringify(paths)});`));
    assert.deepEqual(got.errors, {});
    assert.equal(got['ticket.id'], ticket.id);
    assert.equal(got['ticket.subject'], api.subject);
    assert.equal(got['ticket.status'], api.status);
    assert.deepEqual(got['ticket.tags'], api.tags);
    assert.equal(got['ticket.requester.id'], api.requester_id);
    assert.equal(typeof got['ticket.requester.name'], 'string');
    assert.equal(got['ticket.assignee.user.id'] ?? null, api.assignee_id ?? null);
    assert.equal(got['ticket.comment.type'], 'publicReply');
    assert.ok(Array.isArray(got['ticket.comments']) && got['ticket.comments'].length > 0);
    assert.equal(got['ticket.createdAt'], api.created_at);
    assert.equal(got.currentUser.email, 'admin@example.com');
    assert.ok(got.instances[new URL(frame.url()).searchParams.get('app_guid') ?? '']);

    const whole = /** @type {any} */ (await inApp(frame, "return client.get('ticket');"))['ticket'];
    assert.equal(whole.id, ticket.id);
    assert.equal(whole.subject, api.subject);
    assert.equal(whole.status, api.status);
    assert.deepEqual(whole.tags, api.tags);
    assert.equal(whole.requester.id, api.requester_id);
    assert.deepEqual(Object.keys(whole.comment).sort(), ['text', 'type']);

    const single = await inApp(frame, "return client.get('ticket.subject');");
    assert.deepEqual(single, { 'ticket.subject': api.subject, errors: {} });
    const missing = await inApp(frame, "return client.get('nonExistantPath').then(() => 'resolved', (e) => e.name + ': ' + e.message);");
    assert.equal(missing, 'APIUnavailable: "nonExistantPath" Could not find handler for: "nonExistantPath"');
    const bulk = /** @type {any} */ (await inApp(frame, "return client.get(['ticket.subject', 'nonExistantPath']);"));
    assert.equal(bulk['ticket.subject'], api.subject);
    assert.equal(bulk.errors.nonExistantPath.name, 'APIUnavailable');
    await context.close();
  });

  test(`${sdk} SDK: set and invoke change the workspace`, async () => {
    const { page, frame, context } = await open(sdk);
    const field = await customField(server, 'text');
    await inApp(frame, `return client.set({'ticket.subject': 'Set by the app', 'ticket.priority': 'urgent',
      'ticket.customField:custom_field_${field.id}': 'X-42'});`);
    assert.equal(await page.getByLabel('Subject', { exact: true }).inputValue(), 'Set by the app');
    assert.equal(await page.getByLabel('Priority', { exact: true }).inputValue(), 'urgent');
    const bad = await inApp(frame, "return client.set('ticket.status', 'bogus').then(() => 'resolved', (e) => e.message);");
    assert.match(String(bad), /^"ticket.status" Invalid value/);
    const form = await inApp(frame, "return client.set('ticket.form.id', -1).then(() => 'resolved', (e) => e.message);");
    assert.equal(form, '"ticket.form.id" Invalid Ticket Form ID');

    await inApp(frame, "return client.invoke('comment.appendText', 'My printer is on fire');");
    await inApp(frame, "return client.invoke('ticket.comment.appendHtml', '<b>and</b> <img src=x onerror=alert(1)>smoking');");
    assert.equal(await page.locator('#composer-body').inputValue(), 'My printer is on fire\nand smoking');
    await inApp(frame, "return client.invoke('ticket.tags.add', ['from_app', 'second_tag']);");
    await inApp(frame, "return client.invoke('ticket.tags.remove', 'second_tag');");
    const tags = /** @type {string[]} */ ((/** @type {any} */ (await inApp(frame, "return client.get('ticket.tags');")))['ticket.tags']);
    assert.ok(tags.includes('from_app') && !tags.includes('second_tag'));
    await inApp(frame, "return client.invoke({'ticketFields:priority.hide': []});");
    assert.equal(await page.locator('[data-field="priority"]').isHidden(), true);
    await inApp(frame, "return client.invoke('ticketFields:priority.show');");
    await inApp(frame, "return client.invoke('ticketFields:priority.disable');");
    assert.equal(await page.getByLabel('Priority', { exact: true }).isDisabled(), true);
    await inApp(frame, "return client.invoke('ticketFields:priority.enable');");
    assert.equal(await page.getByLabel('Priority', { exact: true }).isDisabled(), false);
    // The conformance sidebar is flexible: it follows the panel's width, whatever it asks.
    await inApp(frame, "return client.invoke('resize', {width: '150px', height: '321px'});");
    const style = await page.locator(`.apps-panel .app-frame[data-installation-id="${installed.installationId}"]`)
      .evaluate((f) => ({ width: /** @type {HTMLElement} */ (f).style.width, height: /** @type {HTMLElement} */ (f).style.height }));
    assert.deepEqual(style, { width: '100%', height: '321px' });
    await inApp(frame, "return client.invoke('notify', 'Hello from the app');");
    await page.locator('.toast', { hasText: 'Hello from the app' }).waitFor();
    assert.deepEqual(await inApp(frame, "return client.invoke('track', {type: 'click'});"), { track: null, errors: {} });
    await context.close();
  });

  test(`${sdk} SDK: change and submit events, ticket.save hooks veto or allow`, async () => {
    const { page, frame, context } = await open(sdk);
    await inApp(frame, `['ticket.subject.changed', 'ticket.submit.start', 'ticket.submit.done', 'ticket.submit.always',
      'ticket.submit.fail'].forEach(window.listen);`);
    // Unique per run: the other SDK's run saved the same ticket before.
    await page.getByLabel('Subject', { exact: true }).fill(`Typed by the agent (${sdk})`);
    await waitFor(async () => JSON.stringify(await inApp(frame, 'return window.seen;')).includes(`Typed by the agent (${sdk})`),
      { message: 'ticket.subject.changed arrives' });
    await inApp(frame, "window.vetoes = 0; client.on('ticket.save', () => { window.vetoes++; return 'Be more polite'; });");
    await page.getByLabel('Comment', { exact: true }).fill('A reply');
    await page.keyboard.press('Control+Enter');
    await page.locator('.save-errors', { hasText: 'Be more polite' }).waitFor();
    let seen = /** @type {any[]} */ (await inApp(frame, 'return window.seen.map((s) => s[0]);'));
    assert.ok(seen.includes('ticket.submit.fail') && seen.includes('ticket.submit.always'));
    // A second app handler that resolves later, and the veto removed: the save goes through.
    await inApp(frame, "client.off('ticket.save', client._messageHandlers['ticket.save'][0]); client.on('ticket.save', () => new Promise((r) => setTimeout(() => r(true), 200)));");
    await page.keyboard.press('Control+Enter');
    await page.locator('.toast', { hasText: 'updated' }).waitFor();
    seen = /** @type {any[]} */ (await inApp(frame, 'return window.seen.map((s) => s[0]);'));
    assert.ok(seen.includes('ticket.submit.done'));
    await context.close();
  });

  test(`${sdk} SDK: user_sidebar reads the user of its page, not the ticket`, async () => {
    const ticket = await someOpenTicket(server);
    const { user } = await server.api('GET', `/api/v2/users/${ticket.requester_id}.json`);
    const { frame, context } = await open(sdk, `/users/${user.id}`, 'user_sidebar');
    const reg = /** @type {any} */ (await inApp(frame, 'return window.registered;'));
    assert.equal(reg.context.userId, user.id);
    const got = /** @type {any} */ (await inApp(frame, "return client.get(['user.id', 'user.name', 'user.email', 'ticket.subject']);"));
    assert.equal(got['user.id'], user.id);
    assert.equal(got['user.name'], user.name);
    assert.equal(got['user.email'], user.email);
    assert.equal(got.errors['ticket.subject'].name, 'APIUnavailable');
    await context.close();
  });

  test(`${sdk} SDK: a top_bar instance opens its popover and hears pane.activated`, async () => {
    const { page, frame, context } = await open(sdk);
    const topGuid = /** @type {string} */ (await inApp(frame, `const all = (await client.get('instances')).instances;
      return Object.keys(all).find((g) => all[g].location === 'top_bar');`));
    assert.ok(topGuid, 'the top_bar instance is listed');
    const top = /** @type {import('playwright-core').Frame} */ (await waitFor(() => page.frames().find((f) =>
      new URL(f.url()).searchParams.get('app_guid') === topGuid), { message: 'the top_bar frame exists' }));
    await waitFor(() => top.evaluate(() => Boolean(/** @type {any} */ (window).registered)), { message: 'the top_bar app registers' });
    await page.waitForTimeout(100);
    assert.equal(await page.locator('#top-bar-popover').isHidden(), true);
    await inApp(frame, `return client.instance(${JSON.stringify(topGuid)}).invoke('popover');`);
    await page.locator('#top-bar-popover').waitFor({ state: 'visible' });
    await seen(top, 'pane.activated');
    await seen(top, 'app.activated');
    await inApp(frame, `return client.instance(${JSON.stringify(topGuid)}).invoke('popover', 'hide');`);
    await page.locator('#top-bar-popover').waitFor({ state: 'hidden' });
    await seen(top, 'pane.deactivated');
    await seen(top, 'app.deactivated');
    const notTop = await inApp(frame, "return client.invoke('popover').then(() => 'resolved', (e) => e.message);");
    assert.equal(notTop, '"popover" popover is for top_bar apps');
    await context.close();
  });

  test(`${sdk} SDK: instances, modals, triggers and request`, async () => {
    const { page, frame, context } = await open(sdk);
    const created = /** @type {any} */ (await inApp(frame, `const r = await client.invoke('instances.create',
      {location: 'modal', url: 'assets/iframe.html', size: {width: '400px', height: '200px'}});
      window.modalGuid = r['instances.create'][0].instanceGuid;
      const modal = client.instance(window.modalGuid);
      modal.on('modal.close', () => window.seen.push(['modal.close', window.modalGuid]));
      modal.on('pong', (m) => window.seen.push(['pong', m]));
      return r;`));
    const modalGuid = created['instances.create'][0].instanceGuid;
    assert.equal(created['instances.create'][0].location, 'modal');
    const modalFrame = /** @type {import('playwright-core').Frame} */ (await waitFor(() => page.frames().find((f) =>
      new URL(f.url()).searchParams.get('app_guid') === modalGuid), { message: 'the modal frame appears' }));
    await waitFor(() => modalFrame.evaluate(() => Boolean(/** @type {any} */ (window).registered)), { message: 'the modal registers' });
    // The app's other instances hear of the new one: created, then registered.
    await seen(frame, 'instance.created', modalGuid);
    await seen(frame, 'instance.registered', modalGuid);
    // The modal answers a trigger from the sidebar by triggering on itself; the sidebar listens to it.
    await modalFrame.evaluate(() => { const c = /** @type {any} */ (window).client; c.on('ping', (/** @type {any} */ m) => c.trigger('pong', m)); });
    await inApp(frame, "client.instance(window.modalGuid).trigger('ping', {n: 7});");
    await waitFor(async () => JSON.stringify(await inApp(frame, 'return window.seen;')).includes('"pong",{"n":7}'), { message: 'the trigger round trip' });
    const instances = /** @type {any} */ (await inApp(frame, "return client.get('instances');")).instances;
    assert.equal(instances[modalGuid].location, 'modal');
    assert.equal((/** @type {any} */ (await inApp(frame, 'return client.instance(window.modalGuid).context();'))).location, 'modal');
    // Another app's guid cannot be addressed.
    const foreign = await inApp(frame, "return client.instance('00000000-0000-4000-8000-000000000000').get('ticket.subject').then(() => 'resolved', (e) => e.name);");
    assert.equal(foreign, 'InvalidInstance');
    await inApp(frame, "return client.instance(window.modalGuid).invoke('destroy');");
    await waitFor(async () => JSON.stringify(await inApp(frame, 'return window.seen;')).includes('modal.close'), { message: 'modal.close arrives' });
    assert.equal(await page.locator('.app-modal').count(), 0);

    const me = /** @type {any} */ (await inApp(frame, "return client.request('/api/v2/users/me.json');"));
    assert.equal(me.user.email, 'admin@example.com');
    const failed = /** @type {any} */ (await inApp(frame, "return client.request({url: '/api/v2/tickets/999999999.json', type: 'GET'}).then(() => null, (e) => e);"));
    assert.equal(failed.status, 404);
    await context.close();
  });

  test(`${sdk} SDK: setting people, tags and the comment; their change events`, async () => {
    const { page, frame, ticket, context } = await open(sdk);
    const field = await customField(server, 'text');
    const { users } = await server.api('GET', '/api/v2/users.json?per_page=100');
    const requester = users.find((/** @type {any} */ u) => u.role === 'end-user' && u.id !== ticket.requester_id);
    const { user: me } = await server.api('GET', '/api/v2/users/me.json');
    const { groups } = await server.api('GET', '/api/v2/groups.json');
    await inApp(frame, `[
      'ticket.requester.id.changed', 'ticket.requester.changed', 'ticket.assignee.user.id.changed',
      'ticket.assignee.group.id.changed', 'ticket.assignee.changed', 'ticket.tags.changed',
      'ticket.comment.text.changed', 'comment.text.changed', 'ticket.comment.type.changed', 'comment.type.changed',
      'ticket.custom_field_${field.id}.changed', 'ticket.customField:custom_field_${field.id}.changed',
    ].forEach(window.listen);`);
    await page.waitForTimeout(100); // the subscriptions travel by postMessage

    await inApp(frame, `return client.set('ticket.requester.id', ${requester.id});`);
    assert.equal(await page.getByLabel('Requester', { exact: true }).inputValue(), String(requester.id));
    assert.equal((/** @type {any} */ (await inApp(frame, "return client.get('ticket.requester');")))['ticket.requester'].id, requester.id);
    await seen(frame, 'ticket.requester.id.changed', String(requester.id));
    await seen(frame, 'ticket.requester.changed');

    await inApp(frame, `return client.set('ticket.assignee', {groupId: ${groups[0].id}, userId: ${me.id}});`);
    assert.equal(await page.getByLabel('Group', { exact: true }).inputValue(), String(groups[0].id));
    assert.equal(await page.getByLabel('Assignee', { exact: true }).inputValue(), String(me.id));
    await seen(frame, 'ticket.assignee.user.id.changed', String(me.id));
    await seen(frame, 'ticket.assignee.group.id.changed', String(groups[0].id));
    await seen(frame, 'ticket.assignee.changed');
    await inApp(frame, "return client.set({'ticket.assignee.user.id': null});");
    assert.equal(await page.getByLabel('Assignee', { exact: true }).inputValue(), '');
    const other = groups[1] ?? groups[0];
    await inApp(frame, `return client.set('ticket.assignee.group.id', ${other.id});`);
    assert.equal(await page.getByLabel('Group', { exact: true }).inputValue(), String(other.id));
    const badId = await inApp(frame, "return client.set('ticket.requester.id', 'nobody').then(() => 'resolved', (e) => e.message);");
    assert.equal(badId, '"ticket.requester.id" Invalid id');

    await inApp(frame, "return client.set('ticket.tags', ['alpha', 'beta']);");
    assert.deepEqual((/** @type {any} */ (await inApp(frame, "return client.get('ticket.tags');")))['ticket.tags'], ['alpha', 'beta']);
    await seen(frame, 'ticket.tags.changed', 'alpha');
    const badTags = await inApp(frame, "return client.set('ticket.tags', 'alpha').then(() => 'resolved', (e) => e.message);");
    assert.equal(badTags, '"ticket.tags" Tags must be an array of strings');

    await inApp(frame, "return client.set({'comment.text': 'Set by the app', 'ticket.comment.type': 'internalNote'});");
    assert.equal(await page.locator('#composer-body').inputValue(), 'Set by the app');
    assert.equal(await page.locator('.composer-mode[data-mode="internalNote"]').getAttribute('aria-pressed'), 'true');
    await seen(frame, 'comment.text.changed', 'Set by the app');
    await seen(frame, 'ticket.comment.text.changed', 'Set by the app');
    await seen(frame, 'comment.type.changed', 'internalNote');
    await seen(frame, 'ticket.comment.type.changed', 'internalNote');
    const got = /** @type {any} */ (await inApp(frame, "return client.get(['comment.text', 'comment.type', 'ticket.comment.text', 'ticket.comment.type']);"));
    assert.deepEqual([got['comment.text'], got['comment.type'], got['ticket.comment.text'], got['ticket.comment.type']],
      ['Set by the app', 'internalNote', 'Set by the app', 'internalNote']);
    await inApp(frame, "return client.set({'ticket.comment.text': '', 'comment.type': 'publicReply'});");
    assert.equal(await page.locator('.composer-mode[data-mode="publicReply"]').getAttribute('aria-pressed'), 'true');
    await inApp(frame, "return client.invoke('ticket.comment.appendMarkdown', '**Bold** and _kept_ as written');");
    await inApp(frame, "return client.invoke('comment.appendMarkdown', '- a list item');");
    assert.equal(await page.locator('#composer-body').inputValue(), '**Bold** and _kept_ as written\n- a list item');

    await inApp(frame, `return client.set('ticket.customField:custom_field_${field.id}', 'CF-7');`);
    await seen(frame, `ticket.custom_field_${field.id}.changed`, 'CF-7');
    await seen(frame, `ticket.customField:custom_field_${field.id}.changed`, 'CF-7');

    const options = /** @type {any} */ (await inApp(frame, "return client.invoke('ticketFields:priority.optionValues');"))['ticketFields:priority.optionValues'];
    assert.deepEqual(options.map((/** @type {any} */ o) => o.value), ['low', 'normal', 'high', 'urgent']);
    assert.ok(options.every((/** @type {any} */ o) => typeof o.name === 'string' && o.name.length > 0));
    await context.close();
  });

  test(`${sdk} SDK: ticket.updated when the ticket changes elsewhere; routeTo`, async () => {
    const { page, frame, ticket, context } = await open(sdk);
    await inApp(frame, "window.listen('ticket.updated'); window.listen('ticket.priority.changed');");
    await page.waitForTimeout(100);
    const { ticket: now } = await server.api('GET', `/api/v2/tickets/${ticket.id}.json`);
    const priority = now.priority === 'high' ? 'low' : 'high';
    await server.api('PUT', `/api/v2/tickets/${ticket.id}.json`, { ticket: { priority } });
    await seen(frame, 'ticket.updated', `"id":${ticket.id}`);
    await seen(frame, 'ticket.priority.changed', priority);

    const bad = await inApp(frame, "return client.invoke('routeTo', 'nowhere', 1).then(() => 'resolved', (e) => e.message);");
    assert.equal(bad, '"routeTo" routeTo supports ticket, user and organization with an id');
    // Not awaited: the sidebar that asked goes with the ticket page, perhaps before its answer lands.
    await inApp(frame, `client.invoke('routeTo', 'user', ${ticket.requester_id}); return null;`);
    await page.waitForURL(`**/users/${ticket.requester_id}`);
    // The ticket's apps went with the ticket page; the user page has its own.
    await registeredFrame(page, installed.appId, 'user_sidebar');
    await context.close();
  });

  test(`${sdk} SDK: new_ticket_sidebar with autoHide and size`, async () => {
    const page = await openPage(sdk, '/tickets/new');
    const frame = await registeredFrame(page, locations.appId, 'new_ticket_sidebar');
    const box = page.locator(`[data-app-location="new_ticket_sidebar"] .app-box[data-installation-id="${locations.installationId}"]`);
    assert.equal(await box.isHidden(), true, 'autoHide: the box starts hidden');
    const style = await box.locator('.app-frame').evaluate((f) => ({ width: /** @type {HTMLElement} */ (f).style.width,
      height: /** @type {HTMLElement} */ (f).style.height }));
    assert.deepEqual(style, { width: '220px', height: '150px' }, 'the manifest size');
    const reg = /** @type {any} */ (await inApp(frame, 'return window.registered;'));
    assert.equal(reg.context.location, 'new_ticket_sidebar');
    assert.equal(reg.context.ticketId, undefined);
    await inApp(frame, "return client.set('ticket.subject', 'Started by an app');");
    assert.equal(await page.getByLabel('Subject', { exact: true }).inputValue(), 'Started by an app');
    const got = /** @type {any} */ (await inApp(frame, "return client.get(['ticket.subject', 'ticket.id']);"));
    assert.equal(got['ticket.subject'], 'Started by an app');
    assert.equal(got['ticket.id'] ?? null, null);
    // Not flexible: a width the app asks for is honoured.
    await inApp(frame, "return client.invoke('resize', {width: '200px', height: '160px'});");
    assert.deepEqual(await box.locator('.app-frame').evaluate((f) => [/** @type {HTMLElement} */ (f).style.width,
      /** @type {HTMLElement} */ (f).style.height]), ['200px', '160px']);
    await page.close();
  });

  test(`${sdk} SDK: organization_sidebar reads its organization; background loads hidden`, async () => {
    const { organizations } = await server.api('GET', '/api/v2/organizations.json');
    const org = organizations[0];
    const page = await openPage(sdk, `/organizations/${org.id}`);
    const frame = await registeredFrame(page, locations.appId, 'organization_sidebar');
    const reg = /** @type {any} */ (await inApp(frame, 'return window.registered;'));
    assert.equal(reg.context.organizationId, org.id);
    assert.equal(reg.context.host, 'zendesk');
    const got = /** @type {any} */ (await inApp(frame, "return client.get(['organization', 'organization.id', 'organization.name', 'organization.tags', 'ticket.subject', 'user.id']);"));
    assert.equal(got.organization.id, org.id);
    assert.equal(got['organization.id'], org.id);
    assert.equal(got['organization.name'], org.name);
    assert.deepEqual(got['organization.tags'], org.tags ?? []);
    assert.equal(got.errors['ticket.subject'].name, 'APIUnavailable');
    assert.equal(got.errors['user.id'].name, 'APIUnavailable');
    const missing = await inApp(frame, "return client.get('organization.nope').then(() => 'resolved', (e) => e.name);");
    assert.equal(missing, 'APIUnavailable');

    const bg = await registeredFrame(page, locations.appId, 'background');
    assert.equal(await page.locator('[data-app-location="background"]').isHidden(), true);
    const me = /** @type {any} */ (await inApp(bg, "return client.get('currentUser.email');"));
    assert.equal(me['currentUser.email'], 'admin@example.com');
    const notHere = await inApp(bg, "return client.get('organization.id').then(() => 'resolved', (e) => e.name);");
    assert.equal(notHere, 'APIUnavailable');
    await page.close();
  });

  test(`${sdk} SDK: autoLoad false in nav_bar, top_bar and ticket_sidebar; collapsing and expanding a sidebar app`, async () => {
    const ticket = await someOpenTicket(server);
    const page = await openPage(sdk, `/tickets/${ticket.id}`);
    await registeredFrame(page, installed.appId, 'ticket_sidebar');
    const mine = () => page.frames().filter((f) => f.url().startsWith(`http://app-${locations.appId}.localhost:`)).length;
    // Only the background instance exists: the nav_bar icon and the sidebar box wait for the agent.
    await registeredFrame(page, locations.appId, 'background');
    assert.equal(mine(), 1);
    const icon = page.locator(`[data-app-location="nav_bar"] button[data-installation-id="${locations.installationId}"]`);
    const box = page.locator(`[data-app-location="ticket_sidebar"] .app-box[data-installation-id="${locations.installationId}"]`);
    const toggle = box.locator('.app-box-toggle');
    assert.equal(await toggle.getAttribute('aria-expanded'), 'false');
    assert.equal(await box.locator('iframe').count(), 0);

    await icon.click();
    const nav = await registeredFrame(page, locations.appId, 'nav_bar');
    await page.locator('#nav-app-pane').waitFor({ state: 'visible' });
    await seen(nav, 'pane.activated');
    await seen(nav, 'app.activated');
    await icon.click();
    await page.locator('#nav-app-pane').waitFor({ state: 'hidden' });
    await seen(nav, 'app.deactivated');
    await seen(nav, 'pane.deactivated');

    const topIcon = page.locator(`[data-app-location="top_bar"] button[data-installation-id="${locations.installationId}"]`);
    assert.equal(mine(), 2, 'the top_bar app has not loaded either');
    await topIcon.click();
    const top = await registeredFrame(page, locations.appId, 'top_bar');
    await page.locator('#top-bar-popover').waitFor({ state: 'visible' });
    await seen(top, 'pane.activated');
    await seen(top, 'app.activated');
    assert.deepEqual(await page.locator(`#top-bar-popover .app-frame[data-installation-id="${locations.installationId}"]`)
      .evaluate((f) => [/** @type {HTMLElement} */ (f).style.width, /** @type {HTMLElement} */ (f).style.height]), ['320px', '240px']);
    await topIcon.click();
    await page.locator('#top-bar-popover').waitFor({ state: 'hidden' });
    await seen(top, 'app.deactivated');

    await toggle.click();
    const side = await registeredFrame(page, locations.appId, 'ticket_sidebar');
    assert.equal(await toggle.getAttribute('aria-expanded'), 'true');
    assert.equal(await box.locator('.app-frame').evaluate((f) => /** @type {HTMLElement} */ (f).style.height), '123px');
    await seen(side, 'app.activated');
    await toggle.click();
    await seen(side, 'app.collapsed');
    assert.equal(await box.locator('.app-frame').isHidden(), true);
    await toggle.click();
    await seen(side, 'app.expanded');
    assert.equal(await box.locator('.app-frame').isVisible(), true);
    assert.equal(mine(), 4, 'each opened once');
    await page.close();
  });

  test(`${sdk} SDK: window.resize reaches every app`, async () => {
    const { page, frame, context } = await open(sdk);
    await page.setViewportSize({ width: 1100, height: 700 });
    await seen(frame, 'window.resize', '"width":1100');
    const sizes = (/** @type {any[]} */ (await inApp(frame, 'return window.seen;'))).filter(([n]) => n === 'window.resize');
    assert.deepEqual(sizes.at(-1)[1], { width: 1100, height: 700 });
    await context.close();
  });
}
