// A smoke run of the built app in headless Chromium (Debian's /usr/bin/chromium) against
// tools/mock-server.mjs, over the DevTools protocol (no Playwright): log in, vote in the plain
// and the secret-ballot election (sealed in the page, checked by the mock with the JS verifier),
// watch the receipt reach confirmed, verify it, then a tampered proof is refused; every page
// renders without console errors or CSP violations. Screenshots to $SHOTS (optional).
//   npm run build && node --experimental-websocket tools/browser-smoke.mjs
// Not in `npm test` (that must run without a browser); the lead's ctest browser tests replace it.
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import assert from 'node:assert/strict';
import { createMock } from './mock-server.mjs';

const CHROME = process.env.CHROMIUM ?? '/usr/bin/chromium';
const shots = process.env.SHOTS ?? null;

async function startChrome() {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'bc-chrome-'));
  const p = spawn(CHROME, ['--headless=new', '--no-sandbox', '--disable-gpu', '--no-first-run', '--remote-debugging-port=0',
    `--user-data-dir=${dir}`, '--window-size=390,844', 'about:blank'], { stdio: ['ignore', 'ignore', 'pipe'] });
  const ws = await new Promise((ok, bad) => {
    let buf = '';
    p.stderr.on('data', (d) => {
      buf += d;
      const m = buf.match(/DevTools listening on (ws:\/\/\S+)/);
      if (m) ok(m[1]);
    });
    p.on('exit', (c) => bad(new Error(`chromium exited ${c}: ${buf}`)));
  });
  return { p, ws, dir };
}

class CDP {
  constructor(url) {
    this.ws = new WebSocket(url);
    this.id = 0;
    this.pending = new Map();
    this.handlers = [];
    this.ws.onmessage = (ev) => {
      const m = JSON.parse(ev.data);
      if (m.id && this.pending.has(m.id)) {
        const { ok, bad } = this.pending.get(m.id);
        this.pending.delete(m.id);
        if (m.error) bad(new Error(m.error.message));
        else ok(m.result);
      } else if (m.method) this.handlers.forEach((h) => h(m));
    };
  }
  open() {
    return new Promise((ok) => (this.ws.onopen = ok));
  }
  send(method, params = {}, sessionId) {
    const id = ++this.id;
    this.ws.send(JSON.stringify({ id, method, params, sessionId }));
    return new Promise((ok, bad) => this.pending.set(id, { ok, bad }));
  }
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

async function main() {
  const server = createMock();
  await new Promise((r) => server.listen(0, '127.0.0.1', r));
  const base = `http://127.0.0.1:${server.address().port}`;
  const tampered = createMock({ tamper: 'seal' });
  await new Promise((r) => tampered.listen(0, '127.0.0.1', r));
  const chrome = await startChrome();
  const cdp = new CDP(chrome.ws);
  await cdp.open();
  const problems = [];
  try {
    const { targetId } = await cdp.send('Target.createTarget', { url: 'about:blank' });
    const { sessionId } = await cdp.send('Target.attachToTarget', { targetId, flatten: true });
    const s = (m, p) => cdp.send(m, p, sessionId);
    cdp.handlers.push((m) => {
      if (m.sessionId !== sessionId) return;
      if (m.method === 'Runtime.exceptionThrown') problems.push(`exception: ${m.params.exceptionDetails.exception?.description ?? m.params.exceptionDetails.text}`);
      if (m.method === 'Runtime.consoleAPICalled' && m.params.type === 'error') problems.push(`console.error: ${m.params.args.map((a) => a.value ?? a.description).join(' ')}`);
      if (m.method === 'Log.entryAdded' && m.params.entry.level === 'error' && !/Failed to load resource: the server responded with a status of 4\d\d/.test(m.params.entry.text)) problems.push(`log: ${m.params.entry.text}`);
    });
    await s('Runtime.enable');
    await s('Log.enable');
    await s('Page.enable');
    await s('Emulation.setDeviceMetricsOverride', { width: 390, height: 844, deviceScaleFactor: 1, mobile: true });
    const evaluate = async (expr) => {
      const r = await s('Runtime.evaluate', { expression: expr, awaitPromise: true, returnByValue: true });
      if (r.exceptionDetails) throw new Error(`${expr}: ${r.exceptionDetails.exception?.description}`);
      return r.result.value;
    };
    const waitFor = async (expr, what, ms = 10000) => {
      const t = Date.now();
      for (;;) {
        const v = await evaluate(expr).catch(() => null);
        if (v) return v;
        if (Date.now() - t > ms) {
          const text = await evaluate('document.body.innerText').catch(() => '?');
          throw new Error(`timed out waiting for ${what}; page says:\n${text}`);
        }
        await sleep(100);
      }
    };
    const go = async (url) => {
      await s('Page.navigate', { url });
      await waitFor("document.readyState === 'complete' && !!document.querySelector('main h1')", `page ${url}`);
    };
    const shot = async (name) => {
      if (!shots) return;
      const { data } = await s('Page.captureScreenshot', { format: 'png', captureBeyondViewport: true });
      writeFileSync(path.join(shots, `${name}.png`), Buffer.from(data, 'base64'));
    };
    const text = () => evaluate('document.querySelector("main").innerText');
    const fill = (sel, v) => evaluate(`(() => { const e = document.querySelector(${JSON.stringify(sel)}); e.value = ${JSON.stringify(v)}; e.dispatchEvent(new Event('input', {bubbles: true})); return true; })()`);
    const click = (sel) => evaluate(`(() => { const e = document.querySelector(${JSON.stringify(sel)}); if (!e) throw new Error('no ${sel.replace(/'/g, '')}'); e.click(); return true; })()`);
    const clickText = (t) => evaluate(`(() => { const e = [...document.querySelectorAll('button, a')].find((x) => x.textContent.trim() === ${JSON.stringify(t)}); if (!e) throw new Error('no button ' + ${JSON.stringify(t)}); e.click(); return true; })()`);

    await go(`${base}/#/`);
    await waitFor('document.body.innerText.includes("City council")', 'the elections');
    assert.equal(await evaluate('document.querySelectorAll("h1").length'), 1);
    assert.equal(await evaluate('document.documentElement.lang'), 'en');
    await shot('elections');

    // the booth checks the login first
    await go(`${base}/#/vote/1`);
    await waitFor("location.hash.startsWith('#/login')", 'redirect to log in');
    await click('a[href^="#/register"]');
    await waitFor('!!document.querySelector("#email") && location.hash.startsWith("#/register")', 'register form');
    await fill('#email', 'voter@example.org');
    await fill('#password', 'short');
    await click('form button[type=submit]');
    await waitFor('document.querySelector("#password-error")?.textContent.includes("8 characters")', 'password error next to the field');
    await fill('#password', 'a fine password 42');
    await click('form button[type=submit]');
    await waitFor("location.hash === '#/vote/1' && !!document.querySelector('input[type=radio]')", 'the booth after sign-up');
    await shot('ballot');
    await click('#c-2');
    await clickText('Review my choice');
    await waitFor('document.body.innerText.includes("You are voting for Grace Hopper")', 'review');
    await clickText('Change my choice');
    await waitFor('document.querySelector("#c-2")?.checked', 'choice kept on change');
    await click('#c-3');
    await clickText('Review my choice');
    await waitFor('document.body.innerText.includes("You are voting for Alan Turing")', 'review of the changed choice');
    await shot('review');
    await clickText('Cast my vote');
    await waitFor("location.hash.startsWith('#/receipt/0x')", 'receipt');
    await waitFor('document.body.innerText.includes("Counted — in a final block")', 'confirmed without reload');
    await waitFor('document.body.innerText.includes("validator-1, validator-2")', 'certificate signers');
    await shot('receipt');
    const tx = await evaluate("location.hash.match(/0x[0-9a-f]{64}/)[0]");
    await clickText('Check it yourself');
    await waitFor('document.body.innerText.includes("Verified: this vote is in block 1")', 'verified in the browser');
    assert.equal(await evaluate('document.querySelectorAll(".checks li.pass").length'), 7);
    await shot('verify');

    // a second vote is refused with the earlier tracking code
    await go(`${base}/#/vote/1`);
    await waitFor('!!document.querySelector("#c-1")', 'booth again');
    await click('#c-1');
    await clickText('Review my choice');
    await clickText('Cast my vote');
    await waitFor('document.body.innerText.includes("You have already voted")', 'already voted');
    assert.ok(await evaluate(`!!document.querySelector('a[href^="#/receipt/${tx}"]')`));

    // the secret ballot: sealed in the page, the mock checks every proof (422 otherwise)
    await go(`${base}/#/vote/2`);
    await waitFor('!!document.querySelector("#c-5")', 'secret booth');
    assert.match(await text(), /sealed so nobody can read it/);
    await click('#c-5');
    await clickText('Review my choice');
    await clickText('Cast my vote');
    await waitFor("location.hash.startsWith('#/receipt/0x')", 'receipt of the sealed ballot', 20000);
    await waitFor('document.body.innerText.includes("Counted — in a final block")', 'sealed ballot confirmed');

    await go(`${base}/#/my-votes`);
    assert.equal(await evaluate('document.querySelectorAll("main .card").length'), 2);
    await go(`${base}/#/results/1`);
    await waitFor('document.querySelectorAll(".bar-fg").length === 3', 'bars');
    await shot('results');
    await go(`${base}/#/results/2`);
    await waitFor('document.body.innerText.includes("sealed until the election ends")', 'sealed results');
    await go(`${base}/#/explorer`);
    await waitFor('document.querySelectorAll("table.blocks tbody tr").length === 2', 'blocks');
    await shot('explorer');
    await go(`${base}/#/block/1`);
    await waitFor('document.querySelectorAll(".txs li").length === 3', 'block transactions');
    await go(`${base}/#/admin`);
    await waitFor('document.body.innerText.includes("administrators only")', 'admin refused to a voter');

    // admin
    await evaluate('sessionStorage.clear(), true');
    await go(`${base}/#/login?next=%23%2Fadmin`);
    await fill('#email', 'admin@localhost');
    await fill('#password', 'wrong');
    await click('form button[type=submit]');
    await waitFor('document.querySelector("#password-error")?.textContent.includes("incorrect")', 'login error at the password');
    await fill('#password', 'correct horse battery');
    await click('form button[type=submit]');
    await waitFor("location.hash === '#/admin' && document.body.innerText.includes('2 of 3 healthy')", 'admin page with validator health');
    await fill('#el-name', 'New election');
    await fill('#el-cands', 'One\nTwo');
    await click('form button[type=submit]');
    await waitFor('document.body.innerText.includes("Created election 4")', 'election created');
    await shot('admin');

    // validators unreachable at submit: the warning, then confirmed without reload
    await evaluate('sessionStorage.clear(), true');
    await go(`${base}/#/register`);
    await fill('#email', 'offline@example.org');
    await fill('#password', 'a fine password 42');
    await click('form button[type=submit]');
    await waitFor("location.hash === '#/'", 'home');
    await go(`${base}/#/vote/3`);
    await waitFor('document.body.innerText.includes("Voting closed")', 'closed election says so');
    await go(`${base}/#/vote/1`);
    await waitFor('!!document.querySelector("#c-1")', 'booth');
    await click('#c-1');
    await clickText('Review my choice');
    await clickText('Cast my vote');
    await waitFor('document.body.innerText.includes("could not be reached")', 'fallback warning');
    await shot('receipt-warning');
    await waitFor('document.body.innerText.includes("Counted — in a final block") && document.body.innerText.includes("have since received")', 'confirmed after the warning');

    // a tampered certificate is refused by the page's own check
    const tb = `http://127.0.0.1:${tampered.address().port}`;
    await go(`${tb}/#/`);
    // make the tampered mock know the vote as confirmed: vote there too
    await go(`${tb}/#/register`);
    await fill('#email', 'v2@example.org');
    await fill('#password', 'a fine password 42');
    await click('form button[type=submit]');
    await waitFor("location.hash === '#/'", 'home');
    await go(`${tb}/#/vote/1`);
    await waitFor('!!document.querySelector("#c-1")', 'booth');
    await click('#c-1');
    await clickText('Review my choice');
    await clickText('Cast my vote');
    await waitFor('document.body.innerText.includes("Counted — in a final block")', 'confirmed (tampered server)');
    await clickText('Check it yourself');
    await waitFor('document.body.innerText.includes("Not verified")', 'tampered seal refused');
    assert.equal(await evaluate('[...document.querySelectorAll(".checks li.fail")].map((l) => l.textContent).join("|")').then((t) => /quorum/.test(t)), true);
    await shot('verify-tampered');

    // phone layout: nothing wider than the screen on the main pages
    for (const h of ['#/', `#/verify?tx=${tx}`, '#/explorer', `#/receipt/${tx}?e=1`, '#/results/1', '#/block/1', '#/my-votes']) {
      await go(`${base}/${h}`);
      await sleep(300);
      const w = await evaluate(`(() => { const W = document.documentElement.clientWidth; const bad = [...document.querySelectorAll('main *')].filter((e) => e.getBoundingClientRect().right > W + 1).map((e) => e.tagName + '.' + e.className).slice(0, 5); return document.documentElement.scrollWidth <= W + 1 ? '' : W + ' ' + document.documentElement.scrollWidth + ' ' + bad.join(','); })()`);
      assert.equal(w, '', `${h} overflows a 390px screen`);
    }
    assert.deepEqual(problems, [], 'console errors or CSP violations');
    // the harness sees CSP violations: an inline style is refused and reported
    await evaluate(`(() => { const d = document.createElement('div'); d.innerHTML = '<span style="color:red">x</span>'; document.body.append(d); return true; })()`);
    await waitFor('true', 'tick');
    await sleep(300);
    assert.ok(problems.some((p) => /Content Security Policy/i.test(p)), `CSP violation not seen: ${problems}`);
    console.log('browser smoke: ok');
  } finally {
    try {
      await cdp.send('Browser.close');
    } catch {
      /* already gone */
    }
    const exited = new Promise((r) => (chrome.p.exitCode !== null ? r() : chrome.p.once('exit', r)));
    chrome.p.kill();
    await exited;
    server.close();
    tampered.close();
    try {
      rmSync(chrome.dir, { recursive: true, force: true });
    } catch {
      /* chromium may still be writing its profile */
    }
  }
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
