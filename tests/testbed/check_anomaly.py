#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
"""check_anomaly.py TESTBED_DIR: `--anomaly-from CLIM.nc` of floe extract,
series and stats, under mpirun at 1, 2 and 3 ranks.

Climatologies: CDO's ymonmean, yseasmean and ydaymean of a plain floe extract of
the box (point time labels, as CDO reads stamps; their grouping is
recognised from CDO's history), and floe's own climatology --by month
(VAR_mean, recognised from its title). Then:
- extract --anomaly-from  vs  CDO ymonsub / yseassub / ydaysub of the plain extract:
  the same bytes (both subtract in double and round to float32); against
  floe's climatology: numpy (plain - Tair_mean of the step's month);
- series at points  vs  the ymonsub values at each point's cell, exactly;
- series over a box (area mean)  vs  CDO fldmean of the ymonsub output;
- series of a GeoJSON region whose climatology covers only the box around
  it (not the whole grid)  vs  the box series of the same cells;
- stats --stat mean,max,count  vs  numpy on the ymonsub output;
- every output byte-identical at 1, 2 and 3 ranks, long_name "... anomaly",
  the global attribute floe_anomaly_from naming the climatology;
- one-line errors: a climatology whose grid lacks the selected cells, one
  that lacks a step's month, a day-of-year climatology in another calendar
  family (360_day vs the data's standard), and -o naming the climatology (an input: never
  replaced, not even with -O).
Prints "N passed, N failed" last."""

import datetime
import hashlib
import os
import shutil
import subprocess
import tempfile

import netCDF4
import numpy as np

from testlib import check, floe_np, load, run, summary

BOX = "-75,38,-68,44"
EPOCH = datetime.datetime(2001, 1, 1)
RTOL = 1e-5


def cdo(*args):
    r = subprocess.run(["cdo", "-s", "-O", *args], capture_output=True, text=True, timeout=600)
    return None if r.returncode == 0 else r.stderr.strip()[-500:]


def masked(path, name):
    with netCDF4.Dataset(path) as ds:
        v = ds[name]
        v.set_auto_maskandscale(False)
        x = np.asarray(v[:]).astype(np.float64)
        for a in ("_FillValue", "missing_value"):
            if hasattr(v, a):
                x[x == float(getattr(v, a))] = np.nan
    return x


def close(what, got, want, exact):
    if got.shape != want.shape:
        check(False, f"{what}: shape {got.shape}, want {want.shape}")
        return
    check(np.array_equal(np.isnan(got), np.isnan(want)), f"{what}: the same missing cells")
    ok = ~(np.isnan(got) | np.isnan(want))
    if not ok.any():
        check(False, f"{what}: nothing to compare")
        return
    g, w = got[ok], want[ok]
    if exact:
        check(np.array_equal(g, w), f"{what}: exact ({int(np.sum(g != w))} differ, largest "
                                    f"{np.max(np.abs(g - w)):.3g})")
    else:
        atol = 1e-5 * max(np.max(np.abs(w)), 1e-30)
        bad = np.abs(g - w) > atol + RTOL * np.abs(w)
        check(not bad.any(), f"{what}: within rtol {RTOL} ({int(bad.sum())} outside, largest "
                             f"{np.max(np.abs(g - w)):.3g})")


def runs(tmp, tag, *args):
    """floe at 1, 2, 3 ranks; the outputs (all byte-identical) or []."""
    outs = []
    for np_ in (1, 2, 3):
        out = os.path.join(tmp, f"{tag}-{np_}.nc")
        r = floe_np(np_, *args, "-o", out)
        check(r.returncode == 0, f"{tag} np {np_}: {r.stderr.strip()}")
        if r.returncode == 0:
            outs.append(out)
    if len(outs) != 3:
        return []
    base = load(outs[0])
    for p in outs[1:]:
        other = load(p)
        check(all(np.array_equal(base[k], other[k]) for k in base if k != "station_id"),
              f"{tag}: np {p[-4]} writes the bytes of np 1")
    return outs


def anomaly_attrs(path, var, clim, tag):
    with netCDF4.Dataset(path) as ds:
        ln = getattr(ds[var], "long_name", "")
        check(ln.endswith(" anomaly"), f"{tag}: {var} long_name says anomaly: {ln!r}")
        check(getattr(ds, "floe_anomaly_from", None) == clim,
              f"{tag}: floe_anomaly_from names {clim}")


def months_of(path):
    with netCDF4.Dataset(path) as ds:
        t = np.asarray(ds["time"][:])
    return np.array([(EPOCH + datetime.timedelta(hours=float(h))).month for h in t])


def season_times(plain, path):
    """CDO 2.1.1's yseasmean writes an uninitialised time (at random, e.g.
    -1e10 hours) for a DJF that lacks its December; its values are right.
    So the times are set here, as CDO writes them when it works: each
    season's last time stamp in the data, seasons in the order they first
    appear (DJF = December with the following January and February)."""
    with netCDF4.Dataset(plain) as ds:
        t = ds["time"]
        tv = np.asarray(t[:])
        dates = netCDF4.num2date(tv, t.units, getattr(t, "calendar", "standard"))
    season = [(d.month % 12) // 3 for d in dates]  # 0 DJF, 1 MAM, 2 JJA, 3 SON
    order, last, first = [], {}, {}
    for k, sn in enumerate(season):
        if sn not in last:
            order.append(sn)
            first[sn] = tv[k]
        last[sn] = tv[k]
    with netCDF4.Dataset(path, "r+") as ds:
        check(len(ds["time"]) == len(order), f"yseasmean: {len(ds['time'])} seasons, the data has {len(order)}")
        ds["time"][:] = [last[sn] for sn in order]
        bname = getattr(ds["time"], "bounds", None) or getattr(ds["time"], "climatology", None)
        if bname and bname in ds.variables:
            ds[bname][:] = [[first[sn], last[sn]] for sn in order]


def main(tbdir):
    if not shutil.which("cdo"):
        print("FAIL: cdo is not installed (scripts/setup installs it)")
        print("0 passed, 1 failed")
        return 1
    coll = os.path.join(tbdir, "collection.json")
    tmp = tempfile.mkdtemp(prefix="floe-anomaly-")
    sel = ["-v", "Tair", "--bbox", BOX, "--time-label", "point"]
    plain = os.path.join(tmp, "plain.nc")
    r = floe_np(0, "extract", coll, *sel, "-o", plain)
    check(r.returncode == 0, f"plain extract: {r.stderr.strip()}")
    if r.returncode:
        return summary()
    clim = {k: os.path.join(tmp, f"{k}.nc") for k in ("ymon", "yseas", "yday", "floe")}
    with netCDF4.Dataset(plain) as ds:
        t = np.asarray(ds["time"][:])
    for op, k in (("ymonmean", "ymon"), ("yseasmean", "yseas"), ("ydaymean", "yday")):
        err = cdo(op, plain, clim[k])
        check(err is None, f"cdo {op}: {err}")
        if err is None and k == "yseas":
            season_times(plain, clim[k])
    r = floe_np(0, "climatology", coll, *sel, "--by", "month", "--stat", "mean",
                "-o", clim["floe"])
    check(r.returncode == 0, f"floe climatology: {r.stderr.strip()}")
    sub = {}
    for op, k in (("ymonsub", "ymon"), ("yseassub", "yseas"), ("ydaysub", "yday")):
        sub[k] = os.path.join(tmp, f"{op}.nc")
        err = cdo(op, plain, clim[k], sub[k])
        check(err is None, f"cdo {op}: {err}")

    # ---- extract
    for k in ("ymon", "yseas", "yday"):
        outs = runs(tmp, f"extract-{k}", "extract", coll, *sel, "--anomaly-from", clim[k])
        if outs:
            close(f"extract --anomaly-from {k}mean vs CDO {k}sub", masked(outs[0], "Tair"),
                  masked(sub[k], "Tair"), exact=True)
            anomaly_attrs(outs[0], "Tair", clim[k], f"extract {k}")
    outs = runs(tmp, "extract-floe", "extract", coll, *sel, "--anomaly-from", clim["floe"])
    if outs:
        c = masked(clim["floe"], "Tair_mean")
        cm = months_of(clim["floe"])
        want = masked(plain, "Tair") - np.stack([c[list(cm).index(m)] for m in months_of(plain)])
        close("extract --anomaly-from floe's climatology vs numpy", masked(outs[0], "Tair"),
              want.astype(np.float32).astype(np.float64), exact=True)

    # ---- series at points: each point's cell of the ymonsub output
    pts = os.path.join(tmp, "pts.csv")
    with open(pts, "w") as f:
        f.write("lon,lat,id\n-70.3,41.7,a\n-72.2,40.1,b\n-74.5,43.9,c\n")
    outs = runs(tmp, "series-pts", "series", coll, "-v", "Tair", "--points", pts,
                "--time-label", "point", "--anomaly-from", clim["ymon"])
    if outs:
        with netCDF4.Dataset(outs[0]) as ds:
            clat, clon = np.asarray(ds["cell_lat"][:]), np.asarray(ds["cell_lon"][:])
        with netCDF4.Dataset(sub["ymon"]) as ds:
            lat, lon = np.asarray(ds["lat"][:]), np.asarray(ds["lon"][:])
        s = masked(sub["ymon"], "Tair")
        want = np.stack([s[:, np.argmin(np.abs(lat - clat[p])), np.argmin(np.abs(lon - clon[p]))]
                         for p in range(len(clat))], axis=1)
        close("series at points --anomaly-from vs CDO ymonsub at the cells",
              masked(outs[0], "Tair"), want, exact=True)
        anomaly_attrs(outs[0], "Tair", clim["ymon"], "series at points")

    # ---- series over a box: the area mean of the anomalies
    outs = runs(tmp, "series-box", "series", coll, "-v", "Tair", "--bbox", "-74,39,-69,43",
                "--time-label", "point", "--stat", "mean", "--anomaly-from", clim["ymon"])
    if outs:
        fm = os.path.join(tmp, "fldmean.nc")
        err = cdo("fldmean", "-sellonlatbox,-74,-69,39,43", sub["ymon"], fm)
        check(err is None, f"cdo fldmean: {err}")
        if err is None:
            close("series box mean --anomaly-from vs CDO fldmean of ymonsub",
                  masked(outs[0], "Tair_mean"), masked(fm, "Tair").reshape(-1), exact=False)
        anomaly_attrs(outs[0], "Tair_mean", clim["ymon"], "series over a box")

    # ---- series of a GeoJSON region: the climatology need only cover the
    # region's cells (here the extract's box), not the whole grid; the
    # region (a rectangle whose edges lie between centres) weighs the
    # cells of the same box as a --bbox series, so the values are its
    gj = os.path.join(tmp, "rect.geojson")
    with open(gj, "w") as f:
        f.write('{"type": "Polygon", "coordinates": [[[-73.9951, 39.0049], [-69.0049, 39.0049], '
                '[-69.0049, 42.9951], [-73.9951, 42.9951], [-73.9951, 39.0049]]]}')
    region = runs(tmp, "series-region", "series", coll, "-v", "Tair", "--region", gj,
                  "--time-label", "point", "--stat", "mean", "--anomaly-from", clim["ymon"])
    if region and outs:
        close("series of a region --anomaly-from vs the same cells as a --bbox series",
              masked(region[0], "Tair_mean"), masked(outs[0], "Tair_mean"), exact=True)

    # ---- stats
    outs = runs(tmp, "stats", "stats", coll, *sel, "--stat", "mean,max,count",
                "--anomaly-from", clim["ymon"])
    if outs:
        s = masked(sub["ymon"], "Tair")
        with np.errstate(invalid="ignore"), __import__("warnings").catch_warnings():
            __import__("warnings").simplefilter("ignore")
            close("stats mean of anomalies vs numpy on ymonsub", masked(outs[0], "Tair_mean")[0],
                  np.nanmean(s, axis=0), exact=False)
            close("stats max of anomalies vs numpy on ymonsub", masked(outs[0], "Tair_max")[0],
                  np.nanmax(s, axis=0).astype(np.float32).astype(np.float64), exact=True)
        anomaly_attrs(outs[0], "Tair_mean", clim["ymon"], "stats")

    # ---- errors: one line each, no output, the climatology untouched
    small = os.path.join(tmp, "small.nc")
    janfeb = os.path.join(tmp, "janfeb.nc")
    check(cdo("sellonlatbox,-72,-68,38,44", clim["ymon"], small) is None, "cdo sellonlatbox")
    check(cdo("selmon,1,2", clim["ymon"], janfeb) is None, "cdo selmon")
    # a day-of-year climatology in the 360_day calendar for standard-calendar
    # data: its day 32 is 2 February, the data's 1 February: refused
    d360 = os.path.join(tmp, "yday360.nc")
    shutil.copyfile(clim["yday"], d360)
    with netCDF4.Dataset(d360, "r+") as ds:
        ds["time"].setncattr("calendar", "360_day")
    digest = hashlib.sha256(open(clim["ymon"], "rb").read()).hexdigest()
    out = os.path.join(tmp, "err.nc")
    for args, want in [(["extract", coll, *sel, "--anomaly-from", small, "-o", out],
                        [small, "must hold the selected cells"]),
                       (["stats", coll, *sel, "--anomaly-from", janfeb, "-o", out],
                        [janfeb, "holds no March", "2001-03"]),
                       (["extract", coll, *sel, "--anomaly-from", d360, "-o", out],
                        [d360, "360_day", "do not match"]),
                       (["series", coll, "-v", "Tair", "--points", pts, "--anomaly-from", small,
                         "-o", out], [small, "must hold the selected cells"]),
                       (["extract", coll, *sel, "--anomaly-from", clim["ymon"], "-O", "-o",
                         clim["ymon"]], ["would replace the climatology"])]:
        r = floe_np(0, *args)
        lines = [l for l in r.stderr.strip().splitlines() if l.strip()]
        check(r.returncode != 0 and len(lines) == 1 and all(w in lines[0] for w in want),
              f"one error line with {want}: {r.stderr.strip()!r}")
        check(not os.path.exists(out), f"no output after {want}")
    check(hashlib.sha256(open(clim["ymon"], "rb").read()).hexdigest() == digest,
          "the climatology is unchanged")
    shutil.rmtree(tmp, ignore_errors=True)
    return summary()


if __name__ == "__main__":
    run(main, __doc__)
