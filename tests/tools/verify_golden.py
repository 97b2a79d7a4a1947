#!/usr/bin/env python3
"""Independent check of the golden files against docs/data-format.md.

Uses only the Python standard library: hashlib for SHA-256/SHA-512 and the
RFC 8032 §6 reference arithmetic for Ed25519 verification. It shares no code
with the C++ implementation; it decodes the files from the byte layouts in
docs/data-format.md, recomputes every hash, the Merkle root and block 0, and
verifies every signature. Exit status 0 when everything checks out.

    python3 tests/tools/verify_golden.py [tests/data/golden]
"""
import hashlib
import json
import os
import sys

# ---- Ed25519 verification, RFC 8032 §6 ------------------------------------
P = 2**255 - 19
D = -121665 * pow(121666, P - 2, P) % P
L = 2**252 + 27742317777372353535851937790883648493
SQRT_M1 = pow(2, (P - 1) // 4, P)


def _add(a, b):
    e1, f1 = (a[1] - a[0]) * (b[1] - b[0]) % P, (a[1] + a[0]) * (b[1] + b[0]) % P
    c, d = 2 * a[3] * b[3] * D % P, 2 * a[2] * b[2] % P
    e, f, g, h = f1 - e1, d - c, d + c, f1 + e1
    return (e * f, g * h, f * g, e * h)


def _mul(s, pt):
    q = (0, 1, 1, 0)
    while s > 0:
        if s & 1:
            q = _add(q, pt)
        pt = _add(pt, pt)
        s >>= 1
    return q


def _eq(a, b):
    return (a[0] * b[2] - b[0] * a[2]) % P == 0 and (a[1] * b[2] - b[1] * a[2]) % P == 0


def _recover_x(y, sign):
    if y >= P:
        return None
    x2 = (y * y - 1) * pow(D * y * y + 1, P - 2, P)
    if x2 == 0:
        return None if sign else 0
    x = pow(x2, (P + 3) // 8, P)
    if (x * x - x2) % P != 0:
        x = x * SQRT_M1 % P
    if (x * x - x2) % P != 0:
        return None
    if (x & 1) != sign:
        x = P - x
    return x


def _decompress(s):
    y = int.from_bytes(s, "little")
    sign = y >> 255
    y &= (1 << 255) - 1
    x = _recover_x(y, sign)
    return None if x is None else (x, y, 1, x * y % P)


_GY = 4 * pow(5, P - 2, P) % P
_G = (_recover_x(_GY, 0), _GY, 1, _recover_x(_GY, 0) * _GY % P)


def ed25519_verify(pub, msg, sig):
    assert len(pub) == 32 and len(sig) == 64
    a = _decompress(pub)
    r = _decompress(sig[:32])
    if a is None or r is None:
        return False
    s = int.from_bytes(sig[32:], "little")
    if s >= L:  # non-canonical S is refused
        return False
    h = int.from_bytes(hashlib.sha512(sig[:32] + pub + msg).digest(), "little") % L
    return _eq(_mul(s, _G), _add(r, _mul(h, a)))


# ---- helpers -----------------------------------------------------------------
def H(b):
    return hashlib.sha256(b).digest()


class Reader:
    """Big-endian reader that refuses to run past the end."""

    def __init__(self, b):
        self.b, self.pos = b, 0

    def take(self, n):
        if self.pos + n > len(self.b):
            raise ValueError("truncated")
        out = self.b[self.pos:self.pos + n]
        self.pos += n
        return out

    def u8(self):
        return self.take(1)[0]

    def u32(self):
        return int.from_bytes(self.take(4), "big")

    def u64(self):
        return int.from_bytes(self.take(8), "big")

    def tag(self, want):
        t = self.u8()
        if t != want:
            raise ValueError("tag %#x, expected %#x" % (t, want))

    def done(self):
        if self.pos != len(self.b):
            raise ValueError("trailing bytes")


def read_tx(r):
    start = r.pos
    r.tag(0x01)
    tx = dict(chain_id=r.u64(), election_id=r.u64(), candidate_id=r.u64())
    n = r.u32()
    if n > 65536:
        raise ValueError("encrypted_vote too long")
    tx["encrypted_vote"] = r.take(n)
    tx["voter_tag"] = r.take(32)
    tx["timestamp_ms"] = r.u64()
    tx["submitter"] = r.take(32)
    payload = r.b[start:r.pos]
    tx["hash"] = H(payload)  # tx hash = H(the payload: everything before the authorization)
    read_auth(r, tx)
    return tx


MAX_BATCH = 65536


def path_length(index, size):
    """Length of the RFC 6962 audit path of leaf `index` in a tree of `size` leaves."""
    n = 0
    while size > 1:
        k = 1
        while k * 2 < size:
            k *= 2
        if index < k:
            size = k
        else:
            index, size = index - k, size - k
        n += 1
    return n


def read_auth(r, tx):
    """The authorization (data-format.md §2): u32 batch size, u32 index, u8 path length, path, sig."""
    size, index, n = r.u32(), r.u32(), r.u8()
    if size > MAX_BATCH:
        raise ValueError("batch size %d above %d" % (size, MAX_BATCH))
    if size == 0 or index >= size or n != path_length(index, size):
        raise ValueError("non-canonical batch position (size %d, index %d, path of %d)" % (size, index, n))
    tx["batch_size"], tx["batch_index"] = size, index
    tx["path"] = [r.take(32) for _ in range(n)]
    tx["sig"] = r.take(64)


def root_from_path(leaf, index, size, path):
    """RFC 9162 §2.1.3.2: the root an audit path leads to, or None."""
    if index >= size:
        return None
    fn, sn, r = index, size - 1, H(b"\x00" + leaf)
    for p in path:
        if sn == 0:
            return None
        if fn % 2 == 1 or fn == sn:
            r = H(b"\x01" + p + r)
            if fn % 2 == 0:
                while fn != 0 and fn % 2 == 0:
                    fn >>= 1
                    sn >>= 1
        else:
            r = H(b"\x01" + r + p)
        fn >>= 1
        sn >>= 1
    return r if sn == 0 else None


def batch_message(chain_id, size, root):
    """What a transaction's signer signs: 0x08 ‖ u64 chain_id ‖ u32 batch size ‖ batch root."""
    return b"\x08" + be(chain_id, 8) + be(size, 4) + root


def tx_signature_ok(tx, signer, verified=None, verify=None):
    """The tx's batch signature by `signer` covers its hash at its index. `verified` (a set)
    remembers batches already verified, so a batch costs one Ed25519 verification."""
    root = root_from_path(tx["hash"], tx["batch_index"], tx["batch_size"], tx["path"])
    if root is None:
        return False
    msg = batch_message(tx["chain_id"], tx["batch_size"], root)
    key = (signer, msg, tx["sig"])
    if verified is not None and key in verified:
        return True
    ok = (verify or ed25519_verify)(signer, msg, tx["sig"])
    if ok and verified is not None:
        verified.add(key)
    return ok


def read_header(r):
    start = r.pos
    r.tag(0x02)
    h = dict(chain_id=r.u64(), height=r.u64(), round=r.u32(), parent=r.take(32), timestamp_ms=r.u64(),
             proposer=r.u32(), tx_root=r.take(32), tx_count=r.u32())
    h["hash"] = H(r.b[start:r.pos])  # block hash = H(header encoding)
    return h


def read_block(r):
    r.tag(0x06)
    h = read_header(r)
    sig = r.take(64)
    txs = [read_tx(r) for _ in range(h["tx_count"])]
    return h, sig, txs


def read_cert(r):
    r.tag(0x04)
    c = dict(height=r.u64(), round=r.u32(), block_hash=r.take(32))
    m = r.u32()
    if m > 256:
        raise ValueError("too many seals")
    c["seals"] = [(r.u32(), r.take(64)) for _ in range(m)]
    if any(a[0] >= b[0] for a, b in zip(c["seals"], c["seals"][1:])):
        raise ValueError("seals not strictly ascending")
    return c


def read_genesis(r):
    start = r.pos
    r.tag(0x05)
    g = dict(chain_id=r.u64(), timestamp_ms=r.u64())
    g["validators"] = []
    for _ in range(r.u32()):
        n = r.u32()
        if n > 64:
            raise ValueError("name too long")
        g["validators"].append((r.take(n).decode(), r.take(32)))
    g["submitters"] = [r.take(32) for _ in range(r.u32())]
    g["block_interval_ms"], g["max_block_txs"] = r.u64(), r.u32()
    e = r.u8()
    if e > 1:
        raise ValueError("bad boolean")
    g["empty_blocks"] = e == 1
    g["round_timeout_ms"], g["round_timeout_max_ms"], g["max_encrypted_vote_bytes"] = r.u64(), r.u64(), r.u32()
    g["elections_defined"] = False
    if len(r.b) - r.pos >= 4:  # optional flags (data-format.md §8): present only when not 0, known bits only
        flags = r.u32()
        if flags == 0 or flags & ~1:
            raise ValueError("genesis flags %d: not canonical" % flags)
        g["elections_defined"] = bool(flags & 1)
    g["hash"] = H(r.b[start:r.pos])
    return g


def mth(d):
    """RFC 6962 Merkle Tree Hash."""
    if not d:
        return H(b"")
    if len(d) == 1:
        return H(b"\x00" + d[0])
    k = 1
    while k * 2 < len(d):
        k *= 2
    return H(b"\x01" + mth(d[:k]) + mth(d[k:]))


def be(n, width):
    return n.to_bytes(width, "big")


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    gdir = sys.argv[1] if len(sys.argv) > 1 else os.path.join(here, "..", "data", "golden")

    def hexfile(name):
        s = open(os.path.join(gdir, name + ".hex")).read().strip()
        assert s.startswith("0x") and s == s.lower()
        return bytes.fromhex(s[2:])

    failures = []

    def check(what, ok):
        print(("ok   " if ok else "FAIL ") + what)
        if not ok:
            failures.append(what)

    # self-test of the Ed25519 code: RFC 8032 §7.1 TEST 2
    check("RFC 8032 TEST 2 verifies with this script's Ed25519", ed25519_verify(
        bytes.fromhex("3d4017c3e843895a92b70aa74d1b7ebc9c982ccf2ec4968cc0cd55f12af4660c"), b"\x72",
        bytes.fromhex("92a009a9f0d4cab8720e820b5f642540a2b27b5416503f8fb3762223ebdb69da"
                      "085ac1e43e15996e458f3613d0f11d8c387b2eaeb4302aeeb00d291612bb0c00")))

    # genesis and block 0
    r = Reader(hexfile("genesis"))
    g = read_genesis(r)
    r.done()
    check("genesis hash = H(genesis encoding)", g["hash"] == hexfile("genesis_hash"))
    n = len(g["validators"])
    q = -(-2 * n // 3)
    gj = json.load(open(os.path.join(gdir, "genesis.json")))
    check("genesis.json has the same fields as genesis.hex",
          gj["chain_id"] == g["chain_id"] and gj["timestamp_ms"] == g["timestamp_ms"]
          and [(v["name"], bytes.fromhex(v["public_key"][2:])) for v in gj["validators"]] == g["validators"]
          and [bytes.fromhex(s[2:]) for s in gj["submitters"]] == g["submitters"]
          and all(gj[k] == g[k] for k in ("block_interval_ms", "max_block_txs", "empty_blocks", "round_timeout_ms",
                                          "round_timeout_max_ms", "max_encrypted_vote_bytes")))

    header0 = (b"\x02" + be(g["chain_id"], 8) + be(0, 8) + be(0, 4) + g["hash"] + be(g["timestamp_ms"], 8)
               + be(0, 4) + H(b"") + be(0, 4))
    block0 = b"\x06" + header0 + bytes(64)
    cert0 = b"\x04" + be(0, 8) + be(0, 4) + H(header0) + be(0, 4)
    check("block 0 rebuilt from the genesis equals genesis_block.hex", block0 + cert0 == hexfile("genesis_block"))
    check("block 0 hash", H(header0) == hexfile("genesis_block_hash"))

    # block 1 with its certificate
    fb = hexfile("finalized_block")
    r = Reader(fb)
    h, psig, txs = read_block(r)
    block_end = r.pos
    c = read_cert(r)
    r.done()
    check("finalized_block = block ‖ certificate",
          fb[:block_end] == hexfile("block") and fb[block_end:] == hexfile("certificate"))
    check("header.hex is the header inside the block", hexfile("header") == fb[1:102])
    check("block hash = H(header)", h["hash"] == hexfile("block_hash"))
    check("chain id, height 1, parent = block 0 hash, timestamp >= parent's",
          h["chain_id"] == g["chain_id"] and h["height"] == 1 and h["parent"] == H(header0)
          and h["timestamp_ms"] >= g["timestamp_ms"])
    check("proposer = (height + round) mod n", h["proposer"] == (h["height"] + h["round"]) % n)
    check("proposer signature over the block hash",
          ed25519_verify(g["validators"][h["proposer"]][1], h["hash"], psig))
    check("tx_count <= max_block_txs", len(txs) == h["tx_count"] <= g["max_block_txs"])
    seen = set()
    for i, tx in enumerate(txs):
        check("tx %d: chain id, size, authorized submitter" % i,
              tx["chain_id"] == g["chain_id"] and len(tx["encrypted_vote"]) <= g["max_encrypted_vote_bytes"]
              and tx["submitter"] in g["submitters"])
        check("tx %d: batch %d of %d, its path leads to the root the submitter signed" % (i, tx["batch_index"], tx["batch_size"]),
              tx_signature_ok(tx, tx["submitter"]))
        key = (tx["election_id"], tx["voter_tag"])
        check("tx %d: no repeated tx hash or (election, voter_tag)" % i, tx["hash"] not in seen and key not in seen)
        seen.update([tx["hash"], key])
    check("tx_root = RFC 6962 MTH(tx hashes)", h["tx_root"] == mth([t["hash"] for t in txs]))

    seal_msg = b"\x03" + be(g["chain_id"], 8) + be(c["height"], 8) + be(c["round"], 4) + c["block_hash"]
    check("seal_message.hex = 0x03 ‖ chain_id ‖ height ‖ round ‖ block hash", seal_msg == hexfile("seal_message"))
    check("certificate: same height and block, round >= header round, >= q seals",
          c["height"] == h["height"] and c["block_hash"] == h["hash"] and c["round"] >= h["round"]
          and len(c["seals"]) >= q)
    for v, sig in c["seals"]:
        check("seal of validator %d verifies" % v, v < n and ed25519_verify(g["validators"][v][1], seal_msg, sig))

    # the single golden tx and its JSON
    r = Reader(hexfile("tx"))
    tx = read_tx(r)
    r.done()
    check("tx hash = H(tx payload)", tx["hash"] == hexfile("tx_hash"))
    check("tx signature: its batch's root, signed", tx_signature_ok(tx, tx["submitter"]))
    check("the signature is not over the bare tx hash", not ed25519_verify(tx["submitter"], tx["hash"], tx["sig"]))
    check("block 1's votes are one batch of 3 under one signature",
          [(t["batch_size"], t["batch_index"]) for t in txs] == [(3, 0), (3, 1), (3, 2)]
          and len({t["sig"] for t in txs}) == 1)
    tj = json.load(open(os.path.join(gdir, "tx.json")))
    check("tx.json has the same fields as tx.hex",
          all(tj[k] == tx[k] for k in ("chain_id", "election_id", "candidate_id", "timestamp_ms"))
          and all(bytes.fromhex(tj[k][2:]) == tx[f] for k, f in (("encrypted_vote", "encrypted_vote"),
                                                                  ("voter_tag", "voter_tag"),
                                                                  ("submitter", "submitter"), ("signature", "sig")))
          and tj["batch"]["size"] == tx["batch_size"] and tj["batch"]["index"] == tx["batch_index"]
          and [bytes.fromhex(p[2:]) for p in tj["batch"]["path"]] == tx["path"])

    # the checker itself must be able to fail: one flipped signature bit
    bad = bytearray(tx["sig"])
    bad[0] ^= 1
    check("a flipped signature bit does not verify", not tx_signature_ok(dict(tx, sig=bytes(bad)), tx["submitter"]))
    check("a vote moved to another batch index does not verify",
          not tx_signature_ok(dict(tx, batch_index=0), tx["submitter"]))

    print("%d failure(s)" % len(failures))
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
