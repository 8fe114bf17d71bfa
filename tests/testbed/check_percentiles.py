#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
"""check_percentiles.py TESTBED_DIR: `floe stats` and `floe climatology`
with percentiles (--stat pNN, issue #16).

- the percentiles equal numpy.nanpercentile (default method "linear") of
  the source files' values read directly (float64, fill values as NaN),
  rounded once to the output's float32, bit for bit; cells without data
  are missing;
- the output bytes are identical at np 1, 2 and 3, and with a tiny
  FLOE_TILE_MEMORY that cuts the tiles into many bands of rows;
- the other statistics of a run with percentiles have the bytes of a run
  without them (at np 3 the latter is time-split, the former space-major);
- names: p99.9 is VAR_p99_9, with a long_name saying which percentile and
  no cell_methods (CF has no percentile method);
- a tile memory too small for one row is an error naming the memory
  needed and FLOE_TILE_MEMORY;
- CDO: timpctl and ymonpctl with --percentile linear (numpy's method, and
  enough histogram bins to be exact) on the same files agree, bit for bit
  after rounding to float32.
Prints "N passed, N failed" last.
"""

import datetime
import json
import os
import shutil
import subprocess
import tempfile
import warnings

import netCDF4
import numpy as np

from testlib import check, floe_np, load, run, summary

PCTS = ["p5", "p50", "p95", "p99.9"]


def npct(x, qs):
    """numpy's percentiles along axis 0, float64; NaN where no data."""
    with np.errstate(all="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # all-ocean cells: NaN is right
        return {q: np.nanpercentile(x, float(q[1:]), axis=0) for q in qs}


def same_bytes(a, b, keys):
    return all(np.array_equal(a[k].view(np.uint8), b[k].view(np.uint8)) for k in keys)


def compare(what, got, want):
    """got: floe's float32 field (fill -9999), want: numpy's float64."""
    miss = got == np.float32(-9999.0)
    check(np.array_equal(miss, np.isnan(want)), f"{what}: missing exactly where no data")
    w = want[~miss].astype(np.float32)
    bad = int(np.sum(got[~miss].view(np.uint32) != w.view(np.uint32)))
    check(bad == 0, f"{what}: numpy.nanpercentile's value rounded to float32 ({bad} cells "
                    "differ)")


def cdo(*args):
    """CDO's percentile operators bin the values into CDO_PCTL_NBINS
    histogram bins (default 101) and interpolate in the bins, an
    approximation (0.26 K off on the test bed's 62 steps); with many more
    bins than values a cell's values are kept as they are and the result
    is exact (checked: equal to numpy's linear method)."""
    env = dict(os.environ, CDO_PCTL_NBINS="1001")
    r = subprocess.run(["cdo", "-s", "-O", *args], capture_output=True, text=True, timeout=600,
                       env=env)
    return None if r.returncode == 0 else r.stderr.strip()[-500:]


def main(tbdir):
    with open(os.path.join(tbdir, "testbed.json")) as f:
        tb = json.load(f)
    names = [v["name"] for v in tb["variables"]]
    lat = np.array(tb["lat_values"], dtype=np.float32).astype(np.float64)
    lon = np.array(tb["lon_values"], dtype=np.float32).astype(np.float64)
    root = os.path.join(tbdir, "s3", tb["bucket"])
    coll = os.path.join(tbdir, "collection.json")
    tmp = tempfile.mkdtemp(prefix="floe-pctl-")
    var = "Tair" if "Tair" in names else names[0]
    dates = [datetime.date.fromisoformat(f["date"]) + datetime.timedelta(days=1)
             for f in tb["files"]]

    def source(box, t0=0, t1=len(dates) - 1):
        W, S, E, N = box
        rows = np.nonzero((lat >= S) & (lat <= N))[0]
        cols = np.nonzero((lon >= W) & (lon <= E))[0]
        stack = []
        for t in range(t0, t1 + 1):
            with netCDF4.Dataset(os.path.join(root, tb["files"][t]["key"])) as ds:
                v = ds[var]
                v.set_auto_maskandscale(False)
                stack.append(v[0, rows[0]:rows[-1] + 1, cols[0]:cols[-1] + 1].astype(np.float64))
        x = np.stack(stack)
        x[x == -9999.0] = np.nan
        return x

    # ---- stats: a box of several tiles with coast (missing cells), and a
    # small one (fewer tiles than ranks: time-split without percentiles)
    cases = [("tiles", (-100.0, 30.0, -65.0, 45.0), 2, len(dates) - 3),
             ("small", (-70.84, 41.48, -69.77, 42.10), 3, len(dates) - 4)]
    stat = "mean,std,count," + ",".join(PCTS)
    for label, box, t0, t1 in cases:
        bbox = ",".join(map(str, box))
        trange = f"{dates[t0]}/{dates[t1]}"
        want = npct(source(box, t0, t1), PCTS)
        outs = {}
        for np_ in (1, 2, 3):
            out = os.path.join(tmp, f"{label}-{np_}.nc")
            r = floe_np(np_, "stats", coll, "-v", var, "--stat", stat, "--bbox", bbox,
                        "--time", trange, "-o", out)
            check(r.returncode == 0, f"{label} np {np_}: exit {r.returncode}: {r.stderr.strip()}")
            if r.returncode == 0:
                outs[np_] = load(out)
        if 1 not in outs:
            continue
        got = outs[1]
        keys = [k for k in got if k.startswith(var)]
        check(sorted(keys) == sorted(f"{var}_{s}" for s in
                                     ("mean", "std", "count", "p5", "p50", "p95", "p99_9")),
              f"{label}: output variables {sorted(keys)}")
        for q in PCTS:
            k = f"{var}_{q.replace('.', '_')}"
            if k in got:
                compare(f"{label} {q}", got[k][0], want[q])
        for np_, o in outs.items():
            check(same_bytes(o, got, keys), f"{label}: np {np_} gives the same bytes as np 1")
        # the other statistics: the bytes of a run without percentiles
        for np_ in (1, 3):
            out = os.path.join(tmp, f"{label}-plain-{np_}.nc")
            r = floe_np(np_, "stats", coll, "-v", var, "--stat", "mean,std,count",
                        "--bbox", bbox, "--time", trange, "-o", out, "--verbose")
            check(r.returncode == 0, f"{label} plain np {np_}: {r.stderr.strip()}")
            if r.returncode == 0:
                plain = load(out)
                check(same_bytes(plain, got, [f"{var}_{s}" for s in ("mean", "std", "count")]),
                      f"{label} np {np_}: mean, std and count as without percentiles "
                      f"({'time-split' if 'time-split' in r.stderr else 'space-major'} there)")
        # many bands of rows: the same bytes
        for np_ in (1, 3):
            out = os.path.join(tmp, f"{label}-banded-{np_}.nc")
            r = floe_np(np_, "stats", coll, "-v", var, "--stat", stat, "--bbox", bbox,
                        "--time", trange, "-o", out, "--verbose",
                        env={"FLOE_TILE_MEMORY": "60000"})
            check(r.returncode == 0, f"{label} banded np {np_}: {r.stderr.strip()}")
            if r.returncode == 0:
                check(same_bytes(load(out), got, keys),
                      f"{label}: tiles in bands of rows (np {np_}) give the same bytes")
        with netCDF4.Dataset(os.path.join(tmp, f"{label}-1.nc")) as ds:
            v = ds[f"{var}_p99_9"]
            check(v.long_name.startswith(f"99.9th percentile of {var}"),
                  f"{label}: long_name {v.long_name!r}")
            check("cell_methods" not in v.ncattrs() and "standard_name" not in v.ncattrs(),
                  f"{label}: a percentile claims no CF cell method nor the source's "
                  f"standard_name: {v.ncattrs()}")
            check(ds[f"{var}_p5"].long_name.startswith(f"5th percentile of {var}"),
                  f"{label}: p5's long_name")

    # ---- the banded run really cut bands, and one row too big is an error
    bbox = "-100,30,-65,45"
    r = floe_np(1, "stats", coll, "-v", var, "--stat", "p50", "--bbox", bbox, "--verbose",
                "-o", os.path.join(tmp, "tiles-count.nc"))
    r2 = floe_np(1, "stats", coll, "-v", var, "--stat", "p50", "--bbox", bbox, "--verbose",
                 "-o", os.path.join(tmp, "tiles-count-banded.nc"),
                 env={"FLOE_TILE_MEMORY": "60000"})

    def ntiles(stderr):
        for line in stderr.splitlines():
            if " tiles, " in line:
                return int(line.split(" tiles, ")[0].rsplit(" ", 1)[-1])
        return None
    check(r.returncode == 0 and r2.returncode == 0 and ntiles(r.stderr) and
          ntiles(r2.stderr) > 4 * ntiles(r.stderr),
          f"a tiny tile memory cuts more tiles: {ntiles(r.stderr)} -> {ntiles(r2.stderr)}")
    out = os.path.join(tmp, "too-small.nc")
    r = floe_np(2, "stats", coll, "-v", var, "--stat", "mean,p50", "--bbox", bbox, "-o", out,
                env={"FLOE_TILE_MEMORY": "2000"})
    check(r.returncode != 0 and "FLOE_TILE_MEMORY" in r.stderr and "bytes" in r.stderr and
          not os.path.exists(out), f"one row over the tile memory: exit {r.returncode}: "
                                   f"{r.stderr.strip()[-300:]}")
    for bad, what in (("p101", "0 to 100"), ("p5,p05", "twice"), ("p5x", "p5x")):
        r = floe_np(0, "stats", coll, "-v", var, "--stat", bad, "-o",
                    os.path.join(tmp, "bad.nc"))
        check(r.returncode != 0 and what in r.stderr, f"--stat {bad}: {r.stderr.strip()[-200:]}")

    # ---- climatology by month, off the chunk grid
    box = (-80.0, 35.0, -65.0, 45.0)
    x = source(box)
    keys_m = [d.month for d in dates]
    groups = sorted(set(keys_m))
    outs = {}
    for np_ in (1, 2, 3):
        out = os.path.join(tmp, f"clim-{np_}.nc")
        r = floe_np(np_, "climatology", coll, "-v", var, "--by", "month",
                    "--stat", "p10,mean,p90", "--bbox", ",".join(map(str, box)), "-o", out)
        check(r.returncode == 0, f"climatology np {np_}: {r.stderr.strip()}")
        if r.returncode == 0:
            outs[np_] = load(out)
    if 1 in outs:
        got = outs[1]
        for gi, gk in enumerate(groups):
            want = npct(x[[k == gk for k in keys_m]], ["p10", "p90"])
            for q in ("p10", "p90"):
                compare(f"climatology month {gk} {q}", got[f"{var}_{q}"][gi], want[q])
        ck = [k for k in got if k.startswith(var)]
        for np_, o in outs.items():
            check(same_bytes(o, got, ck), f"climatology: np {np_} gives the same bytes as np 1")
        with netCDF4.Dataset(os.path.join(tmp, "clim-1.nc")) as ds:
            check(ds["time"].climatology == "climatology_bounds" and
                  ds[f"{var}_p90"].long_name.startswith(f"90th percentile of {var}"),
                  "climatology: climatology_bounds and the percentile's long_name")

    # ---- CDO timpctl / ymonpctl, numpy's linear method, on the same files
    if not shutil.which("cdo"):
        check(False, "cdo is not installed (scripts/setup installs it)")
        return summary()
    W, S, E, N = box
    merged = os.path.join(tmp, "merged.nc")
    args = []
    for fl in tb["files"]:
        args += [f"-sellonlatbox,{W},{E},{S},{N}", f"-selname,{var}",
                 os.path.join(root, fl["key"])]
    err = cdo("mergetime", *args, merged)
    check(err is None, f"cdo mergetime: {err}")
    if err:
        return summary()
    cdo_out = {}
    # CDO 2.1.1's linear method returns a group's smallest value while
    # (n - 1) * p / 100 < 1 (numpy interpolates there), so p10 is compared
    # only over the whole range (62 steps), not on the test bed's 4-step month
    for op, extra, ps in (("timpctl", ("-timmin", merged, "-timmax", merged), (10, 50)),
                          ("ymonpctl", ("-ymonmin", merged, "-ymonmax", merged), (50,))):
        for p in ps:
            out = os.path.join(tmp, f"cdo-{op}{p}.nc")
            err = cdo("-b", "F64", "--percentile", "linear", f"{op},{p}", merged, *extra, out)
            check(err is None, f"cdo {op},{p}: {err}")
            if err is None:
                with netCDF4.Dataset(out) as ds:
                    v = ds[var]
                    v.set_auto_maskandscale(False)
                    cdo_out[(op, p)] = (np.asarray(v[:]), getattr(v, "_FillValue", None))
    bbox = ",".join(map(str, box))
    r = floe_np(2, "stats", coll, "-v", var, "--stat", "p10,p50", "--bbox", bbox,
                "-o", os.path.join(tmp, "vs-cdo-stats.nc"))
    r2 = floe_np(2, "climatology", coll, "-v", var, "--by", "month", "--stat", "p10,p50",
                 "--bbox", bbox, "-o", os.path.join(tmp, "vs-cdo-clim.nc"))
    check(r.returncode == 0 and r2.returncode == 0, f"floe for CDO: {r.stderr}{r2.stderr}")
    if r.returncode == 0 and r2.returncode == 0:
        fs, fc = load(os.path.join(tmp, "vs-cdo-stats.nc")), load(os.path.join(tmp, "vs-cdo-clim.nc"))
        for (op, p), (w, fill) in cdo_out.items():
            g = (fs if op == "timpctl" else fc)[f"{var}_p{p}"]
            if g.shape != w.shape:
                check(False, f"{op},{p}: shape {g.shape} vs CDO {w.shape}")
                continue
            gm, wm = g == np.float32(-9999.0), (w == fill) | np.isnan(w)
            check(np.array_equal(gm, wm), f"{op},{p}: missing cells as CDO's")
            ok = ~(gm | wm)
            bad = int(np.sum(g[ok] != w[ok].astype(np.float32)))
            check(bad == 0, f"{op},{p}: floe equals CDO --percentile linear rounded to float32 "
                            f"({bad} of {int(ok.sum())} cells differ, largest "
                            f"{np.max(np.abs(g[ok] - w[ok])) if ok.any() else 0:.3g})")
    return summary()


if __name__ == "__main__":
    run(main, __doc__)
