// The web app in Debian's Chromium, driven by Playwright (playwright-core, by executable path),
// against a real backend and real validators that tests/integration/web_test.cpp started.
//   node app.test.mjs main|fallback BASE_URL ADMIN_PASSWORD OUT_DIR
// main: an administrator creates a plain and a secret-ballot election and sees validator health;
// a voter signs up (an error shown next to its field), votes (choose, review, change, cast), sees
// the status reach confirmed without a reload, verifies the vote in the browser (and a tampered
// certificate is refused), is refused a second vote, seals a secret ballot in the page, sees
// results and the explorer; axe-core finds no serious violation on any page; no console error
// and no CSP violation anywhere. Screenshots of the main pages go to OUT_DIR.
// fallback (every validator down): a new voter votes, sees the warning, prints "fallback:
// waiting", and the page shows the vote confirmed once the harness has restarted the validators.
import { chromium } from 'playwright-core';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import assert from 'node:assert/strict';

const [phase, base, adminPassword, out] = process.argv.slice(2);
const CHROMIUM = process.env.CHROMIUM ?? '/usr/bin/chromium';
const require = createRequire(import.meta.url);
const axeSource = readFileSync(require.resolve('axe-core/axe.min.js'), 'utf8');
const T = 60_000;  // the longest any one expectation waits (busy machines, sanitizer builds elsewhere)

const problems = [];
function watch(page, label) {
  page.on('console', (m) => {
    if (m.type() !== 'error') return;
    // A 4xx answer the app handles (a refused second vote, a proof not final yet) is logged by Chromium.
    if (/Failed to load resource: the server responded with a status of 4\d\d/.test(m.text())) return;
    // The fallback phase: the events stream and polling see the backend answer while validators are down.
    if (/status of 50[23]/.test(m.text())) return;
    problems.push(`${label}: console: ${m.text()}`);
  });
  page.on('pageerror', (e) => problems.push(`${label}: exception: ${e.message}`));
}

async function shot(page, name) {
  await page.screenshot({ path: path.join(out, `${name}.png`), fullPage: true });
}

async function until(page, text, timeout = T) {
  await page.getByText(text, { exact: false }).first().waitFor({ timeout });
}

async function register(page, email, password = 'a fine password 42') {
  await page.goto(`${base}/#/register`);
  await page.locator('#email').fill(email);
  await page.locator('#password').fill(password);
  await page.locator('form button[type=submit]').click();
  await page.waitForFunction(() => !location.hash.startsWith('#/register'), null, { timeout: T });
}

async function cast(page, election, candidate) {
  await page.goto(`${base}/#/vote/${election}`);
  await page.locator(`#c-${candidate}`).check({ timeout: T });
  await page.getByRole('button', { name: 'Review my choice' }).click();
  await page.getByRole('button', { name: /^Cast my vote/ }).click();
}

async function axe(page, label) {
  await page.evaluate(axeSource);
  const r = await page.evaluate(() => window.axe.run(document, { resultTypes: ['violations'] }));
  const bad = r.violations.filter((v) => v.impact === 'serious' || v.impact === 'critical');
  assert.deepEqual(bad.map((v) => `${v.id}: ${v.help} (${v.nodes.map((n) => n.target.join(' ')).slice(0, 3).join(', ')})`), [],
                   `axe on ${label}`);
}

async function main() {
  const browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox'] });
  // A phone-sized screen: the app is made for it.
  const phone = { viewport: { width: 390, height: 844 }, deviceScaleFactor: 1, isMobile: true, hasTouch: true };
  try {
    if (phase === 'main') await mainPhase(browser, phone);
    else if (phase === 'fallback') await fallbackPhase(browser, phone);
    else throw new Error(`unknown phase ${phase}`);
    assert.deepEqual(problems, [], 'console errors, exceptions or CSP violations');
    console.log(`${phase}: ok`);
  } finally {
    await browser.close();
  }
}

async function mainPhase(browser, phone) {
  const ctx = await browser.newContext(phone);
  const page = await ctx.newPage();
  watch(page, 'main');

  // The administrator: a plain election and a secret-ballot one, validator health.
  await page.goto(`${base}/#/login?next=%23%2Fadmin`);
  await page.locator('#email').fill('admin@example.org');
  await page.locator('#password').fill('wrong password 1');
  await page.locator('form button[type=submit]').click();
  await page.locator('#password-error').waitFor({ timeout: T });  // the error next to the field
  await page.locator('#password').fill(adminPassword);
  await page.locator('form button[type=submit]').click();
  await until(page, '3 of 3 healthy');
  await page.locator('#el-name').fill('City council');
  await page.locator('#el-cands').fill('Ada Lovelace\nGrace Hopper\nAlan Turing');
  await page.locator('form button[type=submit]').first().click();
  await until(page, 'Created election 1');
  await page.locator('#el-name').fill('Board (secret ballot)');
  await page.locator('#el-cands').fill('Barbara Liskov\nEdsger Dijkstra');
  await page.locator('#b-enc').check();
  await page.locator('#el-key').fill('5');
  assert.equal(await page.locator('#el-key').inputValue(), '5');
  await page.locator('form button[type=submit]').first().click();
  await until(page, 'Created election 2');
  await shot(page, 'admin');
  await page.getByRole('button', { name: 'Log out' }).click();
  // Logged out once the header offers "Log in" (the log-out request answered: on a busy machine a
  // navigation before that was overridden by the log-out's own move to #/).
  await page.locator('.who a[href="#/login"]').waitFor({ timeout: T });

  // The voter: the booth checks the login first; sign-up errors sit next to their field.
  await page.goto(`${base}/#/vote/1`);
  await page.waitForFunction(() => location.hash.startsWith('#/login'), null, { timeout: T });
  await page.goto(`${base}/#/register`);
  await page.locator('#email').fill('voter@example.org');
  await page.locator('#password').fill('short');
  await page.locator('form button[type=submit]').click();
  await page.locator('#password-error').waitFor({ timeout: T });
  await register(page, 'voter@example.org');
  await page.goto(`${base}/#/`);
  await until(page, 'City council');
  await shot(page, 'elections');

  // Choose, review, change, cast: the receipt reaches confirmed without a reload.
  await page.goto(`${base}/#/vote/1`);
  await page.locator('#c-2').check({ timeout: T });
  await page.getByRole('button', { name: 'Review my choice' }).click();
  await until(page, 'Grace Hopper');
  await page.getByRole('button', { name: 'Change my choice' }).click();
  assert.ok(await page.locator('#c-2').isChecked(), 'the choice is kept on change');
  await page.locator('#c-3').check();
  await page.getByRole('button', { name: 'Review my choice' }).click();
  await shot(page, 'review');
  await page.getByRole('button', { name: /^Cast my vote/ }).click();
  await page.waitForFunction(() => location.hash.startsWith('#/receipt/0x'), null, { timeout: T });
  const tx = await page.evaluate(() => location.hash.match(/0x[0-9a-f]{64}/)[0]);
  await until(page, 'Counted — in a final block');
  await shot(page, 'receipt');

  // Verified in the browser, every step shown.
  await page.getByRole('link', { name: 'Check it yourself' }).click();
  await until(page, 'Verified: this vote is in block');
  assert.equal(await page.locator('.checks li.fail').count(), 0);
  assert.ok((await page.locator('.checks li.pass').count()) >= 5);
  await shot(page, 'verify');

  // A tampered certificate (one seal's byte flipped on the way) is refused by the page's own check.
  await page.route('**/api/votes/proof*', async (route) => {
    const res = await route.fetch();
    const body = await res.json();
    const seal = body.certificate.seals[0];
    const key = 'signature' in seal ? 'signature' : Object.keys(seal).find((k) => /sig/.test(k));
    const s = seal[key];
    seal[key] = s.slice(0, 10) + (s[10] === '0' ? '1' : '0') + s.slice(11);
    await route.fulfill({ response: res, json: body });
  });
  await page.goto('about:blank');  // a fresh load of the verify page, not a hash change
  await page.goto(`${base}/#/verify?tx=${tx}`);
  await until(page, 'Not verified');
  await shot(page, 'verify-tampered');
  await page.unroute('**/api/votes/proof*');

  // A chain whose validator set changed (tests/data/golden/valset-receipts.json: two changes as
  // the C++ validator answers them; the vote's block 5 is sealed by validator-3 and validator-4,
  // which the genesis does not hold together): the page fetches the changes a page at a time,
  // learns each one certified by the set before it, then checks the seals with the set of block 5.
  const valset = JSON.parse(readFileSync(new URL('../data/golden/valset-receipts.json', import.meta.url), 'utf8'));
  const vtx = valset.receipts[1].tx_hash;
  const asked = [];
  let changes = valset.changes;
  await page.route('**/api/chain/genesis', (route) => route.fulfill({ json: valset.genesis }));
  await page.route('**/api/votes/proof*', (route) => route.fulfill({ json: valset.receipts[1].proof }));
  await page.route('**/api/chain/validator-changes*', (route) => {
    const from = Number(new URL(route.request().url()).searchParams.get('from_sequence'));
    asked.push(from);
    route.fulfill({ json: { changes: changes.slice(from - 1, from - 1 + 16) } });
  });
  await page.goto('about:blank');
  await page.goto(`${base}/#/verify?tx=${vtx}`);
  await until(page, 'Verified: this vote is in block 5');
  assert.equal(await page.locator('.checks li.fail').count(), 0);
  await until(page, '2 change(s) learned');
  await page.getByText('The validators of block 5').click();
  await until(page, 'validator-4');
  assert.deepEqual(asked, [1], 'one page of changes, from the first');
  await shot(page, 'verify-validator-changes');
  // The explorer shows the set deciding the next block (the chain's head routed to 7), learned the same way.
  await page.route('**/api/chain/blocks?*', (route) => route.fulfill({ json: { height: 7, blocks: [] } }));
  await page.goto(`${base}/#/explorer`);
  await until(page, 'The set changed 2 time(s) since the genesis');
  await until(page, '2 of 2 signatures make a block final');
  assert.deepEqual(await page.locator('ul.validators li').evaluateAll((els) => els.map((e) => e.textContent.split(' (')[0])),
    ['validator-3', 'validator-4']);
  // The first change's block with one byte changed on the way: the page refuses it.
  const raw = changes[0].raw_block;
  changes = [{ ...changes[0], raw_block: raw.slice(0, 300) + (raw[300] === '0' ? '1' : '0') + raw.slice(301) }, changes[1]];
  await page.goto('about:blank');
  await page.goto(`${base}/#/verify?tx=${vtx}`);
  await until(page, 'Not verified');
  assert.ok((await page.locator('.checks li.fail').count()) >= 1);
  await until(page, 'validator-set change 1');
  await page.goto(`${base}/#/explorer`);
  await until(page, 'A validator-set change the server sent does not check');
  assert.equal(await page.locator('ul.validators li').count(), 3, 'the genesis set, shown as the set before the refused change');
  await page.unroute('**/api/chain/blocks?*');
  await page.unroute('**/api/chain/genesis');
  await page.unroute('**/api/votes/proof*');
  await page.unroute('**/api/chain/validator-changes*');

  // A second vote is refused with a clear message.
  await cast(page, 1, 1);
  await until(page, 'already voted');

  // The secret ballot, sealed in the page once the validators have made the key.
  for (let i = 0; ; ++i) {
    await page.goto('about:blank');  // a fresh load: the page reads the election again
    await page.goto(`${base}/#/vote/2`);
    const ready = await page.locator('#c-5').waitFor({ timeout: 5000 }).then(() => true, () => false);
    if (ready) break;
    if (i >= 20) assert.fail(`the secret-ballot election never opened; the page says: ${await page.locator('main').innerText()}; now ${new Date().toISOString()}; the election: ${await page.evaluate(() => fetch('/api/elections/2').then((r) => r.text()))}`);
  }
  await shot(page, 'ballot-secret');
  await page.locator('#c-5').check();
  await page.getByRole('button', { name: 'Review my choice' }).click();
  await page.getByRole('button', { name: /^Cast my vote/ }).click();
  await page.waitForFunction(() => location.hash.startsWith('#/receipt/0x'), null, { timeout: T });
  await until(page, 'Counted — in a final block');

  // Results, the explorer, a block.
  await page.goto(`${base}/#/results/1`);
  await until(page, 'Alan Turing');
  await page.locator('.bar-fg').nth(2).waitFor({ state: 'attached', timeout: T });  // one bar per candidate
  await shot(page, 'results');
  await page.goto(`${base}/#/results/2`);
  await until(page, 'sealed until the election ends');
  await page.goto(`${base}/#/explorer`);
  await page.locator('table.blocks tbody tr').first().waitFor({ timeout: T });
  await shot(page, 'explorer');
  await until(page, 'Validators healthy: 3 of 3');
  await page.goto(`${base}/#/tx/${tx}`);
  await until(page, 'position');
  const height = await page.locator('dl.facts a[href^="#/block/"]').first().innerText();
  await page.goto(`${base}/#/block/${height}`);
  await page.locator(`.txs a[href="#/tx/${tx}"]`).waitFor({ timeout: T });
  await page.goto(`${base}/#/my-votes`);
  await until(page, tx.slice(0, 10));

  // The verify page saved to a file and opened from the disk still checks the vote itself, with
  // the data of the server the visitor names.
  const fctx = await browser.newContext(phone);
  const fp = await fctx.newPage();
  await fp.goto(`file://${process.env.WEB_DIST}/index.html#/verify?tx=${tx}`);
  await fp.locator('#server').fill(base);
  await fp.getByRole('button', { name: 'Check' }).click();
  await until(fp, 'Verified: this vote is in block');
  await fctx.close();

  // Accessibility: no serious or critical violation on any page (axe-core, injected into a
  // context without the page's CSP, which forbids injected scripts).
  const actx = await browser.newContext({ ...phone, bypassCSP: true });
  const ap = await actx.newPage();
  watch(ap, 'axe');
  for (const h of ['#/', '#/login', '#/register', '#/results/1', '#/results/2', '#/explorer', '#/block/1',
                   `#/tx/${tx}`, `#/verify?tx=${tx}`, '#/privacy']) {
    await ap.goto(`${base}/${h}`);
    await ap.locator('main h1').first().waitFor({ timeout: T });
    await ap.waitForTimeout(300);  // let the page's first fetch render
    await axe(ap, h);
  }
  await register(ap, 'axe@example.org');
  for (const h of ['#/vote/1', `#/receipt/${tx}?e=1`, '#/my-votes']) {
    await ap.goto(`${base}/${h}`);
    await ap.locator('main h1').first().waitFor({ timeout: T });
    await ap.waitForTimeout(300);
    await axe(ap, h);
  }
  await actx.close();
  await ctx.close();
}

async function fallbackPhase(browser, phone) {
  const ctx = await browser.newContext(phone);
  const page = await ctx.newPage();
  watch(page, 'fallback');
  await register(page, 'offline@example.org');
  await cast(page, 1, 1);
  await page.waitForFunction(() => location.hash.startsWith('#/receipt/0x'), null, { timeout: T });
  await until(page, 'could not be reached');
  await shot(page, 'receipt-fallback');
  console.log('fallback: waiting');
  // The harness restarts the validators now; the page must get there by itself.
  await until(page, 'Counted — in a final block', 120_000);
  await until(page, 'have since received');
  await ctx.close();
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
