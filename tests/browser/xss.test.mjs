// Ticket content is untrusted: markup in subjects, comments and custom field values must be shown
// as text (or sanitized HTML) and never run, in lists and on the ticket page.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startServer, launchBrowser, newPage, login, customField } from './harness.mjs';

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

const SUBJECT = '<img src=x onerror="window.__xss=1">';
const BODY = '<script>window.__xss=2</script><img src=x onerror=window.__xss=3>';

test('script and onerror payloads in ticket content stay inert and are shown literally', async () => {
  const textField = await customField(server, 'text');
  const { ticket } = await server.api('POST', '/api/v2/tickets.json', {
    ticket: { subject: SUBJECT, comment: { body: BODY, public: true }, tags: ['xss'],
      custom_fields: [{ id: textField.id, value: '<svg onload=window.__xss=4>' }] },
  });
  // A second comment arrives as HTML (as an API client or app may send it): sanitized, not run.
  await server.api('PUT', `/api/v2/tickets/${ticket.id}.json`, {
    ticket: { comment: { html_body: '<p>Hello <b>there</b><img src=x onerror=window.__xss=5><a href="javascript:window.__xss=6">click</a><iframe src="javascript:parent.__xss=7"></iframe></p>', public: false } },
  });

  const { page, context } = await newPage(browser);
  await login(page, server.url, '/views/recent');
  const row = page.locator(`table.tickets tr[data-ticket-id="${ticket.id}"]`);
  await row.waitFor();
  assert.equal(await row.locator('a.row-link').textContent(), SUBJECT, 'the subject shows literally in the list');

  await row.locator('a.row-link').click();
  await page.locator('.conversation .comment').first().waitFor();
  await page.waitForLoadState('networkidle');
  assert.equal(await page.getByLabel('Subject', { exact: true }).inputValue(), SUBJECT);
  assert.equal(await page.title(), `#${ticket.id} ${SUBJECT} · zaffre`);
  const first = page.locator('.conversation .comment').first().locator('.comment-body');
  assert.equal((await first.textContent())?.trim(), BODY, 'the comment body shows literally');
  assert.equal(await page.getByLabel(textField.title, { exact: true }).inputValue(), '<svg onload=window.__xss=4>');

  // Nothing from the payloads became an element, and nothing ran.
  const injected = await page.locator('#main img, #main script, #main iframe, #main svg:not(.icon)').count();
  assert.equal(injected, 0, 'no img, script, iframe or foreign svg elements inside the page content');
  const second = page.locator('.conversation .comment').nth(1).locator('.comment-body');
  if (await second.count()) {
    assert.equal(await second.locator('b').textContent(), 'there', 'allowed formatting survives sanitizing');
    assert.equal(await second.locator('a').getAttribute('href'), null, 'javascript: links lose their href');
  }
  await page.waitForTimeout(300);
  assert.equal(await page.evaluate(() => /** @type {any} */ (window).__xss), undefined);
  await context.close();
});

test('the sanitizer keeps the allow-list and drops everything else', async () => {
  const { page, context } = await newPage(browser);
  await login(page, server.url, '/views/recent');
  const result = await page.evaluate(async () => {
    const modulePath = '/assets/sanitize.js';
    const { sanitizeHtml } = await import(modulePath);
    const box = document.createElement('div');
    box.appendChild(sanitizeHtml(
      '<p onclick="x()" style="color:red">A <strong>b</strong> <em>c</em> <u>d</u> <code>e</code></p>' +
      '<ul><li>one</li></ul><blockquote>q</blockquote><pre>p</pre>' +
      '<a href="https://example.com/x" onmouseover="y()">ok</a><a href="mailto:a@b.c">mail</a>' +
      '<a href=" javascript:alert(1)">bad</a><a href="data:text/html,hi">data</a>' +
      '<div>wrapped <span>text</span></div><div><p>para</p></div><div>last</div><script>alert(1)</script><style>*{}</style>' +
      '<svg><script>alert(2)</script></svg><math><mi>x</mi></math><img src=x onerror=alert(3)>' +
      '<form action="/x"><input value=v></form><!-- comment -->'));
    return box.innerHTML;
  });
  assert.equal(result,
    '<p>A <strong>b</strong> <em>c</em> <u>d</u> <code>e</code></p><ul><li>one</li></ul><blockquote>q</blockquote><pre>p</pre>' +
    '<a href="https://example.com/x" rel="noopener noreferrer nofollow" target="_blank">ok</a>' +
    '<a href="mailto:a@b.c" rel="noopener noreferrer nofollow" target="_blank">mail</a><a>bad</a><a>data</a>' +
    'wrapped text<br><p>para</p>last');
  await context.close();
});
