#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
"""check_stats.py TESTBED_DIR: `floe stats` and `floe climatology` under
mpirun at 1, 2, 4 and 7 ranks.

The statistics are compared with numpy on direct netCDF reads of the source
files (two-pass, float64; min, max and count exactly, mean/sum/std to float32
precision), missing cells (ocean) are missing and count 0, the output bytes
of every data variable are identical for every rank count, in a space-major
case (many tiles) and a time-split case (fewer tiles than ranks), and the
derived STAC Item is valid. Climatologies by month and by season are
checked the same way against numpy grouping of the decoded time stamps,
with CF climatology_bounds and cell_methods. Prints "N passed, N failed"
last.
"""

import datetime
import json
import os
import tempfile

import netCDF4
import numpy as np

from testlib import check, floe_np, load, run, summary
from check_item import check_item

def main(tbdir):
    with open(os.path.join(tbdir, "testbed.json")) as f:
        tb = json.load(f)
    names = [v["name"] for v in tb["variables"]]
    lat = np.array(tb["lat_values"], dtype=np.float32).astype(np.float64)
    lon = np.array(tb["lon_values"], dtype=np.float32).astype(np.float64)
    root = os.path.join(tbdir, "s3", tb["bucket"])
    coll = os.path.join(tbdir, "collection.json")
    tmp = tempfile.mkdtemp(prefix="floe-stats-")
    var = "Tair" if "Tair" in names else names[0]
    dates = [datetime.date.fromisoformat(f["date"]) + datetime.timedelta(days=1)
             for f in tb["files"]]
    # (label, bbox, time): many tiles (space-major at 7 ranks too: a box of
    # 3 x 4 chunks = 12 tiles), and a small box of 4 tiles (time-split at 7).
    # "aligned": a box that starts on a chunk corner (row 100, column 180 of
    # mini's 50 x 90 chunks) and ends inside one, so its tiles are the
    # output's chunks, the last ones partial: every rank compresses its own.
    cases = [("space-major", "-100,30,-65,45", f"{dates[0]}/{dates[-1]}"),
             ("aligned", "-151,17,-120,29.99", f"{dates[1]}/{dates[-2]}"),
             ("time-split", "-70.84,41.48,-69.77,42.10", f"{dates[3]}/{dates[-3]}")]
    for label, bbox, trange in cases:
        W, S, E, N = map(float, bbox.split(","))
        rows = np.nonzero((lat >= S) & (lat <= N))[0]
        cols = np.nonzero((lon >= W) & (lon <= E))[0]
        t0, t1 = (dates.index(datetime.date.fromisoformat(d)) for d in trange.split("/"))
        # the independent answer
        stack = []
        for t in range(t0, t1 + 1):
            with netCDF4.Dataset(os.path.join(root, tb["files"][t]["key"])) as ds:
                v = ds[var]
                v.set_auto_maskandscale(False)
                stack.append(v[0, rows[0]:rows[-1] + 1, cols[0]:cols[-1] + 1].astype(np.float64))
        x = np.stack(stack)
        x[x == -9999.0] = np.nan
        n = np.sum(~np.isnan(x), axis=0)
        import warnings
        with np.errstate(all="ignore"), warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)  # all-ocean cells: NaN is right
            want = {"mean": np.nanmean(x, 0), "min": np.nanmin(x, 0), "max": np.nanmax(x, 0),
                    "sum": np.where(n > 0, np.nansum(x, 0), np.nan), "std": np.nanstd(x, 0),
                    "count": n.astype(np.float64)}
        outs = {}
        for np_ in (1, 2, 4, 7):
            out = os.path.join(tmp, f"{label}-{np_}.nc")
            r = floe_np(np_, "stats", coll, "-v", var, "--stat", "mean,min,max,sum,std,count",
                        "--bbox", bbox, "--time", trange, "-o", out, "--verbose")
            check(r.returncode == 0, f"{label} np {np_}: exit {r.returncode}: {r.stderr.strip()}")
            if r.returncode == 0:
                outs[np_] = load(out)
            # the aligned box takes the path where every rank compresses its
            # own tiles' chunks; the banded run below takes rank 0's
            # nc_put_vara path, so comparing their bytes checks one by the other
            raw = "every rank compresses its tiles' output chunks" in r.stderr
            check(raw == (label == "aligned"),
                  f"{label} np {np_}: output chunks {'not ' if not raw else ''}compressed by the ranks")
        if 1 not in outs:
            continue
        got = outs[1]
        for st, w in want.items():
            g = got[f"{var}_{st}"][0].astype(np.float64)
            miss = g == -9999.0
            if st == "count":
                check(np.array_equal(g, w), f"{label} {st}: equals numpy")
                continue
            check(np.array_equal(miss, np.isnan(w)), f"{label} {st}: missing exactly where no data")
            ok = ~miss
            if st in ("min", "max"):
                check(np.array_equal(g[ok], w[ok]), f"{label} {st}: equals numpy")
            else:
                scale = np.maximum(np.abs(w[ok]), 1.0)
                err = np.max(np.abs(g[ok] - w[ok]) / scale) if ok.any() else 0.0
                check(err < 2e-6, f"{label} {st}: relative error {err:.2e} vs numpy")
        for np_, o in outs.items():
            same = all(np.array_equal(o[k].view(np.uint8), got[k].view(np.uint8))
                       for k in got if k.startswith(var))
            check(same, f"{label}: np {np_} gives the same bytes as np 1")
        # tiles cut into bands of rows (FLOE_TILE_MEMORY: the memory a tile's
        # accumulators may take, made tiny here): the same bytes
        os.environ["FLOE_TILE_MEMORY"] = "20000"
        try:
            for np_ in (1, 2):
                out = os.path.join(tmp, f"{label}-banded-{np_}.nc")
                r = floe_np(np_, "stats", coll, "-v", var, "--stat", "mean,min,max,sum,std,count",
                            "--bbox", bbox, "--time", trange, "-o", out)
                check(r.returncode == 0, f"{label} banded np {np_}: {r.stderr.strip()}")
                if r.returncode == 0:
                    o = load(out)
                    check(all(np.array_equal(o[k].view(np.uint8), got[k].view(np.uint8))
                              for k in got if k.startswith(var)),
                          f"{label}: tiles in bands of rows (np {np_}, rank 0 compressing) give "
                          "the same bytes")
        finally:
            del os.environ["FLOE_TILE_MEMORY"]
        with netCDF4.Dataset(os.path.join(tmp, f"{label}-1.nc")) as ds:
            tbnd = ds["time_bnds"][:]
            tv = np.array([f["time_value"] for f in tb["files"]])
            check(tbnd[0, 0] == tv[t0] and tbnd[0, 1] == tv[t1],
                  f"{label}: time bounds span the selected steps")
            check(ds[f"{var}_std"].cell_methods == "time: standard_deviation",
                  f"{label}: cell_methods")
        problems = check_item(os.path.join(tmp, f"{label}-1.json"))
        check(not problems, f"{label}: derived Item: {problems}")
    # ---- climatology: the steps grouped by the month / season of their stamp
    # (month: a box off the chunk grid; season: the aligned box, so the
    # ranks compress the chunks of the groups present and skip the others)
    season_of = {12: 0, 1: 0, 2: 0, 3: 1, 4: 1, 5: 1, 6: 2, 7: 2, 8: 2, 9: 3, 10: 3, 11: 3}
    for by, key, box in (("month", lambda d: d.month, (-80.0, 35.0, -65.0, 45.0)),
                         ("season", lambda d: season_of[d.month], (-151.0, 17.0, -120.0, 29.99))):
        W, S, E, N = box
        rows = np.nonzero((lat >= S) & (lat <= N))[0]
        cols = np.nonzero((lon >= W) & (lon <= E))[0]
        stack = []
        for f in tb["files"]:
            with netCDF4.Dataset(os.path.join(root, f["key"])) as ds:
                v = ds[var]
                v.set_auto_maskandscale(False)
                stack.append(v[0, rows[0]:rows[-1] + 1, cols[0]:cols[-1] + 1].astype(np.float64))
        x = np.stack(stack)
        x[x == -9999.0] = np.nan
        keys = [key(d) for d in dates]
        groups = sorted(set(keys))
        outs = {}
        for np_ in (1, 2, 4, 7):
            out = os.path.join(tmp, f"clim-{by}-{np_}.nc")
            r = floe_np(np_, "climatology", coll, "-v", var, "--by", by,
                        "--stat", "mean,std,count", "--bbox", f"{W},{S},{E},{N}", "-o", out)
            check(r.returncode == 0, f"climatology {by} np {np_}: {r.stderr.strip()}")
            if r.returncode == 0:
                outs[np_] = load(out)
        if 1 not in outs:
            continue
        got = outs[1]
        check(got[f"{var}_mean"].shape[0] == len(groups),
              f"climatology {by}: {got[f'{var}_mean'].shape[0]} groups, want {len(groups)}")
        for gi, gk in enumerate(groups):
            sel = x[[k == gk for k in keys]]
            n = np.sum(~np.isnan(sel), axis=0)
            import warnings
            with np.errstate(all="ignore"), warnings.catch_warnings():
                warnings.simplefilter("ignore", RuntimeWarning)
                want = {"mean": np.nanmean(sel, 0), "std": np.nanstd(sel, 0)}
            g = {k: got[f"{var}_{k}"][gi].astype(np.float64) for k in ("mean", "std", "count")}
            check(np.array_equal(g["count"], n.astype(np.float64)),
                  f"climatology {by} group {gk}: count")
            for st in ("mean", "std"):
                miss = g[st] == -9999.0
                ok = ~miss
                check(np.array_equal(miss, np.isnan(want[st])),
                      f"climatology {by} group {gk} {st}: missing where no data")
                err = np.max(np.abs(g[st][ok] - want[st][ok]) /
                             np.maximum(np.abs(want[st][ok]), 1.0)) if ok.any() else 0.0
                check(err < 2e-6, f"climatology {by} group {gk} {st}: rel. error {err:.2e}")
        for np_, o in outs.items():
            check(all(np.array_equal(o[k].view(np.uint8), got[k].view(np.uint8))
                      for k in got if k.startswith(var)),
                  f"climatology {by}: np {np_} gives the same bytes as np 1")
        with netCDF4.Dataset(os.path.join(tmp, f"clim-{by}-1.nc")) as ds:
            check(ds["time"].climatology == "climatology_bounds" and
                  ds[f"{var}_mean"].cell_methods ==
                  "time: mean within years time: mean over years",
                  f"climatology {by}: CF climatology attributes")
        problems = check_item(os.path.join(tmp, f"clim-{by}-1.json"))
        check(not problems, f"climatology {by}: derived Item: {problems}")
    return summary()


if __name__ == "__main__":
    run(main, __doc__)
