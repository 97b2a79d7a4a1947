// The secret ballot, sealed in the browser: exponential ElGamal over ristretto255 with a
// 0/1 proof per candidate and a sum proof, exactly as docs/election-protocol.md ("The ballot",
// "Proof context", "0/1 proof", "Sum proof") and the ballot body encoding
// (u8 version 1 ‖ u32 n ‖ n × (A ‖ B' ‖ c0 ‖ c1 ‖ z0 ‖ z1) ‖ c ‖ z).
//
// verifyBallot is a port of tests/tools/verify_election.py's ballot check (State.ballot), so the
// tests can check what sealBallot makes without the backend.
import { ristretto255 } from '@noble/curves/ed25519.js';
import { sha512 } from '@noble/hashes/sha2.js';
import { randomBytes } from '@noble/hashes/utils.js';
import { concat, dom, u32, u64, utf8, leToBig, bigToLe, Reader } from './bytes.js';

const Point = ristretto255.Point;
/// ℓ, the prime order of ristretto255.
export const ELL = 2n ** 252n + 27742317777372353535851937790883648493n;
const B = Point.BASE;
const ZERO = Point.ZERO;

export const BALLOT_VERSION = 1;
export const ENTRY_BYTES = 192; // A ‖ B' ‖ c0 ‖ c1 ‖ z0 ‖ z1
export const MAX_CANDIDATES = 64;
export const ballotSize = (n) => 1 + 4 + ENTRY_BYTES * n + 64;

const mod = (a) => ((a % ELL) + ELL) % ELL;

/// SHA-512 of the parts, read little-endian, reduced mod ℓ.
export function hashToScalar(...parts) {
  return mod(leToBig(sha512(concat(...parts))));
}

/// A uniformly random nonzero scalar (64 random bytes reduced: bias below 2^-250).
export function randomScalar(rng = randomBytes) {
  for (;;) {
    const s = mod(leToBig(rng(64)));
    if (s !== 0n) return s;
  }
}

// Public values (challenges, responses, verifier side) may be zero: multiplyUnsafe takes 0.
const mulPub = (p, s) => p.multiplyUnsafe(mod(s));
// Secret nonces are nonzero by construction: multiply is noble's constant-time ladder.
const mulSec = (p, s) => p.multiply(s);
const enc = (p) => p.toBytes();
const sc = (s) => bigToLe(s, 32);

/// SHA-512("ballotchain/ballot-digest/v1" ‖ A_0 ‖ B'_0 ‖ …), the domain without a length prefix.
export function ballotDigest(cts) {
  return sha512(concat(utf8('ballotchain/ballot-digest/v1'), ...cts.flatMap(([a, b]) => [a, b])));
}

/// chain id u64 ‖ election id u64 ‖ Y ‖ voter tag ‖ ballot digest (64).
export function proofContext(chainId, electionId, keyBytes, voterTag, digest) {
  if (keyBytes.length !== 32 || voterTag.length !== 32 || digest.length !== 64) throw new RangeError('context sizes');
  return concat(u64(chainId), u64(electionId), keyBytes, voterTag, digest);
}

function decodePoint(bytes, what) {
  try {
    return Point.fromBytes(bytes); // RFC 9496 §4.3.1: refuses non-canonical encodings
  } catch {
    throw new Error(`${what} is not a canonical ristretto255 point`);
  }
}

function readScalar(r, what) {
  const s = leToBig(r.take(32));
  if (s >= ELL) throw new Error(`${what} is not a reduced scalar`);
  return s;
}

/// Seals a ballot for candidate index `choice` (0-based, ballot order) of `n` candidates.
/// keyBytes and voterTag are 32-byte Uint8Arrays; chainId and electionId numbers or BigInts.
/// Returns the ballot body (what `encrypted_vote` carries, base64-encoded by the caller).
export function sealBallot({ chainId, electionId, electionKey, voterTag, n, choice, rng = randomBytes }) {
  if (!Number.isInteger(n) || n < 1 || n > MAX_CANDIDATES) throw new RangeError('candidate count 1..64');
  if (!Number.isInteger(choice) || choice < 0 || choice >= n) throw new RangeError('choice out of range');
  const Y = decodePoint(electionKey, 'election key');
  const keyBytes = enc(Y);
  // ciphertexts first: the digest over all of them goes into every proof
  const rs = [];
  const cts = [];
  const pts = [];
  for (let k = 0; k < n; k++) {
    const m = k === choice ? 1 : 0;
    const r = randomScalar(rng);
    const A = mulSec(B, r);
    const rY = mulSec(Y, r);
    const Bp = m ? rY.add(B) : rY;
    rs.push(r);
    pts.push([A, Bp]);
    cts.push([enc(A), enc(Bp)]);
  }
  const ctx = proofContext(chainId, electionId, keyBytes, voterTag, ballotDigest(cts));
  const zeroOne = concat(dom('ballotchain/zero-one/v1'), ctx);
  const entries = [];
  for (let k = 0; k < n; k++) {
    const m = k === choice ? 1 : 0;
    const [A, Bp] = pts[k];
    const r = rs[k];
    const c = [0n, 0n];
    const z = [0n, 0n];
    const K = [null, null];
    const L = [null, null];
    // simulate branch 1 - m
    const o = 1 - m;
    c[o] = randomScalar(rng);
    z[o] = randomScalar(rng);
    K[o] = mulPub(B, z[o]).subtract(mulPub(A, c[o]));
    const shifted = o === 1 ? Bp.subtract(B) : Bp; // B' − j·B
    L[o] = mulPub(Y, z[o]).subtract(mulPub(shifted, c[o]));
    // commit to branch m
    const w = randomScalar(rng);
    K[m] = mulSec(B, w);
    L[m] = mulSec(Y, w);
    const ch = hashToScalar(zeroOne, u32(k), cts[k][0], cts[k][1], enc(K[0]), enc(L[0]), enc(K[1]), enc(L[1]));
    c[m] = mod(ch - c[o]);
    z[m] = mod(w + c[m] * r);
    entries.push(concat(cts[k][0], cts[k][1], sc(c[0]), sc(c[1]), sc(z[0]), sc(z[1])));
  }
  // sum proof: log_B(ΣA) = log_Y(ΣB' − B) with the secret Σr
  let U = ZERO;
  let W = B.negate();
  let R = 0n;
  for (let k = 0; k < n; k++) {
    U = U.add(pts[k][0]);
    W = W.add(pts[k][1]);
    R = mod(R + rs[k]);
  }
  const w = randomScalar(rng);
  const Kc = mulSec(B, w);
  const Lc = mulSec(Y, w);
  const c = hashToScalar(dom('ballotchain/sum-one/v1'), ctx, u32(0), keyBytes, enc(U), enc(W), enc(Kc), enc(Lc));
  const z = mod(w + c * R);
  return concat(Uint8Array.of(BALLOT_VERSION), u32(n), ...entries, sc(c), sc(z));
}

/// Decodes a ballot body strictly: version 1, count bounded, canonical points, reduced scalars,
/// no trailing bytes. Throws with the reason.
export function decodeBallot(body) {
  const r = new Reader(body);
  const v = r.u8();
  if (v !== BALLOT_VERSION) throw new Error(`body version ${v}, expected 1`);
  const n = r.u32();
  if (n > MAX_CANDIDATES) throw new Error(`ciphertext count ${n} above its bound ${MAX_CANDIDATES}`);
  if (n * ENTRY_BYTES > r.left()) throw new Error(`ciphertext count ${n}: truncated`);
  const entries = [];
  for (let k = 0; k < n; k++) {
    const aB = r.take(32);
    const A = decodePoint(aB, `A_${k}`);
    const bB = r.take(32);
    const Bp = decodePoint(bB, `B'_${k}`);
    entries.push({
      aBytes: aB, bBytes: bB, A, Bp,
      c0: readScalar(r, `c0_${k}`), c1: readScalar(r, `c1_${k}`),
      z0: readScalar(r, `z0_${k}`), z1: readScalar(r, `z1_${k}`),
    });
  }
  const c = readScalar(r, 'sum proof c');
  const z = readScalar(r, 'sum proof z');
  r.done();
  return { n, entries, c, z };
}

/// Checks a ballot body against its context: {ok: true} or {ok: false, error}.
/// Port of verify_election.py State.ballot (election-protocol.md "Rules: Ballot").
export function verifyBallot({ chainId, electionId, electionKey, voterTag, n, body }) {
  try {
    const Y = decodePoint(electionKey, 'election key');
    const keyBytes = enc(Y);
    const b = decodeBallot(body);
    if (b.n !== n) return { ok: false, error: `${b.n} ciphertexts for ${n} candidates` };
    const ctx = proofContext(chainId, electionId, keyBytes, voterTag,
      ballotDigest(b.entries.map((e) => [e.aBytes, e.bBytes])));
    const zeroOne = concat(dom('ballotchain/zero-one/v1'), ctx);
    for (let k = 0; k < n; k++) {
      const { aBytes, bBytes, A, Bp, c0, c1, z0, z1 } = b.entries[k];
      const K0 = mulPub(B, z0).subtract(mulPub(A, c0));
      const L0 = mulPub(Y, z0).subtract(mulPub(Bp, c0));
      const K1 = mulPub(B, z1).subtract(mulPub(A, c1));
      const L1 = mulPub(Y, z1).subtract(mulPub(Bp.subtract(B), c1));
      const c = hashToScalar(zeroOne, u32(k), aBytes, bBytes, enc(K0), enc(L0), enc(K1), enc(L1));
      if (mod(c0 + c1) !== c) return { ok: false, error: `ballot proof ${k} (candidate index ${k}): 0/1 proof invalid` };
    }
    let U = ZERO;
    let W = B.negate();
    for (const e of b.entries) {
      U = U.add(e.A);
      W = W.add(e.Bp);
    }
    const K = mulPub(B, b.z).subtract(mulPub(U, b.c));
    const L = mulPub(Y, b.z).subtract(mulPub(W, b.c));
    const c = hashToScalar(dom('ballotchain/sum-one/v1'), ctx, u32(0), keyBytes, enc(U), enc(W), enc(K), enc(L));
    if (c !== b.c) return { ok: false, error: 'ballot sum proof invalid' };
    return { ok: true };
  } catch (e) {
    return { ok: false, error: e.message };
  }
}

/// Test helper and documentation: the election key for a known secret x (Y = x·B).
export function keyFromSecret(x) {
  return enc(mulSec(B, mod(x)));
}
