#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
"""check_same_bytes.py TESTBED_DIR: the same request gives the same output
file, byte for byte, for any rank count.

Every command (extract, series over a box, stats, climatology; stats over
a box inside one tile, which more ranks than tiles split by time) at 1, 2
and 3 ranks: the whole files must be equal. A stats file used to depend on
the rank count (same values, different bytes): rank 0 wrote the tiles in
rounds of every rank's k-th tile, and HDF5 places chunks in the order they
are written.

`floe series` at points, under mpirun at 1, 2 and 3 ranks, with the same
command line (run from one folder per rank count, relative paths) and the
same time of day (FLOE_FIXED_TIME: an LD_PRELOAD shim whose time() is
fixed, for the "history" attribute): the whole .nc files must be equal,
not only their values -- the HDF5 layout (where every chunk lies, the
space left between them) too. Two sizes:
- 3 points (a small file, every chunk written once);
- 20000 points: 62 steps x 20000 stations x 4 bytes, about 5 MB of chunks
  a variable (two variables), whose time chunk spans all 62 steps, so every rank's share of steps
  writes part of every chunk. A writer that flushes its chunk caches part
  way (the bug: a forced flush beyond 4 MiB of dirty chunks) writes each
  chunk once per rank, compressed, and relocates it on every rewrite:
  the layout then depends on the rank count.
- 80000 points: about 20 MB of chunks a variable, more than netCDF's own
  default chunk cache (16 MiB): the library itself would write half-filled
  chunks (the cache must hold a whole row of time chunks: series_output.c).
Prints "N passed, N failed" last.
"""

import hashlib
import json
import os
import shutil
import subprocess
import tempfile

from testlib import FLOE, check, fixed_time_shim, floe_cmd, points_csv, run, summary

RANKS = (1, 2, 3)
# 62 steps x 20000 x 4 bytes: more than 4 MiB of chunks; x 80000: more
# than the library's default chunk cache.
MANY_POINTS = 20000
MORE_POINTS = 80000



def series_digest(coll, var, csv, folder, np_, shim):
    """sha256 of the output of `floe series` run in folder at np_ ranks."""
    os.makedirs(folder)
    shutil.copy(csv, os.path.join(folder, "points.csv"))
    return command_digest(["series", coll, "-v", var, "--points", "points.csv"], folder, np_,
                          shim)


def command_digest(args, folder, np_, shim):
    """sha256 and size of the output of `floe ARGS -o out.nc` run in folder
    (made if absent) at np_ ranks."""
    os.makedirs(folder, exist_ok=True)
    cmd, env = floe_cmd(np_, *args, "-o", "out.nc", "-q")
    # the shim in floe only (not in mpirun): env between the launcher and floe
    at = cmd.index(FLOE)
    cmd[at:at] = ["env", f"LD_PRELOAD={shim}",
                  "ASAN_OPTIONS=" + ":".join(filter(None, [os.environ.get("ASAN_OPTIONS"),
                                                           "verify_asan_link_order=0"]))]
    r = subprocess.run(cmd, capture_output=True, text=True, env=env, cwd=folder, timeout=600)
    check(r.returncode == 0, f"{os.path.basename(folder)}: exit {r.returncode}: {r.stderr.strip()}")
    if r.returncode != 0:
        return None
    with open(os.path.join(folder, "out.nc"), "rb") as f:
        data = f.read()
    return hashlib.sha256(data).hexdigest(), len(data)


def main(tbdir):
    shim = fixed_time_shim()
    if not shim:
        return 77
    with open(os.path.join(tbdir, "testbed.json")) as f:
        tb = json.load(f)
    names = [v["name"] for v in tb["variables"]]
    # two variables: each rank writes both, so their writes interleave
    var = ",".join(names[:2])
    coll = os.path.join(tbdir, "collection.json")
    tmp = tempfile.mkdtemp(prefix="floe-same-bytes-")
    lat, lon = tb["lat_values"], tb["lon_values"]
    # a box of a few cells in the first tile: one tile, so 2 and 3 ranks split its steps
    small = f"{lon[1]:.4f},{lat[1]:.4f},{lon[3]:.4f},{lat[3]:.4f}"
    box = f"{lon[len(lon) // 4]:.4f},{lat[len(lat) // 4]:.4f},{lon[len(lon) // 2]:.4f},{lat[len(lat) // 2]:.4f}"
    jobs = {
        "extract": ["extract", coll, "-v", var, f"--bbox={box}"],
        "series-box": ["series", coll, "-v", var, f"--bbox={box}", "--stat", "mean,max"],
        "stats": ["stats", coll, "-v", var, "--stat", "mean,max,count"],
        "climatology": ["climatology", coll, "-v", names[0], "--by", "month"],
        "stats-one-tile": ["stats", coll, "-v", var, f"--bbox={small}", "--stat", "mean,std"],
    }
    try:
        for name, args in jobs.items():
            got = {np_: command_digest(args, os.path.join(tmp, f"{name}-np{np_}"), np_, shim)
                   for np_ in RANKS}
            for np_ in RANKS[1:]:
                check(got[np_] is not None and got[np_] == got[RANKS[0]],
                      f"{name}: np {np_} file {got[np_]} == np {RANKS[0]} {got[RANKS[0]]}")
        for n in (3, MANY_POINTS, MORE_POINTS):
            csv = os.path.join(tmp, f"points-{n}.csv")
            points_csv(csv, n, tb, 5)
            got = {}
            for np_ in RANKS:
                got[np_] = series_digest(coll, var, csv, os.path.join(tmp, f"{n}-np{np_}"), np_,
                                         shim)
            for np_ in RANKS[1:]:
                check(got[np_] is not None and got[np_] == got[RANKS[0]],
                      f"{n} points: np {np_} file {got[np_]} == np {RANKS[0]} {got[RANKS[0]]}")
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return summary()


if __name__ == "__main__":
    run(main, __doc__)
