// ticket.save hooks across several apps: the save is committed only when every subscribed app
// answers with success; false, a string, an Error or a rejection aborts it (a string is shown to
// the agent), and an app that never answers aborts it after 30 seconds.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { startServer, launchBrowser, newPage, login, someOpenTicket, waitFor } from './harness.mjs';
import { writeApp, installApp } from './apps.mjs';

/** @type {import('./harness.mjs').Server} */
let server;
/** @type {import('playwright-core').Browser} */
let browser;
/** @type {number[]} */
const appIds = [];

before(async () => {
  server = await startServer();
  browser = await launchBrowser();
  for (const name of ['Hook one', 'Hook two']) {
    const dir = await writeApp(name, 'conformance');
    const file = path.join(dir, 'manifest.json');
    const manifest = JSON.parse(await readFile(file, 'utf8'));
    await writeFile(file, JSON.stringify({ ...manifest, name }));
    appIds.push((await installApp(server, dir)).appId);
  }
});
after(async () => {
  await browser?.close();
  await server?.stop();
});

/** The ticket page with both apps registered in the sidebar. */
async function open() {
  const ticket = await someOpenTicket(server);
  const { page, context } = await newPage(browser);
  await login(page, server.url, `/tickets/${ticket.id}`);
  const frames = await Promise.all(appIds.map((id) => waitFor(async () => {
    for (const f of page.frames()) {
      if (!f.url().startsWith(`http://app-${id}.localhost:`)) continue;
      // The fixture also has a top_bar location: take the sidebar instance.
      const where = await f.evaluate(() => /** @type {any} */ (window).registered?.context?.location).catch(() => null);
      if (where === 'ticket_sidebar') return f;
    }
    return null;
  }, { message: `app ${id} registers` })));
  const [one, two] = /** @type {import('playwright-core').Frame[]} */ (frames);
  /** @param {import('playwright-core').Frame} frame @param {string} handler JS expression of the handler */
  const hook = async (frame, handler) => {
    await frame.evaluate(`window.client.on('ticket.save', ${handler})`);
    // The subscription travels by postMessage; let it land before the agent submits.
    await page.waitForTimeout(200);
  };
  /** Writes a comment and submits; resolves with the error banner text, or 'saved'. @param {string} text */
  const submit = async (text) => {
    await page.getByLabel('Comment', { exact: true }).fill(text);
    const started = Date.now();
    await page.keyboard.press('Control+Enter');
    const outcome = await Promise.race([
      page.locator('.save-errors .banner').waitFor({ timeout: 45_000 }).then(async () => page.locator('.save-errors').innerText()),
      page.locator('.toast', { hasText: 'updated' }).waitFor({ timeout: 45_000 }).then(() => 'saved'),
    ]);
    return { outcome, ms: Date.now() - started };
  };
  return { page, context, one, two, hook, submit, ticket };
}

/** The number of public comments on a ticket, through the API. @param {number} id */
async function commentCount(id) {
  return (await server.api('GET', `/api/v2/tickets/${id}/comments.json`)).comments.length;
}

test('every app succeeds (one slowly): the save is committed', async () => {
  const { context, one, two, hook, submit, ticket } = await open();
  const before = await commentCount(ticket.id);
  await hook(one, '() => true');
  await hook(two, '() => new Promise((resolve) => setTimeout(() => resolve(false), 1500))');
  const { outcome, ms } = await submit('Both apps agree');
  assert.equal(outcome, 'saved');
  assert.ok(ms >= 1400, `the host waited for the slow app (${ms} ms)`);
  assert.equal(await commentCount(ticket.id), before + 1);
  await context.close();
});

test('mixed outcomes: any failure aborts; a string is shown, other failures get a generic message', async () => {
  const { page, context, one, two, hook, submit, ticket } = await open();
  const before = await commentCount(ticket.id);
  await hook(one, '() => Promise.resolve("fine")');
  await two.evaluate("window.verdict = () => 'Please add a greeting'");
  await hook(two, '() => window.verdict()');
  assert.match((await submit('Rude reply')).outcome, /Please add a greeting/);
  for (const [verdict, shown] of [
    ['() => false', /An app prevented saving this ticket/],
    ["() => new Error('Checked by app two')", /Checked by app two/],
    ["() => { throw new Error('thrown by app two'); }", /thrown by app two/],
    ["() => Promise.reject('rejected politely')", /rejected politely/],
  ]) {
    await two.evaluate(`window.verdict = ${verdict}`);
    await page.locator('.save-errors').evaluate((el) => { el.textContent = ''; });
    const { outcome } = await submit(`Attempt ${String(verdict)}`);
    assert.match(outcome, /** @type {RegExp} */ (shown));
  }
  assert.equal(await commentCount(ticket.id), before, 'nothing was saved');
  await two.evaluate("window.verdict = () => true");
  assert.equal((await submit('Now it is fine')).outcome, 'saved');
  assert.equal(await commentCount(ticket.id), before + 1);
  await context.close();
});

test('an app that never answers aborts the save after 30 seconds', { timeout: 60_000 }, async () => {
  const { context, two, hook, submit, ticket } = await open();
  const before = await commentCount(ticket.id);
  await hook(two, '() => new Promise(() => {})');
  const { outcome, ms } = await submit('Waiting for a silent app');
  assert.match(outcome, /did not answer in time/);
  assert.ok(ms >= 29_000 && ms < 40_000, `aborted after ${ms} ms`);
  assert.equal(await commentCount(ticket.id), before);
  await context.close();
});
