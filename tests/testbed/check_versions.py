#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
"""check_versions.py TESTBED_DIR: `floe inspect --versions` and the error
for an unknown --branch/--tag tell what the real Icechunk library sees.

On the test bed's two repositories (spec 2 and spec 1, through the loopback
S3) and on small repositories the library writes here with several
branches, tags (one deleted) and commits (scripts/node/make_versions_repo.mjs),
compares floe's branches, tags and history (ids, times, messages, newest
first) with the library's listBranches/lookupBranch, listTags/lookupTag and
ancestry (reference reader --info), for branches, tags and snapshot ids;
spec 1, whose refs floe cannot list, must say so. An unknown --branch or
--tag is one error line naming the ones the library lists (spec 2). Prints
"N passed, N failed" last.
"""

import datetime
import json
import os
import subprocess
import tempfile

import reference
from testlib import check, run, summary

FLOE = os.environ.get("FLOE_BIN", os.path.join(reference.ROOT, "build", "floe"))
NODE_RUN = os.path.join(reference.ROOT, "scripts", "node", "run")


def floe(*args):
    env = dict(os.environ, AWS_ENDPOINT_URL=os.environ["FLOE_S3_ENDPOINT"])
    return subprocess.run([FLOE, *args], capture_output=True, text=True, env=env, timeout=300)


def node(*args):
    r = subprocess.run([NODE_RUN, *args], capture_output=True, text=True, timeout=300)
    if r.returncode:
        raise reference.ReaderError(r.stderr.strip() or f"exit {r.returncode}")
    return json.loads(r.stdout.strip().splitlines()[-1])


def instant(s):
    """An ISO 8601 time with an offset (library) or Z (floe) as an aware datetime."""
    return datetime.datetime.fromisoformat(s.replace("Z", "+00:00"))


def compare(what, got, lib, spec):
    """floe's --versions --json (got) against the library's --info (lib)."""
    check(got["snapshot"] == lib["snapshot"], f"{what}: snapshot {got['snapshot']} vs {lib['snapshot']}")
    check(got["spec_version"] == spec, f"{what}: spec {got['spec_version']}")
    hist, anc = got["history"], lib["ancestry"]
    check([h["id"] for h in hist] == [a["id"] for a in anc],
          f"{what}: history ids {[h['id'] for h in hist]} vs {[a['id'] for a in anc]}")
    check([h["message"] for h in hist] == [a["message"] for a in anc], f"{what}: history messages")
    check(len(hist) == len(anc) and all(instant(h["time"]) == instant(a["written_at"])
                                        for h, a in zip(hist, anc)),
          f"{what}: history times {[h['time'] for h in hist]} vs {[a['written_at'] for a in anc]}")
    if spec == 2:
        check(got["refs_unlisted"] is None, f"{what}: refs listed")
        check({b["name"]: b["snapshot"] for b in got["branches"] or []} == lib["branches"],
              f"{what}: branches {got['branches']} vs {lib['branches']}")
        check({t["name"]: t["snapshot"] for t in got["tags"] or []} == lib["tags"],
              f"{what}: tags {got['tags']} vs {lib['tags']}")
        check([b["name"] for b in got["branches"] or []] == sorted(lib["branches"], key=str.encode)
              and [t["name"] for t in got["tags"] or []] == sorted(lib["tags"], key=str.encode),
              f"{what}: refs sorted by name")
    else:
        check(got["branches"] is None and got["tags"] is None
              and "spec-1" in (got["refs_unlisted"] or ""),
              f"{what}: spec 1 says its refs are not listed: {got['refs_unlisted']}")


def versions_json(what, *args):
    r = floe("inspect", *args, "--versions", "--json")
    check(r.returncode == 0, f"{what}: exit {r.returncode}: {r.stderr.strip()}")
    return json.loads(r.stdout) if r.returncode == 0 else None


def check_unknown(what, source, spec, lib, kind):
    names = sorted(lib["branches" if kind == "branch" else "tags"], key=str.encode)
    r = floe("inspect", source, f"--{kind}", "no-such-" + kind)
    lines = r.stderr.strip().splitlines()
    check(r.returncode != 0 and len(lines) == 1, f"{what} unknown {kind}: one error line: {lines}")
    line = lines[0] if lines else ""
    if spec == 2:
        want = ", ".join(f'"{n}"' for n in names) if names else f"no {kind}"
        check(f'{kind} "no-such-{kind}" not found' in line and want in line,
              f"{what} unknown {kind}: names {want}: {line}")
    else:
        check("cannot be listed" in line, f"{what} unknown {kind}: says why it cannot list: {line}")


def main(tbdir):
    # the test bed: the documents' version, and each branch and tag the library lists
    for spec, doc in ((2, "collection.json"), (1, "collection-specv1.json")):
        src = os.path.join(tbdir, doc)
        lib_default = reference.run(spec, "--info")
        got = versions_json(f"spec {spec} {doc}", src)
        if got:
            # the document names a snapshot; the library opens it by id
            lib = reference.run(spec, "--snapshot", got["snapshot"], "--info")
            compare(f"spec {spec} {doc}", got, lib, spec)
        for tag in lib_default["tags"]:
            got = versions_json(f"spec {spec} tag {tag}", src, "--tag", tag)
            if got:
                compare(f"spec {spec} tag {tag}", got, reference.run(spec, "--tag", tag, "--info"), spec)
        for kind in ("branch", "tag"):
            check_unknown(f"spec {spec} {doc}", src, spec, lib_default, kind)
        # the text form: one line per snapshot of the history, newest first
        r = floe("inspect", src, "--versions")
        hist = [ln.split()[0] for ln in r.stdout.splitlines() if ln.startswith("  ") and
                len(ln.split()) > 2 and ln.split()[0] in {a["id"] for a in lib_default["ancestry"]}]
        check(r.returncode == 0 and "History of snapshot" in r.stdout, f"spec {spec}: text form")
        if spec == 2:
            check(f"v2001-01" in r.stdout and "Branches (1):" in r.stdout, f"spec {spec}: text lists refs")
        check(len(hist) >= len(lib_default["ancestry"]), f"spec {spec}: text history lines {hist}")

    # repositories with branches, tags (one deleted), spaces in names
    with tempfile.TemporaryDirectory() as tmp:
        for spec in (2, 1):
            repo = os.path.join(tmp, f"versions-v{spec}")
            ids = node("make_versions_repo.mjs", repo, str(spec))
            lib_main = node("reference_read.mjs", "--local", repo, "--info")
            check("old" not in lib_main["tags"] and "dev" in lib_main["branches"],
                  f"spec {spec}: the library's view of the written repository {lib_main['branches']}")
            cases = [("branch main", []), ("branch dev", ["--branch", "dev"]),
                     ("branch 'feature x'", ["--branch", "feature x"]),
                     ("tag v1", ["--tag", "v1"]), ("tag 'release 2'", ["--tag", "release 2"]),
                     ("snapshot of dev", ["--snapshot", ids["dev"]])]
            for what, args in cases:
                got = versions_json(f"spec {spec} {what}", repo, *args)
                lib_args = [a for a in args]
                lib = node("reference_read.mjs", "--local", repo, *lib_args, "--info")
                if got:
                    compare(f"spec {spec} {what}", got, lib, spec)
            for kind in ("branch", "tag"):
                check_unknown(f"spec {spec} written", repo, spec, lib_main, kind)
            # a deleted tag stays "not found"
            r = floe("inspect", repo, "--tag", "old")
            check(r.returncode != 0 and "deleted" in r.stderr if spec == 2 else r.returncode != 0,
                  f"spec {spec}: deleted tag: {r.stderr.strip()}")
            r = floe("inspect", repo, "--versions", "--stac-only")
            check(r.returncode != 0 and "--versions" in r.stderr, "--versions with --stac-only refused")
    return summary()


if __name__ == "__main__":
    run(main, __doc__)
