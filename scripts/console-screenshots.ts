/**
 * `npm run console:screenshots`: PNGs of the console's main pages, for a reviewer
 * to look at (docs/operations.md, "Console"). Drives headless Chromium (Debian's, as the
 * end-to-end tests do) against a running `npm start`, found through its
 * `.local-stack.json` (LOCAL_STACK_FILE): signs in with the dev key, uploads a
 * small CSV, trains on it, and shoots each page at desktop and phone width.
 *
 *   SCREENSHOTS_DIR   where the PNGs go (screenshots/, git-ignored)
 */
import { mkdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import type { Page } from 'playwright-core';
import { PROJECT_ROOT } from '../local/stack.js';
import { launchChromium } from '../test/e2e/console/browser.js';

const stateFile = process.env.LOCAL_STACK_FILE ?? path.join(PROJECT_ROOT, '.local-stack.json');
const outdir = path.resolve(process.env.SCREENSHOTS_DIR ?? path.join(PROJECT_ROOT, 'screenshots'));

let state: { consoleUrl?: string | null; devApiKey: string };
try {
  state = JSON.parse(readFileSync(stateFile, 'utf8'));
} catch {
  console.error(`no running stack (${stateFile} is missing): start one with npm start`);
  process.exit(2);
}
if (!state.consoleUrl) {
  console.error('the running stack serves no console: restart npm start');
  process.exit(2);
}
const consoleUrl = state.consoleUrl;
mkdirSync(outdir, { recursive: true });

const csv = `size,rooms,price\n${Array.from({ length: 40 }, (_, i) => {
  const size = 40 + i * 3;
  const rooms = 1 + (i % 5);
  return `${size},${rooms},${(1.5 * size + 12 * rooms + 30 + Math.sin(i) * 2).toFixed(2)}`;
}).join('\n')}\n`;

const browser = await launchChromium();
try {
  const shoot = async (page: Page, name: string) => {
    const file = path.join(outdir, `${name}.png`);
    await page.screenshot({ path: file, fullPage: true });
    console.log(file);
  };
  for (const [suffix, viewport] of [
    ['', { width: 1100, height: 800 }],
    ['-phone', { width: 390, height: 844 }],
  ] as const) {
    const page = await (await browser.newContext({ viewport })).newPage();
    const firstRender = Date.now();
    await page.goto(consoleUrl);
    await page.getByLabel('API key').waitFor();
    if (suffix === '') console.log(`first render (sign-in form shown): ${Date.now() - firstRender} ms`);
    await shoot(page, `sign-in${suffix}`);
    await page.getByLabel('API key').fill(state.devApiKey);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByRole('heading', { name: 'Jobs', exact: true }).waitFor();

    await page.getByRole('link', { name: 'Datasets' }).click();
    await page.getByLabel('CSV file').setInputFiles({ name: 'houses.csv', mimeType: 'text/csv', buffer: Buffer.from(csv) });
    await page.locator('[data-status="READY"]').waitFor({ timeout: 60_000 });
    await page.getByLabel('Kind').selectOption('RIDGE');
    await page.getByLabel('Alpha', { exact: true }).fill('0.5');
    await shoot(page, `dataset-ready${suffix}`);
    await page.getByRole('button', { name: 'Train', exact: true }).click();
    await page.waitForURL(/#\/jobs\/[0-9A-Z]{26}$/);
    await page.locator('[data-status="COMPLETED"]').waitFor({ timeout: 60_000 });
    await page.locator('ol.timeline li').nth(2).waitFor({ timeout: 20_000 });
    await shoot(page, `job${suffix}`);

    await page
      .getByRole('link', { name: /^[0-9A-Z]{26}$/ })
      .first()
      .click();
    await page.getByRole('heading', { name: 'Coefficients' }).waitFor();
    await page.getByLabel('size', { exact: true }).fill('100');
    await page.getByLabel('rooms', { exact: true }).fill('3');
    await page.getByRole('button', { name: 'Predict', exact: true }).click();
    await page.locator('#prediction .value').waitFor();
    await shoot(page, `model${suffix}`);

    await page.getByRole('link', { name: 'Jobs', exact: true }).click();
    await page.locator('tr[data-job]').first().waitFor();
    await shoot(page, `jobs${suffix}`);
    await page.context().close();
  }
} finally {
  await browser.close();
}
