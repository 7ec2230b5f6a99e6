// The conformance suite: a test app (tests/browser/apps/conformance) exercises the rows of
// docs/sdk-api.md in headless Chromium, twice: with zaffre's SDK, and with Zendesk's npm package
// zendesk_app_framework_sdk@2.0.11 bundled by esbuild at test time (not committed) and served in
// place of zaffre's. Both must behave the same against zaffre's host.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { startServer, launchBrowser, newPage, login, someOpenTicket, waitFor, customField } from './harness.mjs';
import { writeApp, installApp } from './apps.mjs';

const require = createRequire(import.meta.url);

/** @type {import('./harness.mjs').Server} */
let server;
/** @type {import('playwright-core').Browser} */
let browser;
/** @type {{appId: number, installationId: number}} */
let installed;
/** Zendesk's SDK as a classic script that sets window.ZAFClient. */
let officialBundle = '';
/** One signed-in browser context for every test: sign-ins are rate limited per email. */
/** @type {import('playwright-core').BrowserContext} */
let signedIn;

before(async () => {
  server = await startServer();
  browser = await launchBrowser();
  installed = await installApp(server, await writeApp('Conformance', 'conformance'), { greeting: 'Hej', api_token: 'sekrit-token' });
  const esbuild = require('esbuild');
  const out = await esbuild.build({
    entryPoints: [require.resolve('zendesk_app_framework_sdk/lib/index.js')],
    bundle: true, format: 'iife', globalName: 'ZAFClient', write: false, minify: true, platform: 'browser',
  });
  officialBundle = out.outputFiles[0].text;
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
 * Opens a ticket page (or `path`) with the conformance app registered in `where`.
 * @param {'zaffre'|'zendesk'} sdk
 * @param {string} [path]
 * @param {string} [where]
 */
async function open(sdk, path, where = 'ticket_sidebar') {
  const ticket = await someOpenTicket(server);
  const page = await signedIn.newPage();
  if (sdk === 'zendesk') {
    // Routes of a page apply to its iframes too.
    await page.route('**/__zaffre/zaf_sdk.js', (route) => route.fulfill({ status: 200, contentType: 'text/javascript', body: officialBundle }));
  }
  await page.goto(server.url + (path ?? `/tickets/${ticket.id}`));
  await page.locator('#shell:not([hidden])').waitFor();
  // Each test closes its page; the signed-in context stays.
  const context = { close: () => page.close() };
  const sidebar = /** @type {import('playwright-core').Frame} */ (await waitFor(async () => {
    for (const f of page.frames()) {
      if (!f.url().startsWith(`http://app-${installed.appId}.localhost:`)) continue;
      const loc = await f.evaluate(() => /** @type {any} */ (window).registered?.context?.location).catch(() => null);
      if (loc === where) return f;
    }
    return null;
  }, { message: `the ${where} app registers` }));
  return { page, context, ticket, frame: sidebar };
}

/** Runs code in the app frame with its client. @param {import('playwright-core').Frame} frame @param {string} body */
function inApp(frame, body) {
  return frame.evaluate(`(async () => { const client = window.client; ${body} })()`);
}

for (const sdk of /** @type {const} */ (['zaffre', 'zendesk'])) {
  test(`${sdk} SDK: registration carries metadata and context`, async () => {
    const { frame, ticket, context } = await open(sdk);
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
    assert.ok('subdomain' in reg.context.account);
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
    await inApp(frame, "return client.invoke('resize', {width: '100%', height: '321px'});");
    assert.equal(await page.locator('.apps-panel .app-frame').evaluate((f) => /** @type {HTMLElement} */ (f).style.height), '321px');
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
    await top.evaluate(() => { /** @type {any} */ (window).listen('pane.activated'); });
    await page.waitForTimeout(100);
    assert.equal(await page.locator('#top-bar-popover').isHidden(), true);
    await inApp(frame, `return client.instance(${JSON.stringify(topGuid)}).invoke('popover');`);
    await page.locator('#top-bar-popover').waitFor({ state: 'visible' });
    await waitFor(async () => JSON.stringify(await top.evaluate(() => /** @type {any} */ (window).seen)).includes('pane.activated'),
      { message: 'pane.activated arrives' });
    await inApp(frame, `return client.instance(${JSON.stringify(topGuid)}).invoke('popover', 'hide');`);
    await page.locator('#top-bar-popover').waitFor({ state: 'hidden' });
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
}
