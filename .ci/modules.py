#!/usr/bin/env python3
"""parley's module graph: no cycles, and the layers ARCHITECTURE.md draws (issue 19).

Node = top-level module (crate::X), or with --depth 2 the second level for folders.
An edge A -> B is any `crate::B` path (in `use` or inline) in A's non-test code, and
`super::` paths resolved relative to the file. Prints the cycles (strongly connected
components) and, at the top level, every edge that names a module on a higher layer than
its own; exits 1 if there is either. `--edges` lists the graph.

    python3 .ci/modules.py src             # what CI runs
    python3 .ci/modules.py src --depth 2   # folders' files as nodes
"""
import os, re, sys
from collections import defaultdict

root = sys.argv[1] if len(sys.argv) > 1 else 'src'
depth = 2 if '--depth' in sys.argv and sys.argv[sys.argv.index('--depth') + 1] == '2' else 1

def module_of(path):
    rel = os.path.relpath(path, root)[:-3].split(os.sep)
    if rel[-1] == 'mod':
        rel = rel[:-1]
    if rel in (['lib'], ['main']):
        return None, rel
    return rel, rel

def node(parts):
    return '::'.join(parts[:depth]) if parts else None

def strip_tests(text):
    # cut at `#[cfg(test)]` followed by a `mod` item (module-level test blocks)
    m = re.search(r'^#\[cfg\(test\)\]\s*\n\s*(pub(\(crate\))?\s+)?mod\s+\w+\s*\{', text, re.M)
    if m:
        text = text[:m.start()]
    # drop comments
    text = re.sub(r'//[^\n]*', '', text)
    return text

def expand_use_tree(prefix, tree):
    """Yield full paths from a use tree string like `a::{b, c::{d}}`."""
    tree = tree.strip()
    if not tree:
        return
    m = re.match(r'^([\w:]*?)(::)?\{(.*)\}$', tree, re.S)
    if m and tree.endswith('}'):
        head = m.group(1)
        inner = m.group(3)
        parts, depth_, cur = [], 0, ''
        for ch in inner:
            if ch == '{': depth_ += 1
            if ch == '}': depth_ -= 1
            if ch == ',' and depth_ == 0:
                parts.append(cur); cur = ''
            else:
                cur += ch
        parts.append(cur)
        base = prefix + ([h for h in head.split('::') if h] if head else [])
        for p in parts:
            yield from expand_use_tree(base, p)
    else:
        yield prefix + [t for t in re.split(r'::', tree.split(' as ')[0].strip()) if t]

edges = defaultdict(set)
known = set()
for dp, _, fs in os.walk(root):
    for f in fs:
        if f.endswith('.rs'):
            m, _ = module_of(os.path.join(dp, f))
            if m: known.add('::'.join(m[:depth]))
test_files = set()
for dp, _, fs in os.walk(root):
    for f in fs:
        if not f.endswith('.rs'):
            continue
        p = os.path.join(dp, f)
        mod, rel = module_of(p)
        if mod is None:
            continue
        text = open(p, encoding='utf-8').read()
        src = strip_tests(text)
        paths = []
        for m in re.finditer(r'\buse\s+([^;]+);', src):
            for full in expand_use_tree([], m.group(1)):
                paths.append(full)
        for m in re.finditer(r'\b((?:crate|super)(?:::\w+)+)', src):
            paths.append(m.group(1).split('::'))
        me = node(mod)
        for full in paths:
            if not full:
                continue
            if full[0] == 'crate':
                tgt = full[1:]
            elif full[0] == 'super':
                base = list(rel[:-1]) if rel[-1] != 'mod' else list(rel[:-2])
                base = list(mod[:-1])
                rest = full[1:]
                while rest and rest[0] == 'super':
                    base = base[:-1]; rest = rest[1:]
                tgt = base + rest
            else:
                continue
            t = node(tgt)
            if t not in known:
                t = node(tgt[:1])
            if t not in known:
                continue
            if t and t != me and not (depth == 2 and t.split('::')[0] == me):
                edges[me].add(t)

# Tarjan SCC
index, low, stack, on, sccs, i = {}, {}, [], set(), [], [0]
nodes = set(edges) | {t for s in edges.values() for t in s}
sys.setrecursionlimit(10000)
def sc(v):
    index[v] = low[v] = i[0]; i[0] += 1; stack.append(v); on.add(v)
    for w in edges.get(v, ()):
        if w not in index:
            sc(w); low[v] = min(low[v], low[w])
        elif w in on:
            low[v] = min(low[v], index[w])
    if low[v] == index[v]:
        comp = []
        while True:
            w = stack.pop(); on.discard(w); comp.append(w)
            if w == v: break
        sccs.append(comp)
for v in sorted(nodes):
    if v not in index:
        sc(v)
if '--edges' in sys.argv:
    for a in sorted(edges):
        print(f'{a} -> {", ".join(sorted(edges[a]))}')
# The layers of ARCHITECTURE.md's code map, bottom up: a module may name modules on its own
# line or a lower one. Keep the two in step.
LAYERS = [
    ['plover', 'events', 'template', 'signal', 'memory'],
    ['extract'],
    ['feed', 'config', 'service'],
    ['store', 'alert', 'notify', 'wikidata'],
    ['metrics', 'pipeline'],
    ['nats', 'error', 'cli', 'server', 'opml'],
    ['commands', 'eval', 'api', 'web', 'daemon'],
    ['app'],
]
upward = []
if depth == 1:
    layer = {m: i for i, ms in enumerate(LAYERS) for m in ms}
    for a in sorted(edges):
        for b in sorted(edges[a]):
            if a not in layer or b not in layer:
                upward.append(f'{a} -> {b} (a module not in LAYERS: add it)')
            elif layer[b] > layer[a]:
                upward.append(f'{a} -> {b} (names a higher layer)')
for u in upward:
    print('LAYER:', u)
cyc = [sorted(c) for c in sccs if len(c) > 1]
print(f'{len(nodes)} modules, {sum(len(s) for s in edges.values())} edges, {len(cyc)} cycles')
for c in cyc:
    print('CYCLE:', ' <-> '.join(c))
    for a in c:
        print('   ', a, '->', ', '.join(sorted(t for t in edges[a] if t in c)))
sys.exit(1 if cyc or upward else 0)
