// The backend's OpenAPI document against a real backend (tests/integration/openapi_test.cpp
// starts it in front of real validators, with --web-dir and a verify limit of 5 per minute):
//   node check.mjs BASE_URL ADMIN_PASSWORD
// 1. GET /openapi.json is a valid OpenAPI 3.1 document (@seriousme/openapi-schema-validator).
// 2. Every route is exercised, with its errors (401, 403, 404, 405, 409, 413, 422, 429, 400), and
//    every answer must be described by the document: its status among the operation's
//    responses (a 405 by components/responses/MethodNotAllowed), its content type among the
//    response's, a JSON body valid against the response's schema (JSON Schema 2020-12, ajv),
//    and a Retry-After header where the document says so. An undocumented status fails.
// 3. Every operation of the document answered at least once; a results answer writes
//    percentages as people do ("percentage":50.0).
// Prints "openapi: ok" and exits 0, or lists what failed and exits 1.
// OPENAPI_DOC=apps/backend/openapi.json checks that file instead of the served document (while
// editing it, against a backend already running; every run needs a fresh backend for the 429).
import { Validator } from '@seriousme/openapi-schema-validator';
import Ajv2020 from 'ajv/dist/2020.js';
import addFormats from 'ajv-formats';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';

const [base, adminPassword] = process.argv.slice(2);
if (!base || !adminPassword) {
  console.error('usage: node check.mjs BASE_URL ADMIN_PASSWORD');
  process.exit(2);
}
const DOC_ID = 'https://ballotchain.invalid/openapi.json';
const problems = [];
const covered = new Set();  // "get /api/auth/me" of every operation that answered
let answers = 0;

// ---- the document ----------------------------------------------------------------------
const docRes = await fetch(`${base}/openapi.json`);
assert.equal(docRes.status, 200, 'GET /openapi.json');
let doc = await docRes.json();
if (process.env.OPENAPI_DOC) {  // while editing apps/backend/openapi.json: check that file against a running backend
  doc = JSON.parse(readFileSync(process.env.OPENAPI_DOC, 'utf8'));
  doc.info.version = (await (await fetch(`${base}/health`)).json()).version;
  console.log(`openapi: checking ${process.env.OPENAPI_DOC}, not the served document`);
}
const verdict = await new Validator().validate(structuredClone(doc));
if (!verdict.valid) {
  console.error(JSON.stringify(verdict.errors, null, 2));
  throw new Error('GET /openapi.json is not a valid OpenAPI 3.1 document (see above)');
}
assert.equal(doc.openapi.split('.').slice(0, 2).join('.'), '3.1', 'an OpenAPI 3.1 document');

const ajv = new Ajv2020({ strict: false, allErrors: true });
addFormats(ajv);
ajv.addSchema(doc, DOC_ID);
const validators = new Map();
function schemaValidator(pointer) {
  if (!validators.has(pointer)) validators.set(pointer, ajv.compile({ $ref: `${DOC_ID}#${pointer}` }));
  return validators.get(pointer);
}
const esc = (s) => s.replaceAll('~', '~0').replaceAll('/', '~1');
/** Follows an OpenAPI "$ref" (#/...) at `pointer`: [pointer, object] of what it names. */
function deref(pointer, o) {
  while (o && typeof o.$ref === 'string') {
    assert.ok(o.$ref.startsWith('#/'), `only local references: ${o.$ref}`);
    pointer = o.$ref.slice(1);
    o = pointer.split('/').slice(1).map((p) => p.replaceAll('~1', '/').replaceAll('~0', '~'))
      .reduce((x, k) => (x === undefined ? undefined : x[k]), doc);
    assert.ok(o !== undefined, `dangling reference ${pointer}`);
  }
  return [pointer, o];
}
/** The document's path template for a concrete path ("/api/elections/7" → "/api/elections/{id}"). */
function template(path) {
  if (doc.paths[path]) return path;
  for (const t of Object.keys(doc.paths)) {
    const re = new RegExp(`^${t.replace(/\{[^}]+\}/g, '[^/]+')}$`);
    if (re.test(path)) return t;
  }
  return null;
}

/** Checks one live answer against the document; returns a description of what is wrong or null. */
function conformance(method, path, status, headers, text) {
  const t = template(path);
  if (!t) return `no path of the document matches ${path}`;
  const op = doc.paths[t][method.toLowerCase()];
  let responsePointer, response;
  if (!op) {
    if (status !== 405) return `${method} is not an operation of ${t}, yet the answer is ${status}, not 405`;
    [responsePointer, response] = deref('/components/responses/MethodNotAllowed', doc.components.responses.MethodNotAllowed);
  } else {
    covered.add(`${method.toLowerCase()} ${t}`);
    const r = op.responses[String(status)];
    if (!r) return `status ${status} is not documented for ${method} ${t} (documented: ${Object.keys(op.responses).join(', ')})`;
    [responsePointer, response] = deref(`/paths/${esc(t)}/${method.toLowerCase()}/responses/${status}`, r);
  }
  for (const [h, spec] of Object.entries(response.headers ?? {}))
    if (spec.required && !headers.get(h)) return `${method} ${t} ${status}: the document promises a ${h} header; there is none`;
  if (!response.content) return text === '' ? null : `${method} ${t} ${status}: a body where the document has none`;
  const type = (headers.get('content-type') ?? '').split(';')[0].trim();
  const media = response.content[type];
  if (!media) return `${method} ${t} ${status}: content type ${type} is not among ${Object.keys(response.content).join(', ')}`;
  if (type !== 'application/json') return null;
  let body;
  try {
    body = JSON.parse(text);
  } catch {
    return `${method} ${t} ${status}: the body is not JSON`;
  }
  const validate = schemaValidator(`${responsePointer}/content/${esc(type)}/schema`);
  if (!validate(body))
    return `${method} ${t} ${status}: the body does not match the schema: ${validate.errors
      .map((e) => `${e.instancePath || '(body)'} ${e.message}${e.params?.additionalProperty ? ` (${e.params.additionalProperty})` : ''}`)
      .join('; ')}\n  body: ${text.slice(0, 600)}`;
  return null;
}

/**
 * One request; its answer is checked against the document. `expect`: the status the test means
 * to produce (a different one is a failure too). Returns {status, body (parsed when JSON), text, headers}.
 */
async function call(method, path, { body, token, raw, headers = {}, expect } = {}) {
  const h = { ...headers };
  if (token) h.Authorization = `Bearer ${token}`;
  let payload;
  if (raw !== undefined) payload = raw;
  else if (body !== undefined) payload = JSON.stringify(body);
  if (payload !== undefined) h['Content-Type'] = 'application/json';
  const res = await fetch(`${base}${path}`, { method, headers: h, body: payload });
  const text = await res.text();
  ++answers;
  const bare = path.split('?')[0];
  const wrong = conformance(method, bare, res.status, res.headers, text);
  if (wrong) problems.push(wrong);
  if (expect !== undefined && res.status !== expect)
    problems.push(`${method} ${path}: expected ${expect}, got ${res.status}: ${text.slice(0, 300)}`);
  let parsed = text;
  if ((res.headers.get('content-type') ?? '').startsWith('application/json')) parsed = JSON.parse(text);
  return { status: res.status, body: parsed, text, headers: res.headers };
}

/** Polls `f` until it returns a truthy value (what it returns), at most `ms`. */
async function until(what, f, ms = 90_000) {
  const end = Date.now() + ms;
  for (;;) {
    const v = await f();
    if (v) return v;
    if (Date.now() > end) throw new Error(`gave up waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

// ---- the service ---------------------------------------------------------------------------
const health = await call('GET', '/health', { expect: 200 });
assert.equal(doc.info.version, health.body.version, 'info.version is the backend version');
await call('GET', '/openapi.json', { expect: 200 });
await call('POST', '/openapi.json', { expect: 405 });
await call('GET', '/docs', { expect: 200 });
await call('GET', '/metrics', { expect: 200 });

// ---- accounts ------------------------------------------------------------------------------
const pw = 'a fine password 42';
const stamp = Date.now();
const emails = [1, 2, 3].map((i) => `openapi-voter${i}-${stamp}@example.org`);
for (const e of emails) await call('POST', '/api/auth/register', { body: { email: e, password: pw, full_name: 'Voter' }, expect: 201 });
await call('POST', '/api/auth/register', { body: { email: emails[0], password: pw }, expect: 409 });
await call('POST', '/api/auth/register', { body: { email: 'not an email', password: pw }, expect: 422 });
await call('POST', '/api/auth/register', { raw: '{"email":', expect: 422 });
await call('POST', '/api/auth/register', { raw: JSON.stringify({ email: 'big@example.org', password: 'x'.repeat(70_000) }), expect: 413 });
await call('GET', '/api/auth/register', { expect: 405 });
const admin = (await call('POST', '/api/auth/login', { body: { email: 'admin@example.org', password: adminPassword }, expect: 200 })).body.access_token;
await call('POST', '/api/auth/login', { body: { email: emails[0], password: 'not the password' }, expect: 401 });
await call('POST', '/api/auth/login', { body: { email: emails[0] }, expect: 422 });
const tokens = [];
for (const e of emails) tokens.push((await call('POST', '/api/auth/login', { body: { email: e, password: pw }, expect: 200 })).body.access_token);
await call('GET', '/api/auth/me', { token: tokens[0], expect: 200 });
await call('GET', '/api/auth/me', { expect: 401 });
await call('GET', '/api/auth/me', { token: 'f'.repeat(64), expect: 401 });
await call('DELETE', '/api/auth/me', { token: tokens[0], expect: 405 });

// ---- elections -----------------------------------------------------------------------------
await call('POST', '/api/elections', { token: tokens[0], body: { name: 'not mine' }, expect: 403 });
await call('POST', '/api/elections', { body: { name: 'nobody' }, expect: 401 });
await call('POST', '/api/elections', { token: admin, body: { description: 'no name' }, expect: 422 });
await call('POST', '/api/elections', { token: admin, body: { name: 'twins', candidates: [{ name: 'A' }, { name: 'A' }] }, expect: 409 });
const plain = (await call('POST', '/api/elections', {
  token: admin, expect: 201,
  body: { name: 'OpenAPI plain', description: 'checked against the document', candidates: [{ name: 'Alice', description: 'first' }, { name: 'Bob' }] },
})).body;
const ended = (await call('POST', '/api/elections', {
  token: admin, expect: 201,
  body: { name: 'OpenAPI ended', candidates: [{ name: 'Past' }], start_date: '2020-01-01T00:00:00Z', end_date: '2020-01-02T00:00:00Z' },
})).body;
const secret = (await call('POST', '/api/elections', {
  token: admin, expect: 201,
  body: { name: 'OpenAPI secret', ballot: 'encrypted', key_ceremony_seconds: 1, candidates: [{ name: 'Yes' }, { name: 'No' }] },
})).body;
await call('POST', '/api/elections', { token: admin, body: { name: 'x', ballot: 'plain', key_ceremony_seconds: 5 }, expect: 422 });
await call('GET', '/api/elections', { expect: 200 });
await call('GET', `/api/elections/${plain.id}`, { expect: 200 });
await call('GET', `/api/elections/${secret.id}`, { expect: 200 });
await call('GET', '/api/elections/999999', { expect: 404 });
await call('GET', '/api/elections/abc', { expect: 404 });
await call('DELETE', `/api/elections/${plain.id}`, { token: admin, expect: 405 });
const carol = (await call('POST', `/api/elections/${plain.id}/candidates`, { token: admin, body: { name: 'Carol' }, expect: 201 })).body;
await call('POST', `/api/elections/${plain.id}/candidates`, { token: admin, body: { name: 'Carol' }, expect: 409 });
await call('POST', `/api/elections/${secret.id}/candidates`, { token: admin, body: { name: 'Maybe' }, expect: 409 });
await call('POST', `/api/elections/${plain.id}/candidates`, { token: tokens[0], body: { name: 'Dave' }, expect: 403 });
await call('POST', `/api/elections/${plain.id}/candidates`, { token: admin, body: { name: '' }, expect: 422 });
await call('POST', '/api/elections/999999/candidates', { token: admin, body: { name: 'Eve' }, expect: 404 });
await call('GET', `/api/elections/${plain.id}/ballot`, { token: tokens[0], expect: 400 });
await call('GET', `/api/elections/${secret.id}/ballot`, { expect: 401 });
await call('GET', '/api/elections/999999/ballot', { token: tokens[0], expect: 404 });
const context = await until('the secret election\'s key', async () => {
  const r = await call('GET', `/api/elections/${secret.id}/ballot`, { token: tokens[0] });
  return r.status === 200 ? r.body : null;
});
assert.equal(context.ballot, 'encrypted');

// ---- votes ---------------------------------------------------------------------------------
const [alice, bob] = plain.candidates;
await call('POST', '/api/votes/submit', { body: { election_id: plain.id, candidate_id: alice.id }, expect: 401 });
await call('POST', '/api/votes/submit', { token: tokens[0], body: { election_id: 999999, candidate_id: 1 }, expect: 404 });
await call('POST', '/api/votes/submit', { token: tokens[0], body: { election_id: ended.id, candidate_id: ended.candidates[0].id }, expect: 400 });
await call('POST', '/api/votes/submit', { token: tokens[0], body: { election_id: plain.id, candidate_id: ended.candidates[0].id }, expect: 422 });
await call('POST', '/api/votes/submit', { token: tokens[0], body: { election_id: plain.id, candidate_id: alice.id, encrypted_vote: 'not base64!' }, expect: 422 });
await call('GET', '/api/votes/submit', { expect: 405 });
const votes = [];
for (const [i, c] of [[0, alice], [1, bob]]) {
  const r = await call('POST', '/api/votes/submit', {
    token: tokens[i], expect: 200, body: { election_id: plain.id, candidate_id: c.id, encrypted_vote: Buffer.from(`vote ${i}`).toString('base64') },
  });
  votes.push(r.body.transaction_id);
}
await call('POST', '/api/votes/submit', { token: tokens[0], body: { election_id: plain.id, candidate_id: bob.id }, expect: 409 });
await until('the secret election to open', async () => (await call('GET', `/api/elections/${secret.id}`)).body.is_active, 30_000);
const sealed = await call('POST', '/api/votes/submit', { token: tokens[2], body: { election_id: secret.id, candidate_id: secret.candidates[0].id }, expect: 200 });

const statuses = [];
for (const tx of [...votes, sealed.body.transaction_id]) {
  statuses.push(await until(`vote ${tx} final`, async () => {
    const r = await call('GET', `/api/votes/transaction-status?transaction_id=${tx}`, { expect: 200 });
    return r.body.status === 'confirmed' ? r.body : null;
  }));
}
await call('GET', `/api/votes/transaction-status?transaction_id=${votes[0]}&election_id=${plain.id}`, { expect: 200 });
await call('GET', `/api/votes/transaction-status?transaction_id=0x${'00'.repeat(32)}`, { expect: 404 });
await call('GET', '/api/votes/transaction-status?transaction_id=0x12', { expect: 422 });
await call('GET', '/api/votes/transaction-status', { expect: 422 });

const event = await call('GET', `/api/votes/events?transaction_id=${votes[0]}&election_id=${plain.id}`, { expect: 200 });
assert.match(event.text, /^retry: 1000\nid: confirmed:poa_validators\nevent: status\ndata: \{.*\}\n\n$/);
assert.equal(JSON.parse(event.text.split('data: ')[1]).status, 'confirmed');
await call('GET', `/api/votes/events?transaction_id=${votes[0]}`, { headers: { 'Last-Event-ID': 'confirmed:poa_validators' }, expect: 204 });
await call('GET', `/api/votes/events?transaction_id=0x${'00'.repeat(32)}`, { expect: 404 });
await call('GET', '/api/votes/events?transaction_id=nope', { expect: 422 });

const results = await until('both votes counted', async () => {
  const r = await call('GET', `/api/votes/results?election_id=${plain.id}`, { expect: 200 });
  return r.body.total_votes === 2 ? r : null;
});
// Numbers as people write them: 50.0, 0.0, not 5E1.
for (const name of ['Alice', 'Bob']) assert.match(results.text, new RegExp(`"candidate_name":"${name}","vote_count":1,"percentage":50\\.0[,}]`));
assert.match(results.text, /"candidate_name":"Carol","vote_count":0,"percentage":0\.0[,}]/);
assert.equal(carol.name, 'Carol');
await call('GET', `/api/votes/results?election_id=${secret.id}`, { expect: 200 });
await call('GET', '/api/votes/results?election_id=999999', { expect: 404 });
await call('GET', '/api/votes/results?election_id=zero', { expect: 422 });

// ---- the chain for browsers --------------------------------------------------------------
const genesis = await call('GET', '/api/chain/genesis', { expect: 200 });
assert.equal(genesis.headers.get('access-control-allow-origin'), '*');
const pub = await call('GET', '/api/chain/validators', { expect: 200 });
assert.ok(pub.body.validators.every((v) => !('rpc_url' in v) && !('p2p_url' in v)), 'the public view has no addresses');
await call('GET', '/api/chain/blocks', { expect: 200 });
await call('GET', '/api/chain/blocks?limit=2', { expect: 200 });
await call('GET', '/api/chain/blocks?limit=0', { expect: 422 });
await call('GET', `/api/chain/blocks/${statuses[0].block_number}`, { expect: 200 });
await call('GET', '/api/chain/blocks/99999999', { expect: 404 });
await call('GET', '/api/chain/blocks/x', { expect: 404 });
const proof = await call('GET', `/api/votes/proof?transaction_id=${votes[0]}`, { expect: 200 });
assert.equal(proof.body.tx_hash, votes[0]);
await call('GET', `/api/votes/proof?transaction_id=0x${'00'.repeat(32)}`, { expect: 404 });
await call('GET', '/api/votes/proof', { expect: 422 });
const changes = await call('GET', '/api/chain/validator-changes', { expect: 200 });
assert.equal(changes.headers.get('access-control-allow-origin'), '*');
assert.deepEqual(changes.body, { changes: [] }, 'the check\'s network keeps its genesis validators');
await call('GET', '/api/chain/validator-changes?from_sequence=1', { expect: 200 });
await call('GET', '/api/chain/validator-changes?from_sequence=0', { expect: 422 });

// ---- administrators ------------------------------------------------------------------------
const vh = await call('GET', '/api/admin/validators/health', { token: admin, expect: 200 });
for (const v of vh.body.validators) assert.match(v.p2p_url, /^tcp:\/\/127\.0\.0\.1:\d+$/, `${v.node_id}'s p2p_url`);
await call('GET', '/api/admin/validators/health', { token: tokens[0], expect: 403 });
await call('GET', '/api/admin/validators/health', { expect: 401 });
await call('POST', '/api/admin/validators/refresh-status', { token: admin, expect: 200 });
await call('POST', '/api/admin/validators/refresh-status', { token: tokens[0], expect: 403 });
await call('POST', `/api/admin/elections/${plain.id}/tally`, { token: admin, expect: 400 });
await call('POST', `/api/admin/elections/${ended.id}/tally`, { token: admin, body: { wait_seconds: 0 }, expect: 200 });
await call('POST', `/api/admin/elections/${ended.id}/tally`, { token: admin, body: { wait_seconds: 99 }, expect: 422 });
await call('POST', `/api/admin/elections/${ended.id}/tally`, { token: tokens[0], expect: 403 });
await call('POST', '/api/admin/elections/999999/tally', { token: admin, expect: 404 });

// ---- sessions ------------------------------------------------------------------------------
const changed = await call('POST', '/api/auth/change-password', {
  token: tokens[1], body: { current_password: pw, new_password: 'another fine password 43' }, expect: 200,
});
await call('GET', '/api/auth/me', { token: tokens[1], expect: 401 });
await call('POST', '/api/auth/change-password', { token: changed.body.access_token, body: { current_password: 'wrong', new_password: 'yet another fine one 44' }, expect: 401 });
await call('POST', '/api/auth/change-password', { token: changed.body.access_token, body: { current_password: 'another fine password 43', new_password: 'short' }, expect: 422 });
await call('POST', '/api/auth/logout', { token: tokens[0], expect: 200 });
await call('POST', '/api/auth/logout', { token: tokens[0], expect: 401 });
await call('POST', '/api/auth/logout-all', { token: changed.body.access_token, expect: 200 });
await call('POST', '/api/auth/logout-all', { expect: 401 });

// ---- verification, up to its per-client limit (the harness sets 5 per minute) --------------
await call('POST', '/api/votes/verify-blockchain', { body: { election_id: plain.id }, expect: 200 });
await call('POST', '/api/votes/verify-blockchain', { body: { election_id: 999999 }, expect: 404 });
await call('POST', '/api/votes/verify-blockchain', { body: {}, expect: 422 });
let limited = null;
for (let i = 0; i < 10 && !limited; ++i) {
  const r = await call('POST', '/api/votes/verify-blockchain', { body: { election_id: plain.id } });
  if (r.status === 429) limited = r;
}
assert.ok(limited, 'the verify limit answered 429');
assert.match(limited.headers.get('retry-after') ?? '', /^[1-9][0-9]*$/);

// ---- every operation of the document answered ----------------------------------------------
for (const [p, item] of Object.entries(doc.paths))
  for (const m of ['get', 'put', 'post', 'delete', 'patch'])
    if (item[m] && !covered.has(`${m} ${p}`))
      problems.push(`${m.toUpperCase()} ${p} of the document was never exercised`);

if (problems.length) {
  for (const p of problems) console.error(`FAIL ${p}`);
  console.error(`openapi: ${problems.length} problem(s) in ${answers} answers`);
  process.exit(1);
}
console.log(`openapi: ok (${answers} answers, ${covered.size} operations, all described by the document)`);
