/**
 * The web console end to end: a real server with API keys and a tool that needs approval, the
 * built console at /ui, and Debian's Chromium driven by playwright-core (headless). It enters the
 * key from the keyboard, runs a script from the playground and sees its console lines and result,
 * sees an error's line marked in the source, approves a held call on the approvals page and sees
 * the script finish, denies one from the playground and sees the script catch APPROVAL_DENIED,
 * cancels a spawned task, reads the health page, and checks that the page asked nothing of any
 * other origin and fits a phone's width. A screenshot of each page is written to
 * `apps/harness-server/screenshots/` (git-ignored), or to $HARNESS_SCREENSHOTS_DIR.
 *
 * The browser is $HARNESS_TEST_CHROMIUM, else `chromium` or `chromium-browser` on the PATH
 * (`tools/browser/ensure-chromium.sh` installs it). `HARNESS_TEST_BROWSER=off` leaves this file
 * out (vitest.config.ts); without it, a missing browser fails the test.
 */
import { execFileSync } from 'node:child_process';
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { type Browser, chromium, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, TENANT_KEYS, type TestServer } from './test-support.ts';

const SCREENSHOTS = process.env.HARNESS_SCREENSHOTS_DIR ?? join(import.meta.dirname, '..', 'screenshots');
/** Longest wait for something the page should show; every wait is bounded. */
const UI_TIMEOUT_MS = 15_000;

function findChromium(): string {
  const given = process.env.HARNESS_TEST_CHROMIUM;
  if (given !== undefined && given !== '') return given;
  for (const name of ['chromium', 'chromium-browser']) {
    try {
      const path = execFileSync('sh', ['-c', `command -v ${name}`], { encoding: 'utf8' }).trim();
      if (path !== '') return path;
    } catch {
      // Not on the PATH; try the next name.
    }
  }
  throw new Error(
    'no Chromium found: run tools/browser/ensure-chromium.sh (or set HARNESS_TEST_CHROMIUM); ' +
      'HARNESS_TEST_BROWSER=off leaves the browser tests out',
  );
}

let server: TestServer;
let browser: Browser;
let page: Page;
const requestedUrls: string[] = [];

beforeAll(async () => {
  await mkdir(SCREENSHOTS, { recursive: true });
  server = await startTestServer({
    overrides: { policy: { rules: [{ tool: 'writeFile', decision: 'ask', reason: 'writes are reviewed' }] } },
  });
  browser = await chromium.launch({
    executablePath: findChromium(),
    headless: true,
    // Chromium's sandbox needs user namespaces, which a container running as root rarely has.
    args: process.getuid?.() === 0 ? ['--no-sandbox'] : [],
    timeout: 30_000,
  });
  page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
  page.setDefaultTimeout(UI_TIMEOUT_MS);
  page.on('request', (request) => requestedUrls.push(request.url()));
}, 60_000);

afterAll(async () => {
  // The browser first: its connections would otherwise hold the server's close.
  await browser?.close();
  await server?.close();
}, 60_000);

async function setEditor(text: string): Promise<void> {
  const editor = page.getByRole('textbox', { name: /^Script/ });
  await editor.fill(text);
}

async function runFromKeyboard(): Promise<void> {
  await page.getByRole('textbox', { name: /^Script/ }).focus();
  await page.keyboard.press('Control+Enter');
}

const playground = () => page.locator('section[aria-labelledby="page-playground"]');
const runStatus = () => playground().locator('.run-status');

describe('the web console', () => {
  it('asks for the API key and takes it from the keyboard', async () => {
    await page.goto(`${server.url}/ui`);
    await expect.poll(() => page.getByRole('heading', { name: 'API key' }).isVisible()).toBe(true);
    // Keyboard only: Tab to the key field, type, Enter.
    const field = page.getByLabel('API key');
    const focused = () => field.evaluate((node) => node.matches(':focus'));
    for (let presses = 0; presses < 10 && !(await focused()); presses++) await page.keyboard.press('Tab');
    expect(await focused()).toBe(true);
    await page.keyboard.type('not-the-key');
    await page.keyboard.press('Enter');
    await page.getByText('The key was not accepted').waitFor();

    await field.fill('');
    await field.focus();
    await page.keyboard.type(TENANT_KEYS.alpha);
    await page.keyboard.press('Enter');
    await page.locator('header .who').getByText('alpha').waitFor();
    expect(await page.evaluate(() => sessionStorage.getItem('harness-console.api-key'))).toBe(TENANT_KEYS.alpha);
  });

  it('runs a script from the playground and shows its console lines, tool calls and result', async () => {
    await setEditor(
      [
        "console.log('first line');",
        "const echoed = await tools.echo({ text: 'ping' });",
        "console.warn('second line', echoed.text);",
        'return { answer: 42, echoed: echoed.text };',
      ].join('\n'),
    );
    await runFromKeyboard();
    await expect
      .poll(() => runStatus().textContent(), { timeout: UI_TIMEOUT_MS })
      .toMatch(/^Completed in .* 1 tool call$/);
    const events = playground().locator('ol.events');
    await events.getByText('first line').waitFor();
    await events.getByText('second line ping').waitFor();
    await events.locator('.event.tool').getByText('tools.echo').waitFor();
    expect(await events.locator('.event.tool pre.json').first().textContent()).toContain('"text": "ping"');
    const result = playground().locator('.result.ok pre.json');
    expect(JSON.parse((await result.textContent()) ?? '')).toEqual({ answer: 42, echoed: 'ping' });
    await page.screenshot({ path: join(SCREENSHOTS, 'playground.png'), fullPage: true });
  });

  it('marks the line of an error in the source', async () => {
    await setEditor(['const a = 1;', "throw new Error('broken on purpose');", 'return a;'].join('\n'));
    await playground().getByRole('button', { name: 'Run', exact: true }).click();
    await expect.poll(() => runStatus().textContent()).toMatch(/^Failed in/);
    expect(await playground().locator('.script-error').first().textContent()).toMatch(
      /GUEST_ERROR.*broken on purpose.*line 2/,
    );
    expect(await playground().locator('ol.source li.error-line').textContent()).toContain(
      "throw new Error('broken on purpose');",
    );
    await page.screenshot({ path: join(SCREENSHOTS, 'playground-error.png'), fullPage: true });
  });

  it('executes a whole assistant message, block by block', async () => {
    await playground().getByRole('radio', { name: 'an assistant message' }).check();
    await playground()
      .getByRole('textbox', { name: /^Assistant message/ })
      .fill(
        "Adding them up.\n<tool-calls>\nconsole.log('adding');\nreturn [4, 8, 15].reduce((a, b) => a + b, 0);\n</tool-calls>\nDone.",
      );
    await playground().getByRole('button', { name: 'Run', exact: true }).click();
    await expect.poll(() => runStatus().textContent()).toBe('1 block · 1 ran · 0 failed');
    const items = playground().locator('ol.items');
    await items.getByText('Adding them up.').waitFor();
    await items.locator('.event.console').getByText('adding').waitFor();
    expect(await items.locator('.result.ok pre.json').textContent()).toBe('27');
    await playground().getByRole('radio', { name: 'a script', exact: true }).check();
  });

  it('holds a call for approval; approving it on the approvals page lets the script finish', async () => {
    await setEditor(
      [
        "console.log('asking to write');",
        'try {',
        "  const written = await tools.writeFile({ path: 'approved.txt', content: 'yes' });",
        "  return 'written ' + written.bytes + ' bytes';",
        '} catch (error) {',
        '  return error.code;',
        '}',
      ].join('\n'),
    );
    await runFromKeyboard();
    await playground().locator('.event.approval').waitFor();
    await page.locator('nav.pages a', { hasText: 'Approvals' }).getByText('(1 pending)').waitFor();

    // To the approvals page from the keyboard: focus its link, press Enter.
    await page.locator('nav.pages a', { hasText: 'Approvals' }).focus();
    await page.keyboard.press('Enter');
    const approvals = page.locator('section[aria-labelledby="page-approvals"]');
    await approvals.getByRole('heading', { name: 'Pending (1)' }).waitFor();
    const card = approvals.locator('.approval-card.pending');
    expect(await card.locator('pre.excerpt').textContent()).toBe(
      "line 3: const written = await tools.writeFile({ path: 'approved.txt', content: 'yes' });",
    );
    expect(await card.locator('pre.json').textContent()).toContain('"path": "approved.txt"');
    expect(await card.locator('dl.facts').textContent()).toContain('alpha');
    await expect.poll(() => card.locator('.time-left').textContent()).toMatch(/^\d+:\d\d$/);
    await page.screenshot({ path: join(SCREENSHOTS, 'approvals.png'), fullPage: true });

    await card.getByLabel(/Reason/).fill('reviewed in the console');
    await card.getByRole('button', { name: 'Approve' }).click();
    await approvals.getByRole('heading', { name: 'Pending (0)' }).waitFor();
    await approvals.locator('table.history').getByText('Approved by alpha: reviewed in the console').waitFor();

    await page.locator('nav.pages a', { hasText: 'Playground' }).click();
    await expect.poll(() => runStatus().textContent()).toMatch(/^Completed in/);
    expect(JSON.parse((await playground().locator('.result.ok pre.json').textContent()) ?? '')).toBe('written 3 bytes');
  });

  it('denies a held call from the playground, and the script catches APPROVAL_DENIED', async () => {
    await setEditor(
      [
        'try {',
        "  await tools.writeFile({ path: 'denied.txt', content: 'no' });",
        "  return 'written';",
        '} catch (error) {',
        "  console.log('caught', error.code);",
        '  return error.code;',
        '}',
      ].join('\n'),
    );
    await runFromKeyboard();
    const card = playground().locator('.event.approval .approval-card');
    await card.waitFor();
    await card.getByLabel(/Reason/).fill('not this file');
    await card.getByRole('button', { name: 'Deny' }).click();
    await expect.poll(() => runStatus().textContent()).toMatch(/^Completed in/);
    await playground().locator('ol.events').getByText('caught APPROVAL_DENIED').waitFor();
    expect(JSON.parse((await playground().locator('.result.ok pre.json').textContent()) ?? '')).toBe('APPROVAL_DENIED');
    expect(await card.locator('.settled-status').textContent()).toBe('Denied by alpha: not this file');
  });

  it('lists recent runs and spawned tasks, and cancels a task', async () => {
    await setEditor("const task = await tools.spawn.call({ tool: 'sleep', args: { ms: 60000 } });\nreturn task.id;");
    await runFromKeyboard();
    await expect.poll(() => runStatus().textContent()).toMatch(/^Completed in/);

    await page.locator('nav.pages a', { hasText: 'Runs and tasks' }).click();
    const runs = page.locator('section[aria-labelledby="page-runs"]');
    const rows = runs.locator('section[aria-labelledby="runs-heading"] tbody tr');
    // Newest first: the spawn, the denied write, the approved write, the message's block, the error, the first.
    await expect.poll(() => rows.count()).toBe(6);
    expect(await rows.nth(4).locator('.pill').textContent()).toBe('GUEST_ERROR');
    expect(await rows.nth(5).locator('td').nth(3).textContent()).toBe('1');

    await rows
      .nth(4)
      .getByRole('button', { name: /^Source/ })
      .click();
    expect(await runs.locator('.run-detail ol.source li.error-line').textContent()).toContain('broken on purpose');

    const task = runs.locator('section[aria-labelledby="tasks-heading"] tbody tr').first();
    await expect.poll(() => task.locator('.pill').textContent()).toBe('running');
    await page.screenshot({ path: join(SCREENSHOTS, 'runs.png'), fullPage: true });
    await task.getByRole('button', { name: /^Cancel/ }).click();
    await expect.poll(() => task.locator('.pill').textContent()).toBe('cancelled');
  });

  it('shows the health figures read from the server', async () => {
    await page.locator('nav.pages a', { hasText: 'Health' }).click();
    const health = page.locator('section[aria-labelledby="page-health"]');
    const tile = (name: string) => health.getByRole('region', { name });
    await expect.poll(() => tile('Readiness').locator('.big').textContent()).toBe('ready');
    expect(await tile('Sandbox pool').textContent()).toMatch(/of 1 workers busy/);
    expect(await tile('Queue').textContent()).toMatch(/waiting \(of 256 allowed\)/);
    // Six scripts ran, one of them failed (a caught APPROVAL_DENIED is a script that succeeded).
    expect(await tile('Error rate').textContent()).toMatch(/1 of 6 scripts failed since start/);
    await page.screenshot({ path: join(SCREENSHOTS, 'health.png'), fullPage: true });
  });

  it('fits a phone-sized window, and asked nothing of any other origin', async () => {
    await page.setViewportSize({ width: 375, height: 800 });
    await page.locator('nav.pages a', { hasText: 'Playground' }).click();
    // (A string: this file is compiled without the DOM's types.)
    const overflow = Number(await page.evaluate('document.documentElement.scrollWidth - window.innerWidth'));
    expect(overflow).toBeLessThanOrEqual(0);
    await page.screenshot({ path: join(SCREENSHOTS, 'playground-narrow.png'), fullPage: true });

    expect(requestedUrls.length).toBeGreaterThan(5);
    expect(requestedUrls.filter((url) => !url.startsWith(`${server.url}/`))).toEqual([]);
  });
});
