// The ballot sealer (src/lib/ballot.js): ballots for 2, 3 and 10 candidates verify with the JS
// verifier ported from tests/tools/verify_election.py, decrypt to the choice, and fail with any
// flipped byte or another context (voter, election, chain, key). The 3-candidate vector in
// test/vectors/ballot-3.json is checked again by the independent Python verifier's arithmetic.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync, existsSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import path from 'node:path';
import { ristretto255 } from '@noble/curves/ed25519.js';
import { sha512 } from '@noble/hashes/sha2.js';
import { sealBallot, verifyBallot, decodeBallot, keyFromSecret, ballotSize, randomScalar, ELL } from '../src/lib/ballot.js';
import { toHex, fromHex, toBase64, fromBase64, utf8, concat, u32, bigToLe } from '../src/lib/bytes.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const Point = ristretto255.Point;

// deterministic randomness for reproducible vectors: SHA-512 in counter mode over a seed
function seededRng(seed) {
  let i = 0;
  return (n) => {
    const out = new Uint8Array(n);
    for (let o = 0; o < n; o += 64) out.set(sha512(concat(utf8(seed), u32(i++))).subarray(0, Math.min(64, n - o)), o);
    return out;
  };
}

function setup(n, seed = 'ballotchain-web-test') {
  const rng = seededRng(seed);
  const x = randomScalar(rng);
  return {
    x, chainId: 1337, electionId: 9, electionKey: keyFromSecret(x), voterTag: rng(32), n,
  };
}

function decryptsTo(ctx, body, choice) {
  const b = decodeBallot(body);
  b.entries.forEach((e, k) => {
    const m = e.Bp.subtract(e.A.multiply(ctx.x));
    assert.ok(m.equals(k === choice ? Point.BASE : Point.ZERO), `ciphertext ${k}`);
  });
}

for (const n of [2, 3, 10]) {
  test(`a ${n}-candidate ballot verifies for every choice and decrypts to it`, () => {
    const ctx = setup(n);
    for (let choice = 0; choice < n; choice++) {
      const body = sealBallot({ ...ctx, choice });
      assert.equal(body.length, ballotSize(n));
      const res = verifyBallot({ ...ctx, body });
      assert.ok(res.ok, res.error);
      decryptsTo(ctx, body, choice);
    }
  });
}

test('3 candidates: 645 bytes, as election-protocol.md says', () => assert.equal(ballotSize(3), 645));

test('every flipped byte of a 2-candidate ballot fails; so does a 3-candidate one with sampled bytes', () => {
  const ctx = setup(2);
  const body = sealBallot({ ...ctx, choice: 1 });
  for (let i = 0; i < body.length; i++) {
    const bad = Uint8Array.from(body);
    bad[i] ^= 1 << (i % 8);
    assert.ok(!verifyBallot({ ...ctx, body: bad }).ok, `byte ${i}`);
  }
  const ctx3 = setup(3);
  const b3 = sealBallot({ ...ctx3, choice: 2 });
  for (let i = 0; i < b3.length; i += 7) {
    const bad = Uint8Array.from(b3);
    bad[i] ^= 0x80;
    assert.ok(!verifyBallot({ ...ctx3, body: bad }).ok, `byte ${i}`);
  }
  assert.ok(!verifyBallot({ ...ctx, body: body.subarray(0, body.length - 1) }).ok, 'truncated');
  assert.ok(!verifyBallot({ ...ctx, body: concat(body, Uint8Array.of(0)) }).ok, 'trailing byte');
});

test('a ballot is bound to its voter, election, chain, key and candidate order', () => {
  const ctx = setup(3);
  const body = sealBallot({ ...ctx, choice: 0 });
  assert.ok(verifyBallot({ ...ctx, body }).ok);
  const other = Uint8Array.from(ctx.voterTag);
  other[0] ^= 1;
  assert.match(verifyBallot({ ...ctx, voterTag: other, body }).error, /0\/1 proof invalid/);
  assert.ok(!verifyBallot({ ...ctx, electionId: 10, body }).ok);
  assert.ok(!verifyBallot({ ...ctx, chainId: 1338, body }).ok);
  assert.ok(!verifyBallot({ ...ctx, electionKey: keyFromSecret(ctx.x + 1n), body }).ok);
  assert.ok(!verifyBallot({ ...ctx, n: 2, body }).ok);
  // swapping two candidates' ciphertexts and proofs fails (the index is hashed)
  const swapped = Uint8Array.from(body);
  swapped.set(body.subarray(5, 5 + 192), 5 + 192);
  swapped.set(body.subarray(5 + 192, 5 + 384), 5);
  assert.ok(!verifyBallot({ ...ctx, body: swapped }).ok);
});

test('a ballot for two candidates at once (both 1) cannot be made to pass: a forged sum fails', () => {
  // Encrypt 1 twice with honest 0/1 proofs by sealing choice 0 and choice 1 and splicing.
  const ctx = setup(2);
  const a = sealBallot({ ...ctx, choice: 0 });
  const b = sealBallot({ ...ctx, choice: 1 });
  const spliced = Uint8Array.from(a);
  spliced.set(b.subarray(5 + 192, 5 + 384), 5 + 192);
  assert.ok(!verifyBallot({ ...ctx, body: spliced }).ok);
});

test('input checks: choice, count, key', () => {
  const ctx = setup(3);
  assert.throws(() => sealBallot({ ...ctx, choice: 3 }), /choice/);
  assert.throws(() => sealBallot({ ...ctx, n: 0, choice: 0 }), /count/);
  assert.throws(() => sealBallot({ ...ctx, electionKey: fromHex('0100000000000000000000000000000000000000000000000000000000000000'), choice: 0 }), /canonical/);
  assert.ok(randomScalar() < ELL);
});

test('base64 round trip (padded, standard alphabet)', () => {
  for (let n = 0; n < 70; n++) {
    const b = seededRng('b64' + n)(n);
    const s = toBase64(b);
    assert.equal(s, Buffer.from(b).toString('base64'));
    assert.deepEqual(fromBase64(s), b);
  }
  assert.throws(() => fromBase64('abc'));
});

test('vector ballot-3.json: sealed deterministically, verifies in JS and in the independent Python verifier', () => {
  const ctx = setup(3, 'ballotchain-web-vector-3');
  const candidates = [{ id: 1, name: 'Alice' }, { id: 2, name: 'Bob' }, { id: 3, name: 'Carol' }];
  const choice = 1;
  const body = sealBallot({ ...ctx, choice, rng: seededRng('ballotchain-web-vector-3-seal') });
  const vector = {
    description: 'One 3-candidate ballot sealed by apps/web/src/lib/ballot.js (deterministic randomness), for the C++ verifier. election_secret is the test key x (Y = x·B) as a 32-byte little-endian scalar like every scalar of the protocol, for checking the decryption; encrypted_vote is base64 of the ballot body (election-protocol.md).',
    chain_id: ctx.chainId,
    election_id: ctx.electionId,
    election_key: toHex(ctx.electionKey),
    election_secret: toHex(bigToLe(ctx.x)),
    voter_tag: toHex(ctx.voterTag),
    candidates,
    choice,
    choice_candidate_id: candidates[choice].id,
    encrypted_vote: toBase64(body),
  };
  const file = path.join(here, 'vectors', 'ballot-3.json');
  const text = JSON.stringify(vector, null, 2) + '\n';
  if (process.env.WRITE_VECTORS) writeFileSync(file, text);
  assert.ok(existsSync(file), 'run WRITE_VECTORS=1 npm test once to write it');
  const stored = JSON.parse(readFileSync(file, 'utf8'));
  assert.deepEqual(stored, vector, 'the sealer changed: same randomness, other bytes');
  const res = verifyBallot({
    chainId: stored.chain_id, electionId: stored.election_id, electionKey: fromHex(stored.election_key, 32),
    voterTag: fromHex(stored.voter_tag, 32), n: stored.candidates.length, body: fromBase64(stored.encrypted_vote),
  });
  assert.ok(res.ok, res.error);
  const py = spawnSync('python3', [path.join(here, 'check_ballot.py'), file], { encoding: 'utf8' });
  if (py.error) {
    console.log('python3 not available: skipping the independent check');
    return;
  }
  assert.equal(py.status, 0, py.stdout + py.stderr);
  // and the Python check refuses a flipped byte
  const bad = { ...stored, encrypted_vote: toBase64(fromBase64(stored.encrypted_vote).map((x, i) => (i === 300 ? x ^ 4 : x))) };
  const badFile = path.join(process.env.TMPDIR ?? '/tmp', `ballot-3-bad-${process.pid}.json`);
  writeFileSync(badFile, JSON.stringify(bad));
  const py2 = spawnSync('python3', [path.join(here, 'check_ballot.py'), badFile], { encoding: 'utf8' });
  assert.equal(py2.status, 1, py2.stdout + py2.stderr);
});

test('the C++ library\'s ballot (tests/data/golden/ballot-cpp-3.json) verifies here and decrypts to its choice', () => {
  const v = JSON.parse(readFileSync(path.join(here, '..', '..', '..', 'tests', 'data', 'golden', 'ballot-cpp-3.json'), 'utf8'));
  const x = BigInt('0x' + [...fromHex(v.election_secret)].reverse().map((b) => b.toString(16).padStart(2, '0')).join(''));
  const ctx = { x, chainId: v.chain_id, electionId: v.election_id, electionKey: fromHex(v.election_key),
                voterTag: fromHex(v.voter_tag), n: 3 };
  assert.equal(toHex(keyFromSecret(x)), v.election_key);
  const body = fromBase64(v.encrypted_vote);
  const res = verifyBallot({ ...ctx, body });
  assert.ok(res.ok, res.error);
  decryptsTo(ctx, body, v.choice);
  assert.ok(!verifyBallot({ ...ctx, electionId: v.election_id + 1, body }).ok, 'another election');
  const bad = Uint8Array.from(body);
  bad[100] ^= 1;
  assert.ok(!verifyBallot({ ...ctx, body: bad }).ok, 'a flipped byte');
});
