#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
"""check_read_ahead.py TESTBED_DIR: the read-ahead window of `floe stats`
(engine/job/stats_read_ahead.c) as --report's ahead_chunks shows it: the
most chunks announced ahead of the reader at once. Not a timing: the
window is a pure function of the job, the fetcher's concurrency and the
chunk size, so the counts are exact.

- A whole-domain mean over the test bed's 1-step chunks (a tile is fewer
  chunks than the window) holds 4 x concurrency chunks ahead: the window
  runs across tile boundaries, not one 8-step batch as before;
- --concurrency scales it (4 x 2 = 8 chunks: one batch), up to a cap of
  256 chunks (--concurrency 100);
- 2 ranks: each rank's window is as large (the total is the largest).
Prints "N passed, N failed" last."""

import json
import os
import tempfile

from testlib import check, floe_np, run, summary

# engine/job/stats_read_ahead.c: chunks ahead per request in flight
AHEAD_PER_REQUEST = 4
DEFAULT_CONCURRENCY = 16
AHEAD_MAX_CHUNKS = 256


def ahead_of(tb, d, name, np_, *extra):
    coll = os.path.join(tb, "collection.json")
    rep = os.path.join(d, name + ".report.json")
    r = floe_np(np_, "stats", coll, "-v", "Tair", "--stat", "mean", "-o",
                os.path.join(d, name + ".nc"), "-q", "--report", rep, *extra)
    check(r.returncode == 0, f"{name}: exit {r.returncode}: {r.stderr.strip()}")
    if r.returncode:
        return None, []
    rj = json.load(open(rep))
    return rj["total"].get("ahead_chunks"), [q.get("ahead_chunks") for q in rj["per_rank"]]


def main(tb):
    with tempfile.TemporaryDirectory() as d:
        total, _ = ahead_of(tb, d, "default", 0)
        want = AHEAD_PER_REQUEST * DEFAULT_CONCURRENCY
        check(total == want, f"default concurrency: ahead_chunks {total} == {want}")
        total, _ = ahead_of(tb, d, "c2", 0, "--concurrency", "2")
        check(total == AHEAD_PER_REQUEST * 2, f"--concurrency 2: ahead_chunks {total} == 8")
        total, _ = ahead_of(tb, d, "c100", 0, "--concurrency", "100")
        check(total == AHEAD_MAX_CHUNKS, f"--concurrency 100: ahead_chunks {total} == {AHEAD_MAX_CHUNKS}")
        total, ranks = ahead_of(tb, d, "np2", 2)
        check(total == want and ranks == [want, want],
              f"2 ranks: ahead_chunks {total}, per rank {ranks} == {want} each")
    return summary()


if __name__ == "__main__":
    run(main, __doc__)
