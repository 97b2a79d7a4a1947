#!/usr/bin/env python3
"""Independent verifier of the elections on a ballotchain chain.

Written from docs/election-protocol.md and docs/data-format.md alone, with the Python 3
standard library only (hashlib, sqlite3, json, argparse) and its own ristretto255 arithmetic
(RFC 9496). It shares no code with the C++ implementation; verify_golden.py (same folder)
lends it the block decoders and the Ed25519 constants.

It reads a validator's chain.db and the genesis JSON, checks every block (header chain,
proposer signature, every transaction's signature and authorization, duplicates, Merkle root,
certificate), then rebuilds the election state transaction by transaction with the rules of
election-protocol.md "in this order": definitions, trustee keys, dealings and their proofs of
knowledge, verdicts (complaints judged), the ceremony closing after each block, the election
key and public shares, ballots (every 0/1 proof and the sum proof), the homomorphic aggregate,
decryption shares (against the aggregate) and the tally (Lagrange combination, discrete log
bounded by the number of ballots).

    python3 tests/tools/verify_election.py --db chain.db --genesis genesis.json [--json]

Exit status 0 when everything checks, 1 at the first item that does not (named by block
height, tx index, record kind and election), 2 when the input cannot be read.
"""
import argparse
import hashlib
import json
import os
import sqlite3
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import verify_golden as vg  # noqa: E402  (Reader, block/cert/genesis decoders, Ed25519 constants)

# ---- field arithmetic mod p = 2^255 - 19 and edwards25519 in extended coordinates -------------
P = vg.P
ELL = vg.L  # the prime order ℓ of ristretto255 (= the Ed25519 group order L)
D = vg.D
D2 = 2 * D % P
SQRT_M1 = 19681161376707505956807079304988542015446066515923890162744021073123829784752
INVSQRT_A_MINUS_D = 54469307008909316920995813868745141605393597292927456921205312896311721017578

IDENTITY = (0, 1, 1, 0)


def p_add(p, q):
    """Extended + extended (RFC 8032 §5.1.4, a = -1)."""
    x1, y1, z1, t1 = p
    x2, y2, z2, t2 = q
    a = (y1 - x1) * (y2 - x2) % P
    b = (y1 + x1) * (y2 + x2) % P
    c = t1 * D2 % P * t2 % P
    d = 2 * z1 * z2 % P
    e, f, g, h = b - a, d - c, d + c, b + a
    return (e * f % P, g * h % P, f * g % P, e * h % P)


def p_neg(p):
    return ((-p[0]) % P, p[1], p[2], (-p[3]) % P)


def p_sub(p, q):
    return p_add(p, p_neg(q))


def p_dbl(p):
    """Doubling (RFC 8032 §5.1.4)."""
    x1, y1, z1, _ = p
    a = x1 * x1 % P
    b = y1 * y1 % P
    c = 2 * z1 * z1 % P
    h = a + b
    e = h - (x1 + y1) * (x1 + y1)
    g = a - b
    f = c + g
    return (e * f % P, g * h % P, f * g % P, e * h % P)


def _cached(p):
    """(Y+X, Y-X, 2Z, 2dT): an addend prepared once for many additions."""
    x, y, z, t = p
    return ((y + x) % P, (y - x) % P, 2 * z % P, t * D2 % P)


def _add_cached(p, c, neg):
    x1, y1, z1, t1 = p
    ypx, ymx, z2, t2d = c
    if neg:  # -Q = (-X, Y, Z, -T): swaps Y+X and Y-X, negates 2dT
        ypx, ymx, t2d = ymx, ypx, -t2d
    a = (y1 - x1) * ymx % P
    b = (y1 + x1) * ypx % P
    cc = t1 * t2d % P
    d = z1 * z2 % P
    e, f, g, h = b - a, d - cc, d + cc, b + a
    return (e * f % P, g * h % P, f * g % P, e * h % P)


def _add_affine(p, c, neg):
    """+ a precomputed affine point (y+x, y-x, 2dxy) with Z = 1."""
    x1, y1, z1, t1 = p
    ypx, ymx, t2d = c
    if neg:
        ypx, ymx, t2d = ymx, ypx, -t2d
    a = (y1 - x1) * ymx % P
    b = (y1 + x1) * ypx % P
    cc = t1 * t2d % P
    d = 2 * z1
    e, f, g, h = b - a, d - cc, d + cc, b + a
    return (e * f % P, g * h % P, f * g % P, e * h % P)


def _radix16(s):
    """Signed radix-16 digits in [-8, 8], least significant first: s = Σ d_i 16^i (s < 2^255)."""
    d = [(s >> (4 * i)) & 15 for i in range(64)]
    carry = 0
    for i in range(63):
        d[i] += carry
        carry = (d[i] + 8) >> 4
        d[i] -= carry << 4
    d[63] += carry
    return d


def mul(s, p):
    """s·p for a variable point: signed 4-bit window (252 doublings, at most 64 additions)."""
    s %= ELL
    if s == 0:
        return IDENTITY
    tbl = [None, _cached(p)]
    q = p
    for _ in range(7):
        q = _add_cached(q, tbl[1], False)
        tbl.append(_cached(q))
    digits = _radix16(s)
    i = 63
    while digits[i] == 0:
        i -= 1
    e = digits[i]
    acc = _add_cached(IDENTITY, tbl[abs(e)], e < 0)
    for i in range(i - 1, -1, -1):
        acc = p_dbl(p_dbl(p_dbl(p_dbl(acc))))
        e = digits[i]
        if e:
            acc = _add_cached(acc, tbl[abs(e)], e < 0)
    return acc


def _batch_invert(xs):
    acc, prefix = 1, []
    for x in xs:
        prefix.append(acc)
        acc = acc * x % P
    inv = pow(acc, P - 2, P)
    out = [0] * len(xs)
    for i in range(len(xs) - 1, -1, -1):
        out[i] = prefix[i] * inv % P
        inv = inv * xs[i] % P
    return out


class FixedBase:
    """A point with a precomputed table: j·16^i·p for i < 64, 1 <= j <= 8, affine.
    s·p is then at most 64 additions and no doubling."""

    def __init__(self, p):
        rows = []
        base = p
        for _ in range(64):
            row, q = [base], base
            for _ in range(7):
                q = p_add(q, base)
                row.append(q)
            rows.append(row)
            base = p_dbl(p_dbl(p_dbl(p_dbl(base))))
        flat = [q for row in rows for q in row]
        invs = _batch_invert([q[2] for q in flat])
        self.table = []
        for r in range(64):
            out = []
            for j in range(8):
                x, y, _, _ = flat[r * 8 + j]
                zi = invs[r * 8 + j]
                ax, ay = x * zi % P, y * zi % P
                out.append(((ay + ax) % P, (ay - ax) % P, ax * ay % P * D2 % P))
            self.table.append(out)

    def mul(self, s):
        acc = IDENTITY
        for i, e in enumerate(_radix16(s % ELL)):
            if e:
                acc = _add_affine(acc, self.table[i][abs(e) - 1], e < 0)
        return acc


# ---- ristretto255 (RFC 9496 §4) ----------------------------------------------------------------
def _neg_bit(x):
    return x & 1  # IS_NEGATIVE: the least significant bit of the reduced value


def sqrt_ratio_m1(u, v):
    """RFC 9496 §4.2: (was_square, r) with r the non-negative sqrt of u/v (or of i·u/v)."""
    v3 = v * v % P * v % P
    v7 = v3 * v3 % P * v % P
    r = u * v3 % P * pow(u * v7 % P, (P - 5) // 8, P) % P
    check = v * r % P * r % P
    u %= P
    correct = check == u
    flipped = check == (-u) % P
    flipped_i = check == (-u) * SQRT_M1 % P
    if flipped or flipped_i:
        r = r * SQRT_M1 % P
    if _neg_bit(r):
        r = P - r
    return correct or flipped, r


def decode(b):
    """RFC 9496 §4.3.1. None unless b is the canonical encoding of a group element."""
    if len(b) != 32:
        return None
    s = int.from_bytes(b, "little")
    if s >= P or _neg_bit(s):
        return None
    ss = s * s % P
    u1, u2 = (1 - ss) % P, (1 + ss) % P
    u2sq = u2 * u2 % P
    v = (-(D * u1 % P * u1) - u2sq) % P
    ok, invsqrt = sqrt_ratio_m1(1, v * u2sq % P)
    den_x = invsqrt * u2 % P
    den_y = invsqrt * den_x % P * v % P
    x = 2 * s * den_x % P
    if _neg_bit(x):
        x = P - x
    y = u1 * den_y % P
    t = x * y % P
    if not ok or _neg_bit(t) or y == 0:
        return None
    return (x, y, 1, t)


def encode(p):
    """RFC 9496 §4.3.2: the canonical 32-byte encoding."""
    x0, y0, z0, t0 = p
    u1 = (z0 + y0) * (z0 - y0) % P
    u2 = x0 * y0 % P
    _, invsqrt = sqrt_ratio_m1(1, u1 * u2 % P * u2 % P)
    den1, den2 = invsqrt * u1 % P, invsqrt * u2 % P
    z_inv = den1 * den2 % P * t0 % P
    if _neg_bit(t0 * z_inv % P):
        x, y, den_inv = y0 * SQRT_M1 % P, x0 * SQRT_M1 % P, den1 * INVSQRT_A_MINUS_D % P
    else:
        x, y, den_inv = x0, y0, den2
    if _neg_bit(x * z_inv % P):
        y = (-y) % P
    s = den_inv * (z0 - y) % P
    if _neg_bit(s):
        s = P - s
    return s.to_bytes(32, "little")


def r_equal(p, q):
    """Equality in the ristretto group (RFC 9496 §4.5)."""
    return (p[0] * q[1] - p[1] * q[0]) % P == 0 or (p[1] * q[1] - p[0] * q[0]) % P == 0


_GY = 4 * pow(5, P - 2, P) % P
_GX = vg._recover_x(_GY, 0)
BASE = (_GX, _GY, 1, _GX * _GY % P)  # the ristretto255 generator is the Ed25519 base point
BASE_TABLE = None  # FixedBase(BASE), built on first use (about 0.1 s)


def base_mul(s):
    global BASE_TABLE
    if BASE_TABLE is None:
        BASE_TABLE = FixedBase(BASE)
    return BASE_TABLE.mul(s)


def hash_to_scalar(*parts):
    return int.from_bytes(hashlib.sha512(b"".join(parts)).digest(), "little") % ELL


def u32(n):
    return n.to_bytes(4, "big")


def u64(n):
    return n.to_bytes(8, "big")


def dom(name):
    d = name.encode()
    return u32(len(d)) + d


ZERO32 = bytes(32)
ZERO64 = bytes(64)
IDENTITY_BYTES = bytes(32)
ENC_BASE = None  # encode(BASE), set by self_test


# ---- Ed25519 (data-format.md §1), over the same edwards25519 arithmetic -----------------------
# Rule 2: the encodings (sign bit ignored) of the 8 small-order points and the two non-canonical
# ones among them. The two order-8 y values are checked by self_test.
_SMALL_ORDER_Y = {0, 1, P - 1, P, P + 1,
                  int.from_bytes(bytes.fromhex("26e8958fc2b227b045c3f489f2ef98f0d5dfac05d3c63339b13802886d53fc05"),
                                 "little"),
                  int.from_bytes(bytes.fromhex("c7176a703d4dd84fba3c0b760d10670f2a2053fa2c39ccc64ec7fd7792ac037a"),
                                 "little")}
_ED_KEYS = {}  # decoded public keys (genesis keys only: a handful)


def ed25519_verify(pub, msg, sig):
    """RFC 8032 Ed25519 with data-format.md §1's rules: canonical S, no small-order A or R,
    cofactorless equation compared on the canonical encoding of [S]B - [k]A."""
    if len(pub) != 32 or len(sig) != 64:
        return False
    for enc in (pub, sig[:32]):
        if int.from_bytes(enc, "little") & ((1 << 255) - 1) in _SMALL_ORDER_Y:
            return False
    s = int.from_bytes(sig[32:], "little")
    if s >= ELL:
        return False
    a = _ED_KEYS.get(pub)
    if a is None:
        a = vg._decompress(pub)  # refuses y >= p (genesis keys are canonical: check_genesis)
        if a is None:
            return False
        _ED_KEYS[pub] = a
    k = int.from_bytes(hashlib.sha512(sig[:32] + pub + msg).digest(), "little") % ELL
    return ed25519_encode(p_sub(base_mul(s), mul(k, a))) == sig[:32]


def ed25519_encode(p):
    """RFC 8032 §5.1.2: y with the sign of x in bit 255 (not the ristretto255 encoding)."""
    zi = pow(p[2], P - 2, P)
    x, y = p[0] * zi % P, p[1] * zi % P
    return (y | (x & 1) << 255).to_bytes(32, "little")


def self_test():
    """The arithmetic against RFC 9496 A.1 and RFC 8032 §7.1 before trusting it with a chain."""
    global ENC_BASE
    multiples = ["0000000000000000000000000000000000000000000000000000000000000000",
                 "e2f2ae0a6abc4e71a884a961c500515f58e30b6aa582dd8db6a65945e08d2d76",
                 "6a493210f7499cd17fecb510ae0cea23a110e8d5b901f8acadd3095c73a3b919",
                 "94741f5d5d52755ece4f23f044ee27d5d1ea1e2bd196b462166b16152a9d0259",
                 "da80862773358b466ffadfe0b3293ab3d9fd53c5ea6c955358f568322daf6a57",
                 "e882b131016b52c1d3337080187cf768423efccbb517bb495ab812c4160ff44e"]
    q = IDENTITY
    for i, h in enumerate(multiples):
        want = bytes.fromhex(h)
        assert encode(q) == want, "ristretto255: encoding of %d·B" % i
        assert encode(mul(i, BASE)) == want and encode(base_mul(i)) == want, "scalar multiplication by %d" % i
        assert r_equal(decode(want), q), "ristretto255: decoding of %d·B" % i
        q = p_add(q, BASE)
    ENC_BASE = encode(BASE)
    for bad in ("00ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f",  # non-canonical
                "0100000000000000000000000000000000000000000000000000000000000000",  # negative
                "ecffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f"):  # s = -1: y = 0
        assert decode(bytes.fromhex(bad)) is None, "ristretto255 accepts bad encoding " + bad
    assert INVSQRT_A_MINUS_D ** 2 * (-1 - D) % P == 1 and SQRT_M1 ** 2 % P == P - 1
    s = 0x1234567890ABCDEF1234567890ABCDEF1234567890ABCDEF1234567890ABCDE % ELL
    x = mul(s, mul(7, BASE))
    assert encode(x) == encode(base_mul(7 * s)) and encode(mul(ELL - 1, x)) == encode(p_neg(x))
    assert encode(p_add(mul(ELL - 1, BASE), BASE)) == IDENTITY_BYTES
    for y in _SMALL_ORDER_Y - {0, 1, P - 1, P, P + 1}:  # the two of order 8
        e = vg._decompress(y.to_bytes(32, "little"))
        assert e is not None, "small-order list"
        for _ in range(3):
            e = vg._add(e, e)
        assert vg._eq(e, (0, 1, 1, 0)), "small-order list"
    assert ed25519_verify(bytes.fromhex("3d4017c3e843895a92b70aa74d1b7ebc9c982ccf2ec4968cc0cd55f12af4660c"), b"\x72",
                          bytes.fromhex("92a009a9f0d4cab8720e820b5f642540a2b27b5416503f8fb3762223ebdb69da"
                                        "085ac1e43e15996e458f3613d0f11d8c387b2eaeb4302aeeb00d291612bb0c00")), "RFC 8032 TEST 2"


# ---- decoding -------------------------------------------------------------------------------
class Invalid(Exception):
    """The first item that does not check: where, what, and why."""

    def __init__(self, what, height=None, tx=None, kind=None, election=None):
        super().__init__(what)
        self.what, self.height, self.tx, self.kind, self.election = what, height, tx, kind, election

    def where(self):
        parts = []
        if self.height is not None:
            parts.append("block %d" % self.height)
        if self.tx is not None:
            parts.append("tx %d" % self.tx)
        if self.kind is not None:
            parts.append(self.kind + ("" if self.election is None else " (election %d)" % self.election))
        return ", ".join(parts) or "chain"

    def as_dict(self):
        return dict(height=self.height, tx=self.tx, kind=self.kind, election=self.election, what=self.what)


class Unreadable(Exception):
    """The genesis or the database cannot be read at all (exit status 2)."""


class BodyReader(vg.Reader):
    """A record body: points canonical, scalars reduced, counts bounded before allocating."""

    def point(self, what):
        b = self.take(32)
        p = decode(b)
        if p is None:
            raise ValueError("%s is not a canonical ristretto255 point" % what)
        return b, p

    def scalar(self, what):
        s = int.from_bytes(self.take(32), "little")
        if s >= ELL:
            raise ValueError("%s is not a reduced scalar" % what)
        return s

    def count(self, bound, what, min_size):
        n = self.u32()
        if n > bound:
            raise ValueError("%s %d above its bound %d" % (what, n, bound))
        if n * min_size > len(self.b) - self.pos:
            raise ValueError("%s %d: truncated" % (what, n))
        return n

    def var(self, bound, what):
        return self.take(self.count(bound, what, 1))

    def version(self):
        v = self.u8()
        if v != 1:
            raise ValueError("body version %d, expected 1" % v)


KINDS = {1: "definition", 2: "ballot", 3: "trustee key", 4: "dealing", 5: "verdict", 6: "decryption",
         7: "validator-set change"}
MIN_TX = 158  # the smallest transaction: an election record with an empty body
MAX_VAR = 65536  # codec bound of a vote's encrypted_vote and of a record's body
SLOT_PREFIX = b"ballotchain-slot"


def slot_tag(kind, trustee):
    return SLOT_PREFIX + bytes(12) + bytes([kind, 0]) + trustee.to_bytes(2, "big")


# ---- validator-set changes (protocol.md §12, chain/validator_set.hpp) -------------------------
MAX_VALIDATORS, MAX_REGISTRY, MAX_SUBMITTERS, MAX_NAME = 256, 1024, 1024, 64
MAX_LEAD = 1000000


def key_usable(k):
    """An Ed25519 public key a change may add: canonical, decodable, not of small order."""
    y = int.from_bytes(k, "little") & ((1 << 255) - 1)
    return y < P and y not in _SMALL_ORDER_Y and vg._decompress(k) is not None


def read_change(body):
    """A validator_set record's body -> (change dict, the change's bytes, approvals [(id, sig)])."""
    r = BodyReader(body)
    if r.u8() != 1:
        raise ValueError("validator-set change version is not 1 (bad_validator_change)")
    c = dict(sequence=r.u64(), effective=r.u64(), add=[], remove=[], add_submitters=[], remove_submitters=[])
    for _ in range(r.count(MAX_VALIDATORS, "validators added", 36)):
        c["add"].append((r.var(MAX_NAME, "validator name"), r.take(32)))
    c["remove"] = [r.u32() for _ in range(r.count(MAX_VALIDATORS, "validators removed", 4))]
    c["add_submitters"] = [r.take(32) for _ in range(r.count(MAX_SUBMITTERS, "submitters added", 32))]
    c["remove_submitters"] = [r.take(32) for _ in range(r.count(MAX_SUBMITTERS, "submitters removed", 32))]
    change_bytes = body[:r.pos]
    approvals = [(r.u32(), r.take(64)) for _ in range(r.count(MAX_VALIDATORS, "approvals", 68))]
    if r.pos != len(body):
        raise ValueError("validator-set change: trailing bytes (bad_validator_change)")
    return c, change_bytes, approvals


class Schedule:
    """Every validator the chain has known (ids: genesis order, then each one a change added)
    and the set and submitters deciding each height: the genesis's, then one per change."""

    def __init__(self, g):
        self.chain_id = g["chain_id"]
        self.registry = [k for _, k in g["validators"]]
        self.epochs = [dict(start=0, members=list(range(len(self.registry))), submitters=list(g["submitters"]))]

    def at(self, height):
        for e in reversed(self.epochs):
            if e["start"] <= height:
                return e
        return self.epochs[0]

    @staticmethod
    def quorum(e):
        return -(-2 * len(e["members"]) // 3)

    def id_of(self, key):
        return self.registry.index(key) if key in self.registry else None

    def active_id(self, key, height):
        i = self.id_of(key)
        return i if i is not None and i in self.at(height)["members"] else None

    def apply_change(self, tx, height):
        """Checks a validator_set record in the block at `height` as the validators do, then
        schedules it. Raises ValueError(what)."""
        c, change_bytes, approvals = read_change(tx["body"])
        if tx["election_id"] != 0 or tx["voter_tag"] != (SLOT_PREFIX + bytes(4) + c["sequence"].to_bytes(8, "big")
                                                         + bytes([7]) + bytes(3)):
            raise ValueError("not in its slot (wrong_slot_tag)")
        msg = b"\x09" + u64(self.chain_id) + change_bytes
        for v, sig in approvals:
            if v >= len(self.registry) or not ed25519_verify(self.registry[v], msg, sig):
                raise ValueError("approval of validator %d invalid (bad_change_approval)" % v)
        cur = self.at(height)
        bad = "bad_validator_change"
        if c["sequence"] != len(self.epochs):
            raise ValueError("change %d, expected %d (change_out_of_order)" % (c["sequence"], len(self.epochs)))
        if self.epochs[-1]["start"] > height:
            raise ValueError("the previous change is not in effect yet (change_pending)")
        if c["effective"] <= height or c["effective"] - height > MAX_LEAD:
            raise ValueError("effective height %d (change_bad_height)" % c["effective"])
        if not (c["add"] or c["remove"] or c["add_submitters"] or c["remove_submitters"]):
            raise ValueError("changes nothing (%s)" % bad)
        if len(self.registry) + len(c["add"]) > MAX_REGISTRY:
            raise ValueError("registry above %d (%s)" % (MAX_REGISTRY, bad))
        added = [k for _, k in c["add"]]
        for name, k in c["add"]:
            if not 1 <= len(name) <= MAX_NAME or not key_usable(k) or k in self.registry:
                raise ValueError("a validator added is invalid or known (%s)" % bad)
        if len(set(added)) != len(added):
            raise ValueError("a validator added twice (%s)" % bad)
        for i, v in enumerate(c["remove"]):
            if v not in cur["members"] or (i and v <= c["remove"][i - 1]):
                raise ValueError("removed ids not active and ascending (%s)" % bad)
        n_after = len(cur["members"]) - len(c["remove"]) + len(c["add"])
        if not 1 <= n_after <= MAX_VALIDATORS:
            raise ValueError("a set of %d validators (%s)" % (n_after, bad))
        subs = cur["submitters"]
        if (any(not key_usable(k) or k in subs for k in c["add_submitters"])
                or len(set(c["add_submitters"])) != len(c["add_submitters"])
                or any(k not in subs for k in c["remove_submitters"])
                or len(set(c["remove_submitters"])) != len(c["remove_submitters"])
                or len(subs) - len(c["remove_submitters"]) + len(c["add_submitters"]) > MAX_SUBMITTERS):
            raise ValueError("submitter keys added or removed are invalid (%s)" % bad)
        for i, (v, _) in enumerate(approvals):
            if v not in cur["members"] or (i and v <= approvals[i - 1][0]):
                raise ValueError("approvals not by active validators, ascending (change_not_approved)")
        if len(approvals) < self.quorum(cur):
            raise ValueError("%d approvals, quorum %d (change_not_approved)" % (len(approvals), self.quorum(cur)))
        members = [v for v in cur["members"] if v not in c["remove"]]
        for k in added:
            members.append(len(self.registry))
            self.registry.append(k)
        self.epochs.append(dict(start=c["effective"], members=sorted(members),
                                submitters=[k for k in subs if k not in c["remove_submitters"]] + c["add_submitters"]))


def read_tx(r):
    """A transaction (tag 0x01 vote or 0x07 election record) with its hash."""
    start = r.pos
    tag = r.u8()
    tx = dict(tag=tag)
    if tag == 0x01:
        tx.update(chain_id=r.u64(), election_id=r.u64(), candidate_id=r.u64())
        n = r.u32()
        if n > MAX_VAR:
            raise ValueError("encrypted_vote longer than %d bytes" % MAX_VAR)
        tx["body"] = r.take(n)
        tx["kind"] = 0
        tx["voter_tag"], tx["timestamp_ms"], tx["signer"] = r.take(32), r.u64(), r.take(32)
    elif tag == 0x07:
        tx["chain_id"] = r.u64()
        tx["kind"] = r.u8()
        if tx["kind"] not in KINDS:
            raise ValueError("election record of unknown kind %d" % tx["kind"])
        tx["election_id"] = r.u64()
        n = r.u32()
        if n > MAX_VAR:
            raise ValueError("record body longer than %d bytes" % MAX_VAR)
        tx["body"] = r.take(n)
        tx["voter_tag"], tx["timestamp_ms"], tx["signer"] = r.take(32), r.u64(), r.take(32)
    else:
        raise ValueError("transaction tag %#x" % tag)
    tx["hash"] = vg.H(r.b[start:r.pos])  # tx hash = H(the payload: everything before the authorization)
    vg.read_auth(r, tx)  # batch position, audit path, signature (data-format.md §2)
    return tx


def read_finalized(data):
    r = vg.Reader(data)
    r.tag(0x06)
    h = vg.read_header(r)
    psig = r.take(64)
    if h["tx_count"] > 100000:
        raise ValueError("tx_count above 100,000")
    if h["tx_count"] > (len(data) - r.pos) // MIN_TX:
        raise ValueError("tx_count %d: truncated" % h["tx_count"])
    txs = [read_tx(r) for _ in range(h["tx_count"])]
    c = vg.read_cert(r)
    r.done()
    return h, psig, txs, c


# ---- genesis --------------------------------------------------------------------------------
GENESIS_FIELDS = dict(chain_id=None, timestamp_ms=None, validators=None, submitters=None, block_interval_ms=5000,
                      max_block_txs=32, empty_blocks=False, round_timeout_ms=2000, round_timeout_max_ms=60000,
                      max_encrypted_vote_bytes=4096, elections_defined=False)


def _hex(s, n, what):
    if not isinstance(s, str) or not s.startswith("0x") or s != s.lower() or len(s) != 2 + 2 * n:
        raise ValueError("%s: expected 0x and %d lowercase hex bytes" % (what, n))
    return bytes.fromhex(s[2:])


def load_genesis(path):
    """Genesis JSON (data-format.md §11) -> its binary encoding (§8), decoded with its hash."""
    with open(path, "rb") as f:
        raw = f.read((1 << 20) + 1)
    if len(raw) > 1 << 20:
        raise ValueError("genesis file above 1 MiB")
    j = json.loads(raw)
    if not isinstance(j, dict):
        raise ValueError("genesis: not a JSON object")
    unknown = set(j) - set(GENESIS_FIELDS)
    if unknown:
        raise ValueError("genesis: unknown fields %s" % sorted(unknown))
    g = {}
    for k, default in GENESIS_FIELDS.items():
        if k not in j and default is None:
            raise ValueError("genesis: missing %s" % k)
        g[k] = j.get(k, default)
    for k in ("chain_id", "timestamp_ms", "block_interval_ms", "max_block_txs", "round_timeout_ms",
              "round_timeout_max_ms", "max_encrypted_vote_bytes"):
        if not isinstance(g[k], int) or isinstance(g[k], bool) or g[k] < 0:
            raise ValueError("genesis: %s must be an integer >= 0" % k)
    for k in ("empty_blocks", "elections_defined"):
        if not isinstance(g[k], bool):
            raise ValueError("genesis: %s must be a boolean" % k)
    vals = g["validators"]
    if not isinstance(vals, list) or not 1 <= len(vals) <= 256:
        raise ValueError("genesis: 1..256 validators")
    enc = b"\x05" + u64(g["chain_id"]) + u64(g["timestamp_ms"]) + u32(len(vals))
    for v in vals:
        if not isinstance(v, dict) or set(v) != {"name", "public_key"}:
            raise ValueError("genesis: a validator is {name, public_key}")
        name = v["name"].encode()
        enc += u32(len(name)) + name + _hex(v["public_key"], 32, "validator key")
    subs = g["submitters"]
    if not isinstance(subs, list) or len(subs) > 1024:
        raise ValueError("genesis: at most 1,024 submitters")
    enc += u32(len(subs)) + b"".join(_hex(s, 32, "submitter") for s in subs)
    enc += (u64(g["block_interval_ms"]) + u32(g["max_block_txs"]) + bytes([g["empty_blocks"]])
            + u64(g["round_timeout_ms"]) + u64(g["round_timeout_max_ms"]) + u32(g["max_encrypted_vote_bytes"]))
    if g["elections_defined"]:  # the optional flags, only when set (data-format.md §8)
        enc += u32(1)
    r = vg.Reader(enc)
    out = vg.read_genesis(r)
    r.done()
    keys = [k for _, k in out["validators"]]
    if len(set(keys)) != len(keys):
        raise ValueError("genesis: validator keys must be distinct")
    return out


# ---- the proofs -----------------------------------------------------------------------------
def dleq_ok(domain, context, index, v, u, w, c, z, v_table=None):
    """Chaum-Pedersen: log_B U = log_V W. v, u, w are (encoding, point); v_table a FixedBase for V."""
    k = p_sub(base_mul(z), mul(c, u[1]))
    if v_table is not None:
        zv = v_table.mul(z)
    elif v[1] is BASE:
        zv = base_mul(z)
    else:
        zv = mul(z, v[1])
    l_ = p_sub(zv, mul(c, w[1]))
    return c == hash_to_scalar(dom(domain), context, u32(index), v[0], u[0], w[0], encode(k), encode(l_))


def context(chain_id, election_id, key_bytes, voter_tag, digest):
    return u64(chain_id) + u64(election_id) + key_bytes + voter_tag + digest


def ballot_digest(cts):
    """SHA-512("ballotchain/ballot-digest/v1" ‖ A_0 ‖ B'_0 ‖ …) over the encodings."""
    return hashlib.sha512(b"ballotchain/ballot-digest/v1" + b"".join(a[0] + b[0] for a, b in cts)).digest()


def lagrange_at_zero(i, s):
    num, den = 1, 1
    for j in s:
        if j != i:
            num = num * j % ELL
            den = den * (j - i) % ELL
    return num * pow(den, ELL - 2, ELL) % ELL


def discrete_log(m_point, bound):
    """m with m·B = m_point and 0 <= m <= bound (baby-step giant-step), or None."""
    step = 1
    while step * step < bound + 1:
        step += 1
    baby, q = {}, IDENTITY
    for j in range(step):
        baby.setdefault(encode(q), j)
        q = p_add(q, BASE)
    giant = p_neg(q)  # -step·B
    cur = m_point
    for i in range(step + 1):
        j = baby.get(encode(cur))
        if j is not None and i * step + j <= bound:
            return i * step + j
        cur = p_add(cur, giant)
    return None


# ---- the election state ---------------------------------------------------------------------
class Election:
    def __init__(self, eid, height):
        self.id, self.defined_at = eid, height
        self.name, self.ballot, self.candidates = None, None, []
        self.start = self.end = self.deadline = self.threshold = 0
        self.phase = None
        self.dealings = {}  # dealer -> dict(commitments=[(enc, pt)], R=(enc, pt), shares={j: c_ij})
        self.verdicts = set()
        self.disqualified = set()
        self.qualified = []
        self.key = None  # (enc, pt)
        self.key_table = None
        self.public_shares = {}  # trustee -> (enc, pt)
        self.ballots = 0
        self.aggregate = []  # per candidate [A point, B' point]
        self.tally_context = None
        self.decryptions = {}  # trustee -> [D_k points], valid ones in chain order
        self.decryption_order = []
        self.decrypted_by = []
        self.tally = None
        self.plain_counts = {}


class State:
    def __init__(self, genesis):
        self.g = genesis
        self.chain_id = genesis["chain_id"]
        self.validators = Schedule(genesis)
        self.elections = {}
        self.undefined_votes = {}  # election id with plain votes and no definition -> {candidate: count}
        self.trustee_keys = {}  # trustee (1-based) -> (enc, pt)
        self.ballot_seconds = 0.0
        self.ballots_checked = 0

    # every rule raises ValueError(what) (the caller names the item), in the doc's order
    def apply(self, tx, block_time, height):
        kind = tx["kind"]
        if kind == 0:
            return self.vote(tx, block_time)
        if kind == 1:
            return self.definition(tx, height)
        trustee = None
        if kind == 7:
            return self.validators.apply_change(tx, height)
        if kind >= 3:
            trustee = self.validators.id_of(tx["signer"]) + 1  # authorization checked before
            if tx["voter_tag"] != slot_tag(kind, trustee):
                raise ValueError("not in its slot (wrong_slot_tag): trustee %d" % trustee)
        if kind == 2:
            return self.ballot(tx, block_time)
        if kind == 3:
            return self.trustee_key(tx, trustee)
        e = self.encrypted_election(tx)
        if kind == 4:
            return self.dealing(tx, e, trustee, block_time)
        if kind == 5:
            return self.verdict(tx, e, trustee)
        return self.decryption(tx, e, trustee, block_time)

    def vote(self, tx, block_time):
        if tx["voter_tag"].startswith(SLOT_PREFIX):
            raise ValueError("voter tag starts with \"ballotchain-slot\" (reserved_voter_tag)")
        e = self.elections.get(tx["election_id"])
        cand = tx["candidate_id"]
        if e is None:
            if self.g.get("elections_defined"):
                raise ValueError("election %d is not defined on the chain (unknown_election)" % tx["election_id"])
            counts = self.undefined_votes.setdefault(tx["election_id"], {})
            counts[cand] = counts.get(cand, 0) + 1
            return
        if e.ballot != "plain":
            raise ValueError("plain vote in an encrypted election (wrong_ballot_kind)")
        if cand not in [c for c, _ in e.candidates]:
            raise ValueError("candidate %d is not listed (unknown_candidate)" % cand)
        if not e.start <= block_time < e.end:
            raise ValueError("block time outside the voting window (outside_voting_window)")
        e.plain_counts[cand] = e.plain_counts.get(cand, 0) + 1

    def definition(self, tx, height):
        eid = tx["election_id"]
        if tx["voter_tag"] != slot_tag(1, 0):
            raise ValueError("not in its slot (wrong_slot_tag)")
        if eid in self.elections or eid in self.undefined_votes:
            raise ValueError("election %d already exists (election_exists)" % eid)
        r = BodyReader(tx["body"])
        r.version()
        kind = r.u8()
        if kind > 1:
            raise ValueError("ballot kind byte %d" % kind)
        name = r.var(256, "name length")
        n = r.count(64, "candidate count", 12)
        cands = []
        for _ in range(n):
            cid = r.u64()
            cands.append((cid, r.var(128, "candidate name length")))
        start, end, deadline, t = r.u64(), r.u64(), r.u64(), r.u32()
        r.done()
        bad = None
        if not name or not cands:
            bad = "empty name or no candidates"
        elif not all(nm for _, nm in cands):
            bad = "a candidate without a name"
        elif any(a[0] >= b[0] for a, b in zip(cands, cands[1:])):
            bad = "candidate ids not strictly ascending"
        elif not start < end:
            bad = "start >= end"
        elif kind == 1 and not (deadline <= start and 1 <= t <= len(self.validators.registry)):
            bad = "encrypted: needs key_deadline <= start and 1 <= threshold <= trustees"
        elif kind == 0 and (deadline or t):
            bad = "plain: key_deadline and threshold must be 0"
        if bad:
            raise ValueError("bad_election_definition: " + bad)
        e = Election(eid, height)
        e.name = name.decode("utf-8", "replace")
        e.ballot = "encrypted" if kind == 1 else "plain"
        e.candidates = [(c, nm.decode("utf-8", "replace")) for c, nm in cands]
        e.start, e.end, e.deadline, e.threshold = start, end, deadline, t
        e.phase = "ceremony" if kind == 1 else "plain"
        self.elections[eid] = e

    def encrypted_election(self, tx):
        e = self.elections.get(tx["election_id"])
        if e is None:
            raise ValueError("election %d is not on the chain (unknown_election)" % tx["election_id"])
        if e.ballot != "encrypted":
            raise ValueError("not an encrypted election (wrong_ballot_kind)")
        return e

    def ballot(self, tx, block_time):
        if tx["voter_tag"].startswith(SLOT_PREFIX):
            raise ValueError("voter tag starts with \"ballotchain-slot\" (reserved_voter_tag)")
        e = self.encrypted_election(tx)
        if e.key is None:
            raise ValueError("election key not ready (election_key_not_ready)")
        if not e.start <= block_time < e.end:
            raise ValueError("block time outside the voting window (outside_voting_window)")
        t0 = time.perf_counter()
        r = BodyReader(tx["body"])
        r.version()
        n = r.count(64, "ciphertext count", 192)
        entries = []
        for k in range(n):
            a, b = r.point("A_%d" % k), r.point("B'_%d" % k)
            entries.append((a, b, r.scalar("c0_%d" % k), r.scalar("c1_%d" % k), r.scalar("z0_%d" % k),
                            r.scalar("z1_%d" % k)))
        sc, sz = r.scalar("sum proof c"), r.scalar("sum proof z")
        r.done()
        if n != len(e.candidates):
            raise ValueError("%d ciphertexts for %d candidates" % (n, len(e.candidates)))
        ctx = context(self.chain_id, e.id, e.key[0], tx["voter_tag"], ballot_digest([(a, b) for a, b, *_ in entries]))
        if e.key_table is None:
            e.key_table = FixedBase(e.key[1])
        zero_one = dom("ballotchain/zero-one/v1") + ctx
        for k, (a, b, c0, c1, z0, z1) in enumerate(entries):
            k0 = p_sub(base_mul(z0), mul(c0, a[1]))
            l0 = p_sub(e.key_table.mul(z0), mul(c0, b[1]))
            k1 = p_sub(base_mul(z1), mul(c1, a[1]))
            l1 = p_sub(p_add(e.key_table.mul(z1), base_mul(c1)), mul(c1, b[1]))  # z1·Y - c1·(B' - B)
            c = hash_to_scalar(zero_one, u32(k), a[0], b[0], encode(k0), encode(l0), encode(k1), encode(l1))
            if (c0 + c1) % ELL != c:
                raise ValueError("ballot proof %d (candidate index %d, candidate id %d): 0/1 proof invalid "
                                 "(invalid_ballot_proof)" % (k, k, e.candidates[k][0]))
        u = IDENTITY
        w = p_neg(BASE)
        for a, b, *_ in entries:
            u, w = p_add(u, a[1]), p_add(w, b[1])
        if not dleq_ok("ballotchain/sum-one/v1", ctx, 0, e.key, (encode(u), u), (encode(w), w), sc, sz, e.key_table):
            raise ValueError("ballot sum proof invalid (invalid_ballot_proof)")
        if not e.aggregate:
            e.aggregate = [[IDENTITY, IDENTITY] for _ in range(n)]
        for k, (a, b, *_) in enumerate(entries):
            e.aggregate[k][0] = p_add(e.aggregate[k][0], a[1])
            e.aggregate[k][1] = p_add(e.aggregate[k][1], b[1])
        e.ballots += 1
        self.ballots_checked += 1
        self.ballot_seconds += time.perf_counter() - t0

    def trustee_key(self, tx, trustee):
        if tx["election_id"] != 0:
            raise ValueError("trustee key with election %d, expected 0" % tx["election_id"])
        if trustee in self.trustee_keys:
            raise ValueError("trustee %d already has a key" % trustee)
        r = BodyReader(tx["body"])
        r.version()
        x = r.point("X")
        c, z = r.scalar("c"), r.scalar("z")
        r.done()
        ctx = context(self.chain_id, 0, IDENTITY_BYTES, ZERO32, ZERO64)
        if not dleq_ok("ballotchain/trustee-key/v1", ctx, trustee, (ENC_BASE, BASE), x, x, c, z):
            raise ValueError("trustee %d: proof of knowledge invalid (invalid_trustee_proof)" % trustee)
        self.trustee_keys[trustee] = x

    def dealing(self, tx, e, i, block_time):
        if i not in self.trustee_keys:
            raise ValueError("trustee %d has no key on the chain (trustee_key_missing)" % i)
        if e.phase != "ceremony" or block_time >= e.deadline:
            raise ValueError("ceremony closed (ceremony_closed)")
        r = BodyReader(tx["body"])
        r.version()
        t = r.count(256, "commitment count", 32)
        comms = [r.point("A_%d" % k) for k in range(t)]
        c, z = r.scalar("c"), r.scalar("z")
        big_r = r.point("R")
        m = r.count(256, "share count", 36)
        shares = {}
        prev = 0
        for _ in range(m):
            j = r.u32()
            if j <= prev:
                raise ValueError("share recipients not strictly ascending")
            prev = j
            shares[j] = r.scalar("c_%d%d" % (i, j))
        r.done()
        if t != e.threshold:
            raise ValueError("%d commitments, threshold %d (bad_dealing)" % (t, e.threshold))
        others = sorted(k for k in self.trustee_keys if k != i)
        if sorted(shares) != others:
            raise ValueError("shares to %s, keyed trustees are %s (bad_dealing)" % (sorted(shares), others))
        digest = hashlib.sha512(dom("ballotchain/dkg-dealing/v1") + u32(t) + b"".join(a[0] for a in comms) + big_r[0]
                                + u32(m) + b"".join(u32(j) + s.to_bytes(32, "little") for j, s in shares.items())
                                ).digest()
        ctx = context(self.chain_id, e.id, IDENTITY_BYTES, ZERO32, digest)
        if not dleq_ok("ballotchain/dkg-pok/v1", ctx, i, (ENC_BASE, BASE), comms[0], comms[0], c, z):
            raise ValueError("dealer %d: proof of knowledge invalid" % i)
        e.dealings[i] = dict(commitments=comms, R=big_r, shares=shares)

    def share_matches(self, e, i, j, value):
        """f_i(j)·B = Σ_k A_ik·j^k."""
        want = IDENTITY
        for k, a in enumerate(e.dealings[i]["commitments"]):
            want = p_add(want, mul(pow(j, k, ELL), a[1]))
        return r_equal(base_mul(value), want)

    def verdict(self, tx, e, j):
        if j not in self.trustee_keys:
            raise ValueError("trustee %d has no key on the chain (trustee_key_missing)" % j)
        if e.phase != "ceremony":
            raise ValueError("ceremony closed (ceremony_closed)")
        r = BodyReader(tx["body"])
        r.version()
        m = r.count(256, "complaint count", 100)
        complaints = []
        prev = 0
        for _ in range(m):
            i = r.u32()
            if i <= prev:
                raise ValueError("complaints not in strictly ascending dealer order")
            prev = i
            complaints.append((i, r.point("K_%d%d" % (i, j)), r.scalar("c"), r.scalar("z")))
        r.done()
        upheld = []
        for i, k_ij, c, z in complaints:
            d = e.dealings.get(i)
            if d is None or j not in d["shares"]:
                raise ValueError("complaint against dealer %d: no share of it to trustee %d (complaint_refused)"
                                 % (i, j))
            ctx = context(self.chain_id, e.id, IDENTITY_BYTES, ZERO32, ZERO64)
            if not dleq_ok("ballotchain/dkg-complaint/v1", ctx, i, d["R"], self.trustee_keys[j], k_ij, c, z):
                raise ValueError("complaint against dealer %d: proof of K invalid (complaint_refused)" % i)
            mask = hash_to_scalar(dom("ballotchain/dkg-share-mask/v1"), u64(self.chain_id), u64(e.id), u32(i), u32(j),
                                  k_ij[0])
            if self.share_matches(e, i, j, (d["shares"][j] - mask) % ELL):
                raise ValueError("complaint against dealer %d: the share matches (complaint_refused)" % i)
            upheld.append(i)
        e.disqualified.update(upheld)
        e.verdicts.add(j)

    def decryption(self, tx, e, i, block_time):
        if e.key is None or block_time < e.end:
            raise ValueError("tally not open: key not ready or block time before the end (tally_not_open)")
        if i not in e.public_shares:
            raise ValueError("trustee %d holds no public share" % i)
        r = BodyReader(tx["body"])
        r.version()
        n = r.count(64, "share count", 96)
        shares = [(r.point("D_%d" % k), r.scalar("c_%d" % k), r.scalar("z_%d" % k)) for k in range(n)]
        r.done()
        if n != len(e.candidates):
            raise ValueError("%d decryption shares for %d candidates (invalid_decryption_share)"
                             % (n, len(e.candidates)))
        if not e.aggregate:
            e.aggregate = [[IDENTITY, IDENTITY] for _ in e.candidates]
        agg = [((encode(a), a), (encode(b), b)) for a, b in e.aggregate]
        ctx = context(self.chain_id, e.id, e.key[0], ZERO32, ballot_digest(agg))
        for k, (dk, c, z) in enumerate(shares):
            if not dleq_ok("ballotchain/decryption-share/v1", ctx, k, agg[k][0], e.public_shares[i], dk, c, z):
                raise ValueError("trustee %d: decryption share %d (candidate id %d) invalid (invalid_decryption_share)"
                                 % (i, k, e.candidates[k][0]))
        e.decryptions[i] = [dk[1] for dk, _, _ in shares]
        e.decryption_order.append(i)
        if e.tally is None and len(e.decryption_order) == e.threshold:
            self.compute_tally(e)

    def compute_tally(self, e):
        s = list(e.decryption_order)
        lam = {i: lagrange_at_zero(i, s) for i in s}
        tally = []
        for k, (_, b) in enumerate(e.aggregate):
            mb = b
            for i in s:
                mb = p_sub(mb, mul(lam[i], e.decryptions[i][k]))
            m = discrete_log(mb, e.ballots)
            if m is None:
                raise ValueError("candidate id %d: no count in 0..%d decrypts the aggregate" % (e.candidates[k][0],
                                                                                                 e.ballots))
            tally.append(m)
        e.tally, e.decrypted_by, e.phase = tally, s, "tallied"

    def after_block(self, block_time):
        """Closing the ceremony (election-protocol.md): after each block."""
        for e in self.elections.values():
            if e.phase != "ceremony":
                continue
            keyed = self.trustee_keys.keys()
            done = bool(keyed) and all(k in e.dealings and k in e.verdicts for k in keyed)  # at least one key
            if not (block_time >= e.deadline or done):
                continue
            e.qualified = sorted(i for i in e.dealings if i not in e.disqualified)
            if len(e.qualified) < e.threshold:
                e.phase = "key_ceremony_failed"
                continue
            sums = [IDENTITY] * e.threshold  # Σ_{i∈Q} A_ik
            for i in e.qualified:
                for k, a in enumerate(e.dealings[i]["commitments"]):
                    sums[k] = p_add(sums[k], a[1])
            y = sums[0]
            e.key = (encode(y), y)
            for j in range(1, len(self.validators.registry) + 1):
                if all(j in e.dealings[i]["shares"] for i in e.qualified if i != j):
                    yj = IDENTITY
                    for k, a in enumerate(sums):
                        yj = p_add(yj, mul(pow(j, k, ELL), a))
                    e.public_shares[j] = (encode(yj), yj)
            e.phase = "ready"


# ---- the chain ------------------------------------------------------------------------------
def verify(db_path, genesis_path):
    """Checks the chain and rebuilds the elections; returns (state, height) or raises Invalid."""
    try:
        g = load_genesis(genesis_path)
    except (OSError, ValueError) as ex:
        raise Unreadable("cannot read the genesis %s: %s" % (genesis_path, ex))
    if not os.path.isfile(db_path):
        raise Unreadable("no such file: %s" % db_path)
    db = sqlite3.connect("file:%s?mode=ro" % db_path, uri=True)
    rows = db.execute("SELECT height, hash, data FROM blocks ORDER BY height")
    st = State(g)
    vs = st.validators  # the sets deciding each height, as the chain's changes make them

    header0 = (b"\x02" + u64(g["chain_id"]) + u64(0) + u32(0) + g["hash"] + u64(g["timestamp_ms"]) + u32(0)
               + vg.H(b"") + u32(0))
    hash0 = vg.H(header0)
    block0 = b"\x06" + header0 + bytes(64) + b"\x04" + u64(0) + u32(0) + hash0 + u32(0)

    seen = set()
    prev = None
    prev_hash = None
    height = -1
    verified_batches = set()  # a batch signature costs one verification
    for row_height, row_hash, data in rows:
        height += 1
        if row_height != height:
            raise Invalid("block %d missing (next stored height is %d)" % (height, row_height), height)
        data, row_hash = bytes(data), bytes(row_hash)
        if height == 0:
            if data != block0 or row_hash != hash0:
                raise Invalid("block 0 differs from the one the genesis derives (genesis_mismatch)", 0)
            prev, prev_hash = dict(height=0, timestamp_ms=g["timestamp_ms"]), hash0
            continue
        try:
            h, psig, txs, cert = read_finalized(data)
        except ValueError as ex:
            raise Invalid("block does not decode strictly: %s" % ex, height)
        bt = h["timestamp_ms"]
        cur = vs.at(height)
        n, quorum, keys = len(cur["members"]), vs.quorum(cur), vs.registry
        proposer = cur["members"][(h["height"] + h["round"]) % n]
        checks = [(h["height"] == height, "block claims height %d (wrong_height)" % h["height"]),
                  (row_hash == h["hash"], "stored hash column differs from the block hash (bad_index)"),
                  (h["chain_id"] == g["chain_id"], "wrong_chain_id"),
                  (h["parent"] == prev_hash, "parent is not the previous block's hash (wrong_parent)"),
                  (bt >= prev["timestamp_ms"], "timestamp before the parent's (bad_timestamp)"),
                  (h["proposer"] == proposer, "wrong_proposer"),
                  (h["tx_count"] <= g["max_block_txs"], "too_many_txs"),
                  (ed25519_verify(keys[h["proposer"]], h["hash"], psig), "bad_proposer_signature")]
        for ok, what in checks:
            if not ok:
                raise Invalid(what, height)
        for idx, tx in enumerate(txs):
            kind = "vote" if tx["tag"] == 1 else KINDS[tx["kind"]]
            eid = None if tx["kind"] == 3 else tx["election_id"]

            def fail(what):
                return Invalid(what, height, idx, kind, eid)
            if tx["chain_id"] != g["chain_id"]:
                raise fail("wrong_chain_id")
            if len(tx["body"]) > (MAX_VAR if tx["kind"] == 7 else g["max_encrypted_vote_bytes"]):
                raise fail("%d bytes above max_encrypted_vote_bytes (vote_too_large)" % len(tx["body"]))
            if tx["kind"] <= 2 and tx["signer"] not in cur["submitters"]:
                raise fail("signer is not a submitter at this height (unauthorized_submitter)")
            elif tx["kind"] >= 3 and vs.active_id(tx["signer"], height) is None:
                raise fail("signer is not a validator at this height (unauthorized_submitter)")
            if not vg.tx_signature_ok(tx, tx["signer"], verified_batches, ed25519_verify):
                raise fail("signature invalid (invalid_signature)")
            if tx["hash"] in seen:
                raise fail("duplicate_tx")
            slot = (tx["election_id"], tx["voter_tag"])
            if slot in seen:
                raise fail("(election, voter_tag) already used (duplicate_vote)")
            seen.update((tx["hash"], slot))
        if h["tx_root"] != vg.mth([t["hash"] for t in txs]):
            raise Invalid("tx_root is not the Merkle root of the transactions (bad_tx_root)", height)
        seal_msg = b"\x03" + u64(g["chain_id"]) + u64(cert["height"]) + u32(cert["round"]) + cert["block_hash"]
        if cert["height"] != height or cert["block_hash"] != h["hash"]:
            raise Invalid("certificate of another block (cert_wrong_block)", height)
        if cert["round"] < h["round"]:
            raise Invalid("cert_wrong_round", height)
        if len(cert["seals"]) < quorum:
            raise Invalid("cert_too_few_seals", height)
        for i, (v, sig) in enumerate(cert["seals"]):
            if v not in cur["members"]:
                raise Invalid("seal of validator %d, not in the set of this height (cert_unknown_validator)" % v, height)
            if i and v <= cert["seals"][i - 1][0]:
                raise Invalid("seals not in ascending ids (cert_duplicate_seal)", height)
            if not ed25519_verify(keys[v], seal_msg, sig):
                raise Invalid("seal of validator %d invalid (cert_bad_seal)" % v, height)
        # the election rules, transaction by transaction, then the ceremonies close
        for idx, tx in enumerate(txs):
            try:
                st.apply(tx, bt, height)
            except ValueError as ex:
                kind = "vote" if tx["tag"] == 1 else KINDS[tx["kind"]]
                raise Invalid(str(ex), height, idx, kind, None if tx["kind"] == 3 else tx["election_id"])
        try:
            st.after_block(bt)
        except ValueError as ex:
            raise Invalid(str(ex), height)
        prev, prev_hash = h, h["hash"]
    if height < 0:
        raise Invalid("no block 0 in the database", 0)
    return st, height


def report(st, height):
    out = []
    for eid in sorted(st.elections):
        e = st.elections[eid]
        d = dict(id=eid, name=e.name, ballot=e.ballot, phase=e.phase, defined_at=e.defined_at,
                 candidates=[dict(id=c, name=nm) for c, nm in e.candidates], start_ms=e.start, end_ms=e.end)
        if e.ballot == "plain":
            d["votes"] = sum(e.plain_counts.values())
            d["tally"] = {str(c): e.plain_counts.get(c, 0) for c, _ in e.candidates}
        else:
            d.update(key_deadline_ms=e.deadline, threshold=e.threshold, dealers=sorted(e.dealings),
                     disqualified=sorted(e.disqualified), qualified_dealers=e.qualified,
                     key=None if e.key is None else "0x" + e.key[0].hex(),
                     public_shares={str(j): "0x" + p[0].hex() for j, p in sorted(e.public_shares.items())},
                     ballots=e.ballots, decryptions=e.decryption_order, decrypted_by=e.decrypted_by,
                     tally=None if e.tally is None else {str(c): m for (c, _), m in zip(e.candidates, e.tally)})
        out.append(d)
    undefined = [dict(id=eid, votes=sum(c.values()), tally={str(k): v for k, v in sorted(c.items())})
                 for eid, c in sorted(st.undefined_votes.items())]
    vs = st.validators
    sets = [dict(from_height=e["start"], members=e["members"], submitters=["0x" + k.hex() for k in e["submitters"]])
            for e in vs.epochs]
    return dict(ok=True, height=height, chain_id=st.chain_id, trustee_keys=sorted(st.trustee_keys), elections=out,
                plain_votes_without_definition=undefined, validator_set_changes=len(vs.epochs) - 1, validator_sets=sets)


def print_text(rep, timing):
    print("chain %d: blocks 0..%d verified; trustee keys on the chain: %s"
          % (rep["chain_id"], rep["height"], rep["trustee_keys"] or "none"))
    for e in rep["elections"]:
        print("election %d \"%s\" (%s, defined in block %d): %s" % (e["id"], e["name"], e["ballot"], e["defined_at"],
                                                                  e["phase"]))
        if e["ballot"] == "encrypted":
            print("  threshold %d; dealers %s, disqualified %s, qualified %s"
                  % (e["threshold"], e["dealers"], e["disqualified"], e["qualified_dealers"]))
            print("  key %s" % (e["key"] or "not ready"))
            for j, y in e["public_shares"].items():
                print("  public share of trustee %s: %s" % (j, y))
            print("  %d ballot(s); decrypted by %s" % (e["ballots"], e["decrypted_by"] or "nobody yet"))
        else:
            print("  %d vote(s)" % e["votes"])
        names = {str(c["id"]): c["name"] for c in e["candidates"]}
        if e["tally"] is not None:
            for cid, m in e["tally"].items():
                print("  candidate %s (%s): %d" % (cid, names[cid], m))
    for u in rep["plain_votes_without_definition"]:
        print("election %d (no definition on the chain): %d plain vote(s) %s" % (u["id"], u["votes"], u["tally"]))
    for e in rep["validator_sets"][1:]:
        print("validator set from block %d: ids %s" % (e["from_height"], e["members"]))
    print("time: %.2f s total, %d ballot(s) verified in %.2f s (%.1f ms each)"
          % (timing["total_s"], timing["ballots"], timing["ballots_s"], timing["ms_per_ballot"]))


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--db", required=True, help="a validator's chain.db (SQLite)")
    ap.add_argument("--genesis", required=True, help="the chain's genesis JSON")
    ap.add_argument("--json", action="store_true", help="print the report as JSON")
    args = ap.parse_args(argv)
    started = time.perf_counter()
    self_test()
    st = None
    try:
        st, height = verify(args.db, args.genesis)
    except (Unreadable, sqlite3.Error) as ex:
        print("cannot verify: %s" % ex, file=sys.stderr)
        return 2
    except Invalid as bad:
        if args.json:
            print(json.dumps(dict(ok=False, failure=bad.as_dict(), message="%s: %s" % (bad.where(), bad.what)),
                             indent=2))
        else:
            print("FAIL %s: %s" % (bad.where(), bad.what))
        return 1
    rep = report(st, height)
    total = time.perf_counter() - started
    timing = dict(total_s=round(total, 3), ballots=st.ballots_checked, ballots_s=round(st.ballot_seconds, 3),
                  ms_per_ballot=round(1000 * st.ballot_seconds / st.ballots_checked, 2) if st.ballots_checked else 0.0)
    if args.json:
        rep["timing"] = timing
        print(json.dumps(rep, indent=2))
    else:
        print_text(rep, timing)
    return 0


if __name__ == "__main__":
    sys.exit(main())
