#!/usr/bin/env python3
"""Checks one sealed ballot (a JSON vector written by ballot.test.mjs) with the independent
Python verifier's own arithmetic and proof checks (tests/tools/verify_election.py), so the
browser's encoding is checked by code that shares nothing with it.

    python3 apps/web/test/check_ballot.py apps/web/test/vectors/ballot-3.json

Exit 0 when every proof holds, 1 otherwise (the reason printed).
"""
import base64
import json
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "..", "..", "tests", "tools"))
import verify_election as ve  # noqa: E402


def check(v):
    ve.self_test()
    body = base64.b64decode(v["encrypted_vote"], validate=True)
    key_b = bytes.fromhex(v["election_key"][2:])
    key = ve.decode(key_b)
    if key is None:
        raise ValueError("election key is not a canonical point")
    tag = bytes.fromhex(v["voter_tag"][2:])
    n = len(v["candidates"])
    r = ve.BodyReader(body)
    r.version()
    m = r.count(64, "ciphertext count", 192)
    entries = []
    for k in range(m):
        a, b = r.point("A_%d" % k), r.point("B'_%d" % k)
        entries.append((a, b, r.scalar("c0"), r.scalar("c1"), r.scalar("z0"), r.scalar("z1")))
    sc, sz = r.scalar("sum c"), r.scalar("sum z")
    r.done()
    if m != n:
        raise ValueError("%d ciphertexts for %d candidates" % (m, n))
    ctx = ve.context(v["chain_id"], v["election_id"], key_b, tag, ve.ballot_digest([(a, b) for a, b, *_ in entries]))
    zero_one = ve.dom("ballotchain/zero-one/v1") + ctx
    for k, (a, b, c0, c1, z0, z1) in enumerate(entries):
        k0 = ve.p_sub(ve.base_mul(z0), ve.mul(c0, a[1]))
        l0 = ve.p_sub(ve.mul(z0, key), ve.mul(c0, b[1]))
        k1 = ve.p_sub(ve.base_mul(z1), ve.mul(c1, a[1]))
        l1 = ve.p_sub(ve.p_add(ve.mul(z1, key), ve.base_mul(c1)), ve.mul(c1, b[1]))
        c = ve.hash_to_scalar(zero_one, ve.u32(k), a[0], b[0], ve.encode(k0), ve.encode(l0), ve.encode(k1),
                              ve.encode(l1))
        if (c0 + c1) % ve.ELL != c:
            raise ValueError("0/1 proof %d invalid" % k)
    u, w = ve.IDENTITY, ve.p_neg(ve.BASE)
    for a, b, *_ in entries:
        u, w = ve.p_add(u, a[1]), ve.p_add(w, b[1])
    if not ve.dleq_ok("ballotchain/sum-one/v1", ctx, 0, (key_b, key), (ve.encode(u), u), (ve.encode(w), w), sc, sz):
        raise ValueError("sum proof invalid")
    if "election_secret" in v:  # test vectors only: decrypt and compare with the choice
        x = int.from_bytes(bytes.fromhex(v["election_secret"][2:]), "little")
        for k, (a, b, *_) in enumerate(entries):
            mb = ve.p_sub(b[1], ve.mul(x, a[1]))
            want = ve.BASE if k == v["choice"] else ve.IDENTITY
            if ve.encode(mb) != ve.encode(want):
                raise ValueError("ciphertext %d does not decrypt to %d" % (k, int(k == v["choice"])))


def main():
    with open(sys.argv[1]) as f:
        v = json.load(f)
    try:
        check(v)
    except ValueError as ex:
        print("FAIL: %s" % ex)
        return 1
    print("ok: %d-candidate ballot, every proof holds" % len(v["candidates"]))
    return 0


if __name__ == "__main__":
    sys.exit(main())
