// The receipt verifier (src/lib/chain.js) against tests/data/golden: header decode and block
// hash, the certificate against the golden genesis validators, a Merkle proof built from the
// golden block's transactions, and every tampered byte refused.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import path from 'node:path';
import { ed25519 } from '@noble/curves/ed25519.js';
import { concat, u8, u32, u64, fromHex, toHex, Reader } from '../src/lib/bytes.js';
import {
  H, decodeHeader, merkleRoot, merkleProof, merkleVerify, sealMessage, decodeCertificate, checkCertificate,
  ed25519Verify, genesisEncoding, verifyReceipt, quorumOf, decodeBlock, decodeFinalizedBlock, ValidatorSchedule, learnChanges,
} from '../src/lib/chain.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const golden = path.resolve(here, '../../../tests/data/golden');
const hex = (name) => fromHex(readFileSync(path.join(golden, name), 'utf8').trim());
const genesisJson = JSON.parse(readFileSync(path.join(golden, 'genesis.json'), 'utf8'));
const keys = genesisJson.validators.map((v) => fromHex(v.public_key, 32));

/// The header bytes and tx hashes of a block (tag 0x06), as chain.js decodes it.
function blockTxHashes(block) {
  const b = decodeBlock(block);
  return { header: b.headerBytes, hashes: b.txs.map((tx) => tx.hash) };
}

const flip = (b, i, bit = 1) => {
  const c = Uint8Array.from(b);
  c[i] ^= bit;
  return c;
};

test('golden genesis: the JSON encodes to genesis.hex and hashes to genesis_hash.hex', () => {
  assert.equal(toHex(genesisEncoding(genesisJson)), toHex(hex('genesis.hex')));
  assert.equal(toHex(H(hex('genesis.hex'))), toHex(hex('genesis_hash.hex')));
  assert.equal(quorumOf(3), 2);
  assert.deepEqual([1, 2, 3, 4, 5, 6, 7].map(quorumOf), [1, 2, 2, 3, 4, 4, 5]);
});

test('genesis flags: elections_defined appends u32 1; absent or false keeps the encoding', () => {
  const plain = genesisEncoding(genesisJson);
  assert.equal(toHex(genesisEncoding({ ...genesisJson, elections_defined: false })), toHex(plain));
  const flagged = genesisEncoding({ ...genesisJson, elections_defined: true });
  assert.equal(flagged.length, plain.length + 4);
  assert.equal(toHex(flagged.slice(0, plain.length)), toHex(plain));
  assert.equal(toHex(flagged.slice(plain.length)), toHex(Uint8Array.from([0, 0, 0, 1])));
  assert.throws(() => genesisEncoding({ ...genesisJson, elections_defined: 1 }));
});

test('golden header decodes and hashes to block_hash.hex', () => {
  const h = decodeHeader(hex('header.hex'));
  assert.equal(h.chainId, 1337n);
  assert.equal(h.height, 1n);
  assert.equal(h.round, 0);
  assert.equal(h.proposer, 1);
  assert.equal(h.txCount, 3);
  assert.equal(h.timestampMs, 1700000001000n);
  assert.equal(toHex(h.parent), toHex(hex('genesis_block_hash.hex')));
  assert.equal(toHex(H(hex('header.hex'))), toHex(hex('block_hash.hex')));
  assert.throws(() => decodeHeader(hex('header.hex').subarray(0, 100)), /100 bytes/);
  assert.throws(() => decodeHeader(flip(hex('header.hex'), 0, 0x04)), /tag/);
});

test('golden block: Merkle root of its transactions is the header root; every audit path verifies', () => {
  const { header, hashes } = blockTxHashes(hex('block.hex'));
  assert.equal(toHex(header), toHex(hex('header.hex')));
  assert.equal(toHex(hashes[2]), toHex(hex('tx_hash.hex')));
  const root = decodeHeader(header).txRoot;
  assert.equal(toHex(merkleRoot(hashes)), toHex(root));
  for (let i = 0; i < hashes.length; i++) {
    const p = merkleProof(hashes, i);
    assert.ok(merkleVerify(hashes[i], i, hashes.length, p, root), `leaf ${i}`);
    assert.ok(!merkleVerify(hashes[i], (i + 1) % 3, 3, p, root), `leaf ${i} at another index`);
    for (let j = 0; j < p.length; j++)
      for (const byte of [0, 17, 31]) {
        const bad = p.map((x, k) => (k === j ? flip(x, byte) : x));
        assert.ok(!merkleVerify(hashes[i], i, 3, bad, root), `flipped byte ${byte} of hash ${j}`);
      }
    assert.ok(!merkleVerify(flip(hashes[i], 5), i, 3, p, root), 'another leaf');
    assert.ok(!merkleVerify(hashes[i], i, 2, p, root), 'another count'); // (4 keeps leaves 0, 1 in place: the header binds the count)
    assert.ok(!merkleVerify(hashes[i], i, 3, p.slice(1), root), 'a shorter path');
    assert.ok(!merkleVerify(hashes[i], i, 3, [...p, p[0]], root), 'a longer path');
  }
  assert.ok(!merkleVerify(hashes[0], 3, 3, [], root), 'index >= count');
});

test('Merkle trees of 1..17 leaves: every path verifies (RFC 6962 shapes)', () => {
  for (let n = 1; n <= 17; n++) {
    const leaves = Array.from({ length: n }, (_, i) => H(Uint8Array.of(i, n)));
    const root = merkleRoot(leaves);
    for (let i = 0; i < n; i++) assert.ok(merkleVerify(leaves[i], i, n, merkleProof(leaves, i), root), `n ${n} i ${i}`);
  }
  assert.equal(toHex(merkleRoot([])), '0xe3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855');
});

test('golden certificate: seal message, seals of validators 0 and 1, quorum of the golden genesis', () => {
  const cert = decodeCertificate(hex('certificate.hex'));
  const bh = hex('block_hash.hex');
  assert.equal(toHex(sealMessage(1337, 1, 0, bh)), toHex(hex('seal_message.hex')));
  const res = checkCertificate({ chainId: 1337n, keys, height: 1n, headerRound: 0, blockHash: bh, cert });
  assert.ok(res.ok, res.detail);
  assert.deepEqual(res.signers, [0, 1]);
  // the proposer signature in block.hex verifies too (same Ed25519 rules)
  const block = hex('block.hex');
  assert.ok(ed25519Verify(keys[1], bh, block.subarray(102, 166)));
  assert.ok(!ed25519Verify(keys[0], bh, block.subarray(102, 166)));
});

test('certificate: every flipped byte of a seal, the wrong block, too few seals are refused', () => {
  const raw = hex('certificate.hex');
  const bh = hex('block_hash.hex');
  const check = (cert, over = {}) =>
    checkCertificate({ chainId: 1337n, keys, height: 1n, headerRound: 0, blockHash: bh, cert, ...over });
  for (let i = 53; i < raw.length; i++) {
    if (i >= 117 && i < 121) continue; // validator index of seal 1 (tested below)
    for (const bit of [1, 0x80]) {
      const res = check(decodeCertificate(flip(raw, i, bit)));
      assert.ok(!res.ok, `byte ${i} bit ${bit}`);
    }
  }
  const cert = decodeCertificate(raw);
  assert.equal(check({ ...cert, seals: cert.seals.slice(0, 1) }).reason, 'cert_too_few_seals');
  assert.equal(check({ ...cert, seals: [cert.seals[0], { ...cert.seals[1], validator: 2 }] }).reason, 'cert_bad_seal');
  assert.equal(check({ ...cert, seals: [cert.seals[0], { ...cert.seals[1], validator: 3 }] }).reason, 'cert_unknown_validator');
  assert.equal(check({ ...cert, seals: [cert.seals[0], cert.seals[0]] }).reason, 'cert_duplicate_seal');
  assert.equal(check(cert, { height: 2n }).reason, 'cert_wrong_block');
  assert.equal(check(cert, { blockHash: flip(bh, 3) }).reason, 'cert_wrong_block');
  assert.equal(check(cert, { headerRound: 1 }).reason, 'cert_wrong_round');
  assert.equal(check(cert, { chainId: 1338n }).reason, 'cert_bad_seal');
  // a junk extra seal makes the whole certificate invalid
  assert.equal(check({ ...cert, seals: [...cert.seals, { validator: 2, sig: cert.seals[0].sig }] }).reason, 'cert_bad_seal');
});

test('Ed25519 rules: RFC 8032 test 2, non-canonical S and small-order keys refused', () => {
  const pub = fromHex('3d4017c3e843895a92b70aa74d1b7ebc9c982ccf2ec4968cc0cd55f12af4660c');
  const sig = fromHex('92a009a9f0d4cab8720e820b5f642540a2b27b5416503f8fb3762223ebdb69da085ac1e43e15996e458f3613d0f11d8c387b2eaeb4302aeeb00d291612bb0c00');
  assert.ok(ed25519Verify(pub, Uint8Array.of(0x72), sig));
  assert.ok(!ed25519Verify(pub, Uint8Array.of(0x73), sig));
  // S + L: the same signature, non-canonical
  const L = 2n ** 252n + 27742317777372353535851937790883648493n;
  let s = 0n;
  for (let i = 63; i >= 32; i--) s = (s << 8n) | BigInt(sig[i]);
  s += L;
  const big = Uint8Array.from(sig);
  for (let i = 32; i < 64; i++) {
    big[i] = Number(s & 0xffn);
    s >>= 8n;
  }
  assert.ok(!ed25519Verify(pub, Uint8Array.of(0x72), big));
  // the identity as key and R: valid for every message under a lax verifier, refused here
  const id = fromHex('0100000000000000000000000000000000000000000000000000000000000000');
  assert.ok(!ed25519Verify(id, Uint8Array.of(1), new Uint8Array([...id, ...new Uint8Array(32)])));
});

// ---- the whole receipt, as the verify page runs it -------------------------------------------
function goldenProof(txIndex = 2) {
  const { header, hashes } = blockTxHashes(hex('block.hex'));
  const cert = decodeCertificate(hex('certificate.hex'));
  return {
    tx_hash: toHex(hashes[txIndex]),
    block_number: 1,
    block_hash: toHex(H(header)),
    index: txIndex,
    tx_count: hashes.length,
    tx_root: toHex(decodeHeader(header).txRoot),
    proof: merkleProof(hashes, txIndex).map((h) => toHex(h)),
    header: toHex(header),
    certificate: {
      height: Number(cert.height), round: cert.round, block_hash: toHex(cert.blockHash),
      seals: cert.seals.map((s) => ({ validator: s.validator, signature: toHex(s.sig) })),
    },
  };
}
const genesisAnswer = {
  chain_id: 1337, genesis_hash: toHex(hex('genesis_hash.hex')), quorum: 2,
  validators: genesisJson.validators, genesis: genesisJson,
};

test('verifyReceipt: the golden vote passes every step', () => {
  const res = verifyReceipt({ txHash: toHex(hex('tx_hash.hex')), genesis: genesisAnswer, proof: goldenProof() });
  assert.ok(res.ok, JSON.stringify(res.steps, null, 1));
  assert.deepEqual(res.steps.map((s) => s.id), ['genesis', 'tx', 'header', 'hash', 'root', 'merkle', 'certificate']);
  assert.deepEqual(res.block.signers, [0, 1]);
  assert.match(res.steps.at(-1).detail, /validator-1, validator-2/);
  for (const i of [0, 1]) {
    const p = goldenProof(i);
    assert.ok(verifyReceipt({ txHash: p.tx_hash, genesis: genesisAnswer, proof: p }).ok, `tx ${i}`);
  }
});

test('verifyReceipt: each tampered byte of header, seal, proof hash is refused at its step', () => {
  const tx = toHex(hex('tx_hash.hex'));
  const failed = (proof, genesis = genesisAnswer, txHash = tx) => {
    const res = verifyReceipt({ txHash, genesis, proof });
    assert.ok(!res.ok);
    return res.steps.filter((s) => !s.ok).map((s) => s.id);
  };
  const header = fromHex(goldenProof().header);
  for (let i = 0; i < header.length; i++) {
    const p = goldenProof();
    p.header = toHex(flip(header, i));
    const f = failed(p);
    assert.ok(f.includes('hash') || f.includes('header'), `header byte ${i}: ${f}`);
  }
  // a consistent forgery: header and block hash both changed (e.g. another tx_root) fails at the certificate
  {
    const p = goldenProof();
    const h2 = flip(header, 70);
    p.header = toHex(h2);
    p.block_hash = toHex(H(h2));
    p.tx_root = toHex(decodeHeader(h2).txRoot);
    p.certificate.block_hash = p.block_hash;
    assert.deepEqual(failed(p), ['merkle', 'certificate']);
  }
  for (const [j, k] of [[0, 0], [0, 40], [1, 63], [1, 12]]) {
    const p = goldenProof();
    p.certificate.seals[j].signature = toHex(flip(fromHex(p.certificate.seals[j].signature), k));
    assert.deepEqual(failed(p), ['certificate'], `seal ${j} byte ${k}`);
  }
  for (const idx of [0, 2])
    for (const k of [0, 31]) {
      const j = 0;
      const p = goldenProof(idx);
      const txHash = p.tx_hash;
      p.proof[j] = toHex(flip(fromHex(p.proof[j]), k));
      assert.deepEqual(failed(p, genesisAnswer, txHash), ['merkle'], `tx ${idx} proof hash ${j} byte ${k}`);
      if (p.proof.length > 1) {
        const q = goldenProof(idx);
        q.proof[1] = toHex(flip(fromHex(q.proof[1]), k));
        assert.deepEqual(failed(q, genesisAnswer, txHash), ['merkle']);
      }
    }
  {
    const p = goldenProof();
    p.index = 1;
    assert.deepEqual(failed(p), ['merkle']);
  }
  {
    const p = goldenProof();
    p.certificate.seals.pop();
    assert.deepEqual(failed(p), ['certificate']);
  }
  // the proof is for another vote than the code asked about
  assert.deepEqual(failed(goldenProof(), genesisAnswer, toHex(flip(hex('tx_hash.hex'), 0))), ['tx', 'merkle']);
  // a genesis that does not hash to the announced hash; another validator key
  {
    const g = JSON.parse(JSON.stringify(genesisAnswer));
    g.genesis.validators[1].public_key = genesisJson.validators[2].public_key;
    assert.ok(failed(goldenProof(), g).includes('genesis'));
    g.genesis_hash = toHex(H(genesisEncoding(g.genesis)));
    assert.deepEqual(failed(goldenProof(), g), ['certificate']);
  }
});

// ---- validator-set changes: tests/data/golden/valset-receipts.json ---------------------------
// test_network(3)'s two changes as the validator answers them: change 1 (block 1, effective at
// 3) adds validator-4 (id 3) and removes id 0; change 2 (block 3, effective at 5) removes id 1.
// Blocks 1-2 are sealed by ids {0, 1}, blocks 3-5 by {2, 3}; receipts of a vote in block 3 and in 5.
const valset = JSON.parse(readFileSync(path.join(golden, 'valset-receipts.json'), 'utf8'));
const clone = (v) => JSON.parse(JSON.stringify(v));
/// Receipt k checked with `changes` (the vector's when not passed; undefined: no list at all).
const verifyValset = (k, ...rest) =>
  verifyReceipt({ txHash: valset.receipts[k].tx_hash, genesis: valset.genesis, proof: valset.receipts[k].proof,
    changes: rest.length ? rest[0] : valset.changes });
const failedSteps = (res) => res.steps.filter((st) => !st.ok).map((st) => st.id);

/// The test secret of key number i (tests/unit/support/fixtures.hpp seed(i)); ids 0..3 are keys 0..3.
const testSecret = (i) => Uint8Array.from({ length: 32 }, (_, b) => (i * 31 + b + 1) & 0xff);

/// Re-seals a change's raw block after `edit` rewrote the validator_set record's body: the record's
/// approvals re-signed by their validators when `resign` (so only the edit is wrong), tx hash, tx
/// root, header, proposer signature and every seal made again by their keys (`sealers` replaces
/// the certificate's signers; `proposerKey` signs as the proposer) — a block a quorum really
/// certified, holding the edited record (`signerKey`: the record's signer field replaced).
function reseal(rawHex, edit, { resign = true, sealers, proposerKey, signerKey } = {}) {
  const b = fromHex(rawHex);
  const r = new Reader(b);
  r.take(1);
  const header = decodeHeader(r.take(101));
  r.take(64);
  const txs = [];
  for (let i = 0; i < header.txCount; i++) {
    const start = r.pos;
    const tag = r.u8();
    r.take(tag === 0x01 ? 24 : 17);
    const lenAt = r.pos;
    const body = r.take(r.u32());
    r.take(72);
    const payloadEnd = r.pos;
    r.take(8);
    r.take(32 * r.u8() + 64);
    txs.push({ tag, kind: tag === 0x07 ? b[start + 9] : 0, head: b.slice(start, lenAt), body: Uint8Array.from(body),
      tail: b.slice(payloadEnd - 72, payloadEnd), auth: b.slice(payloadEnd, r.pos) });
  }
  const cert = decodeCertificate(b.subarray(r.pos));
  const chain = header.chainId;
  for (const t of txs) {
    if (t.kind !== 7) continue;
    t.body = Uint8Array.from(edit(t.body));
    if (signerKey !== undefined) t.tail.set(ed25519.getPublicKey(testSecret(signerKey)), 40);
    if (!resign) continue;
    // the approvals are the body's tail: u32 m ‖ m × (u32 id ‖ sig64) over 0x09 ‖ u64 chain ‖ the change before them
    const [first, m] = approvalsOf(t.body);
    const msg = concat(u8(0x09), u64(chain), t.body.subarray(0, first - 4));
    for (let k = 0; k < m; k++) {
      const at = first + 68 * k;
      const id = new DataView(t.body.buffer, t.body.byteOffset + at, 4).getUint32(0, false);
      if (id < 4) t.body.set(ed25519.sign(msg, testSecret(id)), at + 4);
    }
  }
  const encoded = txs.map((t) => concat(t.head, u32(t.body.length), t.body, t.tail));
  const hashes = encoded.map((e) => H(e));
  const hb = concat(u8(0x02), u64(chain), u64(header.height), u32(header.round), header.parent, u64(header.timestampMs),
    u32(header.proposer), merkleRoot(hashes), u32(txs.length));
  const bh = H(hb);
  const ids = sealers ?? cert.seals.map((x) => x.validator);
  const seals = ids.map((id) => concat(u32(id), ed25519.sign(sealMessage(chain, header.height, cert.round, bh), testSecret(id))));
  return toHex(concat(u8(0x06), hb, ed25519.sign(bh, testSecret(proposerKey ?? header.proposer)),
    ...encoded.map((e, i) => concat(e, txs[i].auth)),
    u8(0x04), u64(header.height), u32(cert.round), bh, u32(ids.length), ...seals));
}

/// The approvals' place in a validator_set body: [first approval's offset, count].
function approvalsOf(body) {
  for (let k = 0; k <= 256; k++) {
    const at = body.length - 4 - 68 * k;
    if (at >= 0 && new DataView(body.buffer, body.byteOffset + at, 4).getUint32(0, false) === k) return [at + 4, k];
  }
  throw new Error('no approvals');
}

const withChange1 = (raw, over = {}) => {
  const c = clone(valset.changes);
  c[0] = { ...c[0], raw_block: raw, ...over };
  return c;
};
const changesStep = (res) => res.steps.find((st) => st.id === 'changes');

test('valset vector: the test secrets are the genesis keys; resealing unchanged gives the same block', () => {
  valset.genesis.genesis.validators.forEach((v, i) => assert.equal(toHex(ed25519.getPublicKey(testSecret(i))), v.public_key));
  for (const c of valset.changes) assert.equal(reseal(c.raw_block, (body) => body), c.raw_block);
  const fb = decodeFinalizedBlock(fromHex(valset.changes[0].raw_block));
  assert.equal(fb.header.height, 1n);
  assert.deepEqual(fb.cert.seals.map((x) => x.validator), [0, 1]);
  assert.equal(fb.txs.length, 1);
  assert.equal(fb.txs[0].kind, 7);
  assert.throws(() => decodeFinalizedBlock(fromHex(valset.changes[0].raw_block).subarray(0, 300)), /truncated/);
});

test('changes: the schedule learns both changes, each certified by the set before it', () => {
  const sched = new ValidatorSchedule(valset.genesis.genesis);
  learnChanges(sched, valset.changes, 6n);
  assert.equal(sched.changes, 2);
  assert.deepEqual(sched.at(2).members, [0, 1, 2]);
  assert.deepEqual(sched.at(3).members, [1, 2, 3]);
  assert.deepEqual(sched.at(5).members, [2, 3]);
  assert.equal(sched.registry[3].name, 'validator-4');
  assert.equal(sched.epochs[1].recordedAt, 1n);
  assert.equal(sched.epochs[2].from, 5n);
  // only the changes recorded below the block are learned
  const s3 = new ValidatorSchedule(valset.genesis.genesis);
  learnChanges(s3, valset.changes, 3n);
  assert.equal(s3.changes, 1);
});

test('verifyReceipt with the changes: votes sealed by the changed set verify; without them they do not', () => {
  for (const k of [0, 1]) {
    const res = verifyValset(k);
    assert.ok(res.ok, JSON.stringify(res.steps, null, 1));
    assert.deepEqual(res.steps.map((st) => st.id), ['genesis', 'tx', 'header', 'hash', 'root', 'merkle', 'changes', 'certificate']);
    assert.deepEqual(res.block.signers, [2, 3]);
    assert.equal(res.changes, k + 1);
    assert.deepEqual(res.validators.map((v) => v.name), k === 0 ? ['validator-2', 'validator-3', 'validator-4'] : ['validator-3', 'validator-4']);
    assert.match(res.steps.at(-1).detail, /validator-3, validator-4/);
    const without = verifyValset(k, undefined);
    assert.deepEqual(failedSteps(without), ['certificate']);
    assert.match(without.steps.at(-1).detail, /validator 3 is not in the genesis/);
    // a backend that knows of no change: the genesis set is asked to have sealed it
    assert.deepEqual(failedSteps(verifyValset(k, [])), ['certificate']);
  }
  assert.match(changesStep(verifyValset(0)).detail, /^1 change/);
  assert.match(changesStep(verifyValset(1)).detail, /^2 change/);
  // block 3's receipt needs change 1 only: a broken change 2 does not matter to it
  const broken2 = clone(valset.changes);
  broken2[1].raw_block = '0x06';
  assert.ok(verifyValset(0, broken2).ok);
  assert.deepEqual(failedSteps(verifyValset(1, broken2)), ['changes', 'certificate']);
});

test('verifyReceipt refuses changes that do not check, each at the changes step', () => {
  const raw1 = valset.changes[0].raw_block;
  const refused = (changes, why) => {
    const res = verifyValset(1, changes);
    assert.deepEqual(failedSteps(res), ['changes', 'certificate'], why);
    assert.match(changesStep(res).detail, why);
  };
  // a change approved by one validator where the quorum is 2, in a block its set really certified
  refused(withChange1(reseal(raw1, (body) => {
    const [at] = approvalsOf(body);
    return concat(body.subarray(0, at - 4), u32(1), body.subarray(at, at + 68));
  })), /change_not_approved/);
  // an approval that is not a valid signature
  refused(withChange1(reseal(raw1, (body) => {
    const [at] = approvalsOf(body);
    const c = Uint8Array.from(body);
    c[at + 4 + 10] ^= 1;
    return c;
  }, { resign: false })), /bad_change_approval/);
  // approvals by a validator outside the set (id 3 approves itself in, before it is known)
  refused(withChange1(reseal(raw1, (body) => {
    const [at] = approvalsOf(body);
    const c = Uint8Array.from(body);
    c.set(u32(3), at + 68);
    return c;
  })), /change_not_approved|bad_change_approval/);
  // the change takes effect at the height that recorded it
  refused(withChange1(reseal(raw1, (body) => {
    const c = Uint8Array.from(body);
    c.set(u64(1), 9);
    return c;
  })), /change_bad_height/);
  // the change's block sealed by one validator only, or by the set the change itself makes
  refused(withChange1(reseal(raw1, (body) => body, { sealers: [0] })), /too_few_seals|seals, at least/);
  refused(withChange1(reseal(raw1, (body) => body, { sealers: [2, 3] })), /not in the validator set of block 1/);
  // a record sent by a key outside the set then active (key 3 before the change adds it)
  refused(withChange1(reseal(raw1, (body) => body, { signerKey: 3 })), /unauthorized/);
  // a block certified by its set but signed by another validator than the proposer of its round
  refused(withChange1(reseal(raw1, (body) => body, { proposerKey: 2 })), /proposer/);
  // any flipped byte of the raw block (without resealing)
  for (const i of [1, 60, 103, 200, 400]) {
    const b = fromHex(raw1);
    b[i] ^= 1;
    refused(withChange1(toHex(b)), /validator-set change 1/);
  }
  // the entries lie about the block: another height, another effective height, out of order, missing
  refused(withChange1(raw1, { height: 2 }), /not block 2|change 1/);
  refused(withChange1(raw1, { effective_height: 4 }), /effective height/);
  refused([valset.changes[1], valset.changes[0]], /change 2 came instead/);
  refused([valset.changes[1]], /change 2 came instead/);
  refused(withChange1(valset.changes[1].raw_block, { height: 3 }), /block 3/);
  refused('junk', /not a list/);
  refused([null], /does not decode/);
});
