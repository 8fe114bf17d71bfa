#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
"""check_pieces_by_variable.py TESTBED_DIR: --piece I/N --piece-by variable
and `floe merge`, for extract (also --resample, the stats job), series
(points, a FeatureCollection region, a --bbox box), stats and climatology:

- pieces 1..N by variable (at 2, 0 and 1 ranks in turn), then `floe merge
  out.nc`: the whole file byte for byte as the unsplit run (FLOE_FIXED_TIME),
  the parts removed, no piece writing an output; a piece holds the units of
  its own variables only (extract: 6 variables in 4 pieces: 2, 2, 1, 1;
  stats: one each);
- more pieces than variables (extract: 8 of 6): the last ones are empty,
  still done, and the merge is the same;
- pieces of another split are refused with one line naming both splits:
  a piece by variable into parts by time (extract), one by time into
  parts by variable (stats); the parts are kept;
- --piece-by without --piece, and a --piece-by that is neither time nor
  variable: a usage error (exit 2).
Prints "N passed, N failed" last.
"""

import os
import shutil
import tempfile

from step_runs import BOX, VARS, digest, inputs, run_in, same, units
from testlib import check, run, summary

BY_VAR = ["--piece-by", "variable"]
OUT = ["-o", "out.nc", "-q"]
# (name, arguments, unit letter, piece counts)
CASES = [
    ("extract", ["extract", "COLL", "-v", VARS, BOX], "x", (4, 8)),
    ("extract-resample", ["extract", "COLL", "-v", "Tair,Rainf", BOX, "--resample", "month",
                          "--resample-stat", "mean,max"], "u", (2,)),
    ("series-points", ["series", "COLL", "-v", "Tair,Rainf,Qair", "--points", "points.csv"],
     "s", (2,)),
    ("series-regions", ["series", "COLL", "-v", "Tair,Rainf", "--region", "basin.geojson",
                        "--stat", "mean,max,count", "--weights", "fraction"], "s", (3,)),
    ("series-box", ["series", "COLL", "-v", "Rainf,Tair", BOX, "--stat", "mean,count"], "s",
     (2,)),
    ("stats", ["stats", "COLL", "-v", "Tair,Rainf", "--stat", "mean,min,max,std,count"], "u",
     (2,)),
    ("climatology", ["climatology", "COLL", "-v", "Tair,Rainf", "--by", "month"], "u", (3,)),
]
RANKS = (2, 0, 1)  # piece i runs at RANKS[(i - 1) % 3] (0: no launcher)


def files(folder):
    return sorted(n for n in os.listdir(folder) if n not in ("points.csv", "basin.geojson"))


def unit_vars(folder, letter):
    """The variables (indices) of the units the parts hold."""
    return sorted({int(n.split("-")[1]) for n in
                   units(os.path.join(folder, "out.nc.floe-parts"), letter)})


def share(nvars, n, i):
    """Piece i of n's variables, as documented: contiguous, the first larger."""
    base, extra = divmod(nvars, n)
    v0 = (i - 1) * base + min(i - 1, extra)
    return list(range(v0, v0 + base + (i - 1 < extra)))


def by_variable(work, tb, name, args, letter, n, endpoint, ref):
    d = inputs(os.path.join(work, f"{name}-{n}"), tb)
    nvars = len(args[args.index("-v") + 1].split(","))
    seen = []
    for i in range(1, n + 1):
        r = run_in(d, RANKS[(i - 1) % 3], [*args, "--piece", f"{i}/{n}", *BY_VAR, *OUT],
                   endpoint)
        check(r.returncode == 0, f"{name}: piece {i}/{n} by variable: exit {r.returncode} "
              f"({r.stderr.strip()})")
        now = unit_vars(d, letter)
        new = [v for v in now if v not in seen]
        check(new == share(nvars, n, i), f"{name}: piece {i}/{n} by variable saved variables "
              f"{new}, want {share(nvars, n, i)}")
        seen = now
    check(files(d) == ["out.nc.floe-parts"], f"{name}: the pieces left {files(d)}")
    r = run_in(d, 0, ["merge", "out.nc"], endpoint)
    check(r.returncode == 0, f"{name}: merge of {n} by variable: exit {r.returncode} "
          f"({r.stderr.strip()})")
    same(d, ref, f"{name}: {n} pieces by variable merged")
    check(files(d) == ["out.json", "out.nc"], f"{name}: after the merge: {files(d)}")


def mixed(work, tb, name, args, first, second, endpoint):
    """A piece split by `second` into parts split by `first`: refused."""
    d = inputs(os.path.join(work, f"{name}-mixed"), tb)
    r = run_in(d, 0, [*args, "--piece", "1/3", "--piece-by", first, *OUT], endpoint)
    check(r.returncode == 0, f"{name}: piece 1/3 by {first}: exit {r.returncode} "
          f"({r.stderr.strip()})")
    r = run_in(d, 0, [*args, "--piece", "2/3", "--piece-by", second, *OUT], endpoint)
    lines = r.stderr.strip().splitlines()
    check(r.returncode != 0 and len(lines) == 1 and f"split by {first}" in r.stderr and
          f"not by {second}" in r.stderr and "out.nc.floe-parts" in r.stderr,
          f"{name}: a piece by {second} into parts by {first}: exit {r.returncode}, "
          f"{r.stderr.strip()!r}")
    check(files(d) == ["out.nc.floe-parts"], f"{name}: after the refusal: {files(d)}")


def usage(work, tb, coll, endpoint):
    d = inputs(os.path.join(work, "usage"), tb)
    base = ["extract", coll, "-v", "Tair", BOX, *OUT]
    for extra, want in ((BY_VAR, "--piece-by goes with --piece"),
                        (["--piece", "1/2", "--piece-by", "region"], "--piece-by region")):
        r = run_in(d, 0, [*base, *extra], endpoint)
        check(r.returncode == 2 and want in r.stderr, f"{extra}: exit {r.returncode}, "
              f"{r.stderr.strip()!r}")
        check(files(d) == [], f"{extra}: left {files(d)}")


def main(tb):
    if not os.path.exists(os.environ.get("FLOE_FIXED_TIME", "")):
        print("skipped: FLOE_FIXED_TIME (the fixed-time shim, built by CMake) not given")
        return 77
    coll = os.path.join(tb, "collection.json")
    endpoint = os.environ["FLOE_S3_ENDPOINT"]
    work = tempfile.mkdtemp(prefix="floe-pieces-by-variable-")
    try:
        usage(work, tb, coll, endpoint)
        for name, args, letter, counts in CASES:
            args = [coll if a == "COLL" else a for a in args]
            d = inputs(os.path.join(work, f"{name}-ref"), tb)
            r = run_in(d, 2, [*args, *OUT], endpoint)
            check(r.returncode == 0, f"{name}: unsplit run: exit {r.returncode} "
                  f"({r.stderr.strip()})")
            ref = digest(os.path.join(d, "out.nc"))
            for n in counts:
                by_variable(work, tb, name, args, letter, n, endpoint, ref)
            if name == "extract":
                mixed(work, tb, name, args, "time", "variable", endpoint)
            if name == "stats":
                mixed(work, tb, name, args, "variable", "time", endpoint)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return summary()


if __name__ == "__main__":
    run(main, __doc__)
