#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
"""check_merge_steps.py TESTBED_DIR: --piece I/N and `floe merge` of
`floe extract` (also --resample, which runs the stats job) and `floe series`
(points with --resample, a FeatureCollection region, a --bbox box):

- pieces 1..3 of 3 (at 2, 1 and 2 ranks), then `floe merge out.nc -q`: the
  whole file byte for byte as the unsplit run (FLOE_FIXED_TIME), the parts
  removed; no piece writes an output; merge's -q is not recorded (it was,
  as a second -q);
- more pieces than time steps (70 of 62 steps: empty pieces) merge too;
- a piece killed (-9, both ranks) against a slow stand-in of its own (30 ms
  a request) once it saved a unit, restarted with --resume: the same merge;
- a missing piece: merge refused with one line naming it, no output, the
  parts kept.
Prints "N passed, N failed" last.
"""

import os
import shutil
import signal
import tempfile

import step_runs
from step_runs import (BOX, VARS, digest, inputs, rank_pids, run_in, same, start_in,
                       wait_for_units, wait_ranks_gone)
from testlib import check, run, summary

CASES = [
    ("extract", ["extract", "COLL", "-v", VARS, BOX], "x"),
    # the stats job under extract's command line: merge runs `floe extract`
    ("extract-resample", ["extract", "COLL", "-v", "Tair,Rainf", BOX, "--resample", "month",
                          "--resample-stat", "mean,max"], "x"),
    ("series-points-resample", ["series", "COLL", "-v", "Tair,Rainf", "--points", "points.csv",
                                "--resample", "month", "--resample-stat", "mean,max"], "s"),
    ("series-regions", ["series", "COLL", "-v", "Tair,Rainf", "--region", "basin.geojson",
                        "--stat", "mean,max,count", "--weights", "fraction"], "s"),
    ("series-box", ["series", "COLL", "-v", "Rainf", BOX, "--stat", "mean,count"], "s"),
]
OUT = ["-o", "out.nc", "-q"]
PIECE_RANKS = {1: 2, 2: 0, 3: 2}  # mpirun -np 2, no launcher, mpirun -np 2


def files(folder):
    return sorted(n for n in os.listdir(folder) if n not in ("points.csv", "basin.geojson"))


def pieces(d, name, args, endpoint, which, n):
    for i in which:
        np_ = PIECE_RANKS.get(i, 1)
        r = run_in(d, np_, [*args, "--piece", f"{i}/{n}", *OUT], endpoint)
        check(r.returncode == 0, f"{name}: piece {i}/{n}: exit {r.returncode} "
              f"({r.stderr.strip()})")
    check(files(d) == ["out.nc.floe-parts"], f"{name}: the pieces left {files(d)}")


def merge(d, endpoint, *extra):
    return run_in(d, 0, ["merge", "out.nc", *extra], endpoint)


def split_and_merge(work, tb, name, args, endpoint, ref):
    d = inputs(os.path.join(work, f"{name}-3"), tb)
    pieces(d, name, args, endpoint, (1, 2, 3), 3)
    # merge's own -q is not the request's: the output records the pieces' command
    r = merge(d, endpoint, "-q")
    check(r.returncode == 0, f"{name}: merge: exit {r.returncode} ({r.stderr.strip()})")
    same(d, ref, f"{name}: 3 pieces merged")
    check(files(d) == ["out.json", "out.nc"], f"{name}: after the merge: {files(d)}")


def many_pieces(work, tb, name, args, endpoint, ref):
    d = inputs(os.path.join(work, f"{name}-70"), tb)
    pieces(d, name, args, endpoint, range(1, 71), 70)
    r = merge(d, endpoint)
    check(r.returncode == 0, f"{name}: merge of 70: exit {r.returncode} ({r.stderr.strip()})")
    same(d, ref, f"{name}: 70 pieces (some empty) merged")


def missing_piece(work, tb, name, args, endpoint):
    d = inputs(os.path.join(work, f"{name}-missing"), tb)
    pieces(d, name, args, endpoint, (1, 3), 3)
    r = merge(d, endpoint)
    check(r.returncode != 0, f"{name}: merge without piece 2: exit {r.returncode}")
    check("2" in r.stderr and "piece" in r.stderr,
          f"{name}: merge without piece 2: the line names it: {r.stderr.strip()!r}")
    check(files(d) == ["out.nc.floe-parts"], f"{name}: merge without piece 2 left {files(d)}")


def killed_piece(work, tb, name, args, slow, fast, ref):
    """Piece 1 of 2 killed (-9) once it saved a unit, restarted with --resume."""
    d = inputs(os.path.join(work, f"{name}-killed"), tb)
    p = start_in(d, 2, [*args, "--piece", "1/2", *OUT], slow)
    got = wait_for_units(p, os.path.join(d, "out.nc.floe-parts"), "x", lambda u: len(u) >= 1)
    check(p.poll() is None and got, f"{name}: piece 1 saved no unit before it ended")
    pids = rank_pids(d)
    for pid in pids.values():
        os.kill(pid, signal.SIGKILL)
    p.communicate(timeout=300)
    check(p.returncode != 0, f"{name}: piece 1 killed: mpirun exit {p.returncode}")
    check(wait_ranks_gone(pids.values()), f"{name}: piece 1 killed: ranks still running")
    for i in (1, 2):
        r = run_in(d, 2, [*args, "--piece", f"{i}/2", "--resume", *OUT], fast)
        check(r.returncode == 0, f"{name}: piece {i}/2 --resume: exit {r.returncode} "
              f"({r.stderr.strip()})")
    r = merge(d, fast)
    check(r.returncode == 0, f"{name}: merge after a killed piece: exit {r.returncode} "
          f"({r.stderr.strip()})")
    same(d, ref, f"{name}: a killed piece resumed, merged")


def main(tb):
    if not os.path.exists(os.environ.get("FLOE_FIXED_TIME", "")):
        print("skipped: FLOE_FIXED_TIME (the fixed-time shim, built by CMake) not given")
        return 77
    coll = os.path.join(tb, "collection.json")
    fast = os.environ["FLOE_S3_ENDPOINT"]
    work = tempfile.mkdtemp(prefix="floe-merge-steps-")
    state = os.path.join(work, "standin-slow")
    try:
        slow = step_runs.start_standin(tb, state, 30)
        for name, args, letter in CASES:
            args = [coll if a == "COLL" else a for a in args]
            d = inputs(os.path.join(work, f"{name}-ref"), tb)
            # at 2 ranks; the merges run at 1 (the same bytes at any rank count)
            r = run_in(d, 2, [*args, *OUT], fast)
            check(r.returncode == 0, f"{name}: unsplit run: exit {r.returncode} "
                  f"({r.stderr.strip()})")
            ref = digest(os.path.join(d, "out.nc"))
            split_and_merge(work, tb, name, args, fast, ref)
            if name == "extract":
                many_pieces(work, tb, name, args, fast, ref)
                missing_piece(work, tb, name, args, fast)
                killed_piece(work, tb, name, args, slow, fast, ref)
    finally:
        step_runs.stop_standin(state)
        shutil.rmtree(work, ignore_errors=True)
    return summary()


if __name__ == "__main__":
    run(main, __doc__)
