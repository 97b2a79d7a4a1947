// What the ballot page sends (src/lib/submit.js) and where the auth form shows an error.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { sealedSubmission, plainSubmission } from '../src/lib/submit.js';
import { verifyBallot, keyFromSecret } from '../src/lib/ballot.js';
import { toHex, fromBase64 } from '../src/lib/bytes.js';

const ctx = {
  election_id: 5, chain_id: 1337, ballot: 'encrypted', election_key: toHex(keyFromSecret(987654321n)),
  voter_tag: '0x' + '11'.repeat(32), candidates: [{ id: 10, name: 'A' }, { id: 20, name: 'B' }, { id: 30, name: 'C' }],
  ballot_bytes: 645,
};

test('sealedSubmission: {election_id, encrypted_vote} only (no candidate_id), verifying, choice by candidate id', () => {
  const s = sealedSubmission(ctx, 20);
  assert.deepEqual(Object.keys(s).sort(), ['election_id', 'encrypted_vote']);
  assert.equal(s.election_id, 5);
  const body = fromBase64(s.encrypted_vote);
  assert.equal(body.length, 645);
  const res = verifyBallot({ chainId: 1337n, electionId: 5n, electionKey: keyFromSecret(987654321n), voterTag: new Uint8Array(32).fill(0x11), n: 3, body });
  assert.ok(res.ok, res.error);
});

test('sealedSubmission refuses an unknown candidate, a malformed key, a size the backend does not expect', () => {
  assert.throws(() => sealedSubmission(ctx, 99), /not on the ballot/);
  assert.throws(() => sealedSubmission({ ...ctx, election_key: '0x12' }, 10));
  assert.throws(() => sealedSubmission({ ...ctx, ballot_bytes: 644 }, 10), /expects 644/);
});

test('plainSubmission', () => assert.deepEqual(plainSubmission('3', '7'), { election_id: 3, candidate_id: 7 }));
