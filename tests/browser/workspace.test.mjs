// The main agent flow in real Chromium: sign in, find a ticket, edit it, save, reload; plus the
// new ticket page, user/organization/admin pages, keyboard shortcuts and the narrow layout.
// Writes the screenshots in docs/screenshots/.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startServer, launchBrowser, newPage, login, screenshot, customField, someOpenTicket, waitFor, ADMIN_EMAIL } from './harness.mjs';

/** @type {import('./harness.mjs').Server} */
let server;
/** @type {import('playwright-core').Browser} */
let browser;

before(async () => {
  server = await startServer();
  browser = await launchBrowser();
});
after(async () => {
  await browser?.close();
  await server?.stop();
});

test('login page: wrong password is refused, right one opens the workspace', async () => {
  const { page, context, errors } = await newPage(browser);
  await page.goto(`${server.url}/`);
  await page.waitForURL(/\/login/);
  await page.getByLabel('Email', { exact: true }).waitFor();
  await screenshot(page, 'login');
  await page.getByLabel('Email', { exact: true }).fill(ADMIN_EMAIL);
  await page.getByLabel('Password', { exact: true }).fill('wrong password');
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.getByText('That email and password do not match an account.').waitFor();
  assert.equal(await page.locator('#shell').isHidden(), true);
  await login(page, server.url);
  await page.waitForURL(`${server.url}/`);
  await page.locator('table.tickets, .empty-state').first().waitFor();
  // Signing out returns to the login page and the session is gone on the server too.
  await page.getByRole('button', { name: /Account menu/ }).click();
  await page.getByRole('menuitem', { name: 'Sign out' }).click();
  await page.waitForURL(/\/login/);
  const status = await page.evaluate(async () => (await fetch('/auth/session')).status);
  assert.equal(status, 401);
  assert.deepEqual(errors.filter((e) => !e.includes('401')), []);
  await context.close();
});

test('ticket list: views, counts, sorting, paging and keyboard navigation', async () => {
  const { page, context, errors } = await newPage(browser);
  await login(page, server.url, '/views/all-unsolved');
  const rows = page.locator('table.tickets tbody tr');
  await rows.first().waitFor();
  const apiCount = (await server.api('GET', `/api/v2/search.json?query=${encodeURIComponent('type:ticket status<solved')}&per_page=1`)).count;
  assert.ok(apiCount > 0, 'the demo data has unsolved tickets');
  await waitFor(async () => (await page.locator('[data-view="all-unsolved"] .view-count').textContent()) === String(apiCount),
    { message: 'the view count matches the API' });
  assert.equal(await rows.count(), Math.min(apiCount, 25));
  // Every status shown is unsolved.
  const statuses = await page.locator('table.tickets tbody .pill').allTextContents();
  assert.ok(statuses.every((s) => ['New', 'Open', 'Pending', 'On-hold'].includes(s)), `unexpected statuses ${statuses}`);
  await page.waitForTimeout(50);
  await screenshot(page, 'ticket-list');

  // Sorting by ID on "recently updated" (tickets.json) follows the API's order.
  await page.goto(`${server.url}/views/recent?sort_by=id&sort_order=asc`);
  await rows.first().waitFor();
  const ids = await page.locator('table.tickets tbody tr').evaluateAll((trs) => trs.map((tr) => Number(tr.getAttribute('data-ticket-id'))));
  assert.deepEqual(ids, [...ids].sort((a, b) => a - b));
  await page.getByRole('button', { name: 'Sort by Updated' }).click();
  await page.waitForURL(/sort_by=updated_at/);
  // Paging: the demo has more than 25 tickets, so page 2 exists and differs.
  const total = (await server.api('GET', '/api/v2/tickets.json?per_page=1')).count;
  if (total > 25) {
    await page.getByRole('button', { name: 'Next page' }).click();
    await page.waitForURL(/page=2/);
    await page.locator('.pager-summary', { hasText: `26–` }).waitFor();
  } else {
    assert.equal(await page.getByRole('button', { name: 'Next page' }).isDisabled(), true);
  }

  // Keyboard: j selects the first row, Enter opens it; "?" shows the shortcuts.
  await page.goto(`${server.url}/views/all-unsolved`);
  await rows.first().waitFor();
  await page.locator('body').press('j');
  const firstId = await page.locator('table.tickets tbody tr.selected').getAttribute('data-ticket-id');
  assert.ok(firstId);
  await page.keyboard.press('Enter');
  await page.waitForURL(`${server.url}/tickets/${firstId}`);
  await page.locator('#composer-body').waitFor();
  await page.locator('body').press('?');
  await page.getByRole('dialog', { name: 'Keyboard shortcuts' }).waitFor();
  await page.keyboard.press('Escape');
  await page.keyboard.press('/');
  assert.equal(await page.evaluate(() => document.activeElement?.id), 'search-input');
  await page.keyboard.type('status:open');
  await page.keyboard.press('Enter');
  await page.waitForURL(/\/search\?q=status/);
  await page.locator('table.tickets tbody tr').first().waitFor();
  const found = await page.locator('table.tickets tbody .pill').allTextContents();
  assert.ok(found.length > 0 && found.every((s) => s === 'Open'), `search status:open showed ${found}`);
  await page.keyboard.press('g');
  await page.keyboard.press('u');
  await page.waitForURL(/\/views\/unassigned/);
  assert.deepEqual(errors, []);
  await context.close();
});

test('ticket page: change status and a custom field, add an internal note, submit, reload', async () => {
  const { page, context, errors } = await newPage(browser);
  const ticket = await someOpenTicket(server);
  const textField = await customField(server, 'text');
  const dropdown = await customField(server, 'tagger');
  const option = dropdown.custom_field_options.find((/** @type {any} */ o) =>
    o.value !== (ticket.custom_fields ?? []).find((/** @type {any} */ cf) => cf.id === dropdown.id)?.value);
  const newStatus = ticket.status === 'pending' ? 'open' : 'pending';
  await login(page, server.url, `/tickets/${ticket.id}`);
  await page.waitForURL(`${server.url}/tickets/${ticket.id}`);
  await page.locator('#composer-body').waitFor();

  // Record the one PUT the save must send.
  /** @type {any[]} */
  const puts = [];
  page.on('request', (req) => { if (req.method() === 'PUT') puts.push({ url: req.url(), body: req.postDataJSON(), csrf: req.headers()['x-csrf-token'] }); });

  await page.getByLabel('Status', { exact: true }).selectOption(newStatus);
  await page.getByLabel(textField.title, { exact: true }).fill('Order 4711');
  await page.getByLabel(dropdown.title, { exact: true }).selectOption(option.value);
  await page.getByRole('button', { name: 'Internal note' }).click();
  await page.getByLabel('Comment', { exact: true }).fill('Checked the logs: a note only agents see.');
  assert.match(await page.locator('#submit-button').textContent() ?? '', new RegExp(`Submit as ${newStatus === 'open' ? 'Open' : 'Pending'}`));
  await screenshot(page, 'ticket');
  await page.locator('#submit-button').click();
  await page.getByText(`Ticket #${ticket.id} updated`).waitFor();

  assert.equal(puts.length, 1, 'exactly one PUT');
  assert.ok(puts[0].csrf, 'the PUT carries the CSRF token');
  assert.deepEqual(Object.keys(puts[0].body.ticket).sort(), ['comment', 'custom_fields', 'status'], 'only changed properties are sent');
  assert.equal(puts[0].body.ticket.comment.public, false);

  await page.reload();
  await page.locator('#composer-body').waitFor();
  assert.equal(await page.getByLabel('Status', { exact: true }).inputValue(), newStatus);
  assert.equal(await page.getByLabel(textField.title, { exact: true }).inputValue(), 'Order 4711');
  assert.equal(await page.getByLabel(dropdown.title, { exact: true }).inputValue(), option.value);
  const note = page.locator('.conversation .comment.internal').last();
  assert.match(await note.textContent() ?? '', /Checked the logs: a note only agents see\./);
  assert.equal(await page.locator('.conversation .comment').last().evaluate((el) => el.classList.contains('internal')), true,
    'the newest comment is last');
  // Internal notes are visibly different from public replies.
  const bg = await note.evaluate((el) => getComputedStyle(el).backgroundColor);
  assert.notEqual(bg, 'rgb(255, 255, 255)');
  // And the server agrees.
  const saved = (await server.api('GET', `/api/v2/tickets/${ticket.id}.json`)).ticket;
  assert.equal(saved.status, newStatus);
  assert.equal(saved.custom_fields.find((/** @type {any} */ cf) => cf.id === textField.id)?.value, 'Order 4711');
  await page.waitForTimeout(50);
  await screenshot(page, 'ticket');
  assert.deepEqual(errors, []);
  await context.close();
});

test('new ticket page creates a ticket with one POST', async () => {
  const { page, context, errors } = await newPage(browser);
  await login(page, server.url, '/tickets/new');
  await page.getByLabel('Subject', { exact: true }).waitFor();
  const { users } = await server.api('GET', '/api/v2/users.json?per_page=100');
  const endUser = users.find((/** @type {any} */ u) => u.role === 'end-user');
  await page.getByLabel('Subject', { exact: true }).fill('Cannot reset my password');
  await page.getByLabel('Requester', { exact: true }).selectOption(String(endUser.id));
  await page.getByLabel('Priority', { exact: true }).selectOption('high');
  await page.getByLabel('Description', { exact: true }).fill('The reset link in the email says it expired.');
  await page.getByLabel('Tags', { exact: true }).fill('password');
  await page.getByLabel('Tags', { exact: true }).press('Enter');
  await page.waitForTimeout(50);
  await screenshot(page, 'new-ticket');
  await page.keyboard.press('Control+Enter');
  await page.waitForURL(/\/tickets\/\d+$/);
  const id = Number(new URL(page.url()).pathname.split('/').pop());
  const created = (await server.api('GET', `/api/v2/tickets/${id}.json`)).ticket;
  assert.equal(created.subject, 'Cannot reset my password');
  assert.equal(created.requester_id, endUser.id);
  assert.equal(created.priority, 'high');
  assert.ok(created.tags.includes('password'));
  await page.locator('.conversation .comment', { hasText: 'The reset link in the email says it expired.' }).waitFor();
  assert.deepEqual(errors, []);
  await context.close();
});

test('user, organization and admin pages, with the app locations reserved', async () => {
  const { page, context, errors } = await newPage(browser);
  const ticket = await someOpenTicket(server);
  await login(page, server.url, `/tickets/${ticket.id}`);
  await page.locator('#composer-body').waitFor();
  for (const loc of ['ticket_sidebar', 'nav_bar', 'top_bar', 'modal', 'background']) {
    assert.equal(await page.locator(`[data-app-location="${loc}"]`).count(), 1, `${loc} is reserved`);
  }
  // The apps panel collapses and expands.
  const toggle = page.getByRole('button', { name: 'Hide apps panel' });
  await toggle.click();
  assert.equal(await page.locator('[data-app-location="ticket_sidebar"]').isHidden(), true);
  await page.getByRole('button', { name: 'Show apps panel' }).click();
  assert.equal(await page.locator('[data-app-location="ticket_sidebar"]').isVisible(), true);

  const requester = (await server.api('GET', `/api/v2/users/${ticket.requester_id}.json`)).user;
  await page.goto(`${server.url}/users/${requester.id}`);
  await page.getByRole('heading', { name: requester.name }).waitFor();
  await page.locator(`table.tickets tr[data-ticket-id="${ticket.id}"]`).waitFor();
  assert.equal(await page.locator('[data-app-location="user_sidebar"]').count(), 1);

  const { organizations } = await server.api('GET', '/api/v2/organizations.json');
  const org = organizations[0];
  const orgTickets = (await server.api('GET', `/api/v2/organizations/${org.id}/tickets.json`)).tickets;
  await page.goto(`${server.url}/organizations/${org.id}`);
  await page.getByRole('heading', { name: org.name }).waitFor();
  if (orgTickets.length) await page.locator(`table.tickets tr[data-ticket-id="${orgTickets[0].id}"]`).waitFor();
  assert.equal(await page.locator('[data-app-location="organization_sidebar"]').count(), 1);

  await page.goto(`${server.url}/tickets/new`);
  await page.locator('[data-app-location="new_ticket_sidebar"]').waitFor({ state: 'attached' });

  await page.goto(`${server.url}/admin/fields`);
  const { ticket_fields: fields } = await server.api('GET', '/api/v2/ticket_fields.json');
  await page.locator('table[aria-label="Ticket fields"] tbody tr').first().waitFor();
  assert.equal(await page.locator('table[aria-label="Ticket fields"] tbody tr').count(), fields.length);
  await page.waitForTimeout(50);
  await screenshot(page, 'admin');
  await page.goto(`${server.url}/admin/users`);
  await page.locator('table[aria-label="Users"] tbody tr').first().waitFor();
  await page.locator('table[aria-label="Users"]', { hasText: ADMIN_EMAIL }).waitFor();
  await page.goto(`${server.url}/admin/apps`);
  await page.locator('[data-admin-section="apps"]').waitFor();
  assert.deepEqual(errors, []);
  await context.close();
});

test('narrow window: list and ticket page fit 400px without horizontal scrolling', async () => {
  const { page, context, errors } = await newPage(browser, { width: 400, height: 800 });
  const ticket = await someOpenTicket(server);
  await login(page, server.url, '/views/all-unsolved');
  await page.locator('table.tickets tbody tr').first().waitFor();
  assert.ok(await page.evaluate(() => document.documentElement.scrollWidth <= 400), 'list fits');
  await page.goto(`${server.url}/tickets/${ticket.id}`);
  await page.locator('#composer-body').waitFor();
  assert.ok(await page.evaluate(() => document.documentElement.scrollWidth <= 400), 'ticket page fits');
  assert.equal(await page.getByLabel('Status', { exact: true }).isVisible() || await page.getByLabel('Status', { exact: true }).count() === 1, true);
  await page.waitForTimeout(50);
  await screenshot(page, 'ticket-narrow');
  assert.deepEqual(errors, []);
  await context.close();
});

test('every form control has an accessible name', async () => {
  const { page, context } = await newPage(browser);
  const ticket = await someOpenTicket(server);
  await login(page, server.url, `/tickets/${ticket.id}`);
  await page.locator('#composer-body').waitFor();
  for (const path of [`/tickets/${ticket.id}`, '/tickets/new', '/views/all-unsolved']) {
    await page.goto(server.url + path);
    await page.locator('main#main > *').first().waitFor();
    await page.waitForLoadState('networkidle');
    const unnamed = await page.evaluate(() => {
      const controls = [...document.querySelectorAll('input, select, textarea, button')]
        .filter((el) => !(/** @type {HTMLElement} */ (el).closest('[hidden]')) && /** @type {HTMLInputElement} */ (el).type !== 'hidden');
      return controls.filter((el) => {
        const id = el.id;
        const label = id ? document.querySelector(`label[for="${CSS.escape(id)}"]`) : null;
        const aria = el.getAttribute('aria-label') || el.getAttribute('aria-labelledby');
        const text = el.tagName === 'BUTTON' ? el.textContent?.trim() : '';
        return !label && !aria && !text && !el.closest('label');
      }).map((el) => el.outerHTML.slice(0, 120));
    });
    assert.deepEqual(unnamed, [], `controls without a name on ${path}`);
  }
  await context.close();
});
