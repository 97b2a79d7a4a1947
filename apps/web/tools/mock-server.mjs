// A stand-in backend for trying the built app without the C++ processes:
//   node tools/mock-server.mjs [port]   (after npm run build), then open http://127.0.0.1:PORT/
// Serves dist/ with the backend's Content-Security-Policy and fakes the API from the contracts
// in the brief and docs/backend.md: a plain and a secret-ballot election (ballots checked with
// src/lib/ballot.js), the golden block as the chain (its three votes verify on #/verify), SSE.
// Not part of the product; used by test/app.test.mjs to check the pages render.
import http from 'node:http';
import { readFileSync, existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { fromHex, toHex, fromBase64, Reader } from '../src/lib/bytes.js';
import { H, decodeHeader, merkleProof, decodeCertificate } from '../src/lib/chain.js';
import { keyFromSecret, verifyBallot } from '../src/lib/ballot.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const dist = path.resolve(here, '../dist');
const golden = path.resolve(here, '../../../tests/data/golden');
const ghex = (n) => fromHex(readFileSync(path.join(golden, n), 'utf8').trim());
const genesisJson = JSON.parse(readFileSync(path.join(golden, 'genesis.json'), 'utf8'));

export const CSP = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; base-uri 'none'; frame-ancestors 'none'; form-action 'self'";

function goldenChain() {
  const block = ghex('block.hex');
  const r = new Reader(block);
  r.u8();
  const header = r.take(101);
  r.take(64);
  const hashes = [];
  for (let i = 0; i < 3; i++) {
    const s = r.pos;
    r.take(25);
    r.take(r.u32());
    r.take(72);
    hashes.push(H(block.subarray(s, r.pos)));
    r.take(64);
  }
  const cert = decodeCertificate(ghex('certificate.hex'));
  return { header, hashes, cert };
}

export function createMock({ tamper = null } = {}) {
  const chain = goldenChain();
  const x = 123456789n;
  const now = Date.now();
  const iso = (ms) => new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');
  const state = {
    users: new Map([['admin@localhost', { id: 1, email: 'admin@localhost', full_name: 'Admin', is_admin: true, password: 'correct horse battery' }]]),
    tokens: new Map(),
    votes: new Map(), // `${user}:${election}` -> tx
    status: new Map(), // tx -> {status, polls}
    elections: [
      { id: 1, name: 'City council', description: 'Choose one', start_date: iso(now - 3600e3), end_date: iso(now + 86400e3), is_active: true, ballot: 'plain',
        candidates: [{ id: 1, name: 'Ada Lovelace', description: '' }, { id: 2, name: 'Grace Hopper', description: '' }, { id: 3, name: 'Alan Turing', description: '' }] },
      { id: 2, name: 'Board (secret ballot)', description: '', start_date: iso(now - 3600e3), end_date: iso(now + 86400e3), is_active: true, ballot: 'encrypted',
        candidates: [{ id: 4, name: 'North', description: '' }, { id: 5, name: 'South', description: '' }],
        key_ceremony: { deadline: iso(now - 3700e3), threshold: 2, definition: 'final', election_key: toHex(keyFromSecret(x)) } },
      { id: 3, name: 'Last year', description: '', start_date: iso(now - 400 * 86400e3), end_date: iso(now - 300 * 86400e3), is_active: false, ballot: 'plain',
        candidates: [{ id: 6, name: 'Yes', description: '' }, { id: 7, name: 'No', description: '' }] },
    ],
  };
  let txCounter = 0;
  const newTx = () => {
    // votes confirm into the golden block: hand out its tx hashes in turn (then fresh ones)
    const h = txCounter < 3 ? toHex(chain.hashes[txCounter]) : toHex(H(Uint8Array.of(txCounter)));
    txCounter++;
    return h;
  };
  const statusOf = (tx) => {
    const s = state.status.get(tx);
    if (!s) return null;
    s.polls++;
    if (s.polls > 1 && s.status === 'pending') s.status = 'submitted';
    else if (s.polls > 2 && s.status === 'submitted') s.status = 'confirmed';
    const confirmed = s.status === 'confirmed';
    return { status: s.status, confirmed, transaction_id: tx, block_number: confirmed ? 1 : null,
      block_hash: confirmed ? toHex(H(chain.header)) : null, gas_used: '0x0', source: s.fallback && s.status === 'pending' ? 'fallback_chain' : 'poa_validators', election_id: s.election };
  };
  const proofOf = (tx) => {
    const i = chain.hashes.findIndex((h) => toHex(h) === tx.toLowerCase());
    if (i < 0 || state.status.get(tx)?.status !== 'confirmed') return null;
    const p = {
      tx_hash: tx, block_number: 1, block_hash: toHex(H(chain.header)), index: i, tx_count: 3,
      tx_root: toHex(decodeHeader(chain.header).txRoot), proof: merkleProof(chain.hashes, i).map((h) => toHex(h)),
      header: toHex(chain.header),
      certificate: { height: 1, round: 0, block_hash: toHex(chain.cert.blockHash),
        seals: chain.cert.seals.map((s) => ({ validator: s.validator, signature: toHex(s.sig) })) },
    };
    if (tamper === 'seal') p.certificate.seals[0].signature = p.certificate.seals[0].signature.replace(/.$/, (c) => (c === '0' ? '1' : '0'));
    if (tamper === 'proof') p.proof[0] = p.proof[0].replace(/.$/, (c) => (c === '0' ? '1' : '0'));
    return p;
  };
  const tagOf = (user, eid) => H(new TextEncoder().encode(`tag:${user}:${eid}`));

  return http.createServer(async (req, res) => {
    const url = new URL(req.url, 'http://x');
    const send = (code, obj, headers = {}) => {
      res.writeHead(code, { 'Content-Type': 'application/json', ...headers });
      res.end(JSON.stringify(obj));
    };
    const body = await new Promise((ok) => {
      let b = '';
      req.on('data', (d) => (b += d));
      req.on('end', () => {
        try {
          ok(b ? JSON.parse(b) : {});
        } catch {
          ok(null);
        }
      });
    });
    const auth = (req.headers.authorization ?? '').replace(/^Bearer /, '');
    const user = state.tokens.get(auth);
    const p = url.pathname;
    try {
      if (p === '/health') return send(200, { status: 'ok', version: '0.1.0', validators_healthy: 3, validators_total: 3, outbox: 0, outbox_by_status: { pending: 0, submitted: 0 } });
      if (p === '/api/auth/register' && req.method === 'POST') {
        if (!String(body.email).includes('@')) return send(422, { detail: 'email: malformed email address' });
        if (String(body.password).length < 8) return send(422, { detail: 'password must be at least 8 characters' });
        if (state.users.has(body.email)) return send(409, { detail: 'email already registered' });
        const u = { id: state.users.size + 1, email: body.email, full_name: body.full_name ?? '', is_admin: false, password: body.password };
        state.users.set(u.email, u);
        return send(201, { id: u.id, email: u.email, full_name: u.full_name, is_admin: false });
      }
      if (p === '/api/auth/login' && req.method === 'POST') {
        const u = state.users.get(body.email);
        if (!u || u.password !== body.password) return send(401, { detail: 'incorrect email or password' });
        const t = toHex(H(new TextEncoder().encode(`${u.email}${Math.random()}`)), false);
        state.tokens.set(t, u);
        return send(200, { access_token: t, token_type: 'bearer', expires_in: 86400, user: { id: u.id, email: u.email, full_name: u.full_name, is_admin: u.is_admin } });
      }
      if (p === '/api/auth/me') return user ? send(200, { id: user.id, email: user.email, is_admin: user.is_admin }) : send(401, { detail: 'not authenticated' });
      if (p === '/api/auth/logout') {
        state.tokens.delete(auth);
        return send(200, { status: 'logged out', sessions_revoked: 1 });
      }
      if (p === '/api/elections' && req.method === 'GET') return send(200, state.elections);
      let m;
      if ((m = p.match(/^\/api\/elections\/(\d+)$/))) {
        const e = state.elections.find((x) => x.id === Number(m[1]));
        return e ? send(200, e) : send(404, { detail: 'election not found' });
      }
      if ((m = p.match(/^\/api\/elections\/(\d+)\/ballot$/))) {
        if (!user) return send(401, { detail: 'not authenticated' });
        const e = state.elections.find((x) => x.id === Number(m[1]));
        if (!e || e.ballot !== 'encrypted') return send(400, { detail: 'not an encrypted election' });
        return send(200, { election_id: e.id, chain_id: 1337, ballot: 'encrypted', election_key: e.key_ceremony.election_key,
          voter_tag: toHex(tagOf(user.id, e.id)), candidates: e.candidates.map((c) => ({ id: c.id, name: c.name })), ballot_bytes: 1 + 4 + 192 * e.candidates.length + 64 });
      }
      if (p === '/api/votes/submit' && req.method === 'POST') {
        if (!user) return send(401, { detail: 'not authenticated' });
        const e = state.elections.find((x) => x.id === Number(body.election_id));
        if (!e) return send(404, { detail: 'election not found' });
        const key = `${user.id}:${e.id}`;
        if (state.votes.has(key)) return send(409, { detail: `you have already voted in this election (transaction ${state.votes.get(key)}, submitted)` });
        if (e.ballot === 'encrypted' && body.encrypted_vote) {
          const ok = verifyBallot({ chainId: 1337n, electionId: BigInt(e.id), electionKey: fromHex(e.key_ceremony.election_key, 32),
            voterTag: tagOf(user.id, e.id), n: e.candidates.length, body: fromBase64(body.encrypted_vote) });
          if (!ok.ok) return send(422, { detail: `encrypted_vote's proofs do not verify: ${ok.error}` });
        }
        const tx = newTx();
        state.votes.set(key, tx);
        state.status.set(tx, { status: 'pending', polls: user.email.startsWith('offline') ? -3 : 0, fallback: user.email.startsWith('offline'), election: e.id });
        const out = { id: txCounter, transaction_id: tx, ballot_hash: 'x', timestamp: new Date().toISOString(), status: 'submitted', validator: 'validator-2', block_hash: null };
        if (user.email.startsWith('offline')) Object.assign(out, { status: 'pending', source: 'fallback_chain', warning: 'Vote recorded in local blockchain (PoA validators unreachable)' });
        return send(200, out);
      }
      if (p === '/api/votes/transaction-status') {
        const s = statusOf(url.searchParams.get('transaction_id'));
        return s ? send(200, s) : send(404, { detail: 'transaction not found' });
      }
      if (p === '/api/votes/events') {
        const tx = url.searchParams.get('transaction_id');
        if (!state.status.has(tx)) return send(404, { detail: 'transaction not found' });
        res.writeHead(200, { 'Content-Type': 'text/event-stream', 'Cache-Control': 'no-store' });
        const tick = () => {
          const s = statusOf(tx);
          res.write(`event: status\ndata: ${JSON.stringify(s)}\n\n`);
          if (s.status === 'confirmed' || s.status === 'rejected') res.end();
          else setTimeout(tick, 300);
        };
        tick();
        return undefined;
      }
      if (p === '/api/votes/proof') {
        const pr = proofOf(url.searchParams.get('transaction_id') ?? '');
        return pr ? send(200, pr) : send(404, { detail: 'not final yet' });
      }
      if (p === '/api/chain/validator-changes') return send(200, { changes: [] }); // the mock chain's set never changed
      if (p === '/api/chain/genesis')
        return send(200, { chain_id: 1337, genesis_hash: toHex(ghex('genesis_hash.hex')), quorum: 2, validators: genesisJson.validators, genesis: genesisJson });
      if (p === '/api/chain/blocks') {
        const h = decodeHeader(chain.header);
        return send(200, { height: 1, blocks: [
          { height: 1, hash: toHex(H(chain.header)), parent: toHex(h.parent), timestamp_ms: Number(h.timestampMs), proposer: 'validator-2', tx_count: 3, signers: ['validator-1', 'validator-2'] },
          { height: 0, hash: toHex(h.parent), parent: toHex(ghex('genesis_hash.hex')), timestamp_ms: 1700000000000, proposer: 'validator-1', tx_count: 0, signers: [] },
        ] });
      }
      if ((m = p.match(/^\/api\/chain\/blocks\/(\d+)$/))) {
        if (m[1] !== '1') return send(404, { detail: 'no such block' });
        const h = decodeHeader(chain.header);
        return send(200, { height: 1, hash: toHex(H(chain.header)), parent: toHex(h.parent), timestamp_ms: Number(h.timestampMs), proposer: 'validator-2',
          tx_count: 3, signers: ['validator-1', 'validator-2'], round: 0, tx_root: toHex(h.txRoot),
          transactions: chain.hashes.map((x) => ({ hash: toHex(x), kind: 'vote', election_id: 1, voter_tag: '0x00' })) });
      }
      if (p === '/api/votes/results') {
        const e = state.elections.find((x) => x.id === Number(url.searchParams.get('election_id')));
        if (!e) return send(404, { detail: 'election not found' });
        const sealed = e.ballot === 'encrypted';
        const counts = e.candidates.map((c, i) => (sealed ? null : (i + 1) * 3));
        const total = sealed ? 4 : counts.reduce((a, b) => a + b, 0);
        return send(200, { election_id: e.id, election_name: e.name, total_votes: total,
          results: e.candidates.map((c, i) => ({ candidate_id: c.id, candidate_name: c.name, vote_count: counts[i], percentage: sealed ? null : (100 * counts[i]) / total })),
          block_height: 1, tally_verified: true, verification: { chain_valid: true, timestamp: new Date().toISOString() },
          ...(sealed ? { ballot: 'encrypted', phase: 'voting' } : {}) });
      }
      if (p.startsWith('/api/admin/')) {
        if (!user) return send(401, { detail: 'not authenticated' });
        if (!user.is_admin) return send(403, { detail: 'administrators only' });
        if (p === '/api/admin/validators/health' || p === '/api/admin/validators/refresh-status')
          return send(200, { timestamp: new Date().toISOString(), validators: [1, 2, 3].map((i) => ({ node_id: `validator-${i}`, rpc_url: `http://127.0.0.1:800${i}`, p2p_url: '', status: i === 3 ? 'unreachable' : 'healthy', block_height: i === 3 ? null : 1, detail: i === 3 ? 'connection refused' : '', misbehaviours: 0 })),
            summary: { healthy: 2, total: 3, health_percentage: 66.7 } });
        if ((m = p.match(/^\/api\/admin\/elections\/(\d+)\/tally$/))) return send(400, { detail: 'the election has not ended' });
      }
      if (p === '/api/elections' && req.method === 'POST') {
        if (!user?.is_admin) return send(403, { detail: 'administrators only' });
        const e = { id: state.elections.length + 1, name: body.name, description: body.description ?? '', start_date: body.start_date ?? iso(Date.now()), end_date: body.end_date ?? iso(Date.now() + 30 * 86400e3), is_active: true, ballot: body.ballot ?? 'plain', candidates: (body.candidates ?? []).map((c, i) => ({ id: 100 + i, name: c.name })) };
        state.elections.push(e);
        return send(201, e);
      }
      if (p.startsWith('/api/')) return send(404, { detail: 'not found' });
      // static files
      const file = p === '/' ? '/index.html' : p;
      const full = path.join(dist, path.normalize(file).replace(/^(\.\.[/\\])+/, ''));
      if (!full.startsWith(dist) || !existsSync(full)) return send(404, { detail: 'not found' });
      const type = full.endsWith('.js') ? 'text/javascript' : full.endsWith('.css') ? 'text/css' : full.endsWith('.html') ? 'text/html; charset=utf-8' : 'text/plain';
      res.writeHead(200, { 'Content-Type': type, 'Content-Security-Policy': CSP, 'X-Content-Type-Options': 'nosniff' });
      res.end(readFileSync(full));
    } catch (err) {
      send(500, { detail: String(err) });
    }
    return undefined;
  });
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const port = Number(process.argv[2] ?? 8080);
  createMock({ tamper: process.env.TAMPER ?? null }).listen(port, '127.0.0.1', () => console.log(`mock backend on http://127.0.0.1:${port}/`));
}
