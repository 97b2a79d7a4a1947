#!/usr/bin/env python3
"""Checks that the library's layers include only layers below them, and that
apps/, tests/, bench/ and fuzz/ share code only through CMake targets.

Rules (docs/architecture.md, "Layers"):

1. Every header under include/ballotchain/ belongs to the layer named by its
   folder. An `#include <ballotchain/L/...>` must name a layer that the
   including layer may use (LAYERS below: each layer lists the layers it may
   include besides itself) and a header that exists.
2. Neither the include graph of the library's headers (file level) nor the
   graph of layers they form has a cycle.
3. Above crypto/, the library names no concrete hash or signature model
   (MODELS below): it is parameterized on the crypto suite, and only apps,
   tests and benchmarks pick one.
4. A quoted include in apps/, tests/, bench/ or fuzz/ must resolve, relative
   to the including file, to a file of the same component (apps/<app>,
   tests/<kind>, bench, fuzz). Code of another component is reached through a
   CMake target's include directory, with an angle-bracket include.
5. The insecure crypto suite (a header with "insecure" in its name) is never
   included by the library or by apps/: it exists for the simulator and
   benchmarks only.

Uses only the Python standard library. Prints one line per violation,
`path:line: what`, and exits with status 1 when there is any.

    python3 tests/tools/check_layering.py [repository root]
"""
import os
import re
import sys

# layer -> the layers it may include (besides itself). Lower layers first.
LAYERS = {
    "core": set(),
    "crypto": {"core"},
    "chain": {"core", "crypto"},
    "storage": {"core", "crypto", "chain"},
    "ledger": {"core", "crypto", "chain", "storage"},
    "consensus": {"core", "crypto", "chain", "storage", "ledger"},
    "net": {"core", "crypto", "chain"},
    "rpc": {"core", "crypto", "chain", "storage", "ledger"},
    "client": {"core", "crypto", "chain", "rpc"},
}

# Concrete crypto models: only crypto/ itself (and apps, tests, bench) may include them.
MODELS = {
    "ballotchain/crypto/sha256.hpp",
    "ballotchain/crypto/ed25519.hpp",
    "ballotchain/crypto/ed25519_sha256.hpp",
    "ballotchain/crypto/hmac.hpp",
    "ballotchain/crypto/key_file.hpp",
}

INCLUDE_RE = re.compile(r'^\s*#\s*include\s*([<"])([^>"]+)[>"]')
SOURCE_EXT = (".hpp", ".h", ".cpp", ".cc", ".ipp")
SHARING_TOPS = ("apps", "tests", "bench", "fuzz")


def includes(path):
    """(line number, kind '<' or '"', target) for each #include of a file."""
    out = []
    with open(path, encoding="utf-8", errors="replace") as f:
        in_block_comment = False
        for n, line in enumerate(f, 1):
            stripped = line.strip()
            if in_block_comment:
                if "*/" in stripped:
                    in_block_comment = False
                continue
            if stripped.startswith("/*") and "*/" not in stripped:
                in_block_comment = True
                continue
            m = INCLUDE_RE.match(line)
            if m:
                out.append((n, m.group(1), m.group(2)))
    return out


def source_files(top):
    for dirpath, dirnames, filenames in os.walk(top):
        dirnames[:] = sorted(d for d in dirnames if d not in ("corpus", "data", "node_modules"))
        for name in sorted(filenames):
            if name.endswith(SOURCE_EXT):
                yield os.path.join(dirpath, name)


def check_layering_table(problems):
    """The table itself must be a DAG naming only known layers."""
    for layer, deps in LAYERS.items():
        for d in deps:
            if d not in LAYERS:
                problems.append(f"{__file__}:0: layer {layer} may include unknown layer {d}")
    state = {}

    def visit(layer, stack):
        state[layer] = 1
        for d in sorted(LAYERS.get(layer, ())):
            if state.get(d) == 1:
                problems.append(f"{__file__}:0: the layer table has a cycle: {' -> '.join(stack + [d])}")
            elif d in LAYERS and state.get(d) is None:
                visit(d, stack + [d])
        state[layer] = 2

    for layer in LAYERS:
        if state.get(layer) is None:
            visit(layer, [layer])


def check_library(root, problems):
    lib = os.path.join(root, "include", "ballotchain")
    graph = {}  # header (relative to include/) -> [(line, included header)]
    layer_edges = {}  # (from layer, to layer) -> first "file:line" that makes the edge
    for path in source_files(lib):
        rel = os.path.relpath(path, os.path.join(root, "include"))
        parts = rel.split(os.sep)
        where = os.path.relpath(path, root)
        if len(parts) < 3:
            problems.append(f"{where}:1: a library header outside a layer folder")
            continue
        layer = parts[1]
        if layer not in LAYERS:
            problems.append(f"{where}:1: folder {layer}/ is not a layer of the table in {os.path.basename(__file__)}")
            continue
        edges = []
        for n, kind, target in includes(path):
            if kind == '"':
                resolved = os.path.normpath(os.path.join(os.path.dirname(rel), target))
            elif target.startswith("ballotchain/"):
                resolved = os.path.normpath(target)
            else:
                continue  # system or third-party header
            rparts = resolved.split(os.sep)
            if len(rparts) < 3 or rparts[0] != "ballotchain":
                problems.append(f"{where}:{n}: includes {target}, which is not a library header")
                continue
            if not os.path.isfile(os.path.join(root, "include", resolved)):
                problems.append(f"{where}:{n}: includes {target}, which does not exist")
                continue
            if "insecure" in os.path.basename(resolved):
                problems.append(f"{where}:{n}: the library includes the insecure suite {target}")
            to_layer = rparts[1]
            if layer != "crypto" and resolved.replace(os.sep, "/") in MODELS:
                problems.append(f"{where}:{n}: {layer} includes the concrete crypto model {target}; "
                                "take the crypto suite as a template parameter")
            if to_layer != layer:
                layer_edges.setdefault((layer, to_layer), f"{where}:{n}")
            if to_layer != layer and to_layer not in LAYERS[layer]:
                if to_layer in LAYERS and layer in transitive(to_layer):
                    why = "a higher layer"
                else:
                    why = "a layer it may not use"
                problems.append(f"{where}:{n}: {layer} includes {to_layer} ({target}): {why} "
                                f"({layer} may include: {', '.join(sorted(LAYERS[layer])) or 'nothing'})")
            edges.append((n, resolved))
        graph[rel] = edges
    report_cycles(graph, problems)
    report_layer_cycles(layer_edges, problems)


def report_layer_cycles(edges, problems):
    """Cycles between layers as the includes make them (e.g. chain -> storage -> chain)."""
    succ = {}
    for (a, b) in edges:
        succ.setdefault(a, []).append(b)
    found = set()
    for start in sorted(succ):
        stack = [(start, [start])]
        while stack:
            node, path = stack.pop()
            for nxt in sorted(succ.get(node, ())):
                if nxt == start:
                    key = frozenset(path)
                    if key not in found:
                        found.add(key)
                        steps = [f"{a} -> {path[(i + 1) % len(path)]} ({edges[(a, path[(i + 1) % len(path)])]})"
                                 for i, a in enumerate(path)]
                        problems.append(f"{edges[(path[0], path[1 % len(path)])]}: layer cycle: " + "; ".join(steps))
                elif nxt not in path and nxt > start:
                    stack.append((nxt, path + [nxt]))


def transitive(layer):
    seen, todo = set(), [layer]
    while todo:
        for d in LAYERS.get(todo.pop(), ()):
            if d not in seen:
                seen.add(d)
                todo.append(d)
    return seen


def report_cycles(graph, problems):
    """Every include cycle once, each edge named by file and line."""
    state, stack, seen_cycles = {}, [], set()

    def visit(node):
        state[node] = 1
        stack.append(node)
        for line, nxt in graph.get(node, ()):
            if state.get(nxt) == 1:
                cycle = stack[stack.index(nxt):]
                key = frozenset(cycle)
                if key not in seen_cycles:
                    seen_cycles.add(key)
                    steps = []
                    for i, a in enumerate(cycle):
                        b = cycle[(i + 1) % len(cycle)]
                        ln = next(l for l, t in graph[a] if t == b)
                        steps.append(f"include/{a}:{ln} -> {b}")
                    problems.append(f"include/{node}:{line}: include cycle: " + "; ".join(steps))
            elif state.get(nxt) is None and nxt in graph:
                visit(nxt)
        stack.pop()
        state[node] = 2

    for node in sorted(graph):
        if state.get(node) is None:
            visit(node)


def component(rel):
    """apps/<app>, tests/<kind>, bench, fuzz: what may include its own files by relative path."""
    parts = rel.split(os.sep)
    if parts[0] in ("apps", "tests") and len(parts) > 2:
        return os.path.join(parts[0], parts[1])
    return parts[0]


def check_sharing(root, problems):
    for top in SHARING_TOPS:
        base = os.path.join(root, top)
        if not os.path.isdir(base):
            continue
        for path in source_files(base):
            rel = os.path.relpath(path, root)
            comp = component(rel)
            for n, kind, target in includes(path):
                if "insecure" in os.path.basename(target) and top == "apps":
                    problems.append(f"{rel}:{n}: apps include the insecure suite {target}")
                if kind != '"':
                    continue
                resolved = os.path.normpath(os.path.join(os.path.dirname(rel), target))
                if not os.path.isfile(os.path.join(root, resolved)):
                    problems.append(f"{rel}:{n}: \"{target}\" is not a file next to it; include a target's "
                                    f"header with <...>")
                    continue
                if os.path.isabs(resolved) or resolved.startswith(".."):
                    problems.append(f"{rel}:{n}: \"{target}\" leaves the repository")
                    continue
                other = component(resolved)
                if other != comp:
                    problems.append(f"{rel}:{n}: \"{target}\" reaches into {other}/ by relative path; "
                                    f"link its CMake target and include it with <...>")


def main():
    root = os.path.abspath(sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(__file__), "..", ".."))
    problems = []
    check_layering_table(problems)
    check_library(root, problems)
    check_sharing(root, problems)
    for p in problems:
        print(p)
    if problems:
        print(f"{len(problems)} layering violation(s); the rules are in {os.path.relpath(__file__, root)} "
              "and docs/architecture.md")
        return 1
    print("layering: ok")
    return 0


if __name__ == "__main__":
    sys.exit(main())
