#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
"""check_large_objects.py TESTBED_DIR: a large manifest is fetched as
parallel ranges (issue 13: "large objects fetched in parallel ranges, as
Icechunk does"), with the same answers as a whole-object read.

The repository is written at test time by the real Icechunk library
(scripts/node/make_large_manifest_repo.mjs): one array of 600000 shuffled
virtual refs in one manifest of about 7 MB, more than floe's threshold
(FLOE_PREFETCH_RANGED_MIN_BYTES, 4 MiB); chunk t holds the value t. It is
served by a stand-in of the test's own (20 ms latency, access log), and:
- `floe extract` of two days (48 chunks) fetches that manifest as several
  ranged GETs (206) that together are exactly [0, size), never whole; the
  stand-in's times show them in flight at once; the answers are t, and the
  same as the same extract of the repository read as a local folder (a
  whole-object read); under mpirun -np 2 too (rank 0's recorded
  metadata); --report's metadata_requests counts each range;
- every other ranged GET fails once (503): the same answers, the access log
  shows each failed range fetched again, and --report counts the retries;
- every ranged GET fails, always: floe exits non-zero with one line naming
  the manifest's URL and a range, and writes nothing;
- the snapshot lists a wrong size for the manifest (a copy of the
  repository whose snapshots say more, or fewer, bytes than the object
  has): the server's Content-Range total differs, the ranges are dropped
  and the manifest read whole (an info line names both sizes), with the
  same answers (too big used to fail the open with a short read, too small
  to cache a truncated manifest as whole);
- --memory-budget below the manifest's listed size: one line naming it,
  its size and "raise --memory-budget", and no GET of it.
The test bed itself is not read (only its presence is needed to run with
the test-bed tests; it needs the node tools, scripts/node/install).
Prints "N passed, N failed" last."""

import json
import os
import struct
import re
import shutil
import subprocess
import tempfile
import time

import numpy as np

import reference
import standin
from testlib import check, floe_np, load, notes, run, summary

N = 600000                    # refs: about 12 bytes each in the stored manifest
RANGED_MIN = 4 << 20          # FLOE_PREFETCH_RANGED_MIN_BYTES (io/fetch/prefetch.h)
DAYS = "2001-01-02/2001-01-03"  # hours 24 .. 71
STEPS = np.arange(24, 72)
LINE = re.compile(r'\[[^\]]* (\d+\.\d+)\] "GET (\S+) HTTP/[\d.]+" (\d+) (\d+) '
                  r'range="(?:bytes=(\d+)-(\d+)|-)" (\S+) ')
LOG_WAIT_S = 10               # the most to wait for the access log's last lines
HEADER = 39                   # an Icechunk metadata file's header; byte 38: 1 = zstd
WRONG_BY = 1 << 20            # a listed size this far off, both still above RANGED_MIN


def make_repo(root):
    """The repository at root/bk/big and its source folder; the manifest's
    key and stored size (the largest object under manifests/)."""
    repo, src = os.path.join(root, "bk", "big"), os.path.join(root, "src")
    r = subprocess.run([os.path.join(reference.ROOT, "scripts", "node", "run"),
                        "make_large_manifest_repo.mjs", repo, src, str(N)],
                       capture_output=True, text=True)
    check(r.returncode == 0, f"make_large_manifest_repo: {r.stderr.strip()}")
    if r.returncode != 0:
        return None
    mdir = os.path.join(repo, "manifests")
    key = max(os.listdir(mdir), key=lambda k: os.path.getsize(os.path.join(mdir, k)))
    return repo, src, key, os.path.getsize(os.path.join(mdir, key))


def zstd(args, data):
    return subprocess.run(["zstd", "-q", "-c", *args], input=data, capture_output=True,
                          check=True).stdout


def relisted_copy(repo, dest, size, listed):
    """A copy of repo at dest whose snapshots list the manifest of `size`
    stored bytes as `listed` (ManifestFileInfo's u64 size_bytes, found by
    value in each snapshot's unpacked payload); True when some snapshot
    listed it."""
    shutil.copytree(repo, dest)
    sdir, hits = os.path.join(dest, "snapshots"), 0
    for name in os.listdir(sdir):
        path = os.path.join(sdir, name)
        with open(path, "rb") as f:
            raw = f.read()
        payload = zstd(["-d"], raw[HEADER:])
        old, new = struct.pack("<Q", size), struct.pack("<Q", listed)
        if payload.count(old) != 1:
            continue
        hits += 1
        with open(path, "wb") as f:
            f.write(raw[:HEADER] + zstd(["-3"], payload.replace(old, new)))
    return hits > 0


def log_lines(state, since, want_key=None, want=0):
    """The access log's GETs after byte offset `since`, as dicts; waits (a
    little) until `want` lines for want_key are there: a line is written
    when its answer is done, maybe after floe ended."""
    deadline = time.time() + LOG_WAIT_S
    while True:
        with open(os.path.join(state, "access.log"), "rb") as f:
            f.seek(since)
            text = f.read().decode("utf-8", "replace")
        out = []
        for ln in text.splitlines():
            m = LINE.search(ln)
            if m:
                end, uri, status, nbytes, lo, hi, secs = m.groups()
                out.append({"end": float(end), "uri": uri, "status": int(status),
                            "bytes": int(nbytes), "secs": float(secs),
                            "range": (int(lo), int(hi) + 1) if lo is not None else None})
        if not want_key or sum(1 for x in out if x["uri"].endswith(want_key)) >= want \
                or time.time() > deadline:
            return out
        time.sleep(0.1)


def log_size(state):
    try:
        return os.path.getsize(os.path.join(state, "access.log"))
    except FileNotFoundError:
        return 0


def extract(np_, source, out, endpoint, allow, *extra):
    r = floe_np(np_, "extract", source, "-v", "v", "--time", DAYS, "-o", out, "--allow", allow,
                "-q", *extra, endpoint=endpoint)
    return r


def values_ok(path, what):
    if not os.path.exists(path):
        check(False, f"{what}: no output")
        return None
    d = load(path)
    v = np.asarray(d.get("v", [])).ravel()
    check(np.array_equal(v, STEPS), f"{what}: the values are the chunk indices {STEPS[0]}.."
          f"{STEPS[-1]} (got {v[:5]}...)")
    return d


def same(a, b):
    return a is not None and b is not None and set(a) == set(b) and \
        all(np.array_equal(a[k], b[k], equal_nan=True) for k in a)


def pieces_of(lines, key, size, what):
    """The manifest's GETs among lines: checked to be ranged (206), never
    whole, and together exactly [0, size) (a retried range counted once)."""
    mine = [x for x in lines if x["uri"].endswith("/manifests/" + key)]
    ok = [x for x in mine if x["status"] == 206]
    whole = [x for x in mine if x["range"] is None]
    check(not whole, f"{what}: the manifest is never read whole ({len(whole)} whole GETs)")
    spans = sorted({x["range"] for x in ok})
    cover = spans and spans[0][0] == 0 and spans[-1][1] == size and \
        all(a[1] == b[0] for a, b in zip(spans, spans[1:]))
    check(len(spans) >= 2 and cover, f"{what}: the manifest ({size} bytes) is fetched as "
          f"several ranges that are exactly [0, {size}): {spans}")
    return mine, spans


def main(_tbdir):
    tmp = tempfile.mkdtemp(prefix="floe-large-objects-")
    root, state = os.path.join(tmp, "root"), os.path.join(tmp, "state")
    made = make_repo(root)
    if made is None:
        return summary()
    repo, src, key, size = made
    allow = "file://" + os.path.realpath(src) + "/"
    check(size - WRONG_BY > RANGED_MIN, f"the manifest ({size} bytes) is larger than "
          f"{RANGED_MIN} + {WRONG_BY}")
    out = lambda name: os.path.join(tmp, name)

    # The whole-object read: the same repository as a local folder.
    r = extract(0, repo, out("local.nc"), None, allow)
    check(r.returncode == 0, f"extract of the local folder: {r.stderr.strip()}")
    local = values_ok(out("local.nc"), "the local folder's extract")

    with standin.own_standin(tmp, state, "--latency-ms", "20", "--access-log",
                             root=root) as ep:
        since = log_size(state)
        r = extract(0, "s3://bk/big", out("s3.nc"), ep, allow, "--report", out("s3.report.json"))
        check(r.returncode == 0, f"extract through the stand-in: {r.stderr.strip()}")
        s3 = values_ok(out("s3.nc"), "extract through the stand-in")
        check(same(s3, local), "the same variables and values as the whole-object read")
        lines = log_lines(state, since, key, 2)
        mine, spans = pieces_of(lines, key, size, "extract")
        check(len(mine) == len(spans), f"extract: one GET per range, none retried: {len(mine)}")
        # In flight at once: each range's time on the stand-in ([end -
        # seconds, end]) overlaps every other's.
        iv = [(x["end"] - x["secs"], x["end"]) for x in mine]
        check(len(iv) >= 2 and max(a for a, _ in iv) < min(b for _, b in iv),
              f"extract: the ranges were in flight at once: {iv}")
        if os.path.exists(out("s3.report.json")):
            with open(out("s3.report.json")) as f:
                tot = json.load(f)["total"]
            served = [x for x in lines if not x["uri"].startswith("/__s3-standin")]
            # metadata_requests also counts local file reads (the chunk
            # reads of file:// refs go through the transport's file back end)
            check(tot.get("metadata_requests") == len(served) + tot.get("chunks", -1),
                  f"--report metadata_requests {tot.get('metadata_requests')} = the stand-in's "
                  f"{len(served)} GETs + {tot.get('chunks')} local chunk reads")

        # Over --memory-budget by its listed size: refused before any GET
        # of it (a ranged prefetch allocates the listed size up front).
        since = log_size(state)
        r = extract(0, "s3://bk/big", out("budget.nc"), ep, allow, "--memory-budget", "1M")
        err = notes(r.stderr)
        check(r.returncode != 0 and len(err) == 1 and "manifests/" + key in err[0] and
              f"lists {size} bytes" in err[0] and "raise --memory-budget" in err[0],
              f"--memory-budget 1M: one line naming the manifest, its {size} bytes and what "
              f"to raise: {err}")
        time.sleep(0.5)  # the access log's lines of GETs that might still be written
        got = [x for x in log_lines(state, since) if x["uri"].endswith("/manifests/" + key)]
        check(not got, f"--memory-budget 1M: the manifest is not fetched: {len(got)} GETs")

        since = log_size(state)
        r = extract(2, "s3://bk/big", out("s3.np2.nc"), ep, allow)
        check(r.returncode == 0, f"extract -np 2: {r.stderr.strip()}")
        check(same(values_ok(out("s3.np2.nc"), "extract -np 2"), local),
              "extract -np 2: the same as the whole-object read")
        pieces_of(log_lines(state, since, key, 2), key, size, "extract -np 2")

    # Every other ranged GET fails once: retried range by range.
    with standin.own_standin(tmp, state, "--latency-ms", "20", "--access-log", "--faults",
                             "503:2", "--faults-per-range", "1", root=root) as ep:
        since = log_size(state)
        r = extract(0, "s3://bk/big", out("f.nc"), ep, allow, "--report", out("f.report.json"))
        check(r.returncode == 0, f"extract, ranges failing once: {r.stderr.strip()}")
        check(same(values_ok(out("f.nc"), "ranges failing once"), local),
              "ranges failing once: the same as the whole-object read")
        lines = log_lines(state, since, key, 2)
        mine, spans = pieces_of(lines, key, size, "ranges failing once")
        failed = [x for x in mine if x["status"] == 503]
        check(failed and all(any(y["range"] == x["range"] and y["status"] == 206 and
                                 y["end"] >= x["end"] for y in mine) for x in failed),
              f"ranges failing once: {len(failed)} failed, each fetched again "
              f"({[(x['range'], x['status']) for x in mine]})")
        if os.path.exists(out("f.report.json")):
            with open(out("f.report.json")) as f:
                tot = json.load(f)["total"]
            check(tot.get("metadata_retries", 0) >= len(failed) > 0,
                  f"--report metadata_retries {tot.get('metadata_retries')} >= the "
                  f"{len(failed)} failed ranges")

    # Every ranged GET fails, always: one line naming the manifest and a range.
    with standin.own_standin(tmp, state, "--latency-ms", "1", "--faults", "503:1",
                             "--faults-per-range", "0", root=root) as ep:
        r = extract(0, "s3://bk/big", out("dead.nc"), ep, allow, "--retries", "2")
        err = notes(r.stderr)
        check(r.returncode != 0 and len(err) == 1 and
              re.search(r"s3://bk/big/manifests/" + key + r"\S* bytes=\d+-\d+", err[0]),
              f"unsurvivable: exit {r.returncode}, one line naming the manifest and a range: "
              f"{err}")
        check(not os.path.exists(out("dead.nc")), "unsurvivable: no output")

    # A wrong size in the snapshot: the object is read whole instead.
    for what, listed in (("listed too big", size + WRONG_BY), ("listed too small",
                                                              size - WRONG_BY)):
        wroot = os.path.join(tmp, "wrong-" + what.split()[-1])
        check(relisted_copy(repo, os.path.join(wroot, "bk", "big"), size, listed),
              f"{what}: the snapshot lists the manifest's {size} bytes")
        with standin.own_standin(tmp, state, "--latency-ms", "1", "--access-log",
                                 root=wroot) as ep:
            since = log_size(state)
            name = out("wrong-" + what.split()[-1] + ".nc")
            r = extract(0, "s3://bk/big", name, ep, allow, "--verbose")
            check(r.returncode == 0, f"{what}: extract: {r.stderr.strip()}")
            check(same(values_ok(name, what), local),
                  f"{what}: the same as the whole-object read")
            check(re.search(rf"lists {listed} bytes, the server has {size}\b", r.stderr),
                  f"{what}: an info line names both sizes: {r.stderr.strip()[-400:]}")
            whole = [x for x in log_lines(state, since, key, 1)
                     if x["uri"].endswith("/manifests/" + key) and x["range"] is None]
            check(len(whole) == 1 and whole[0]["status"] == 200,
                  f"{what}: the manifest read whole once after the ranges: {whole}")

    shutil.rmtree(tmp, ignore_errors=True)
    return summary()


if __name__ == "__main__":
    run(main, __doc__)
