#!/usr/bin/env python3
"""The `systemd_units` ctest: the example units in deploy/systemd are sound.

Always (Python standard library): each unit parses as an INI file with [Unit], [Service] and
[Install]; [Service] has User=, ExecStart= naming the right binary with --config, Restart=,
LimitNOFILE=, NoNewPrivileges=yes, ProtectSystem=strict, and no key twice except the few systemd
allows to repeat. Then, when systemd-analyze is installed, `systemd-analyze verify` on a copy whose
ExecStart points at the built binary (the installed path does not exist here): any message it
prints (an unknown key or section, a bad value) fails the test. Without systemd-analyze that part
is skipped and says so.

Run: check_systemd_units.py SOURCE_DIR [--bin-dir <build>/apps]
"""
import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile

UNITS = {"ballotchain-validator.service": "ballotchain-validator",
         "ballotchain-backend.service": "ballotchain-backend",
         "ballotchain-bootnode.service": "ballotchain-bootnode"}
REPEATABLE = {"SystemCallFilter", "ReadWritePaths", "Wants", "After", "Documentation", "Environment",
              "RestrictAddressFamilies"}
REQUIRED = {"User": None, "Restart": r"always|on-failure", "LimitNOFILE": r"\d+", "NoNewPrivileges": "yes",
            "ProtectSystem": "strict", "PrivateTmp": "yes"}


def parse(text):
    """sections -> list of (key, value); systemd's syntax: [Section], key=value, # or ; comments."""
    sections, cur = {}, None
    for n, line in enumerate(text.splitlines(), 1):
        s = line.strip()
        if not s or s[0] in "#;":
            continue
        m = re.fullmatch(r"\[([A-Za-z]+)\]", s)
        if m:
            cur = sections.setdefault(m.group(1), [])
            continue
        if cur is None or "=" not in s:
            raise ValueError(f"line {n}: not a key=value inside a section: {line!r}")
        k, v = s.split("=", 1)
        cur.append((k.strip(), v.strip()))
    return sections


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("source_dir")
    ap.add_argument("--bin-dir")
    a = ap.parse_args()
    d = os.path.join(a.source_dir, "deploy", "systemd")
    fails = []
    for unit, binary in UNITS.items():
        path = os.path.join(d, unit)
        if not os.path.exists(path):
            fails.append(f"{unit}: missing")
            continue
        text = open(path).read()
        try:
            sec = parse(text)
        except ValueError as e:
            fails.append(f"{unit}: {e}")
            continue
        for s in ("Unit", "Service", "Install"):
            if s not in sec:
                fails.append(f"{unit}: no [{s}] section")
        svc = sec.get("Service", [])
        keys = [k for k, _ in svc]
        for k in set(keys):
            if keys.count(k) > 1 and k not in REPEATABLE:
                fails.append(f"{unit}: {k}= given {keys.count(k)} times")
        vals = dict(svc)
        for k, pat in REQUIRED.items():
            if k not in vals:
                fails.append(f"{unit}: [Service] has no {k}=")
            elif pat and not re.fullmatch(pat, vals[k]):
                fails.append(f"{unit}: {k}={vals[k]} (expected {pat})")
        if vals.get("User") == "root":
            fails.append(f"{unit}: runs as root")
        exec_start = vals.get("ExecStart", "")
        if not re.fullmatch(r"/\S*/" + re.escape(binary) + r" --config /etc/ballotchain/\S+\.toml", exec_start):
            fails.append(f"{unit}: ExecStart={exec_start!r} does not start {binary} --config /etc/ballotchain/*.toml")
        print(f"{unit}: keys checked")

    tool = shutil.which("systemd-analyze")
    if not tool:
        print("systemd-analyze not installed: `systemd-analyze verify` skipped")
    elif not a.bin_dir:
        print("no --bin-dir: `systemd-analyze verify` skipped")
    else:
        with tempfile.TemporaryDirectory() as t:
            for unit, binary in UNITS.items():
                src = os.path.join(d, unit)
                if not os.path.exists(src):
                    continue
                text = open(src).read()
                text = re.sub(r"(ExecStart=)/\S*/" + re.escape(binary) + r"\b",
                              lambda m: m.group(1) + os.path.join(os.path.abspath(a.bin_dir), binary), text)
                p = os.path.join(t, unit)
                open(p, "w").write(text)
                r = subprocess.run([tool, "verify", p], capture_output=True, text=True, timeout=120)
                out = (r.stdout + r.stderr).strip()
                # Lines about the host (no systemd running in a container) are not the unit's fault.
                msgs = [m for m in out.splitlines() if unit in m or "Unknown" in m or "ignoring" in m]
                if r.returncode != 0 or msgs:
                    fails.append(f"{unit}: systemd-analyze verify: {out}")
                else:
                    print(f"{unit}: systemd-analyze verify ok")
    for f in fails:
        print("FAIL " + f)
    print(f"{len(fails)} failure(s)" if fails else "all units pass")
    return 1 if fails else 0


if __name__ == "__main__":
    sys.exit(main())
