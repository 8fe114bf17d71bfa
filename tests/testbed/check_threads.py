#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
"""check_threads.py TESTBED_DIR: --threads (worker threads within a rank)
changes how fast, never what: the same request gives the same output
files, byte for byte, for every (ranks, threads).

Every command: extract (a box; with --resample month and --resample-stat;
with --anomaly-from a climatology), series at points (NetCDF and CSV),
over a box with --stat, over GeoJSON regions, with --resample; stats
(mean,max,count; a percentile; a box inside one tile, which more ranks
than tiles split by time; FLOE_TILE_MEMORY small enough to cut tiles into
bands of rows); climatology --by month. Each runs at (ranks, threads) in
(1,1), (1,2), (2,1), (2,2), (3,2), at (1,16) (more threads than this
machine's cores) and at 1 rank without --threads (the default): one rank
started alone (no mpirun, as a user on a node would), more under mpirun,
every run in the same folder (emptied in between: the Item holds its own
absolute href) and at the same time of day (FLOE_FIXED_TIME: the
fixed-time shim of check_same_bytes.py, for the "history" attribute). The whole output
(.nc or .csv) and its STAC Item must equal those of (1,1); so the
recorded command must not carry --threads.

--report (every run writes one, so the recorded commands stay alike):
each rank's "threads" is what was asked and the total their sum; without
--threads, one rank alone gets the cores it may run on (its CPU
affinity; SLURM_CPUS_PER_TASK is removed from the environment). With
--verbose, the start line says "N rank(s) x T thread(s)".

Errors: --threads 0, -1, abc, 5000, "" (and --threads=abc) on every
command: exit 2, one line on stderr naming --threads, and nothing written
(no output, Item or report; the folder stays empty).

Chunks are decoded, reduced and their output compressed on the pool's
workers, in whatever order they finish: the matrix fails when any of that
leaks into the bytes.
Prints "N passed, N failed" last.
"""

import hashlib
import json
import os
import shutil
import subprocess
import tempfile

from testlib import FLOE, check, fixed_time_shim, floe_cmd, points_csv, run, summary

MATRIX = ((1, 1), (1, 2), (2, 1), (2, 2), (3, 2))
# more threads than the cores of any machine this runs on in CI (2 here)
OVER = (1, 16)
BAD = ("0", "-1", "abc", "5000", "")
# bytes of one tile's accumulators and values: cuts a stats tile into
# bands of rows (tests/testbed/check_percentiles.py uses the same)
BAND_TILE_MEMORY = "60000"



def regions_geojson(path, tb):
    """Two boxes as GeoJSON polygons with an "id" property."""
    lat, lon = tb["lat_values"], tb["lon_values"]

    def box(i0, i1, j0, j1):
        w, e, s, n = lon[i0], lon[i1], lat[j0], lat[j1]
        return [[[w, s], [e, s], [e, n], [w, n], [w, s]]]

    nx, ny = len(lon), len(lat)
    feats = [{"type": "Feature", "properties": {"id": name},
              "geometry": {"type": "Polygon", "coordinates": box(*b)}}
             for name, b in (("a", (nx // 8, nx // 4, ny // 8, ny // 4)),
                             ("b", (nx // 3, nx // 2, ny // 2, 2 * ny // 3)))]
    with open(path, "w") as f:
        json.dump({"type": "FeatureCollection", "features": feats}, f)


def floe_run(args, folder, ranks, threads, shim, out, env=None, extra=()):
    """Run `floe ARGS -o OUT --report report.json -q [--threads T]` in folder
    (made), alone for one rank, else under mpirun; the CompletedProcess."""
    os.makedirs(folder, exist_ok=True)
    tail = ["-o", out, "--report", "report.json", "-q", *extra]
    if threads is not None:
        tail += ["--threads", str(threads)]
    cmd, e = floe_cmd(0 if ranks == 1 else ranks, *args, *tail, env=env)
    e.pop("SLURM_CPUS_PER_TASK", None)  # the default must come from the affinity
    # the shim in floe only (not in mpirun): env between the launcher and floe
    at = cmd.index(FLOE)
    cmd[at:at] = ["env", f"LD_PRELOAD={shim}",
                  "ASAN_OPTIONS=" + ":".join(filter(None, [os.environ.get("ASAN_OPTIONS"),
                                                           "verify_asan_link_order=0"]))]
    return subprocess.run(cmd, capture_output=True, text=True, env=e, cwd=folder, timeout=600)


def digest(path):
    """sha256 and size of a file, or None if it is not there."""
    if not os.path.exists(path):
        return None
    with open(path, "rb") as f:
        data = f.read()
    return hashlib.sha256(data).hexdigest(), len(data)


def item_of(out):
    """The STAC Item floe writes beside OUT (OUT with .json)."""
    return os.path.splitext(out)[0] + ".json"


def check_report(label, folder, ranks, want):
    """report.json: every rank's threads == want, the total their sum."""
    try:
        with open(os.path.join(folder, "report.json")) as f:
            rep = json.load(f)
    except (OSError, ValueError) as e:
        check(False, f"{label}: report.json: {e}")
        return
    per = [r.get("threads") for r in rep.get("per_rank", [])]
    check(per == [want] * ranks, f"{label}: per-rank threads {per}, want {[want] * ranks}")
    total = rep.get("total", {}).get("threads")
    check(total == want * ranks, f"{label}: total threads {total}, want {want * ranks}")


def job_matrix(name, args, tmp, shim, out="out.nc", env=None):
    """Run one request at every (ranks, threads); compare the whole files
    with (1, 1)'s and check each report."""
    cores = len(os.sched_getaffinity(0))
    runs = [*MATRIX, OVER, (1, None)]
    got = {}
    for ranks, threads in runs:
        label = f"{name} ranks {ranks} threads {threads if threads else 'default'}"
        # one folder, emptied between runs: the Item holds its own absolute href
        folder = os.path.join(tmp, name)
        shutil.rmtree(folder, ignore_errors=True)
        r = floe_run(args, folder, ranks, threads, shim, out, env)
        check(r.returncode == 0, f"{label}: exit {r.returncode}: {r.stderr.strip()}")
        if r.returncode != 0:
            got[(ranks, threads)] = None
            continue
        got[(ranks, threads)] = (digest(os.path.join(folder, out)),
                                 digest(os.path.join(folder, item_of(out))))
        check_report(label, folder, ranks, threads if threads else cores)
    base = got[MATRIX[0]]
    check(base is not None and base[0] is not None, f"{name}: (1, 1) wrote {out}")
    for key in runs[1:]:
        check(got[key] is not None and got[key] == base,
              f"{name}: (ranks, threads) {key} output, Item {got[key]} != (1, 1)'s {base}")


def check_errors(jobs, tmp):
    """Bad --threads values: exit 2, one line naming --threads, nothing written."""
    for name, (args, out, _) in jobs.items():
        for bad in BAD:
            forms = (["--threads", bad],) + ((["--threads=" + bad],) if bad == "abc" else ())
            for form in forms:
                label = f"{name} {' '.join(form) or repr(form)}"
                folder = os.path.join(tmp, f"bad-{name}-{len(os.listdir(tmp))}")
                os.makedirs(folder)
                cmd, e = floe_cmd(0, *args, "-o", out, "--report", "report.json", *form)
                r = subprocess.run(cmd, capture_output=True, text=True, env=e, cwd=folder,
                                   timeout=120)
                lines = r.stderr.strip().splitlines()
                check(r.returncode == 2, f"{label}: exit {r.returncode}, want 2")
                check(len(lines) == 1 and "--threads" in lines[0],
                      f"{label}: one line naming --threads: {lines}")
                check(os.listdir(folder) == [], f"{label}: wrote {os.listdir(folder)}")


def main(tbdir):
    shim = fixed_time_shim()
    if not shim:
        return 77
    with open(os.path.join(tbdir, "testbed.json")) as f:
        tb = json.load(f)
    names = [v["name"] for v in tb["variables"]]
    var = ",".join(names[:2])  # two variables: their writes interleave
    coll = os.path.join(tbdir, "collection.json")
    tmp = tempfile.mkdtemp(prefix="floe-threads-")
    lat, lon = tb["lat_values"], tb["lon_values"]
    # a box of a few cells in the first tile: one tile, so more ranks split its steps
    small = f"{lon[1]:.4f},{lat[1]:.4f},{lon[3]:.4f},{lat[3]:.4f}"
    box = (f"{lon[len(lon) // 4]:.4f},{lat[len(lat) // 4]:.4f},"
           f"{lon[len(lon) // 2]:.4f},{lat[len(lat) // 2]:.4f}")
    points = os.path.join(tmp, "points.csv")
    points_csv(points, 500, tb, 15)
    regions = os.path.join(tmp, "regions.geojson")
    regions_geojson(regions, tb)
    clim = os.path.join(tmp, "clim.nc")
    try:
        # the climatology the anomaly cases subtract (absolute path: the same
        # recorded command in every run)
        cmd, e = floe_cmd(0, "climatology", coll, "-v", names[0], "--by", "month", "-o", clim,
                          "-q")
        r = subprocess.run(cmd, capture_output=True, text=True, env=e, timeout=600)
        check(r.returncode == 0, f"climatology for --anomaly-from: {r.stderr.strip()}")
        jobs = {  # name: (arguments, output, environment)
            "extract": (["extract", coll, "-v", var, f"--bbox={box}"], "out.nc", None),
            "extract-resample": (["extract", coll, "-v", names[0], f"--bbox={box}",
                                  "--resample", "month", "--resample-stat", "mean,max,p90"],
                                 "out.nc", None),
            "extract-anomaly": (["extract", coll, "-v", names[0], f"--bbox={box}",
                                 "--anomaly-from", clim], "out.nc", None),
            "series-points": (["series", coll, "-v", var, "--points", points], "out.nc", None),
            "series-points-csv": (["series", coll, "-v", var, "--points", points], "out.csv",
                                  None),
            "series-points-resample": (["series", coll, "-v", var, "--points", points,
                                        "--resample", "month"], "out.nc", None),
            "series-box": (["series", coll, "-v", var, f"--bbox={box}", "--stat", "mean,max"],
                           "out.nc", None),
            "series-regions": (["series", coll, "-v", names[0], "--region", regions,
                                "--region-id", "id", "--stat", "mean,max,count"], "out.nc", None),
            "stats": (["stats", coll, "-v", var, "--stat", "mean,max,count"], "out.nc", None),
            "stats-percentile": (["stats", coll, "-v", names[0], f"--bbox={box}", "--stat",
                                  "mean,p5,p95"], "out.nc", None),
            "stats-time-split": (["stats", coll, "-v", var, f"--bbox={small}", "--stat",
                                  "mean,std"], "out.nc", None),
            "stats-bands": (["stats", coll, "-v", names[0], f"--bbox={box}", "--stat",
                             "mean,p50"], "out.nc", {"FLOE_TILE_MEMORY": BAND_TILE_MEMORY}),
            "stats-anomaly": (["stats", coll, "-v", names[0], "--stat", "mean,std",
                               "--anomaly-from", clim], "out.nc", None),
            "climatology": (["climatology", coll, "-v", names[0], "--by", "month"], "out.nc",
                            None),
        }
        for name, (args, out, env) in jobs.items():
            job_matrix(name, args, tmp, shim, out, env)

        # the start line says ranks x threads
        folder = os.path.join(tmp, "verbose")
        r = floe_run(jobs["stats"][0], folder, 2, 3, shim, "out.nc", extra=["--verbose"])
        check(r.returncode == 0 and "on 2 rank(s) x 3 thread(s)" in r.stderr,
              f"--verbose at 2 ranks x 3 threads: {r.stderr.strip()}")

        check_errors({k: jobs[k] for k in ("extract", "series-points", "stats", "climatology")},
                     tmp)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return summary()


if __name__ == "__main__":
    run(main, __doc__)
