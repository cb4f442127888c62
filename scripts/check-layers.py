#!/usr/bin/python3
"""check-layers.py - the build's layers, checked on the sources.

    check-layers.py [ROOT]        check the tree at ROOT (default: this one)
    check-layers.py --self-test   show that each rule fails on a violation

The layers, bottom up (README, "Layout"):
    image/     the process image; knows nothing of Python
    pyheap/    the CPython model; sees image/
    graph/     graphs of dense ids; sees nothing else (no libelf, no CPython)
    analyzer/  analyses and commands; sees every layer

Rules, each reported as FILE:LINE: RULE: TEXT:
  upward-include   a quoted #include of a header of a layer the file may not
                   see (a layer above it, or beside it: graph/ and pyheap/)
  libelf           <libelf.h>, <gelf.h>, <dwarf.h>, <elfutils/...> outside image/
  graphviz         <graphviz/...> outside graph/
  print            printf, puts, putchar, perror, vprintf, stdout, stderr
                   below the command files (analyzer/main.c, analyzer/cmd_*.c)
  exit             exit(), _exit(), abort() below the command files
  command-header   an analysis (analyzer/ but not a command file) that
                   includes cmd.h: analyses compute, commands render
  undefined        (with --nm BUILD) an archive that needs a symbol defined
                   only by an archive above it
Exits 1 when anything breaks a rule.
"""
import os
import re
import shutil
import subprocess
import sys
import tempfile

LAYERS = ['image', 'pyheap', 'graph', 'analyzer']
SEES = {
    'image': {'image'},
    'pyheap': {'image', 'pyheap'},
    'graph': {'graph'},
    'analyzer': {'image', 'pyheap', 'graph', 'analyzer'},
}
LIBELF = re.compile(r'#\s*include\s*<(libelf\.h|gelf\.h|dwarf\.h|elfutils/[^>]*|libdw[^>]*)>')
GRAPHVIZ = re.compile(r'#\s*include\s*<graphviz/[^>]*>')
QUOTED = re.compile(r'#\s*include\s*"([^"]+)"')
PRINT = re.compile(r"\b(printf|vprintf|puts|putchar|perror|stdout|stderr)\b(?!\s*,\s*\d)")
EXIT = re.compile(r'\b(exit|_exit|_Exit|abort)\s*\(')


def strip_comments(text):
    """Blanks comments and string literals, keeping line numbers."""
    out = []
    i, n = 0, len(text)
    while i < n:
        c = text[i]
        if text.startswith('/*', i):
            j = text.find('*/', i + 2)
            j = n if j < 0 else j + 2
            out.append(re.sub(r'[^\n]', ' ', text[i:j]))
            i = j
        elif text.startswith('//', i):
            j = text.find('\n', i)
            j = n if j < 0 else j
            out.append(' ' * (j - i))
            i = j
        elif c == '"' or c == "'":
            j = i + 1
            while j < n and text[j] != c and text[j] != '\n':
                j += 2 if text[j] == '\\' else 1
            out.append(c + ' ' * (min(j, n) - i - 1) + (c if j < n else ''))
            i = j + 1
        else:
            out.append(c)
            i += 1
    return ''.join(out)


def is_command_file(rel):
    return rel == 'analyzer/main.c' or re.match(r'analyzer/cmd_[^/]*\.c$', rel) is not None


def headers_by_layer(root):
    where = {}
    for layer in LAYERS:
        d = os.path.join(root, layer)
        for f in os.listdir(d) if os.path.isdir(d) else []:
            if f.endswith('.h'):
                where.setdefault(f, set()).add(layer)
    return where


def check_tree(root):
    problems = []
    where = headers_by_layer(root)
    for layer in LAYERS:
        d = os.path.join(root, layer)
        if not os.path.isdir(d):
            problems.append('%s/: missing layer directory' % layer)
            continue
        for f in sorted(os.listdir(d)):
            if not f.endswith(('.c', '.h')):
                continue
            rel = '%s/%s' % (layer, f)
            raw = open(os.path.join(d, f), encoding='utf-8', errors='replace').read()
            code = strip_comments(raw)
            raw_lines = raw.split('\n')
            for no, line in enumerate(code.split('\n'), 1):
                text = raw_lines[no - 1].strip()
                m = QUOTED.search(raw_lines[no - 1]) if line.lstrip().startswith('#') else None
                if m:
                    h = os.path.basename(m.group(1))
                    owners = where.get(h, set())
                    if owners and not owners & SEES[layer]:
                        problems.append('%s:%d: upward-include: %s (a header of %s/)'
                                        % (rel, no, text, '/'.join(sorted(owners))))
                    elif not owners and '/' in m.group(1):
                        problems.append('%s:%d: upward-include: %s (a path out of the layer)'
                                        % (rel, no, text))
                if LIBELF.search(raw_lines[no - 1]) and layer != 'image':
                    problems.append('%s:%d: libelf: %s' % (rel, no, text))
                if GRAPHVIZ.search(raw_lines[no - 1]) and layer != 'graph':
                    problems.append('%s:%d: graphviz: %s' % (rel, no, text))
                if is_command_file(rel):
                    continue
                if m and layer == 'analyzer' and os.path.basename(m.group(1)) == 'cmd.h':
                    problems.append('%s:%d: command-header: %s' % (rel, no, text))
                if PRINT.search(line):
                    problems.append('%s:%d: print: %s' % (rel, no, text))
                if EXIT.search(line):
                    problems.append('%s:%d: exit: %s' % (rel, no, text))
    return problems


def check_archives(build):
    """Undefined symbols of each archive that only a higher one defines."""
    problems = []
    defined = {}
    undefined = {}
    for layer in LAYERS:
        a = os.path.join(build, 'lib%s.a' % layer)
        if not os.path.exists(a):
            problems.append('%s: missing archive' % a)
            continue
        r = subprocess.run(['nm', '-A', a], stdout=subprocess.PIPE, text=True)
        defined[layer], undefined[layer] = set(), set()
        for line in r.stdout.splitlines():
            parts = line.split()
            if len(parts) >= 3 and parts[-2] in 'TDBRC':
                defined[layer].add(parts[-1])
            elif len(parts) >= 2 and parts[-2] == 'U':
                undefined[layer].add(parts[-1])
    for layer in LAYERS:
        for sym in sorted(undefined.get(layer, ())):
            for other in LAYERS:
                if other not in SEES[layer] and sym in defined.get(other, ()) \
                        and sym not in defined.get(layer, ()):
                    problems.append('lib%s.a: undefined: %s is defined in lib%s.a'
                                    % (layer, sym, other))
    return problems


def self_test(root):
    """Copies the layers into a scratch tree, breaks one rule at a time and
    checks that the checker names it."""
    cases = [
        ('image/core.c', '#include "pyheap.h"\n', 'upward-include'),
        ('pyheap/scan.c', '#include "heapgraph.h"\n', 'upward-include'),
        ('graph/walk.c', '#include "pyheap.h"\n', 'upward-include'),
        ('pyheap/scan.c', '#include <gelf.h>\n', 'libelf'),
        ('graph/walk.c', '#include <elfutils/libdw.h>\n', 'libelf'),
        ('analyzer/json.c', '#include <graphviz/cgraph.h>\n', 'graphviz'),
        ('pyheap/warn.c', 'static void f(void) { fprintf(stderr, "x"); }\n', 'print'),
        ('graph/walk.c', 'static void g(void) { printf("x"); }\n', 'print'),
        ('analyzer/heapgraph.c', 'static void h(void) { exit(1); }\n', 'exit'),
        ('analyzer/json.c', '#include "cmd.h"\n', 'command-header'),
    ]
    clean = check_tree(root)
    if clean:
        print('self-test: the tree itself does not pass:')
        for p in clean:
            print('  ' + p)
        return 1
    failed = 0
    for path, text, rule in cases:
        tmp = tempfile.mkdtemp(prefix='check-layers-')
        try:
            for layer in LAYERS:
                shutil.copytree(os.path.join(root, layer), os.path.join(tmp, layer))
            with open(os.path.join(tmp, path), 'a') as f:
                f.write(text)
            found = [p for p in check_tree(tmp) if p.startswith(path) and (': %s:' % rule) in p]
            ok = len(found) == 1
            print('self-test: %-4s %-22s %-16s %s' % ('ok' if ok else 'FAIL', path, rule,
                                                      found[0] if found else '(not caught)'))
            failed += not ok
        finally:
            shutil.rmtree(tmp)
    return 1 if failed else 0


def main(argv):
    here = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    if len(argv) > 1 and argv[1] == '--self-test':
        return self_test(here)
    build = None
    if len(argv) > 2 and argv[1] == '--nm':
        build = argv[2]
        argv = argv[:1] + argv[3:]
    root = argv[1] if len(argv) > 1 else here
    problems = check_tree(root)
    if build:
        problems += check_archives(build)
    for p in problems:
        print(p)
    print('check-layers: %d problem%s in %s' % (len(problems), '' if len(problems) == 1 else 's',
                                                ', '.join(l + '/' for l in LAYERS)))
    return 1 if problems else 0


if __name__ == '__main__':
    sys.exit(main(sys.argv))
