// Swagger UI at /docs in headless Chromium, as a user would use it: open a deep link to an
// operation with a path parameter, "Try it out", fill `project_id`, execute, and check that the
// request reached the port this server listens on. Saves docs/screenshots/swagger-try-it-out.png.
//
//   apt-get install -y chromium          (Debian; CHROMIUM=/path/to/chrome to use another)
//   pnpm --filter @alder/bench swagger-screenshot
//
// Needs Postgres and Redis like the other benchmarks (DATABASE_URL / REDIS_URL). CI has no
// browser: packages/http/test/http.int.test.ts checks the served document instead.
import { mkdtemp, mkdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium, type Page } from 'playwright-core';
import { startStack } from './harness';

const OUTPUT = join(dirname(fileURLToPath(import.meta.url)), '../docs/screenshots/swagger-try-it-out.png');
const OPERATION = '#operations-labeling-getProject';
// Generous: a loaded 2-core machine takes seconds to parse Swagger UI's 1.5 MB bundle.
const STEP_TIMEOUT_MS = 120_000;

function check(condition: boolean, message: string): void {
  if (!condition) throw new Error(`swagger-screenshot: ${message}`);
}

async function tryGetProject(page: Page, base: string, key: string, projectId: string): Promise<void> {
  // A deep link opens the operation before the whole document is resolved: the case that used
  // to render `project_id` as an unnamed "any ()" row.
  await page.goto(`${base}/docs#/labeling/getProject`);
  await page.locator(`${OPERATION} .parameters`).waitFor({ timeout: STEP_TIMEOUT_MS });
  await page.evaluate((apiKey) => (globalThis as unknown as { ui: { preauthorizeApiKey(n: string, k: string): void } }).ui.preauthorizeApiKey('apiKeyHeader', apiKey), key);

  await page.locator(`${OPERATION} .parameters tbody tr`).first().waitFor({ timeout: STEP_TIMEOUT_MS });
  const rows = await page.locator(`${OPERATION} .parameters tbody tr .parameter__name`).allInnerTexts();
  check(rows.length === 1 && rows[0]!.startsWith('project_id'), `the parameter rows are named ${JSON.stringify(rows)}, not project_id`);
  const row = page.locator(`${OPERATION} tr[data-param-name="project_id"][data-param-in="path"]`);

  const servers = await page.locator('.servers select option').allInnerTexts();
  check(servers.length === 1 && servers[0]!.startsWith('/'), `servers dropdown shows ${JSON.stringify(servers)}, not this server`);

  await page.locator(`${OPERATION} .try-out__btn`).click();
  const input = row.locator('input[placeholder="project_id"]');
  await input.fill(projectId);
  await page.locator(`${OPERATION} .execute`).click();

  const requestUrl = page.locator(`${OPERATION} .request-url pre`);
  await requestUrl.waitFor({ timeout: STEP_TIMEOUT_MS });
  const sent = await requestUrl.innerText();
  check(sent === `${base}/v1/projects/${projectId}`, `the request went to ${sent}, not to ${base}`);
  const status = page.locator(`${OPERATION} .live-responses-table tr.response .response-col_status`).first();
  await status.waitFor({ timeout: STEP_TIMEOUT_MS });
  check((await status.innerText()).trim() === '200', `the request was answered ${await status.innerText()}`);
}

async function main(): Promise<void> {
  const stack = await startStack();
  const profile = await mkdtemp(join(tmpdir(), 'alder-chromium-'));
  const browser = await chromium.launchPersistentContext(profile, {
    executablePath: process.env.CHROMIUM ?? '/usr/bin/chromium',
    headless: true,
    viewport: { width: 1280, height: 900 },
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
  try {
    const created = await fetch(`${stack.base}/v1/projects`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-api-key': stack.key },
      body: JSON.stringify({ name: 'swagger-demo', labels: ['spam', 'ham'] }),
    });
    check(created.status === 201, `creating a project answered ${created.status}`);
    const { id } = (await created.json()) as { id: string };

    const page = await browser.newPage();
    await tryGetProject(page, stack.base, stack.key, id);
    await mkdir(dirname(OUTPUT), { recursive: true });
    // The servers dropdown and the operation with its filled-in parameter and live response; the
    // API's long description, the other operations, the documented responses and the curl line
    // (which holds the throwaway key) are left out.
    const hidden = [
      '.info .description',
      '.curl-command',
      '.responses-table:not(.live-responses-table)',
      '.response-col_description .headers-wrapper',
      `.opblock:not(${OPERATION})`,
      `.opblock-tag-section:not(:has(${OPERATION}))`,
      '.models',
    ];
    await page.addStyleTag({ content: `${hidden.join(', ')} { display: none !important; }` });
    await page.screenshot({ path: OUTPUT, fullPage: true });
    process.stdout.write(`ok: project_id named, request sent to ${stack.base} and answered 200\nwrote ${OUTPUT}\n`);
  } finally {
    await browser.close();
    await rm(profile, { recursive: true, force: true });
    await stack.close();
  }
}

await main();
