#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""check_layout.py [--self-test | --graph] [ROOT]: floe's layering rules,
checked on the source tree (like libcurl's checksrc). Prints every
offending line as FILE:LINE: rule and exits 1 when there is one; --self-test also proves that each rule fires
on a copy of the tree with one violation planted; --graph prints the
folders' dependency graph and line counts as the code has them.

The rules (README "Layout"):
  1. includes only point down: a file may include headers from the folders
     ALLOWED names for its own folder, nothing else, and a folder's
     internal.h only from that folder and those below it (io/ never sees
     cf/, stac/, dataset/, out/, engine/ or cli/; io/transport/ never io/fetch/;
     engine/ sees storage only through dataset/; cli/ never io/ or out/);
  2. io/icechunk/format/ is pure: no file, socket, curl, transport or fetch
     calls;
  3. MPI (<mpi.h>, MPI_* names) only in engine/ and common/;
  4. a .c file over MAX_LINES lines says why at its top ("Why one file:").
"""
import os
import re
import shutil
import sys
import tempfile

SOURCE_DIRS = ("common", "io", "cf", "stac", "dataset", "out", "engine", "cli")

# Folder -> the folders its files may include (its own always included).
ALLOWED = {
    "common": set(),
    "io/transport": {"common"},
    "io/fetch": {"common", "io/transport"},
    "io/icechunk/format": {"common"},
    "io/icechunk": {"common", "io/transport", "io/fetch", "io/icechunk/format"},
    "io/zarr": {"common"},
    "io/zarr/codec": {"common", "io/zarr"},
    "cf": {"common", "io/zarr"},
    "stac": {"common", "io/transport", "io/icechunk/format"},
    "dataset": {"common", "io/transport", "io/fetch", "io/icechunk", "io/icechunk/format",
                "io/zarr", "cf", "stac"},
    "out": {"common", "cf", "dataset"},
    "out/item": {"common", "cf", "dataset", "out"},
    "engine/reduce": {"common"},
    "engine/plan": {"common", "cf", "dataset", "engine/reduce"},
    "engine/mpi": {"common", "dataset"},
    "engine/job": {"common", "cf", "dataset", "out", "out/item", "engine/plan",
                   "engine/reduce", "engine/mpi"},
    "cli": {"common", "cf", "dataset", "stac", "engine/job", "engine/mpi", "engine/plan"},
}
MPI_FOLDERS = ("engine/", "common/")
MAX_LINES = 600
LONG_REASON = "Why one file:"
IO_CALLS = re.compile(r"\b(fopen|fread|fwrite|fclose|open|read|pread|write|close|"
                      r"curl_\w+|floe_transport_\w+|floe_fetch\w*|floe_prefetch\w*|"
                      r"socket|connect|recv|send)\s*\(")
IO_HEADERS = re.compile(r"#\s*include\s*<(unistd\.h|fcntl\.h|curl/curl\.h|sys/[\w/]+\.h)>")
INCLUDE = re.compile(r'^\s*#\s*include\s*"([^"]+)"')
INTERNAL = re.compile(r"(^|/|_)internal\.h$")
MPI_USE = re.compile(r"#\s*include\s*<mpi\.h>|\bMPI_[A-Za-z_]+")


def strip_comments_and_strings(text):
    """Blank out comments and string/char literals, keeping line numbers."""
    out, i, n = [], 0, len(text)
    while i < n:
        c = text[i]
        if text.startswith("/*", i):
            j = text.find("*/", i + 2)
            j = n if j < 0 else j + 2
            out.append(re.sub(r"[^\n]", " ", text[i:j]))
            i = j
        elif text.startswith("//", i):
            j = text.find("\n", i)
            j = n if j < 0 else j
            out.append(" " * (j - i))
            i = j
        elif c in "\"'":
            j = i + 1
            while j < n and text[j] != c and text[j] != "\n":
                j += 2 if text[j] == "\\" else 1
            out.append(c + " " * (min(j, n) - i - 1) + (c if j < n else ""))
            i = j + 1
        else:
            out.append(c)
            i += 1
    return "".join(out)


def folder_of(path):
    """The layer folder of a source file: the longest ALLOWED key it is in."""
    d = os.path.dirname(path)
    while d and d not in ALLOWED:
        d = os.path.dirname(d)
    return d


def check(root):
    problems = []
    for top in SOURCE_DIRS:
        for dirpath, _, names in os.walk(os.path.join(root, top)):
            for name in sorted(names):
                if not name.endswith((".c", ".h")):
                    continue
                full = os.path.join(dirpath, name)
                rel = os.path.relpath(full, root).replace(os.sep, "/")
                problems += check_file(root, rel, open(full, encoding="utf-8").read())
    return problems


def check_file(root, rel, text):
    problems = []
    folder = folder_of(rel)
    if folder == "":
        return [f"{rel}:1: not in a layer folder (add it to ALLOWED in tests/check_layout.py)"]
    allowed = ALLOWED[folder] | {folder}
    lines = text.split("\n")
    code = strip_comments_and_strings(text).split("\n")
    for no, line in enumerate(lines, 1):
        m = INCLUDE.match(line)
        if m:
            target = folder_of(m.group(1))
            if not os.path.exists(os.path.join(root, m.group(1))):
                problems.append(f"{rel}:{no}: includes \"{m.group(1)}\", which does not exist")
            elif target not in allowed:
                problems.append(f"{rel}:{no}: {folder}/ may not include {target}/: {line.strip()}")
            elif INTERNAL.search(m.group(1)) and not (folder + "/").startswith(target + "/"):
                problems.append(f"{rel}:{no}: {target}/'s internal header is its own: "
                                f"{line.strip()}")
    for no, line in enumerate(code, 1):
        raw = lines[no - 1]
        if not rel.startswith(MPI_FOLDERS) and (MPI_USE.search(line) or
                                                re.search(r"#\s*include\s*<mpi\.h>", raw)):
            problems.append(f"{rel}:{no}: MPI outside engine/ and common/: {raw.strip()}")
        if folder == "io/icechunk/format" and (IO_CALLS.search(line) or IO_HEADERS.search(raw)):
            problems.append(f"{rel}:{no}: io/icechunk/format/ does no I/O: {raw.strip()}")
    if rel.endswith(".c") and len(lines) > MAX_LINES and LONG_REASON not in "\n".join(lines[:40]):
        problems.append(f"{rel}:1: {len(lines)} lines (over {MAX_LINES}) and no "
                        f"\"{LONG_REASON}\" at its top saying why")
    return problems


def self_test(root):
    """Plant one violation of each rule in a copy of the tree: each must be
    reported as a new problem."""
    plants = [
        ("io/transport/transport.c", '#include "io/fetch/fetch.h"\n', "may not include io/fetch/"),
        ("io/fetch/coalesce.c", '#include "io/transport/internal.h"\n', "internal header"),
        ("io/zarr/meta.c", '#include "stac/doc.h"\n', "may not include stac/"),
        ("engine/plan/selection.c", '#include "io/transport/transport.h"\n',
         "may not include io/transport/"),
        ("out/provenance.c", "static int r(void) { return MPI_Barrier(0); }\n", "MPI outside"),
        ("io/icechunk/format/ids.c", "#include <unistd.h>\n", "does no I/O"),
        ("io/icechunk/format/msgpack.c", "static void g(void) { floe_transport_get(0); }\n",
         "does no I/O"),
        ("common/floe_log.c", "\n" * (MAX_LINES + 1), f"(over {MAX_LINES})"),
    ]
    failures = 0
    with tempfile.TemporaryDirectory() as tmp:
        for top in SOURCE_DIRS:
            shutil.copytree(os.path.join(root, top), os.path.join(tmp, top))
        before = set(check(tmp))
        for path, text, expect in plants:
            p = os.path.join(tmp, path)
            saved = open(p, encoding="utf-8").read()
            open(p, "w", encoding="utf-8").write(saved + text)
            found = [x for x in set(check(tmp)) - before if x.startswith(path) and expect in x]
            print(f"self-test: {path} + {text.strip()[:40]!r}: "
                  f"{'caught: ' + found[0] if found else 'NOT CAUGHT'}")
            failures += not found
            open(p, "w", encoding="utf-8").write(saved)
    return 1 if failures else 0


def graph(root):
    """The folder dependency graph as the code has it, and lines per folder:
    FOLDER (N .c/.h lines) -> the folders its files include."""
    deps, lines = {}, {}
    for top in SOURCE_DIRS:
        for dirpath, _, names in os.walk(os.path.join(root, top)):
            for name in names:
                if not name.endswith((".c", ".h")):
                    continue
                rel = os.path.relpath(os.path.join(dirpath, name), root).replace(os.sep, "/")
                folder = os.path.dirname(rel)
                text = open(os.path.join(root, rel), encoding="utf-8").read()
                lines[folder] = lines.get(folder, 0) + text.count("\n")
                for line in text.split("\n"):
                    m = INCLUDE.match(line)
                    if m and os.path.dirname(m.group(1)) != folder:
                        deps.setdefault(folder, set()).add(os.path.dirname(m.group(1)))
    for folder in sorted(lines):
        print(f"{folder} ({lines[folder]} lines) -> {' '.join(sorted(deps.get(folder, ()))) or '-'}")


def main():
    args = [a for a in sys.argv[1:] if not a.startswith("--")]
    root = args[0] if args else os.path.join(os.path.dirname(os.path.abspath(__file__)), "..")
    if "--graph" in sys.argv:
        graph(root)
        return 0
    status = 0
    if "--self-test" in sys.argv:
        status = self_test(root)
    problems = check(root)
    for p in problems:
        print(p)
    print(f"{len(problems)} layout problem(s)")
    return 1 if problems or status else 0


if __name__ == "__main__":
    sys.exit(main())
