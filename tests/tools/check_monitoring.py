#!/usr/bin/env python3
"""Checks docs/monitoring (ctest monitoring_rules; the backend's integration test with --metrics).

1. promtool: `check rules alerts.yml`, `check config prometheus.yml`, `test rules alerts_test.yml`.
2. grafana-dashboard.json is JSON Grafana can import (a ${DS_PROMETHEUS} datasource input that
   every panel and query uses, unique panel ids, a query in every panel that is not a row).
3. Every metric name that the alerts and the dashboard's queries use is one the backend or a
   validator exports: from their sources (apps/backend/metrics.hpp, apps/validator/rpc_routes.hpp)
   or, with --metrics FILE (the /metrics texts of a live backend and validator), from what
   those processes answered; each such text must also pass `promtool check metrics`.

usage: check_monitoring.py ROOT [--metrics FILE ...] [--promtool PATH]
"""
import argparse
import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

# Names the alerts and the dashboard may use that neither source here exports: Prometheus's own `up`.
EXTERNAL = {"up"}
# Names exported only in some configurations (TLS on): checked against the sources always, not
# required in a live text from processes running without them.
CONDITIONAL = {"ballotchain_tls_certificate_expiry_timestamp_seconds"}
NAME = re.compile(r"\b((?:ballotchain|process)_[a-z0-9_]+)\b")


def fail(msg):
    print("check_monitoring: " + msg, file=sys.stderr)
    sys.exit(1)


def promtool(tool, *args, stdin=None, cwd=None):
    r = subprocess.run([tool, *args], input=stdin, capture_output=True, text=True, cwd=cwd)
    out = (r.stdout + r.stderr).strip()
    if r.returncode != 0:
        fail(f"promtool {' '.join(args)} failed:\n{out}")
    print(f"promtool {' '.join(args)}: ok")
    return out


def exported_by_sources(root):
    names = set()
    for rel in ("apps/backend/metrics.hpp", "apps/validator/rpc_routes.hpp"):
        text = (root / rel).read_text()
        # names inside string literals only (a comment may mention a name that is not exported)
        for lit in re.findall(r'"((?:[^"\\]|\\.)*)"', text):
            names.update(NAME.findall(lit))
    return names


def exported_by_text(text):
    """Metric family names (# TYPE) of an exposition text, and the histograms among them."""
    families, histograms = set(), set()
    for line in text.splitlines():
        if line.startswith("# TYPE "):
            _, _, name, kind = line.split(" ", 3)
            families.add(name)
            if kind.strip() == "histogram":
                histograms.add(name)
    return families, histograms


def used_names(text, known):
    """Metric names in `text`, a histogram's _bucket/_sum/_count series under the family's name."""
    out = set()
    for n in NAME.findall(text):
        for suffix in ("_bucket", "_sum", "_count"):
            if n.endswith(suffix) and n[: -len(suffix)] in known:
                n = n[: -len(suffix)]
        out.add(n)
    return out


def check_dashboard(path):
    try:
        d = json.loads(path.read_text())
    except json.JSONDecodeError as e:
        fail(f"{path}: not valid JSON: {e}")
    inputs = {i.get("name"): i for i in d.get("__inputs", [])}
    if inputs.get("DS_PROMETHEUS", {}).get("pluginId") != "prometheus":
        fail(f"{path}: no __inputs entry DS_PROMETHEUS of plugin prometheus")
    for key in ("title", "uid", "panels", "schemaVersion"):
        if key not in d:
            fail(f"{path}: no {key}")
    exprs, ids = [], set()
    for p in d["panels"]:
        if p.get("id") in ids:
            fail(f"{path}: panel id {p.get('id')} twice")
        ids.add(p.get("id"))
        if p.get("type") == "row":
            continue
        if p.get("datasource", {}).get("uid") != "${DS_PROMETHEUS}":
            fail(f"{path}: panel {p.get('title')!r} does not use ${{DS_PROMETHEUS}}")
        targets = p.get("targets") or []
        if not targets:
            fail(f"{path}: panel {p.get('title')!r} has no query")
        for t in targets:
            if t.get("datasource", {}).get("uid") != "${DS_PROMETHEUS}" or not t.get("expr"):
                fail(f"{path}: a query of panel {p.get('title')!r} has no expr or another datasource")
            exprs.append(t["expr"])
    print(f"{path.name}: {len(d['panels'])} panels, {len(exprs)} queries")
    return "\n".join(exprs)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("root", type=Path)
    ap.add_argument("--metrics", type=Path, action="append", default=[],
                    help="a live /metrics text: checked by promtool, and its names are what the rules may use")
    ap.add_argument("--promtool", default=shutil.which("promtool"))
    a = ap.parse_args()
    if not a.promtool:
        fail("promtool not found (Debian package prometheus; scripts/setup installs it)")
    mon = a.root / "docs" / "monitoring"

    promtool(a.promtool, "check", "rules", str(mon / "alerts.yml"))
    promtool(a.promtool, "check", "config", str(mon / "prometheus.yml"))
    promtool(a.promtool, "test", "rules", "alerts_test.yml", cwd=mon)
    dashboard_exprs = check_dashboard(mon / "grafana-dashboard.json")

    if a.metrics:
        known, histograms = set(), set()
        for f in a.metrics:
            text = f.read_text()
            promtool(a.promtool, "check", "metrics", stdin=text)
            fams, hists = exported_by_text(text)
            if not fams:
                fail(f"{f}: no metric families")
            known |= fams
            histograms |= hists
        source = "the live /metrics texts"
    else:
        known = exported_by_sources(a.root)
        histograms = known
        source = "apps/backend/metrics.hpp and apps/validator/rpc_routes.hpp"

    # The alert rules' expressions (and the metric names their texts mention).
    alerts_text = (mon / "alerts.yml").read_text()
    for what, text in (("alerts.yml", alerts_text), ("grafana-dashboard.json", dashboard_exprs)):
        names = used_names(text, histograms)
        if not names:
            fail(f"{what}: no metric names found")
        missing = sorted(names - known - EXTERNAL - (CONDITIONAL if a.metrics else set()))
        if a.metrics:
            not_in_sources = sorted((names & CONDITIONAL) - exported_by_sources(a.root))
            if not_in_sources:
                fail(f"{what} uses metrics that no source exports: {', '.join(not_in_sources)}")
        if missing:
            fail(f"{what} uses metrics that {source} do not have: {', '.join(missing)}")
        print(f"{what}: {len(names)} metric names, all exported ({source})")


if __name__ == "__main__":
    main()
