#!/usr/bin/env python3
"""The operator commands of docs/operations.md against the real binaries (the `operator_tools` ctest).

  --version on every binary; `ballotchain keygen --show`; `ballotchain genesis` (from public keys,
  testnet's defaults, refuses duplicates and bad keys); `ballotchain genesis-hash`; `ballotchain
  config`; the validators' config files: strict (an unknown key is refused by name) and
  `peers = []` accepted on a single-validator chain, which then finalizes a vote; `ballotchain
  validators propose/approve` offline (from a genesis) and `show/propose/approve/submit` against that
  chain (a submitter key added by a change; the chain's refusals come back as JSON-RPC errors).

Run: check_operator_tools.py --bin-dir <build>/apps   (exit 0 when every check passes)
"""
import argparse
import json
import os
import re
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request

FAILS = []


def check(cond, what):
    print(("ok   " if cond else "FAIL ") + what)
    if not cond:
        FAILS.append(what)


def run(args, **kw):
    return subprocess.run(args, capture_output=True, text=True, timeout=60, **kw)


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for(cond, timeout_s, what):
    """Polls cond() until it is true; the deadline only bounds a hang, nothing is timed."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        try:
            if cond():
                return True
        except OSError:
            pass
        time.sleep(0.1)
    print("timed out waiting for " + what)
    return False


def http_json(url):
    with urllib.request.urlopen(url, timeout=5) as r:
        return json.loads(r.read())


def check_validator_changes(cli, t, url, vkey, genesis, sub):
    """validators show/propose/approve/submit on a running single-validator chain (id 0 = vkey)."""
    r = run([cli, "validators", "show", "--rpc", url])
    check(r.returncode == 0 and "0 validator-set change(s)" in r.stdout and "validator-1" in r.stdout
          and "<- decides the next height" in r.stdout, "validators show: registry and set, no change yet")
    newsub = os.path.join(t, "newsub.key")
    run([cli, "keygen", "--out", newsub])
    newsub_pub = run([cli, "keygen", "--show", newsub]).stdout.strip()
    change = os.path.join(t, "sub-change.json")
    r = run([cli, "validators", "propose", "--rpc", url, "--add-submitter", newsub_pub, "--in", "2", "--out", change])
    check(r.returncode == 0, "validators propose --rpc --add-submitter: " + r.stderr.strip())
    r = run([cli, "validators", "submit", change, "--key", vkey, "--rpc", url, "--wait", "30"])
    check(r.returncode == 1 and "-32018" in r.stderr and "quorum" in r.stderr,
          "submit without approvals: the validator's refusal (-32018) and exit 1: " + r.stderr.strip())
    r = run([cli, "validators", "approve", change, "--key", vkey, "--rpc", url])
    check(r.returncode == 0 and "1 of 1" in r.stdout, "approve --rpc by the single validator")
    r = run([cli, "validators", "submit", change, "--key", vkey, "--rpc", url, "--wait", "30"])
    eff = json.load(open(change))["effective_height"]
    check(r.returncode == 0 and "final in block" in r.stdout and f"takes effect at height {eff}" in r.stdout,
          "validators submit --wait: final, effective height printed: " + r.stdout.strip())
    r = run([cli, "validators", "show", "--rpc", url, "--json"])
    vs = json.loads(r.stdout) if r.returncode == 0 else {}
    check(vs.get("changes") == 1 and vs["epochs"][-1]["from_height"] == eff and newsub_pub in vs["epochs"][-1]["submitters"],
          "validators show --json: change 1 scheduled with the new submitter key")
    r = run([cli, "validators", "submit", change, "--key", vkey, "--rpc", url])
    check(r.returncode == 1 and "-32003" in r.stderr, "the same change again: its slot is taken (-32003): "
          + r.stderr.strip())
    r = run([cli, "validators", "submit", change, "--key", sub, "--rpc", url])
    check(r.returncode == 1 and "-32002" in r.stderr, "a change signed by a submitter key, not a validator's: -32002")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--bin-dir", required=True)
    a = ap.parse_args()
    b = a.bin_dir
    cli = os.path.join(b, "ballotchain")
    bins = {n: os.path.join(b, n) for n in
            ["ballotchain", "ballotchain-validator", "ballotchain-backend", "ballotchain-bootnode"]}

    # --version: "NAME x.y.z (git <12 hex>[-dirty])" or "(git unknown)" outside a git checkout, exit 0.
    for name, path in bins.items():
        r = run([path, "--version"])
        check(r.returncode == 0 and re.fullmatch(name + r" \d+\.\d+\.\d+ \(git ([0-9a-f]{12}(-dirty)?|unknown)\)\n",
                                                 r.stdout) is not None,
              f"{name} --version prints version and commit: {r.stdout.strip()!r}")

    with tempfile.TemporaryDirectory() as t:
        # keygen --show prints the key file's public key, the one keygen printed when writing it.
        keys = []
        for i in range(4):
            f = os.path.join(t, f"v{i + 1}.key")
            r = run([cli, "keygen", "--out", f])
            printed = re.search(r"public key (0x[0-9a-f]{64})", r.stdout)
            s = run([cli, "keygen", "--show", f])
            check(r.returncode == 0 and printed and s.returncode == 0 and s.stdout.strip() == printed.group(1),
                  f"keygen --show {os.path.basename(f)} prints the key keygen printed")
            keys.append(s.stdout.strip())
        sub = os.path.join(t, "submitter.key")
        run([cli, "keygen", "--out", sub])
        sub_pub = run([cli, "keygen", "--show", sub]).stdout.strip()
        r = run([cli, "keygen", "--show", os.path.join(t, "nope.key")])
        check(r.returncode != 0, "keygen --show of a missing file fails")
        with open(os.path.join(t, "junk.key"), "w") as f:
            f.write("{}")
        r = run([cli, "keygen", "--show", os.path.join(t, "junk.key")])
        check(r.returncode == 1 and "junk.key" in r.stderr, "keygen --show of a non-key file fails naming it")

        # genesis from public keys: testnet's defaults, validators named in order.
        gfile = os.path.join(t, "genesis.json")
        args = [cli, "genesis", "--out", gfile, "--submitter", sub_pub]
        for k in keys[:3]:
            args += ["--validator", k]
        r = run(args)
        check(r.returncode == 0, "genesis from 3 validator keys and a submitter: " + r.stderr.strip())
        g = json.load(open(gfile))
        check([v["public_key"] for v in g["validators"]] == keys[:3]
              and [v["name"] for v in g["validators"]] == ["validator-1", "validator-2", "validator-3"]
              and g["submitters"] == [sub_pub], "genesis lists the validators in order, named validator-N, and the submitter")
        tn = os.path.join(t, "testnet")
        run([cli, "testnet", "--validators", "3", "--out", tn, "--elections-defined"])
        tg = json.load(open(os.path.join(tn, "genesis.json")))
        same = {k: v for k, v in g.items() if k not in ("validators", "submitters")}
        check(same.get("elections_defined") is True and
              same == {k: v for k, v in tg.items() if k not in ("validators", "submitters")},
              "genesis has testnet's defaults: " + json.dumps(same))
        r = run(args)
        check(r.returncode == 1 and "--force" in r.stderr, "genesis does not replace an existing file without --force")
        check(run(args + ["--force"]).returncode == 0, "genesis --force replaces it")
        printed_hash = re.search(r"hash (0x[0-9a-f]{64})", r.stderr)

        # genesis-hash: the same on every host for the same file; changes with any field.
        h = run([cli, "genesis-hash", gfile])
        check(h.returncode == 0 and re.fullmatch(r"0x[0-9a-f]{64}\n", h.stdout) is not None, "genesis-hash prints a hash")
        g2 = run([cli, "genesis", "--submitter", sub_pub, "--validator", keys[0], "--validator", keys[1],
                  "--validator", keys[2], "--chain-id", "7"])
        other = os.path.join(t, "other.json")
        open(other, "w").write(g2.stdout)
        h2 = run([cli, "genesis-hash", other])
        check(h2.returncode == 0 and h2.stdout != h.stdout and json.loads(g2.stdout)["chain_id"] == 7,
              "genesis to stdout with --chain-id 7: another hash")
        r = run([cli, "genesis-hash", os.path.join(tn, "validator-1", "config.toml")])
        check(r.returncode == 1 and "config.toml" in r.stderr, "genesis-hash of a non-genesis file fails naming it")

        # genesis refuses duplicates and bad keys, naming them.
        base = [cli, "genesis", "--submitter", sub_pub]
        r = run(base + ["--validator", keys[0], "--validator", keys[1], "--validator", keys[0]])
        check(r.returncode == 1 and "twice" in r.stderr and "validator-1" in r.stderr and "validator-3" in r.stderr,
              "genesis refuses a validator key given twice: " + r.stderr.strip())
        r = run([cli, "genesis", "--submitter", sub_pub, "--submitter", sub_pub, "--validator", keys[0]])
        check(r.returncode == 1 and "twice" in r.stderr, "genesis refuses a submitter given twice")
        r = run([cli, "genesis", "--submitter", keys[0], "--validator", keys[0]])
        check(r.returncode == 1 and "validator-1" in r.stderr, "genesis refuses a submitter that is a validator key")
        for bad, why in [("0x1234", "short"), (keys[0][2:], "without 0x"), ("0x" + "zz" * 32, "not hex"),
                         ("0x" + "00" * 32, "small order"),
                         ("0x" + "ff" * 31 + "7f", "non-canonical")]:
            r = run(base + ["--validator", bad])
            check(r.returncode == 1 and bad in r.stderr and not r.stdout, f"genesis refuses a bad key ({why})")
        r = run([cli, "genesis", "--validator", keys[0]])
        check(r.returncode == 1, "genesis needs a submitter")

        # config: every other validator as a peer, its own address advertised.
        addrs = [f"127.0.0.1:{free_port()}" for _ in range(3)]
        cargs = [cli, "config", "--genesis", gfile, "--key", os.path.join(t, "v3.key"), "--data-dir",
                 os.path.join(t, "d3")]
        r = run(cargs + sum([["--validator-addr", x] for x in addrs], []))
        check(r.returncode == 0 and f'peers = ["1@{addrs[0]}", "2@{addrs[1]}"]' in r.stdout
              and f'advertise-addr = "{addrs[2]}"' in r.stdout
              and 'p2p-addr = "0.0.0.0:' + addrs[2].split(":")[1] + '"' in r.stdout,
              "config of validator-3 lists validators 1 and 2 as peers")
        r = run(cargs + ["--validator-addr", addrs[0]])
        check(r.returncode == 1 and "one P2P address per genesis validator" in r.stderr,
              "config refuses a --validator-addr list of the wrong length")
        r = run([cli, "config", "--genesis", gfile, "--key", os.path.join(t, "v4.key"), "--data-dir", t]
                + sum([["--validator-addr", x] for x in addrs], []))
        check(r.returncode == 1 and "is not a validator" in r.stderr, "config refuses a key not in the genesis")

        # validators propose/approve offline, from the genesis (the chain's first change).
        change = os.path.join(t, "change.json")
        vp = [cli, "validators", "propose", "--genesis", gfile]
        r = run(vp + ["--add", "validator-4=" + keys[3], "--remove", "validator-1", "--in", "10", "--out", change])
        c = json.load(open(change)) if r.returncode == 0 else {}
        check(r.returncode == 0 and c.get("sequence") == 1 and c.get("effective_height") == 10
              and c.get("add") == [{"name": "validator-4", "public_key": keys[3]}] and c.get("remove") == [0]
              and c.get("approvals") == [] and c.get("context", {}).get("active") == [0, 1, 2]
              and "2 of the 3 active validators" in r.stderr,
              "validators propose --genesis writes change 1 (add validator-4, remove id 0) and its context: " + r.stderr.strip())
        r = run(vp + ["--add", "again=" + keys[1], "--in", "10"])
        check(r.returncode == 1 and "already validator id 1" in r.stderr, "propose refuses to add a key the chain knows")
        r = run(vp + ["--remove", "validator-9", "--in", "10"])
        check(r.returncode == 1 and "validator-9" in r.stderr, "propose refuses to remove a validator not in the registry")
        r = run(vp + ["--in", "10"])
        check(r.returncode == 1 and "changes nothing" in r.stderr, "propose refuses a change that changes nothing")
        r = run(vp + ["--remove", "0", "--remove", "1", "--remove", "2", "--in", "10"])
        check(r.returncode == 1 and "0 validators" in r.stderr, "propose refuses to empty the set")
        r = run(vp + ["--add-submitter", "0x" + "00" * 32, "--in", "10"])
        check(r.returncode == 1 and "small order" in r.stderr, "propose refuses a bad submitter key")
        r = run([cli, "validators", "approve", change, "--key", os.path.join(t, "v4.key")])
        check(r.returncode == 1 and "not a validator" in r.stderr, "approve refuses a key not in the registry")
        r3 = run([cli, "validators", "approve", change, "--key", os.path.join(t, "v3.key")])
        r2 = run([cli, "validators", "approve", change, "--key", os.path.join(t, "v2.key")])
        c = json.load(open(change))
        check(r3.returncode == 0 and r2.returncode == 0 and [a["validator"] for a in c["approvals"]] == [1, 2]
              and "2 of 2 approvals needed (enough" in r2.stdout,
              "approve by ids 2 then 1: approvals kept ascending by id: " + r2.stdout.strip())
        r = run([cli, "validators", "approve", change, "--key", os.path.join(t, "v2.key")])
        check(r.returncode == 1 and "already approved" in r.stderr, "approve refuses a second approval by one validator")
        c["effective_height"] = 11
        json.dump(c, open(change, "w"))
        r = run([cli, "validators", "submit", change, "--key", os.path.join(t, "v2.key"), "--rpc", "http://127.0.0.1:1"])
        check(r.returncode == 1 and "does not verify" in r.stderr,
              "submit refuses a change edited after it was approved (before sending anything)")

        # The validator's config file: strict, and `peers = []` on a single-validator chain.
        one = os.path.join(t, "one.json")
        run([cli, "genesis", "--out", one, "--submitter", sub_pub, "--validator", keys[3],
             "--block-interval-ms", "200", "--no-elections-defined"])
        rpc = free_port()
        r = run([cli, "config", "--genesis", one, "--key", os.path.join(t, "v4.key"), "--data-dir",
                 os.path.join(t, "single"), "--rpc-addr", f"127.0.0.1:{rpc}", "--validator-addr",
                 f"127.0.0.1:{free_port()}", "--out", os.path.join(t, "single.toml")])
        text = open(os.path.join(t, "single.toml")).read()
        check(r.returncode == 0 and "peers = []" in text, "config of a single validator writes peers = []")
        bad_cfg = os.path.join(t, "bad.toml")
        open(bad_cfg, "w").write(text + 'peer = ["2@127.0.0.1:1"]\n')
        r = run([bins["ballotchain-validator"], "--config", bad_cfg])
        check(r.returncode != 0 and "unknown key 'peer'" in r.stderr, "the validator refuses an unknown config key: "
              + r.stderr.strip().splitlines()[0] if r.stderr.strip() else "")
        for name in ("ballotchain-backend", "ballotchain-bootnode"):
            f = os.path.join(t, name + ".toml")
            open(f, "w").write('adress = "127.0.0.1:1"\n')
            r = run([bins[name], "--config", f])
            check(r.returncode != 0 and "unknown key 'adress'" in r.stderr, f"{name} refuses an unknown config key")
        p = subprocess.Popen([bins["ballotchain-validator"], "--config", os.path.join(t, "single.toml")],
                             stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            up = wait_for(lambda: http_json(f"http://127.0.0.1:{rpc}/health") is not None, 30, "the validator's /health")
            check(up, "a single validator with peers = [] starts")
            if up:
                s = run([cli, "submit", "--rpc", f"http://127.0.0.1:{rpc}", "--genesis", one, "--key", sub,
                         "--election", "1", "--candidate", "2", "--voter", "alice", "--wait", "30"])
                check(s.returncode == 0 and "final in block" in s.stdout, "and finalizes a vote: " + s.stdout.strip())
                if s.returncode == 0:
                    check_validator_changes(cli, t, f"http://127.0.0.1:{rpc}", os.path.join(t, "v4.key"), one, sub)
        finally:
            p.terminate()
            p.wait(timeout=30)

    print(f"{len(FAILS)} check(s) failed" if FAILS else "all checks passed")
    return 1 if FAILS else 0


if __name__ == "__main__":
    sys.exit(main())
