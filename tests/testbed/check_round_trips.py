#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
"""check_round_trips.py TESTBED_DIR: the one-day query (issue 15, W1 of the
benchmarks: one day of Rainf over Cape Cod, opening the STAC collection
included) costs at most four dependent round trips, alone and at 2 ranks:
repository file and snapshot -> every manifest the query needs (the
coordinates' and, the variable being held in one manifest, the variable's)
-> the coordinates' chunks -> the day's data chunks.
Counted from the access log of a stand-in of the test's own with a large
latency (LATENCY_MS per request), so that requests of one wave overlap and
a request that waited for an answer starts after it: a request starts a
new wave when it came after every request before it was answered (less
half the latency, for the log's millisecond clock). No time is asserted.
Also: the manifests are all in one wave and come before every chunk; the
data chunks are the last wave; the answer equals the one at 1 rank.
Prints "N passed, N failed" last."""

import os
import re
import tempfile
import time

import numpy as np

from standin import own_standin
from testlib import check, floe_np, load, run, summary

LATENCY_MS = 150
MAX_WAVES = 4        # issue 15: the floor, and what floe must keep to
LOG_WAIT_S = 10      # the most to wait for the access log's last lines
CAPE_COD = "-70.84,41.48,-69.77,42.10"
DAY = "2001-01-15"
LINE = re.compile(r'\[[^\]]* ([0-9.]+)\] "(GET|HEAD) (\S+) [^"]*" (\d+) \d+ range="([^"]*)" '
                  r'([0-9.]+)')


def requests(state, since, min_lines):
    """(start, end, key, range) of the logged requests after byte `since`,
    sorted by start (waiting a while for min_lines of them: a line is written
    once its answer is sent)."""
    path = os.path.join(state, "access.log")
    deadline = time.monotonic() + LOG_WAIT_S
    while True:
        with open(path, "rb") as f:
            f.seek(since)
            text = f.read().decode("utf-8", "replace")
        rows = []
        for ln in text.splitlines():
            m = LINE.search(ln)
            if m:
                end, took = float(m.group(1)), float(m.group(6))
                rows.append((end - took, end, m.group(3), m.group(5)))
        if len(rows) >= min_lines or time.monotonic() > deadline:
            return sorted(rows)
        time.sleep(0.1)


def waves(rows):
    """The requests grouped into dependent waves: a request that starts
    after every earlier one was answered begins a new wave."""
    out, answered = [], None
    for r in rows:
        if answered is None or r[0] > answered - LATENCY_MS / 2000.0:
            out.append([])
        out[-1].append(r)
        answered = r[1] if answered is None else max(answered, r[1])
    return out


def kind(key):
    if "/manifests/" in key:
        return "manifest"
    if "/snapshots/" in key:
        return "snapshot"
    if "/chunks/" in key:
        return "coordinate chunk"
    if key.endswith(".nc"):
        return "data chunk"
    return "repository"  # repo, refs, config


def main(tbdir):
    tmp = tempfile.mkdtemp(prefix="floe-round-trips-")
    state = os.path.join(tmp, "standin")
    collection = os.path.join(tbdir, "collection.json")
    answers = {}
    with own_standin(tbdir, state, "--latency-ms", str(LATENCY_MS), "--access-log") as endpoint:
        for np_ in (0, 2):
            out = os.path.join(tmp, f"day-np{np_}.nc")
            since = os.path.getsize(os.path.join(state, "access.log"))
            r = floe_np(np_, "extract", collection, "-v", "Rainf", "--bbox", CAPE_COD,
                        "--time", DAY, "-o", out, "-q", endpoint=endpoint)
            check(r.returncode == 0, f"np {np_}: extract: {r.stderr.strip()}")
            if r.returncode != 0:
                continue
            answers[np_] = load(out)
            rows = requests(state, since, 1)
            w = waves(rows)
            shown = "; ".join(f"wave {i + 1}: " + ", ".join(sorted({kind(x[2]) for x in wv}))
                              + f" ({len(wv)})" for i, wv in enumerate(w))
            print(f"np {np_}: {len(rows)} requests in {len(w)} waves: {shown}")
            check(len(w) <= MAX_WAVES,
                  f"np {np_}: {len(w)} dependent round trips, want at most {MAX_WAVES}: {shown}")
            kinds = [{kind(x[2]) for x in wv} for wv in w]
            with_manifest = [i for i, k in enumerate(kinds) if "manifest" in k]
            check(len(with_manifest) == 1,
                  f"np {np_}: the manifests (the coordinates' and Rainf's) in one wave: {shown}")
            chunks = [i for i, k in enumerate(kinds) if k & {"coordinate chunk", "data chunk"}]
            check(with_manifest and chunks and min(chunks) > with_manifest[0],
                  f"np {np_}: every chunk after the manifests: {shown}")
            check(bool(kinds) and kinds[-1] == {"data chunk"},
                  f"np {np_}: the data chunks are the last wave, alone: {shown}")
    if 0 in answers and 2 in answers:
        a, b = answers[0], answers[2]
        check(a.keys() == b.keys() and all(np.array_equal(a[k], b[k], equal_nan=a[k].dtype.kind == "f")
                                          for k in a),
              "np 2 gives the answer of 1 rank")
    return summary()


if __name__ == "__main__":
    run(main, __doc__)
