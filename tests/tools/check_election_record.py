#!/usr/bin/env python3
"""The `election_python` ctest: the independent verifier against the C++ chain.

1. Runs unit_chain's "[record]" test case with BALLOTCHAIN_ELECTION_RECORD_DIR set, which leaves
   an encrypted-election chain (chain.db), genesis.json, expected.json and keys.json in --work.
2. Runs verify_election.py --json on it: exit 0, and every election's tally (and key, shares,
   qualified and disqualified dealers, decrypting trustees, ballot count) as expected.json says.
3. Flips one byte of a ballot's 0/1 proof in a copy of chain.db: the verifier exits 1 naming
   that ballot (block height, tx index, ballot, election); the first check to fail is the
   submitter's signature over the record.
4. The same flip, then the record, its block and every later block re-signed with the test keys
   (keys.json) so that only the proof is wrong: the verifier exits 1 naming that ballot's proof
   of that candidate.
5. A chain with two validator-set changes (unit_chain "[valset_record]"): the verifier follows
   them (exit 0, the sets as the chain has them), and refuses a forged approval of a change.

    python3 tests/tools/check_election_record.py --unit-chain build/dev/tests/unit_chain \\
        --work build/dev/tests/election_record
"""
import argparse
import hashlib
import json
import os
import shutil
import sqlite3
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import verify_election as ve  # noqa: E402
import verify_golden as vg  # noqa: E402

VERIFIER = os.path.join(HERE, "verify_election.py")


def fail(what):
    print("FAIL " + what)
    sys.exit(1)


def run_verifier(work, db):
    p = subprocess.run([sys.executable, VERIFIER, "--db", db, "--genesis", os.path.join(work, "genesis.json"), "--json"],
                       capture_output=True, text=True, timeout=600)
    try:
        out = json.loads(p.stdout)
    except ValueError:
        fail("verifier printed no JSON (exit %d): %s %s" % (p.returncode, p.stdout, p.stderr))
    return p.returncode, out


def compare(report, expected):
    """Every field expected.json gives for an election must be the verifier's; zero counts
    may be left out of a plain tally."""
    def nonzero(t):
        return {k: v for k, v in t.items() if v}
    got = {e["id"]: e for e in report["elections"]}
    for want in expected["elections"]:
        e = got.get(want["id"])
        if e is None:
            fail("the verifier reports no election %d" % want["id"])
        for k, v in want.items():
            mine = e.get(k)
            if k == "tally":
                mine, v = nonzero(mine or {}), nonzero(v)
            if mine != v:
                fail("election %d: %s is %r, expected %r" % (want["id"], k, mine, v))
        print("ok   election %d: %s" % (want["id"], ", ".join("%s %s" % (k, json.dumps(e[k])) for k in want
                                                              if k not in ("id", "public_shares"))))
    got_plain = {u["id"]: u["tally"] for u in report["plain_votes_without_definition"]}
    want_plain = {u["id"]: u["tally"] for u in expected.get("plain_votes_without_definition", [])}
    if got_plain != want_plain:
        fail("plain votes without definition: %r, expected %r" % (got_plain, want_plain))


def blocks(db):
    return [(h, bytes(d)) for h, d in db.execute("SELECT height, data FROM blocks ORDER BY height")]


def tx_spans(data):
    """(start, end) of every transaction in a finalized block, and where the certificate starts."""
    r = vg.Reader(data)
    r.tag(0x06)
    h = vg.read_header(r)
    r.take(64)
    spans = []
    for _ in range(h["tx_count"]):
        start = r.pos
        ve.read_tx(r)
        spans.append((start, r.pos))
    return spans, r.pos


def first_record(db, kind):
    """(height, tx index, byte offset in the block data) of the first election record of `kind`."""
    for height, data in blocks(db):
        if height == 0:
            continue
        spans, _ = tx_spans(data)
        for i, (start, _) in enumerate(spans):
            if data[start] == 0x07 and data[start + 9] == kind:
                return height, i, start
    fail("no record of kind %d on the chain" % kind)


# Where to flip one byte, from the start of a record (its body starts 22 bytes in, with u8
# version): the low byte of a scalar, so that it stays reduced.
#   ballot: u32 n, n × (A ‖ B' ‖ c_0 ‖ c_1 ‖ z_0 ‖ z_1), c ‖ z: z_0 of candidate index 1;
#   decryption: u32 n, n × (D_k ‖ c ‖ z): z of candidate index 0;
#   trustee key: X ‖ c ‖ z: z.
BODY = 22 + 1
CANDIDATE = 1
TAMPER = {2: (BODY + 4 + 192 * CANDIDATE + 128, "ballot proof %d (candidate index %d" % (CANDIDATE, CANDIDATE)),
          6: (BODY + 4 + 64, "decryption share 0"),
          3: (BODY + 64, "invalid_trustee_proof")}


def ed25519_sign(seed, msg):
    """RFC 8032 §5.1.6 (the test keys are public: tests/unit/support/fixtures.hpp seed(i))."""
    h = hashlib.sha512(seed).digest()
    a = int.from_bytes(h[:32], "little") & ((1 << 254) - 8) | (1 << 254)
    pub = ve.ed25519_encode(ve.base_mul(a))
    r = int.from_bytes(hashlib.sha512(h[32:] + msg).digest(), "little") % ve.ELL
    big_r = ve.ed25519_encode(ve.base_mul(r))
    k = int.from_bytes(hashlib.sha512(big_r + pub + msg).digest(), "little") % ve.ELL
    return pub, big_r + ((r + k * a) % ve.ELL).to_bytes(32, "little")


def resign_from(db, height, keys, genesis):
    """Re-signs block `height` (Merkle root, proposer signature, certificate) after a change in
    its transactions, and re-links and re-signs every later block, with the test keys."""
    vkeys = [bytes.fromhex(k[2:]) for k in keys["validators"]]
    chain_id = genesis["chain_id"]
    prev_hash = None
    for h, data in blocks(db):
        if h < height:
            continue
        data = bytearray(data)
        if prev_hash is not None:
            data[1 + 21:1 + 53] = prev_hash  # parent
        spans, cert_at = tx_spans(bytes(data))
        hashes = [tx_at(bytes(data), s)["hash"] for s, _ in spans]
        data[1 + 65:1 + 97] = vg.mth(hashes)  # tx_root
        header = bytes(data[1:102])
        block_hash = vg.H(header)
        proposer = int.from_bytes(header[61:65], "big")
        data[102:166] = ed25519_sign(vkeys[proposer], block_hash)[1]
        cert = vg.read_cert(vg.Reader(bytes(data[cert_at:])))
        seal_msg = b"\x03" + ve.u64(chain_id) + ve.u64(cert["height"]) + ve.u32(cert["round"]) + block_hash
        new_cert = (b"\x04" + ve.u64(cert["height"]) + ve.u32(cert["round"]) + block_hash + ve.u32(len(cert["seals"]))
                    + b"".join(ve.u32(v) + ed25519_sign(vkeys[v], seal_msg)[1] for v, _ in cert["seals"]))
        data = bytes(data[:cert_at]) + new_cert
        db.execute("UPDATE blocks SET hash = ?, data = ? WHERE height = ?", (block_hash, data, h))
        for i, th in enumerate(hashes):
            db.execute("UPDATE txs SET hash = ? WHERE height = ? AND idx = ?", (th, h, i))
        prev_hash = block_hash
    db.commit()


def tampered_copy(work, name):
    path = os.path.join(work, name)
    for suffix in ("", "-wal", "-shm"):
        if os.path.exists(path + suffix):
            os.remove(path + suffix)
    shutil.copyfile(os.path.join(work, "chain.db"), path)
    return path


def flip(db, height, at):
    (data,) = db.execute("SELECT data FROM blocks WHERE height = ?", (height,)).fetchone()
    data = bytearray(data)
    data[at] ^= 0x01
    db.execute("UPDATE blocks SET data = ? WHERE height = ?", (bytes(data), height))
    db.commit()


def tx_at(data, start):
    """The transaction that starts at byte `start` of a block's data, parsed."""
    r = vg.Reader(data)
    r.pos = start
    return ve.read_tx(r)


def resign_tx(db, height, idx, seed):
    """A new authorization for transaction `idx` of block `height`: signed alone (a batch of
    one, data-format.md §2) by the secret `seed`."""
    (data,) = db.execute("SELECT data FROM blocks WHERE height = ?", (height,)).fetchone()
    data = bytes(data)
    start, end = tx_spans(data)[0][idx]
    tx = tx_at(data, start)
    payload_end = end - (9 + 32 * len(tx["path"]) + 64)
    msg = vg.batch_message(tx["chain_id"], 1, vg.H(b"\x00" + tx["hash"]))
    auth = ve.u32(1) + ve.u32(0) + b"\x00" + ed25519_sign(seed, msg)[1]
    data = data[:payload_end] + auth + data[end:]
    db.execute("UPDATE blocks SET data = ? WHERE height = ?", (data, height))


def check_validator_set_changes(unit_chain, work):
    """Step 5: unit_chain "[valset_record]" writes a chain with two validator-set changes (blocks
    3-5 sealed by ids 2 and 3: no quorum of the genesis set). The verifier follows the changes;
    a change whose approval is forged (one byte flipped, the record and every block re-signed so
    that only the approval is wrong) is refused at its block."""
    os.makedirs(work)
    p = subprocess.run([unit_chain, "[valset_record]"], env=dict(os.environ, BALLOTCHAIN_VALSET_RECORD_DIR=work),
                       capture_output=True, text=True, timeout=600)
    if p.returncode != 0 or not os.path.exists(os.path.join(work, "expected.json")):
        fail("unit_chain [valset_record] (exit %d):\n%s%s" % (p.returncode, p.stdout, p.stderr))
    expected = json.load(open(os.path.join(work, "expected.json")))
    keys = json.load(open(os.path.join(work, "keys.json")))
    genesis = json.load(open(os.path.join(work, "genesis.json")))
    rc, rep = run_verifier(work, os.path.join(work, "chain.db"))
    if rc != 0:
        fail("the verifier refuses the chain with validator-set changes (exit %d): %s" % (rc, rep.get("message")))
    got = (rep["height"], rep["validator_set_changes"], rep["validator_sets"][-1]["members"])
    if got != (expected["height"], expected["changes"], expected["members"]):
        fail("validator-set changes: (height, changes, last set) %r, expected %r"
             % (got, (expected["height"], expected["changes"], expected["members"])))
    compare(rep, dict(elections=[], plain_votes_without_definition=expected["plain_votes_without_definition"]))
    print("ok   the verifier follows 2 validator-set changes: blocks 0..5, last set %r" % (got[2],))

    db = sqlite3.connect(os.path.join(work, "chain.db"))
    height, idx, start = first_record(db, 7)
    db.close()
    path = tampered_copy(work, "resigned.db")
    db = sqlite3.connect(path)
    resign_tx(db, height, idx, bytes.fromhex(keys["validators"][0][2:]))
    resign_from(db, height, keys, genesis)
    db.close()
    rc, rep = run_verifier(work, path)
    if rc != 0:
        fail("re-signed, unchanged chain with validator-set changes refused: %s" % rep.get("message"))
    print("ok   valset/resigned.db (re-signed, unchanged): exit 0")

    path = tampered_copy(work, "forged_approval.db")
    db = sqlite3.connect(path)
    (data,) = db.execute("SELECT data FROM blocks WHERE height = ?", (height,)).fetchone()
    body_len = int.from_bytes(bytes(data)[start + 18:start + 22], "big")
    flip(db, height, start + 22 + body_len - 64)  # R of the last approval's signature
    resign_tx(db, height, idx, bytes.fromhex(keys["validators"][0][2:]))
    resign_from(db, height, keys, genesis)
    db.close()
    rc, rep = run_verifier(work, path)
    got = rep.get("failure") or {}
    if rc != 1 or got.get("height") != height or got.get("kind") != "validator-set change" \
            or "bad_change_approval" not in got.get("what", ""):
        fail("forged approval: exit %d, %r; expected exit 1 at block %d naming bad_change_approval"
             % (rc, rep.get("message"), height))
    print("ok   valset/forged_approval.db: exit 1, %s" % rep["message"])


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--unit-chain", required=True, help="the unit_chain test executable")
    ap.add_argument("--work", required=True, help="a scratch directory (emptied first)")
    args = ap.parse_args()
    work = os.path.abspath(args.work)
    shutil.rmtree(work, ignore_errors=True)
    os.makedirs(work)

    env = dict(os.environ, BALLOTCHAIN_ELECTION_RECORD_DIR=work)
    p = subprocess.run([args.unit_chain, "[record]"], env=env, capture_output=True, text=True, timeout=600)
    if p.returncode != 0 or not os.path.exists(os.path.join(work, "expected.json")):
        fail("unit_chain [record] (exit %d):\n%s%s" % (p.returncode, p.stdout, p.stderr))
    print("ok   unit_chain [record] wrote the chain to " + work)
    expected = json.load(open(os.path.join(work, "expected.json")))
    keys = json.load(open(os.path.join(work, "keys.json")))
    genesis = json.load(open(os.path.join(work, "genesis.json")))

    for seed, pub in [(keys["submitter"], genesis["submitters"][0])] + [
            (k, v["public_key"]) for k, v in zip(keys["validators"], genesis["validators"])]:
        if ed25519_sign(bytes.fromhex(seed[2:]), b"")[0] != bytes.fromhex(pub[2:]):
            fail("keys.json does not hold the genesis keys' secrets")

    rc, rep = run_verifier(work, os.path.join(work, "chain.db"))
    if rc != 0:
        fail("the verifier refuses the chain (exit %d): %s" % (rc, rep.get("message")))
    print("ok   the verifier accepts the chain in %.2f s (%d ballots, %.1f ms each)"
          % (rep["timing"]["total_s"], rep["timing"]["ballots"], rep["timing"]["ms_per_ballot"]))
    compare(rep, expected)

    (eid,) = [e["id"] for e in expected["elections"] if "ballots" in e]

    def refused(path, want, what_contains):
        rc, rep = run_verifier(work, path)
        got = rep.get("failure") or {}
        if rc != 1 or any(got.get(k) != v for k, v in want.items()) or what_contains not in got.get("what", ""):
            fail("tampered chain %s: exit %d, %r; expected exit 1 naming %r with %r" % (path, rc, rep.get("message"),
                                                                                    want, what_contains))
        print("ok   %s: exit 1, %s" % (os.path.basename(path), rep["message"]))

    db = sqlite3.connect(os.path.join(work, "chain.db"))
    records = {kind: first_record(db, kind) for kind in TAMPER}
    db.close()
    validators = [bytes.fromhex(k[2:]) for k in keys["validators"]]

    # A flipped proof byte in a ballot: the record's signature no longer holds.
    height, idx, start = records[2]
    ballot = dict(height=height, tx=idx, kind="ballot", election=eid)
    path = tampered_copy(work, "tampered.db")
    db = sqlite3.connect(path)
    flip(db, height, start + TAMPER[2][0])
    db.close()
    refused(path, ballot, "signature invalid")

    # Re-signing alone (no change) keeps the chain valid: the re-signing below changes nothing else.
    path = tampered_copy(work, "resigned.db")
    db = sqlite3.connect(path)
    resign_tx(db, height, idx, bytes.fromhex(keys["submitter"][2:]))
    resign_from(db, height, keys, genesis)
    db.close()
    rc, rep = run_verifier(work, path)
    if rc != 0:
        fail("re-signed, unchanged chain refused: %s" % rep.get("message"))
    print("ok   resigned.db (re-signed, unchanged): exit 0")

    # The same flip, re-signed with the test keys: only the proof is wrong. Likewise for a
    # decryption share and a trustee key.
    for kind, name in ((2, "ballot"), (6, "decryption"), (3, "trustee key")):
        height, idx, start = records[kind]
        path = tampered_copy(work, "tampered_%s.db" % name.replace(" ", "_"))
        db = sqlite3.connect(path)
        flip(db, height, start + TAMPER[kind][0])
        (data,) = db.execute("SELECT data FROM blocks WHERE height = ?", (height,)).fetchone()
        spans = tx_spans(data)[0]
        signer = tx_at(bytes(data), spans[idx][0])["signer"]
        seed = (bytes.fromhex(keys["submitter"][2:]) if kind == 2
                else validators[[v["public_key"] for v in genesis["validators"]].index("0x" + signer.hex())])
        resign_tx(db, height, idx, seed)
        resign_from(db, height, keys, genesis)
        db.close()
        refused(path, dict(height=height, tx=idx, kind=name, election=None if kind == 3 else eid), TAMPER[kind][1])
    check_validator_set_changes(args.unit_chain, os.path.join(work, "valset"))
    print("all checks passed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
