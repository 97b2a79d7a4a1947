#!/usr/bin/env python3
"""The `runbook` ctest: docs/operations.md, "A network on several hosts", run as written.

The section's shell blocks are run unchanged, each on the hosts its marker names, with every
"host" a temporary directory of this machine (its own $BC_ETC, $BC_DATA and working directory)
and free 127.0.0.1 ports:

  <!-- runbook: vars ... -->            the site's values: not run; this script sets the same
                                        variables (it checks the block names exactly those)
  <!-- runbook: every host -->         on each validator host and the coordinator
  <!-- runbook: each validator -->     on each validator host
  <!-- runbook: coordinator -->        on the coordinator
  <!-- runbook: start each validator --> started in the background on each validator host
                                        (then the script waits until each answers GET /health)
  <!-- runbook-copy: ROLE FILE -> ROLE FILE -->  the copy between hosts the text describes
                                        ({n}: the validator's number; $VARS of the receiving host)

It passes when every block exits 0, every host prints the same genesis hash, and the last
coordinator block (the smoke test) reports the vote final. A section without such blocks fails.

Run: check_runbook.py --bin-dir <build>/apps [--doc docs/operations.md] [--validators 4]
"""
import argparse
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request

SECTION = "## A network on several hosts"
VARS = {"BC_ETC", "BC_DATA", "RPC_ADDR", "VALIDATORS", "VALIDATOR_RPC"}


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def parse(doc):
    text = open(doc).read()
    if SECTION not in text:
        raise SystemExit(f"FAIL: {doc} has no section {SECTION!r}")
    body = text[text.index(SECTION) + len(SECTION):]
    m = re.search(r"^## ", body, re.M)
    body = body[:m.start()] if m else body
    steps, marker = [], None
    lines = body.splitlines()
    i = 0
    while i < len(lines):
        line = lines[i].strip()
        mc = re.fullmatch(r"<!-- runbook-copy: (.+?) -> (.+?) -->", line)
        mr = re.fullmatch(r"<!-- runbook: ([a-z ]+?)(?: \(.*\))? -->", line)
        if mc:
            steps.append(("copy", mc.group(1).split(None, 2), mc.group(2).split(None, 2)))
        elif mr:
            marker = mr.group(1)
        elif line.startswith("```"):
            lang = line[3:].strip()
            j = i + 1
            while j < len(lines) and not lines[j].strip().startswith("```"):
                j += 1
            if marker is not None:
                if lang != "sh":
                    raise SystemExit(f"FAIL: the block after <!-- runbook: {marker} --> is not ```sh")
                steps.append(("run", marker, "\n".join(lines[i + 1:j]) + "\n"))
            marker = None
            i = j
        i += 1
    return steps


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--bin-dir", required=True)
    ap.add_argument("--doc", default=os.path.join(os.path.dirname(__file__), "..", "..", "docs", "operations.md"))
    ap.add_argument("--validators", type=int, default=4)
    ap.add_argument("--keep", action="store_true", help="keep the host directories")
    a = ap.parse_args()
    steps = parse(a.doc)
    runs = [s for s in steps if s[0] == "run"]
    if not any(s[1] == "start each validator" for s in runs) or not any(s[1] == "coordinator" for s in runs):
        print(f"FAIL: {a.doc}, {SECTION!r}: no runnable runbook (no marked shell blocks that start the "
              "validators and run on the coordinator)")
        return 1
    for s in runs:
        if s[1] == "vars":
            names = set(re.findall(r"^([A-Z_]+)=", s[2], re.M))
            if names != VARS:
                print(f"FAIL: the vars block sets {sorted(names)}, this test sets {sorted(VARS)}")
                return 1

    # A port picked free can be taken before the validator binds it (by another test, or as the
    # source port of a connection): the run starts again with new ports, as the integration
    # tests' backend does.
    for attempt in range(1, 6):
        rc, in_use = run_once(a, steps)
        if not in_use:
            return rc
        print(f"a validator's port was taken before it could listen: attempt {attempt + 1} with new ports")
    return rc


def run_once(a, steps):
    """One run of the runbook on fresh directories and ports: (exit status, whether it failed
    because a chosen port was in use)."""
    root = tempfile.mkdtemp(prefix="runbook-")
    n = a.validators
    p2p = [free_port() for _ in range(n)]
    rpc = [free_port() for _ in range(n)]
    hosts = {}
    path = os.path.abspath(a.bin_dir) + os.pathsep + os.environ.get("PATH", "")
    for k in range(n + 1):
        name = f"validator-{k + 1}" if k < n else "coordinator"
        d = os.path.join(root, name)
        os.makedirs(os.path.join(d, "home"))
        env = dict(os.environ, PATH=path, BC_ETC=os.path.join(d, "etc"), BC_DATA=os.path.join(d, "data"),
                   VALIDATORS=" ".join(f"127.0.0.1:{p}" for p in p2p),
                   RPC_ADDR=f"127.0.0.1:{rpc[k]}" if k < n else "",
                   VALIDATOR_RPC=f"http://127.0.0.1:{rpc[0]}")
        hosts[name] = {"env": env, "home": os.path.join(d, "home"), "n": k + 1}
    validators = [f"validator-{k + 1}" for k in range(n)]
    roles = {"every host": validators + ["coordinator"], "each validator": validators, "coordinator": ["coordinator"],
             "start each validator": validators, "every": validators + ["coordinator"]}
    procs, hashes, failed, last_out, in_use = [], {}, None, "", False

    def expand(h, f):
        f = f.replace("{n}", str(h["n"]))
        f = re.sub(r"\$(\w+)", lambda m: h["env"][m.group(1)], f)
        return f if os.path.isabs(f) else os.path.join(h["home"], f)

    try:
        for step in steps:
            if failed:
                break
            if step[0] == "copy":
                src_role, src_file = " ".join(step[1][:-1]), step[1][-1]
                dst_role, dst_file = " ".join(step[2][:-1]), step[2][-1]
                if src_role == "each validator":
                    pairs = [(hosts[v], hosts[dst_role], hosts[v]) for v in validators]
                elif dst_role in roles:
                    pairs = [(hosts[src_role], hosts[h], hosts[h]) for h in roles[dst_role]]
                else:
                    pairs = [(hosts[src_role], hosts[dst_role], hosts[src_role])]
                for s, d, numbered in pairs:
                    target = expand(d, dst_file.replace("{n}", str(numbered["n"])))
                    os.makedirs(os.path.dirname(target), exist_ok=True)
                    shutil.copyfile(expand(s, src_file), target)
                print(f"copied {src_role}:{src_file} -> {dst_role}:{dst_file}")
                continue
            _, marker, script = step
            if marker == "vars":
                continue
            if marker not in roles:
                failed = f"unknown runbook marker {marker!r}"
                break
            for h in roles[marker]:
                host = hosts[h]
                if marker == "start each validator":
                    log = open(os.path.join(host["home"], "validator.log"), "w")
                    procs.append((h, subprocess.Popen(["bash", "-e", "-c", script], cwd=host["home"], env=host["env"],
                                                      stdout=log, stderr=subprocess.STDOUT)))
                    continue
                r = subprocess.run(["bash", "-e", "-c", script], cwd=host["home"], env=host["env"], capture_output=True,
                                   text=True, timeout=300)
                print(f"--- {h}: {marker} block: exit {r.returncode}\n{r.stdout}{r.stderr}", end="")
                if r.returncode != 0:
                    failed = f"a {marker!r} block failed on {h} (exit {r.returncode})"
                    break
                if "genesis-hash" in script:
                    hashes.setdefault(h, set()).update(re.findall(r"^0x[0-9a-f]{64}$", r.stdout, re.M))
                if marker == "coordinator":
                    last_out = r.stdout
            if marker == "start each validator" and not failed:
                for (h, p), port in zip(procs, rpc):
                    deadline = time.monotonic() + 60  # bounds a hang only; the check is the answer
                    while True:
                        if p.poll() is not None:
                            failed = f"{h} exited with {p.returncode} (log below)"
                            break
                        try:
                            urllib.request.urlopen(f"http://127.0.0.1:{port}/health", timeout=2).read()
                            break
                        except OSError:
                            if time.monotonic() > deadline:
                                failed = f"{h} never answered GET /health"
                                break
                            time.sleep(0.1)
                    if failed:
                        break
        if not failed:
            distinct = set().union(*hashes.values()) if hashes else set()
            if len(hashes) < n + 1 or len(distinct) != 1:
                failed = f"the hosts do not all print one genesis hash: {hashes}"
            elif not re.search(r"final in block \d+", last_out):
                failed = "the smoke test did not report the vote final"
    finally:
        for _, p in procs:
            p.terminate()
        for h, p in procs:
            try:
                p.wait(timeout=30)
            except subprocess.TimeoutExpired:
                p.kill()
            if failed:
                log = os.path.join(hosts[h]["home"], "validator.log")
                text = open(log).readlines()
                in_use = in_use or any("Address already in use" in line for line in text)
                print(f"--- {h} log (last 20 lines):\n" + "".join(text[-20:]))
        if not a.keep:
            shutil.rmtree(root, ignore_errors=True)
    if failed:
        print("FAIL: " + failed)
        return 1, in_use
    print(f"runbook ok: {n} validators on one machine, one genesis hash, a vote final")
    return 0, False


if __name__ == "__main__":
    sys.exit(main())
