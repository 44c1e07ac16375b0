import type { Browser, Page, WebSocketRoute } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createJob, target } from '../client.js';
import { launchChromium } from './browser.js';

/**
 * The console (console/) in a real browser: Debian's Chromium, headless, against
 * the target's console page and its API. Each test signs in in a fresh browser
 * context, so nothing (sessionStorage included) carries over between tests.
 */

// price = 2 size + 3 rooms + 1, exactly: LINEAR recovers it, so predictions have known answers.
const ROWS = [
  [50, 1],
  [60, 2],
  [70, 2],
  [80, 3],
  [90, 3],
  [100, 4],
  [110, 5],
  [120, 4],
];
const CSV = `size,rooms,price\n${ROWS.map(([size, rooms]) => `${size},${rooms},${2 * (size as number) + 3 * (rooms as number) + 1}`).join('\n')}\n`;

const consoleUrl = target.consoleUrl;
/** How long a page may take to show what a test waits for (vitest's default, 1 s, is short for a loaded CI machine). */
const POLL = { timeout: 15_000 };
let browser: Browser;

beforeAll(async () => {
  if (consoleUrl) browser = await launchChromium();
});
afterAll(async () => {
  await browser?.close();
});

/** A new context (no storage), on the console, with requests recorded. */
async function openConsole(config: Record<string, unknown> = {}): Promise<{ page: Page; requests: string[] }> {
  const context = await browser.newContext({ viewport: { width: 390, height: 844 } }); // a phone's width
  if (Object.keys(config).length > 0) {
    // The page's config.json as the stack serves it, with `config` over it.
    await context.route(/\/config\.json$/, async (route) => {
      const served = await (await route.fetch()).json();
      await route.fulfill({ status: 200, contentType: 'application/json', body: JSON.stringify({ ...served, ...config }) });
    });
  }
  const page = await context.newPage();
  const requests: string[] = [];
  page.on('request', (request) => requests.push(`${request.method()} ${request.url()}`));
  await page.goto(consoleUrl as string);
  return { page, requests };
}

async function signIn(page: Page, key = target.keyA): Promise<void> {
  await page.getByLabel('API key').fill(key);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.getByRole('heading', { name: 'Jobs', exact: true }).waitFor();
}

describe.skipIf(!consoleUrl)(`console${consoleUrl ? '' : ` [skipped on ${target.label}: it serves no console]`}`, () => {
  it('refuses a wrong key with the API message, and keeps nothing', async () => {
    const { page } = await openConsole();
    await page.getByLabel('API key').fill(`rj_${'A'.repeat(43)}`);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await expect.poll(() => page.getByRole('alert').first().textContent(), POLL).toBe('401 UNAUTHORIZED: missing or unknown API key');
    expect(await page.evaluate(() => sessionStorage.length)).toBe(0);
    await page.context().close();
  });

  it('uploads a CSV (READY), trains on it with a live bar to 100 %, then predicts with the model', async () => {
    const { page, requests } = await openConsole();
    await signIn(page);
    await expect.poll(() => page.locator('#live').textContent(), POLL).toBe('● live');

    await page.getByRole('link', { name: 'Datasets' }).click();
    await page.getByLabel('CSV file').setInputFiles({ name: 'houses.csv', mimeType: 'text/csv', buffer: Buffer.from(CSV) });
    const ready = page.locator('[data-status="READY"]');
    await ready.waitFor({ timeout: 60_000 });
    expect(await ready.textContent()).toBe(`READY: ${ROWS.length} rows`);
    await page.getByText('Columns: size, rooms, price').waitFor();

    await page.getByLabel('Kind').selectOption('LINEAR');
    expect(await page.getByLabel('Target').inputValue()).toBe('price');
    await page.getByRole('button', { name: 'Train', exact: true }).click();
    await page.waitForURL(/#\/jobs\/[0-9A-Z]{26}$/);
    const jobId = page.url().split('/').pop() as string;

    // The job's bar, moved by the WebSocket's messages (the page fetches the job once).
    const bar = page.getByLabel(`progress of job ${jobId}`);
    await expect.poll(() => bar.evaluate((node) => (node as unknown as { value: number }).value), { timeout: 60_000 }).toBe(1);
    expect(await page.locator('[data-status]').first().textContent()).toBe('COMPLETED');
    await expect
      .poll(() => page.locator('ol.timeline li strong').allTextContents(), { timeout: 20_000 })
      .toEqual(['QUEUED', 'QUEUED → RUNNING', 'RUNNING → COMPLETED']);

    // The jobs list shows it at 100 %.
    await page.getByRole('link', { name: 'Jobs', exact: true }).click();
    const row = page.locator(`tr[data-job="${jobId}"]`);
    await expect.poll(() => row.locator('progress').evaluate((node) => (node as unknown as { value: number }).value), POLL).toBe(1);
    expect(await row.textContent()).toContain('100 %');

    await row.getByRole('link').click();
    await page
      .getByRole('link', { name: /^[0-9A-Z]{26}$/ })
      .first()
      .click(); // the model
    await page.getByRole('heading', { name: 'Coefficients' }).waitFor();
    expect(await page.getByRole('img').getAttribute('aria-label')).toBe('Coefficients: size 2, rooms 3');
    await page.getByLabel('size', { exact: true }).fill('10');
    await page.getByLabel('rooms', { exact: true }).fill('2');
    await page.getByRole('button', { name: 'Predict', exact: true }).click();
    await expect.poll(() => page.locator('#prediction .value').allTextContents(), POLL).toEqual(['27']);
    await page.getByLabel(/^Batch/).fill('1,1\n2,0');
    await page.getByRole('button', { name: 'Predict batch' }).click();
    await expect.poll(() => page.locator('#prediction .value').allTextContents(), POLL).toEqual(['6', '5']);

    // The key went only where the API needs it: a bearer header, and the WebSocket's ?token= (docs/api.md, "WebSocket: live job status").
    expect(requests.filter((request) => request.includes(target.keyA))).toEqual([]);
    expect(page.url()).not.toContain(target.keyA);
    await page.context().close();
  });

  it("answers another tenant's job as not found", async () => {
    const foreign = await createJob(
      {
        kind: 'LINEAR',
        data: [
          { x: 0, y: 1 },
          { x: 1, y: 3 },
          { x: 2, y: 5 },
        ],
      },
      target.keyB,
    );
    const { page } = await openConsole();
    await signIn(page);
    await page.goto(`${consoleUrl}#/jobs/${foreign.jobId}`);
    await expect.poll(() => page.getByRole('alert').first().textContent(), POLL).toMatch(/^404 NOT_FOUND: .*not found/);
    await page.context().close();
  });

  it('refuses a file over the limit before sending a byte, naming the limit', async () => {
    // The same page, told of a 50-byte limit (the stack's is 1 GB, too big to test cheaply).
    const { page, requests } = await openConsole({ maxDatasetBytes: 50 });
    await signIn(page);
    await page.getByRole('link', { name: 'Datasets' }).click();
    await page.getByLabel('CSV file').setInputFiles({ name: 'big.csv', mimeType: 'text/csv', buffer: Buffer.from(CSV) });
    await expect
      .poll(() => page.locator('#upload-status').textContent(), POLL)
      .toBe(`big.csv is ${CSV.length} bytes: the limit is 50 bytes. Nothing was uploaded.`);
    expect(requests.filter((request) => request.startsWith('POST'))).toEqual([]);
    await page.context().close();
  });

  it('says "reconnecting" when the WebSocket drops, and is live again after', async () => {
    const { page } = await openConsole();
    const sockets: WebSocketRoute[] = [];
    await page.routeWebSocket(/token=/, (socket) => {
      sockets.push(socket);
      socket.connectToServer();
    });
    await signIn(page);
    await expect.poll(() => page.locator('#live').textContent(), POLL).toBe('● live');
    await sockets[0]?.close({ code: 1006 });
    await expect.poll(() => page.locator('#live').textContent(), POLL).toBe('reconnecting…');
    await expect.poll(() => page.locator('#live').textContent(), POLL).toBe('● live');
    expect(sockets.length).toBe(2);
    await page.context().close();
  });
});
