// GET /docs in Debian's Chromium (playwright-core, by executable path), against a real backend
// with --web-dir that tests/integration/openapi_test.cpp started:
//   node docs.test.mjs BASE_URL OUT_DIR
// Swagger UI (served by the backend from the web app's build, no CDN) renders the backend's
// /openapi.json: its title, its tags and operations (/api/votes/submit among them), and an
// operation opens with its responses; no console error, no exception, no CSP violation, and no
// request to another origin. A screenshot goes to OUT_DIR/docs.png. Prints "docs: ok".
import { chromium } from 'playwright-core';
import path from 'node:path';
import assert from 'node:assert/strict';

const [base, out] = process.argv.slice(2);
const CHROMIUM = process.env.CHROMIUM ?? '/usr/bin/chromium';
const T = 60_000;

const problems = [];
const browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox'] });
try {
  const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
  page.on('console', (m) => { if (m.type() === 'error') problems.push(`console: ${m.text()}`); });
  page.on('pageerror', (e) => problems.push(`exception: ${e.message}`));
  page.on('request', (r) => { if (!r.url().startsWith(base) && !r.url().startsWith('data:')) problems.push(`request to another origin: ${r.url()}`); });
  await page.addInitScript(() => {
    document.addEventListener('securitypolicyviolation', (e) => {
      console.error(`CSP violation: ${e.violatedDirective} ${e.blockedURI}`);
    });
  });
  const res = await page.goto(`${base}/docs`);
  assert.equal(res.status(), 200);
  assert.match(res.headers()['content-security-policy'] ?? '', /script-src 'self'/);
  await page.getByRole('heading', { name: /ballotchain backend/ }).first().waitFor({ timeout: T });
  await page.getByText('/api/votes/submit', { exact: true }).first().waitFor({ timeout: T });
  for (const tag of ['auth', 'elections', 'votes', 'chain', 'admin'])
    await page.getByRole('heading', { name: new RegExp(`^${tag}\\b`) }).first().waitFor({ timeout: T });
  // Open one operation: its parameters and responses are rendered from the schemas.
  await page.getByText('/api/votes/results', { exact: true }).first().click();
  await page.getByRole('heading', { name: 'Parameters' }).first().waitFor({ timeout: T });
  await page.getByText(/^election_id/).first().waitFor({ timeout: T });
  await page.getByRole('heading', { name: 'Responses' }).first().waitFor({ timeout: T });
  await page.getByText('Try it out').first().waitFor({ timeout: T });
  await page.screenshot({ path: path.join(out, 'docs.png'), fullPage: false });
} finally {
  await browser.close();
}
assert.deepEqual(problems, [], 'console errors, exceptions, CSP violations or requests elsewhere');
console.log('docs: ok');
