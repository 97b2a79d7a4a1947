// The receipt verifier: checks in the browser that a vote is in a final block, from the
// genesis validators' keys alone (docs/data-format.md §3 header and block hash, §5 Merkle
// audit paths (RFC 6962), §6 seal message and certificate, §8 genesis and its hash;
// docs/api.md poa_getTransactionProof). A port of tests/tools/verify_golden.py's checks.
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

/// data-format.md §6 in its order. keys: the genesis validator keys (Uint8Array 32 each).
/// Returns {ok, reason, signers:[indices], detail}.
export function checkCertificate({ chainId, keys, height, headerRound, blockHash, cert }) {
  const n = keys.length;
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
    if (!(s.validator < n)) return { ok: false, reason: 'cert_unknown_validator', detail: `validator ${s.validator} is not in the genesis` };
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

// ---- the receipt check, step by step -----------------------------------------------------------
/// Checks poa_getTransactionProof's answer against the genesis (GET /api/chain/genesis).
/// `txHash` is the tracking code the person asked about (hex). Returns
/// {ok, steps:[{id, label, ok, detail}], block:{...}}: every step is run that can be, and the
/// whole is ok only when every step passed.
export function verifyReceipt({ txHash, genesis, proof }) {
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
  let keys;
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
    keys = g.validators.map((v) => fromHex(v.public_key, 32));
    return { ok: true, detail: `genesis hash ${toHex(hash)}, chain ${chainId}, ${keys.length} validators, quorum ${quorumOf(keys.length)}` };
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

  step('certificate', 'A quorum of genesis validators signed this block final', () => {
    if (!header || !blockHash || !keys) throw new Error('no header, block hash or genesis');
    const cert = certFromJson(proof.certificate);
    const res = checkCertificate({ chainId, keys, height: header.height, headerRound: header.round, blockHash, cert });
    if (res.ok) {
      signers = res.signers;
      const names = signers.map((i) => genesis.genesis.validators[i].name).join(', ');
      return { ok: true, detail: `${res.detail}: ${names}` };
    }
    return res;
  });

  return {
    ok: steps.every((s) => s.ok),
    steps,
    block: header ? { height: header.height, round: header.round, hash: blockHash && toHex(blockHash), signers } : null,
  };
}
