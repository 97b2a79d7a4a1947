// The receipt verifier: checks in the browser that a vote is in a final block, from the
// genesis validators' keys alone (docs/data-format.md §3 header and block hash, §5 Merkle
// audit paths (RFC 6962), §6 seal message and certificate, §8 genesis and its hash, §17
// validator-set changes; docs/api.md poa_getTransactionProof and poa_getValidatorChanges).
// A port of tests/tools/verify_golden.py's checks and verify_election.py's Schedule.
import { ed25519 } from '@noble/curves/ed25519.js';
import { sha256, sha512 } from '@noble/hashes/sha2.js';
import { concat, u8, u32, u64, utf8, fromHex, toHex, equalBytes, leToBig, Reader } from './bytes.js';

export const H = (b) => sha256(b);
const L = 2n ** 252n + 27742317777372353535851937790883648493n;
const P = 2n ** 255n - 19n;

// ---- Ed25519 with data-format.md §1's rules ----------------------------------------------
// Encodings (bit 255 ignored) of the small-order points and the non-canonical ones among them.
const SMALL_ORDER_Y = new Set([
  0n, 1n, P - 1n, P, P + 1n,
  leToBig(fromHex('26e8958fc2b227b045c3f489f2ef98f0d5dfac05d3c63339b13802886d53fc05')),
  leToBig(fromHex('c7176a703d4dd84fba3c0b760d10670f2a2053fa2c39ccc64ec7fd7792ac037a')),
]);
const MASK255 = (1n << 255n) - 1n;
const EdPoint = ed25519.Point;

/// RFC 8032 Ed25519 verification with the chain's rules: canonical S (< L), no small-order A
/// or R, A canonical, and the cofactorless equation compared on the canonical encoding of
/// [S]B − [k]A against R.
export function ed25519Verify(pub, msg, sig) {
  if (pub.length !== 32 || sig.length !== 64) return false;
  for (const e of [pub, sig.subarray(0, 32)]) if (SMALL_ORDER_Y.has(leToBig(e) & MASK255)) return false;
  const s = leToBig(sig.subarray(32));
  if (s >= L) return false;
  let A;
  try {
    A = EdPoint.fromBytes(pub, false);
  } catch {
    return false;
  }
  const k = leToBig(sha512(concat(sig.subarray(0, 32), pub, msg))) % L;
  const check = EdPoint.BASE.multiplyUnsafe(s).subtract(A.multiplyUnsafe(k));
  return equalBytes(check.toBytes(), sig.subarray(0, 32));
}

// ---- header (§3) ---------------------------------------------------------------------------
export const HEADER_BYTES = 101;

/// Strict decode of a 101-byte header (tag 0x02). Throws with the reason.
export function decodeHeader(bytes) {
  if (bytes.length !== HEADER_BYTES) throw new Error(`header is ${bytes.length} bytes, expected ${HEADER_BYTES}`);
  const r = new Reader(bytes);
  const tag = r.u8();
  if (tag !== 0x02) throw new Error(`header tag 0x${tag.toString(16)}, expected 0x02`);
  const h = {
    chainId: r.u64(), height: r.u64(), round: r.u32(), parent: r.take(32), timestampMs: r.u64(),
    proposer: r.u32(), txRoot: r.take(32), txCount: r.u32(),
  };
  r.done();
  return h;
}

// ---- Merkle tree (§5, RFC 6962) --------------------------------------------------------------
const leafHash = (d) => H(concat(u8(0), d));
const nodeHash = (l, r) => H(concat(u8(1), l, r));

function largestPow2Below(n) {
  let k = 1;
  while (k * 2 < n) k *= 2;
  return k;
}

/// MTH over the tx hashes in block order.
export function merkleRoot(hashes) {
  if (hashes.length === 0) return H(new Uint8Array(0));
  if (hashes.length === 1) return leafHash(hashes[0]);
  const k = largestPow2Below(hashes.length);
  return nodeHash(merkleRoot(hashes.slice(0, k)), merkleRoot(hashes.slice(k)));
}

/// RFC 6962 §2.1.1 audit path for leaf i, leaf's sibling first.
export function merkleProof(hashes, i) {
  if (hashes.length <= 1) return [];
  const k = largestPow2Below(hashes.length);
  if (i < k) return [...merkleProof(hashes.slice(0, k), i), merkleRoot(hashes.slice(k))];
  return [...merkleProof(hashes.slice(k), i - k), merkleRoot(hashes.slice(0, k))];
}

/// RFC 9162 §2.1.3.2 verification of an audit path (data-format.md §5, line for line).
export function merkleVerify(leaf, index, count, path, root) {
  if (!(index < count)) return false;
  let fn = BigInt(index);
  let sn = BigInt(count) - 1n;
  let r = leafHash(leaf);
  for (const p of path) {
    if (sn === 0n) return false;
    if (fn % 2n === 1n || fn === sn) {
      r = nodeHash(p, r);
      if (fn % 2n === 0n) {
        while (fn !== 0n && fn % 2n === 0n) {
          fn >>= 1n;
          sn >>= 1n;
        }
      }
    } else {
      r = nodeHash(r, p);
    }
    fn >>= 1n;
    sn >>= 1n;
  }
  return sn === 0n && equalBytes(r, root);
}

// ---- seals and certificates (§6) ------------------------------------------------------------
/// u8 0x03 ‖ u64 chain_id ‖ u64 height ‖ u32 round ‖ bytes32 block hash (53 bytes).
export function sealMessage(chainId, height, round, blockHash) {
  return concat(u8(0x03), u64(chainId), u64(height), u32(round), blockHash);
}

/// q = ceil(2n/3).
export const quorumOf = (n) => Math.ceil((2 * n) / 3);

function jsonInt(v, what) {
  if (typeof v === 'number' && Number.isSafeInteger(v) && v >= 0) return BigInt(v);
  if (typeof v === 'string' && /^0x[0-9a-fA-F]+$/.test(v)) return BigInt(v);
  if (typeof v === 'string' && /^[0-9]+$/.test(v)) return BigInt(v);
  throw new Error(`${what}: not an unsigned integer`);
}

/// A certificate from its JSON (json.hpp to_json: {height, round, block_hash, seals:[{validator, signature}]}).
export function certFromJson(o) {
  if (!o || typeof o !== 'object') throw new Error('certificate: not an object');
  if (!Array.isArray(o.seals) || o.seals.length > 256) throw new Error('certificate: seals missing or too many');
  return {
    height: jsonInt(o.height, 'certificate height'),
    round: Number(jsonInt(o.round, 'certificate round')),
    blockHash: fromHex(o.block_hash, 32),
    seals: o.seals.map((s) => ({ validator: Number(jsonInt(s.validator, 'seal validator')), sig: fromHex(s.signature, 64) })),
  };
}

/// A certificate from its binary encoding (tag 0x04), strict.
export function decodeCertificate(bytes) {
  const r = new Reader(bytes);
  if (r.u8() !== 0x04) throw new Error('certificate tag, expected 0x04');
  const c = { height: r.u64(), round: r.u32(), blockHash: r.take(32), seals: [] };
  const m = r.u32();
  if (m > 256) throw new Error('more than 256 seals');
  if (m * 68 > r.left()) throw new Error('seals truncated');
  for (let j = 0; j < m; j++) c.seals.push({ validator: r.u32(), sig: r.take(64) });
  r.done();
  return c;
}

/// data-format.md §6 in its order. keys: every validator key by id (the genesis's, then those
/// changes added: ValidatorSchedule.keys); members: the ids of the set deciding `height`
/// (ascending; all of `keys` when not given, as for a chain whose set never changed).
/// Returns {ok, reason, signers:[ids], detail}.
export function checkCertificate({ chainId, keys, members, height, headerRound, blockHash, cert }) {
  const active = members ?? keys.map((_, i) => i);
  const n = active.length;
  const q = quorumOf(n);
  if (cert.height !== BigInt(height) || !equalBytes(cert.blockHash, blockHash))
    return { ok: false, reason: 'cert_wrong_block', detail: 'the certificate is for another block' };
  if (cert.round < headerRound) return { ok: false, reason: 'cert_wrong_round', detail: 'certificate round before the block round' };
  if (cert.seals.length < q)
    return { ok: false, reason: 'cert_too_few_seals', detail: `${cert.seals.length} seals, at least ${q} of ${n} needed` };
  const msg = sealMessage(chainId, height, cert.round, blockHash);
  let prev = -1;
  const signers = [];
  for (const s of cert.seals) {
    if (!(s.validator < keys.length) || !active.includes(s.validator)) {
      const where = members ? `the validator set of block ${height}` : 'the genesis';
      return { ok: false, reason: 'cert_unknown_validator', detail: `validator ${s.validator} is not in ${where}` };
    }
    if (s.validator <= prev) return { ok: false, reason: 'cert_duplicate_seal', detail: `validator ${s.validator} sealed twice or out of order` };
    prev = s.validator;
    if (!ed25519Verify(keys[s.validator], msg, s.sig))
      return { ok: false, reason: 'cert_bad_seal', detail: `the seal of validator ${s.validator} is not a valid signature` };
    signers.push(s.validator);
  }
  return { ok: true, signers, detail: `${signers.length} valid seals of distinct validators, at least ${q} of ${n} needed` };
}

// ---- genesis (§8, §11) ----------------------------------------------------------------------
const GENESIS_DEFAULTS = {
  block_interval_ms: 5000, max_block_txs: 32, empty_blocks: false, round_timeout_ms: 2000,
  round_timeout_max_ms: 60000, max_encrypted_vote_bytes: 4096,
};

/// The genesis binary encoding from its JSON (defaults as in verify_election.py's loader).
export function genesisEncoding(j) {
  const g = { ...GENESIS_DEFAULTS, ...j };
  const parts = [u8(0x05), u64(jsonInt(g.chain_id, 'chain_id')), u64(jsonInt(g.timestamp_ms, 'timestamp_ms'))];
  if (!Array.isArray(g.validators)) throw new Error('genesis: no validators');
  parts.push(u32(g.validators.length));
  for (const v of g.validators) {
    const name = utf8(v.name);
    parts.push(u32(name.length), name, fromHex(v.public_key, 32));
  }
  const subs = g.submitters ?? [];
  parts.push(u32(subs.length), ...subs.map((s) => fromHex(s, 32)));
  parts.push(u64(jsonInt(g.block_interval_ms, 'block_interval_ms')), u32(jsonInt(g.max_block_txs, 'max_block_txs')),
    u8(g.empty_blocks ? 1 : 0), u64(jsonInt(g.round_timeout_ms, 'round_timeout_ms')),
    u64(jsonInt(g.round_timeout_max_ms, 'round_timeout_max_ms')), u32(jsonInt(g.max_encrypted_vote_bytes, 'max_encrypted_vote_bytes')));
  // The optional flags (§8): only when one is set, so an older genesis keeps its hash.
  if (g.elections_defined === true) parts.push(u32(1));
  else if (g.elections_defined !== undefined && g.elections_defined !== false) throw new Error('genesis: elections_defined must be a boolean');
  return concat(...parts);
}

// ---- validator-set changes (protocol.md §12, data-format.md §17) ------------------------------
// A port of tests/tools/verify_election.py's Schedule and of the C++ light verifier's
// learn_changes (client/light_verify.hpp): the genesis set, then each change checked against
// the sets known before it, in order.
const MAX_VALIDATORS = 256;
const MAX_REGISTRY = 1024;
const MAX_SUBMITTERS = 1024;
const MAX_NAME = 64;
const MAX_LEAD = 1000000n;
const MAX_BATCH = 65536;
const MAX_BODY = 65536; // the codec's bound of a vote's encrypted_vote and a record's body
const MAX_BLOCK_TXS = 100000;
const MIN_TX = 158; // the smallest transaction: an election record with an empty body
const MAX_CHANGES = 1024; // changes the page follows (the registry holds at most 1024 validators)
const KIND_VALIDATOR_SET = 7;
const SLOT_PREFIX = utf8('ballotchain-slot');

/// Length of the RFC 6962 audit path of leaf `index` in a tree of `size` leaves.
function pathLength(index, size) {
  let n = 0;
  while (size > 1) {
    const k = largestPow2Below(size);
    if (index < k) size = k;
    else {
      index -= k;
      size -= k;
    }
    n++;
  }
  return n;
}

/// A u32 count bounded by `bound` and by the bytes left (`minSize` each), before anything is allocated.
function count(r, bound, what, minSize) {
  const n = r.u32();
  if (n > bound) throw new Error(`${what}: ${n}, above ${bound}`);
  if (n * minSize > r.left()) throw new Error(`${what}: ${n}, truncated`);
  return n;
}

/// A transaction (tag 0x01 vote, 0x07 election record) and its hash (data-format.md §2):
/// hash = SHA-256 of the payload, everything before the authorization.
function readTx(r) {
  const start = r.pos;
  const tag = r.u8();
  const tx = { tag };
  if (tag === 0x01) {
    tx.chainId = r.u64();
    tx.electionId = r.u64();
    tx.candidateId = r.u64();
    tx.kind = 0;
  } else if (tag === 0x07) {
    tx.chainId = r.u64();
    tx.kind = r.u8();
    if (tx.kind < 1 || tx.kind > 7) throw new Error(`election record of unknown kind ${tx.kind}`);
    tx.electionId = r.u64();
  } else {
    throw new Error(`transaction tag 0x${tag.toString(16)}`);
  }
  const n = r.u32();
  if (n > MAX_BODY) throw new Error(`transaction body of ${n} bytes, above ${MAX_BODY}`);
  tx.body = r.take(n);
  tx.voterTag = r.take(32);
  tx.timestampMs = r.u64();
  tx.signer = r.take(32);
  tx.hash = H(r.b.subarray(start, r.pos));
  const size = r.u32();
  const index = r.u32();
  const p = r.u8();
  if (size === 0 || size > MAX_BATCH || index >= size || p !== pathLength(index, size))
    throw new Error(`non-canonical batch position (size ${size}, index ${index}, path of ${p})`);
  r.take(32 * p + 64);
  return tx;
}

/// A block (tag 0x06: header, proposer signature, transactions) from `r`, strict.
function readBlock(r) {
  if (r.u8() !== 0x06) throw new Error('block tag, expected 0x06');
  const headerBytes = r.take(HEADER_BYTES);
  const header = decodeHeader(headerBytes);
  const proposerSig = r.take(64);
  if (header.txCount > MAX_BLOCK_TXS || header.txCount * MIN_TX > r.left())
    throw new Error(`${header.txCount} transactions: above the bound or truncated`);
  const txs = [];
  for (let i = 0; i < header.txCount; i++) txs.push(readTx(r));
  return { header, headerBytes, hash: H(headerBytes), proposerSig, txs };
}

/// A block alone (data-format.md §4), strict: {header, headerBytes, hash, proposerSig, txs}.
export function decodeBlock(bytes) {
  const r = new Reader(bytes);
  const b = readBlock(r);
  r.done();
  return b;
}

/// A finalized block (the block, then its certificate), strict; also `cert`.
export function decodeFinalizedBlock(bytes) {
  const r = new Reader(bytes);
  const b = readBlock(r);
  return { ...b, cert: decodeCertificate(r.b.subarray(r.pos)) };
}

/// A validator_set record's body (§17) -> {change, changeBytes, approvals:[{validator, sig}]}.
function readChange(body) {
  const r = new Reader(body);
  if (r.u8() !== 1) throw new Error('validator-set change version is not 1 (bad_validator_change)');
  const c = { sequence: r.u64(), effective: r.u64(), add: [], remove: [], addSubmitters: [], removeSubmitters: [] };
  for (let i = count(r, MAX_VALIDATORS, 'validators added', 36); i > 0; i--) {
    const name = r.take(count(r, MAX_NAME, 'validator name', 1));
    c.add.push({ name: new TextDecoder().decode(name), nameLength: name.length, key: r.take(32) });
  }
  for (let i = count(r, MAX_VALIDATORS, 'validators removed', 4); i > 0; i--) c.remove.push(r.u32());
  for (let i = count(r, MAX_SUBMITTERS, 'submitters added', 32); i > 0; i--) c.addSubmitters.push(r.take(32));
  for (let i = count(r, MAX_SUBMITTERS, 'submitters removed', 32); i > 0; i--) c.removeSubmitters.push(r.take(32));
  const changeBytes = body.subarray(0, r.pos);
  const approvals = [];
  for (let i = count(r, MAX_VALIDATORS, 'approvals', 68); i > 0; i--) approvals.push({ validator: r.u32(), sig: r.take(64) });
  r.done();
  return { change: c, changeBytes, approvals };
}

/// An Ed25519 key a change may add: canonical, decodable, not of small order.
function keyUsable(k) {
  if ((leToBig(k) & MASK255) >= P || SMALL_ORDER_Y.has(leToBig(k) & MASK255)) return false;
  try {
    EdPoint.fromBytes(k, false);
    return true;
  } catch {
    return false;
  }
}

const hasKey = (list, k) => list.some((x) => equalBytes(x, k));
const distinct = (list) => list.every((k, i) => !list.slice(0, i).some((x) => equalBytes(x, k)));

/// Every validator the chain has known (ids: genesis order, then each one a change added) and
/// the set deciding each height: the genesis's, then one per change learned.
export class ValidatorSchedule {
  constructor(genesisJson) {
    this.chainId = jsonInt(genesisJson.chain_id, 'chain_id');
    this.registry = genesisJson.validators.map((v) => ({ name: String(v.name), key: fromHex(v.public_key, 32) }));
    this.epochs = [{
      from: 0n, recordedAt: 0n, members: this.registry.map((_, i) => i),
      submitters: (genesisJson.submitters ?? []).map((k) => fromHex(k, 32)),
    }];
  }

  get keys() {
    return this.registry.map((v) => v.key);
  }

  /// Changes learned so far (the next one must carry sequence changes + 1).
  get changes() {
    return this.epochs.length - 1;
  }

  /// The set deciding `height`.
  at(height) {
    const h = BigInt(height);
    for (let i = this.epochs.length - 1; i > 0; i--) if (this.epochs[i].from <= h) return this.epochs[i];
    return this.epochs[0];
  }

  /// Checks the validator_set record `tx` found in the block at `height` (`rec`: its body as
  /// readChange reads it) as the validators do (chain/validator_set.hpp check), then schedules
  /// it. Throws with the reason.
  apply(tx, height, rec = readChange(tx.body)) {
    const h = BigInt(height);
    const { change: c, changeBytes, approvals } = rec;
    const slot = concat(SLOT_PREFIX, new Uint8Array(4), u64(c.sequence), u8(KIND_VALIDATOR_SET), new Uint8Array(3));
    if (tx.electionId !== 0n || !equalBytes(tx.voterTag, slot)) throw new Error('not in its slot (wrong_slot_tag)');
    const cur = this.at(h);
    if (!cur.members.some((id) => equalBytes(this.registry[id].key, tx.signer)))
      throw new Error('not sent by a validator of the set then active (unauthorized)');
    const msg = concat(u8(0x09), u64(this.chainId), changeBytes);
    for (const a of approvals)
      if (!(a.validator < this.registry.length) || !ed25519Verify(this.registry[a.validator].key, msg, a.sig))
        throw new Error(`the approval of validator ${a.validator} is not a valid signature (bad_change_approval)`);
    if (c.sequence !== BigInt(this.epochs.length)) throw new Error(`change ${c.sequence}, expected ${this.epochs.length} (change_out_of_order)`);
    if (this.epochs[this.epochs.length - 1].from > h) throw new Error('the previous change is not in effect yet (change_pending)');
    if (c.effective <= h || c.effective - h > MAX_LEAD) throw new Error(`effective height ${c.effective} (change_bad_height)`);
    const bad = 'bad_validator_change';
    if (!(c.add.length || c.remove.length || c.addSubmitters.length || c.removeSubmitters.length)) throw new Error(`changes nothing (${bad})`);
    if (this.registry.length + c.add.length > MAX_REGISTRY) throw new Error(`registry above ${MAX_REGISTRY} (${bad})`);
    const added = c.add.map((v) => v.key);
    for (const v of c.add)
      if (v.nameLength < 1 || !keyUsable(v.key) || hasKey(this.keys, v.key)) throw new Error(`a validator added is invalid or known (${bad})`);
    if (!distinct(added)) throw new Error(`a validator added twice (${bad})`);
    c.remove.forEach((v, i) => {
      if (!cur.members.includes(v) || (i > 0 && v <= c.remove[i - 1])) throw new Error(`removed ids not active and ascending (${bad})`);
    });
    const nAfter = cur.members.length - c.remove.length + c.add.length;
    if (nAfter < 1 || nAfter > MAX_VALIDATORS) throw new Error(`a set of ${nAfter} validators (${bad})`);
    const subs = cur.submitters;
    if (c.addSubmitters.some((k) => !keyUsable(k) || hasKey(subs, k)) || !distinct(c.addSubmitters) ||
        c.removeSubmitters.some((k) => !hasKey(subs, k)) || !distinct(c.removeSubmitters) ||
        subs.length - c.removeSubmitters.length + c.addSubmitters.length > MAX_SUBMITTERS)
      throw new Error(`submitter keys added or removed are invalid (${bad})`);
    approvals.forEach((a, i) => {
      if (!cur.members.includes(a.validator) || (i > 0 && a.validator <= approvals[i - 1].validator))
        throw new Error('approvals not by active validators, ascending (change_not_approved)');
    });
    const q = quorumOf(cur.members.length);
    if (approvals.length < q) throw new Error(`${approvals.length} approvals, quorum ${q} (change_not_approved)`);
    const members = cur.members.filter((v) => !c.remove.includes(v));
    for (const v of c.add) {
      members.push(this.registry.length);
      this.registry.push({ name: v.name, key: v.key });
    }
    this.epochs.push({
      from: c.effective, recordedAt: h, members: members.sort((a, b) => a - b),
      submitters: [...subs.filter((k) => !hasKey(c.removeSubmitters, k)), ...c.addSubmitters],
    });
  }
}

/// Checks a finalized block against the sets `schedule` knows (as the C++ light verifier's
/// check_block): chain, certificate by the set of its height, transaction count and root, the
/// proposer of (height, round) and its signature. Throws with the reason.
export function checkBlock(schedule, fb) {
  const h = fb.header;
  if (h.chainId !== schedule.chainId) throw new Error(`block of chain ${h.chainId}, not ${schedule.chainId}`);
  const set = schedule.at(h.height);
  const res = checkCertificate({
    chainId: schedule.chainId, keys: schedule.keys, members: set.members, height: h.height, headerRound: h.round,
    blockHash: fb.hash, cert: fb.cert,
  });
  if (!res.ok) throw new Error(`certificate: ${res.detail} (${res.reason})`);
  for (const tx of fb.txs) if (tx.chainId !== schedule.chainId) throw new Error('a transaction of another chain');
  if (!equalBytes(merkleRoot(fb.txs.map((t) => t.hash)), h.txRoot)) throw new Error("the transactions do not hash to the header's root");
  const proposer = set.members[Number((h.height + BigInt(h.round)) % BigInt(set.members.length))];
  if (h.proposer !== proposer || !ed25519Verify(schedule.registry[proposer].key, fb.hash, fb.proposerSig))
    throw new Error('proposer or proposer signature is wrong');
}

/// Learns, into `schedule`, the validator-set changes of GET /api/chain/validator-changes
/// (poa_getValidatorChanges' entries {sequence, height, effective_height, raw_block}) recorded
/// below `belowHeight` (all of them when it is undefined): each change's block must be final under the sets known before it and
/// record that very change, approved by a quorum of the set then active. Throws with the
/// reason; the schedule then holds the changes learned before the one refused.
export function learnChanges(schedule, changes, belowHeight) {
  if (!Array.isArray(changes) || changes.length > MAX_CHANGES) throw new Error(`not a list of at most ${MAX_CHANGES} changes`);
  for (const e of changes) {
    const seq = schedule.changes + 1;
    const name = `validator-set change ${seq}`;
    if (!e || typeof e !== 'object' || typeof e.raw_block !== 'string') throw new Error(`${name}: the entry does not decode`);
    const height = jsonInt(e.height, `${name}: height`);
    if (belowHeight !== undefined && height >= BigInt(belowHeight)) break;
    if (jsonInt(e.sequence, `${name}: sequence`) !== BigInt(seq)) throw new Error(`${name}: change ${e.sequence} came instead`);
    let fb;
    try {
      fb = decodeFinalizedBlock(fromHex(e.raw_block));
    } catch (err) {
      throw new Error(`${name}: its block does not decode: ${err.message}`);
    }
    if (fb.header.height !== height) throw new Error(`${name}: its block is not block ${height}`);
    try {
      checkBlock(schedule, fb);
    } catch (err) {
      throw new Error(`${name}: its block ${height}: ${err.message}`);
    }
    for (const tx of fb.txs) {
      if (tx.tag !== 0x07 || tx.kind !== KIND_VALIDATOR_SET) continue;
      try {
        const rec = readChange(tx.body);
        if (rec.change.sequence <= BigInt(schedule.changes)) continue; // known already
        schedule.apply(tx, height, rec);
      } catch (err) {
        throw new Error(`${name}: ${err.message}`);
      }
    }
    if (schedule.changes < seq) throw new Error(`${name}: block ${height} does not record it`);
    if (jsonInt(e.effective_height, `${name}: effective_height`) !== schedule.epochs[seq].from)
      throw new Error(`${name}: the effective height is not the change's`);
  }
  return schedule;
}

// ---- the receipt check, step by step -----------------------------------------------------------
/// Checks poa_getTransactionProof's answer against the genesis (GET /api/chain/genesis) and,
/// when `changes` is given (GET /api/chain/validator-changes: the validator-set changes from the
/// first), against the set that decided the block: each change recorded below the block is
/// learned first, certified by the set before it. `txHash` is the tracking code the person asked
/// about (hex). Returns {ok, steps:[{id, label, ok, detail}], block:{...}}: every step is run that
/// can be, and the whole is ok only when every step passed.
export function verifyReceipt({ txHash, genesis, proof, changes }) {
  const steps = [];
  const step = (id, label, fn) => {
    try {
      const res = fn();
      const ok = res === true || (res && res.ok === true);
      steps.push({ id, label, ok, detail: typeof res === 'object' ? res.detail : undefined });
      return ok;
    } catch (e) {
      steps.push({ id, label, ok: false, detail: e.message });
      return false;
    }
  };
  let chainId;
  let schedule;
  let header;
  let headerBytes;
  let blockHash;
  let txBytes;
  let signers = [];

  // 1. the genesis: the validators' keys come from the genesis whose hash people can compare
  step('genesis', 'The genesis matches its hash and names the validators', () => {
    const g = genesis.genesis;
    if (!g) throw new Error('no genesis in the answer');
    const hash = H(genesisEncoding(g));
    if (genesis.genesis_hash && !equalBytes(hash, fromHex(genesis.genesis_hash, 32)))
      return { ok: false, detail: `the genesis hashes to ${toHex(hash)}, not the ${genesis.genesis_hash} announced` };
    chainId = jsonInt(g.chain_id, 'chain_id');
    schedule = new ValidatorSchedule(g);
    const n = schedule.registry.length;
    return { ok: true, detail: `genesis hash ${toHex(hash)}, chain ${chainId}, ${n} validators, quorum ${quorumOf(n)}` };
  });

  step('tx', 'The proof is for this tracking code', () => {
    txBytes = fromHex(txHash, 32);
    const p = fromHex(proof.tx_hash, 32);
    if (!equalBytes(txBytes, p)) return { ok: false, detail: `the proof is for ${proof.tx_hash}` };
    return { ok: true, detail: toHex(txBytes) };
  });

  step('header', 'The block header decodes', () => {
    headerBytes = fromHex(proof.header);
    header = decodeHeader(headerBytes);
    if (chainId !== undefined && header.chainId !== chainId)
      return { ok: false, detail: `header of chain ${header.chainId}, not ${chainId}` };
    if (BigInt(proof.block_number) !== header.height)
      return { ok: false, detail: `header of block ${header.height}, the answer says ${proof.block_number}` };
    return { ok: true, detail: `block ${header.height}, round ${header.round}, ${header.txCount} transactions` };
  });

  step('hash', 'SHA-256 of the header is the block hash', () => {
    if (!headerBytes) throw new Error('no header');
    blockHash = H(headerBytes);
    const claimed = fromHex(proof.block_hash, 32);
    if (!equalBytes(blockHash, claimed)) return { ok: false, detail: `the header hashes to ${toHex(blockHash)}` };
    return { ok: true, detail: toHex(blockHash) };
  });

  step('root', "The header's transaction root is the proof's root", () => {
    if (!header) throw new Error('no header');
    if (!equalBytes(header.txRoot, fromHex(proof.tx_root, 32))) return { ok: false, detail: `header root ${toHex(header.txRoot)}` };
    if (Number(proof.tx_count) !== header.txCount) return { ok: false, detail: `header counts ${header.txCount} transactions` };
    return { ok: true, detail: toHex(header.txRoot) };
  });

  step('merkle', 'The Merkle path leads from the tracking code to the root', () => {
    if (!header || !txBytes) throw new Error('no header or tracking code');
    const path = (proof.proof ?? []).map((h) => fromHex(h, 32));
    const idx = Number(proof.index);
    if (!Number.isSafeInteger(idx) || idx < 0) throw new Error('bad index');
    const ok = merkleVerify(txBytes, idx, header.txCount, path, header.txRoot);
    return { ok, detail: ok ? `position ${idx} of ${header.txCount}, ${path.length} hashes` : 'the path does not reach the root' };
  });

  // Only with the changes' list: a chain whose set never changed shows the steps it always had.
  let changesOk = true;
  if (changes !== undefined)
    changesOk = step('changes', 'Each change of the validators before this block was signed by the validators before it', () => {
      if (!header || !schedule) throw new Error('no header or genesis');
      learnChanges(schedule, changes, header.height);
      if (schedule.changes === 0) return { ok: true, detail: 'no change before this block: the genesis validators decide it' };
      const set = schedule.at(header.height);
      const names = set.members.map((i) => schedule.registry[i].name).join(', ');
      return { ok: true, detail: `${schedule.changes} change(s) learned, each approved by a quorum and final; block ${header.height} is decided by ${names}` };
    });

  const who = changes === undefined ? 'genesis validators' : 'the validators of this block';
  step('certificate', `A quorum of ${who} signed this block final`, () => {
    if (!header || !blockHash || !schedule) throw new Error('no header, block hash or genesis');
    if (!changesOk) throw new Error("the validators of this block are not known: a change before it failed its check");
    const cert = certFromJson(proof.certificate);
    const members = changes === undefined ? undefined : schedule.at(header.height).members;
    const res = checkCertificate({ chainId, keys: schedule.keys, members, height: header.height, headerRound: header.round, blockHash, cert });
    if (res.ok) {
      signers = res.signers;
      const names = signers.map((i) => schedule.registry[i].name).join(', ');
      return { ok: true, detail: `${res.detail}: ${names}` };
    }
    return res;
  });

  return {
    ok: steps.every((s) => s.ok),
    steps,
    block: header ? { height: header.height, round: header.round, hash: blockHash && toHex(blockHash), signers } : null,
    // the set that decided the block, and the changes learned to know it
    validators: schedule && header ? schedule.at(header.height).members.map((i) => schedule.registry[i]) : [],
    changes: schedule ? schedule.changes : 0,
  };
}
