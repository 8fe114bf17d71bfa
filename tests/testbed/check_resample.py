#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
"""check_resample.py TESTBED_DIR: `--resample month|season|year` of floe
extract and floe series, under mpirun at 1, 2 and 3 ranks.

- extract --resample against CDO's monmean, monmin, monmax, monsum,
  monstd, seasmean and yearsum run on a plain floe extract of the same box
  and steps (point time labels, as CDO reads stamps): min and max exactly,
  mean, sum and std within rtol 1e-5; the selection 2001-01-10..2001-03-02
  covers a partial January, February and a partial March (partial periods
  are included, as CDO does), DJF (December's season: January and
  February) and a partial MAM;
- with end labels (each step the day before its stamp), the periods hold
  the steps whose MIDPOINT lies in them: against numpy on the test bed's
  source files read directly, grouped by each file's own date, and
  time_bnds the span of the data that went in;
- time = the middle of the period (point steps: time_bnds the period);
- series --resample at points and over a box region against numpy on the
  plain series (count exactly);
- series --resample -o OUT.csv (points, and a FeatureCollection of
  regions): the rows of the NetCDF output of the same request (times as
  netCDF4.num2date reads its time, ids in its order, values equal as
  float32, empty where missing), the same bytes at 1, 2 and 3 ranks;
- every output byte-identical at 1, 2 and 3 ranks;
- one-line errors: an unknown period, --resample-stat alone, a region's
  count resampled.
Prints "N passed, N failed" last."""

import csv
import datetime
import json
import os
import shutil
import subprocess
import tempfile

import netCDF4
import numpy as np

from testlib import check, floe_np, load, run, summary

RTOL = 1e-5
BOX = "-75,38,-68,44"
TRANGE = "2001-01-10/2001-03-02"
EPOCH = datetime.datetime(2001, 1, 1)


def cdo(*args):
    r = subprocess.run(["cdo", "-s", "-O", *args], capture_output=True, text=True, timeout=600)
    return None if r.returncode == 0 else r.stderr.strip()[-500:]


def masked(path, name):
    """name's values as float64 with NaN where missing."""
    with netCDF4.Dataset(path) as ds:
        v = ds[name]
        v.set_auto_maskandscale(False)
        x = np.asarray(v[:]).astype(np.float64)
        for a in ("_FillValue", "missing_value"):
            if hasattr(v, a):
                x[x == float(getattr(v, a))] = np.nan
    return x


def hours(path):
    with netCDF4.Dataset(path) as ds:
        t = np.asarray(ds["time"][:])
        b = np.asarray(ds["time_bnds"][:]) if "time_bnds" in ds.variables else None
    return t, b


def h(d):
    return (d - EPOCH).total_seconds() / 3600.0


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
        check(np.array_equal(g, w), f"{what}: exact ({int(np.sum(g != w))} differ)")
    else:
        atol = 1e-5 * max(np.max(np.abs(w)), 1e-30)
        bad = np.abs(g - w) > atol + RTOL * np.abs(w)
        check(not bad.any(), f"{what}: within rtol {RTOL} ({int(bad.sum())} outside, largest "
                             f"{np.max(np.abs(g - w)):.3g})")


def same_bytes(paths, what):
    base = load(paths[0])
    for p in paths[1:]:
        other = load(p)
        check(sorted(base) == sorted(other) and all(np.array_equal(base[k], other[k])
                                                   for k in base if k != "station_id"),
              f"{what}: {os.path.basename(p)} has the bytes of {os.path.basename(paths[0])}")


def month_periods(first, last):
    """[(start, end)] of the calendar months from first's to last's."""
    out, y, m = [], first.year, first.month
    while (y, m) <= (last.year, last.month):
        a = datetime.datetime(y, m, 1)
        y2, m2 = (y + 1, 1) if m == 12 else (y, m + 1)
        out.append((a, datetime.datetime(y2, m2, 1)))
        y, m = y2, m2
    return out


def check_extract_vs_cdo(coll, tmp):
    plain = os.path.join(tmp, "plain.nc")
    r = floe_np(0, "extract", coll, "-v", "Tair,Rainf", "--bbox", BOX, "--time", TRANGE,
                "--time-label", "point", "-o", plain)
    check(r.returncode == 0, f"plain extract: {r.stderr.strip()}")
    if r.returncode:
        return
    t, _ = hours(plain)
    stamps = [EPOCH + datetime.timedelta(hours=float(x)) for x in t]
    cases = [("month", "mean,min,max,sum,std,count",
              {"mean": "monmean", "min": "monmin", "max": "monmax", "sum": "monsum",
               "std": "monstd"}),
             ("season", "mean", {"mean": "seasmean"}),
             ("year", "sum", {"sum": "yearsum"})]
    for by, stats, ops in cases:
        outs = []
        for np_ in (1, 2, 3):
            out = os.path.join(tmp, f"ex-{by}-{np_}.nc")
            r = floe_np(np_, "extract", coll, "-v", "Tair,Rainf", "--bbox", BOX, "--time",
                        TRANGE, "--time-label", "point", "--resample", by, "--resample-stat",
                        stats, "-o", out)
            check(r.returncode == 0, f"extract --resample {by} np {np_}: {r.stderr.strip()}")
            if r.returncode == 0:
                outs.append(out)
        if len(outs) != 3:
            continue
        same_bytes(outs, f"extract --resample {by}")
        out = outs[0]
        for st, op in ops.items():
            want = os.path.join(tmp, f"cdo-{op}.nc")
            err = cdo("-b", "F64", op, plain, want)
            check(err is None, f"cdo {op}: {err}")
            if err:
                continue
            for v in ("Tair", "Rainf"):
                close(f"extract --resample {by} {v}_{st} vs CDO {op}", masked(out, f"{v}_{st}"),
                      masked(want, v), exact=st in ("min", "max"))
        t, b = hours(out)
        if by == "month":
            per = month_periods(stamps[0], stamps[-1])
            check(len(per) == 3 and len(t) == 3, f"three months (a partial January and March): "
                                                 f"{len(t)}")
            want_t = [h(a) + (h(z) - h(a)) / 2 for a, z in per]
            check(np.allclose(t, want_t), f"month times the middle of each month: {t}")
            check(b is not None and np.allclose(b, [[h(a), h(z)] for a, z in per]),
                  f"month time_bnds the months: {b}")
            # counts against numpy
            x = masked(plain, "Tair")
            months = np.array([s.month for s in stamps])
            want = np.stack([np.sum(~np.isnan(x[months == m]), axis=0) for m in (1, 2, 3)])
            check(np.array_equal(masked(out, "Tair_count"), want.astype(np.float64)),
                  "Tair_count: valid steps per month as numpy counts them")
            check(sorted(set(int(c) for c in np.unique(want) if c)) == [2, 22, 28],
                  f"January 10..31, February, March 1..2: {np.unique(want)}")
        if by == "season":
            check(len(t) == 2 and b is not None and
                  np.allclose(b, [[h(datetime.datetime(2000, 12, 1)), h(datetime.datetime(2001, 3, 1))],
                                  [h(datetime.datetime(2001, 3, 1)), h(datetime.datetime(2001, 6, 1))]]),
                  f"seasons DJF (from December 2000) and MAM: {b}")


def check_end_labels(tb, root, coll, tmp):
    """End labels: the step stamped 2001-02-01T00:00 is January 31."""
    files = tb["files"]
    lat = np.array(tb["lat_values"], dtype=np.float32).astype(np.float64)
    lon = np.array(tb["lon_values"], dtype=np.float32).astype(np.float64)
    W, S, E, N = map(float, BOX.split(","))
    rows = np.nonzero((lat >= S) & (lat <= N))[0]
    cols = np.nonzero((lon >= W) & (lon <= E))[0]
    days = [datetime.date.fromisoformat(f["date"]) for f in files]
    d0, d1 = datetime.date(2001, 1, 5), datetime.date(2001, 3, 2)
    sel = [i for i, d in enumerate(days) if d0 <= d <= d1]
    stack = []
    for i in sel:
        with netCDF4.Dataset(os.path.join(root, files[i]["key"])) as ds:
            v = ds["Tair"]
            v.set_auto_maskandscale(False)
            x = np.asarray(v[0, rows[0]:rows[-1] + 1, cols[0]:cols[-1] + 1]).astype(np.float64)
            x[x == float(v._FillValue)] = np.nan
            stack.append(x)
    x = np.stack(stack)
    months = np.array([days[i].month for i in sel])
    outs = []
    for np_ in (1, 2, 3):
        out = os.path.join(tmp, f"end-{np_}.nc")
        r = floe_np(np_, "extract", coll, "-v", "Tair", "--bbox", BOX, "--time",
                    f"{d0}/{d1}", "--time-label", "end", "--resample", "month",
                    "--resample-stat", "mean,count", "-o", out)
        check(r.returncode == 0, f"extract --time-label end --resample month np {np_}: "
                                 f"{r.stderr.strip()}")
        if r.returncode == 0:
            outs.append(out)
    if len(outs) != 3:
        return
    same_bytes(outs, "extract --time-label end --resample month")
    out = outs[0]
    with np.errstate(invalid="ignore"):
        want = np.stack([np.nanmean(x[months == m], axis=0) for m in (1, 2, 3)])
    close("end labels: Tair_mean per month of the files' own dates", masked(out, "Tair_mean"),
          want.astype(np.float32).astype(np.float64), exact=False)
    cnt = masked(out, "Tair_count")
    check(sorted(set(np.unique(cnt).astype(int)) - {0}) == [2, 27, 28],
          f"January 5..31 (the step stamped Feb 1 included), February, March 1..2: "
          f"{np.unique(cnt)}")
    t, b = hours(out)
    want_b = [[h(datetime.datetime(2001, 1, 5)), h(datetime.datetime(2001, 2, 1))],
              [h(datetime.datetime(2001, 2, 1)), h(datetime.datetime(2001, 3, 1))],
              [h(datetime.datetime(2001, 3, 1)), h(datetime.datetime(2001, 3, 3))]]
    check(b is not None and np.allclose(b, want_b), f"end labels: time_bnds the data's span: {b}")
    check(np.allclose(t, [(p + q) / 2 for p, q in want_b]), f"end labels: times in the middle: {t}")


def check_series(coll, tmp):
    pts = os.path.join(tmp, "pts.csv")
    with open(pts, "w") as f:
        f.write("lon,lat,id\n-70.3,41.7,a\n-100.2,40.1,b\n-120.5,45.5,c\n")
    cases = [("points", ["--points", pts], "Tair", ["Tair"], "month", "mean,max,std,count"),
             ("box", ["--bbox", "-100,30,-90,40", "--stat", "mean,max"], "Rainf",
              ["Rainf_mean", "Rainf_max"], "season", "mean,sum,min")]
    for label, where, var, names, by, stats in cases:
        plain = os.path.join(tmp, f"series-{label}.nc")
        r = floe_np(0, "series", coll, "-v", var, *where, "--time", TRANGE, "-o", plain)
        check(r.returncode == 0, f"plain series {label}: {r.stderr.strip()}")
        outs = []
        for np_ in (1, 2, 3):
            out = os.path.join(tmp, f"series-{label}-{by}-{np_}.nc")
            r = floe_np(np_, "series", coll, "-v", var, *where, "--time", TRANGE, "--resample",
                        by, "--resample-stat", stats, "-o", out)
            check(r.returncode == 0, f"series {label} --resample {by} np {np_}: "
                                     f"{r.stderr.strip()}")
            if r.returncode == 0:
                outs.append(out)
        if len(outs) != 3 or not os.path.exists(plain):
            continue
        same_bytes(outs, f"series {label} --resample {by}")
        t, _ = hours(plain)
        stamps = [EPOCH + datetime.timedelta(hours=float(x)) for x in t]
        key = [s.month if by == "month" else (s.month % 12) // 3 + (s.year if s.month != 12
                                                                   else s.year + 1) * 4
               for s in stamps]
        groups = sorted(set(key))
        for name in names:
            x = masked(plain, name)
            for st in stats.split(","):
                f = {"mean": np.nanmean, "max": np.nanmax, "min": np.nanmin, "sum": np.nansum,
                     "std": np.nanstd, "count": lambda a, axis: np.sum(~np.isnan(a), axis=axis)}[st]
                want = np.stack([f(x[np.array(key) == g], axis=0) for g in groups])
                got = masked(outs[0], f"{name}_{st}")
                if got.dtype != want.dtype or st != "count":
                    want = want.astype(np.float32).astype(np.float64)
                close(f"series {label} {name}_{st} per {by} vs numpy", got, want,
                      exact=st in ("min", "max", "count"))
        with netCDF4.Dataset(outs[0]) as ds:
            cm = ds[f"{names[0]}_mean"].cell_methods
        check(cm.endswith("time: mean") and (label == "points" or "area: mean" in cm),
              f"series {label}: cell_methods end with the time method: {cm!r}")


def check_series_csv(coll, tmp):
    """--resample with -o OUT.csv: the resampled values, as the NetCDF holds them."""
    pts = os.path.join(tmp, "pts-csv.csv")
    with open(pts, "w") as f:
        f.write("lon,lat,id\n-70.3,41.7,a\n-100.2,40.1,b\n-120.5,45.5,c\n")
    gj = os.path.join(tmp, "two.geojson")
    with open(gj, "w") as f:
        json.dump({"type": "FeatureCollection", "features": [
            {"type": "Feature", "properties": {"id": "west"}, "geometry": {"type": "Polygon",
             "coordinates": [[[-100, 30], [-95, 30], [-95, 35], [-100, 35], [-100, 30]]]}},
            {"type": "Feature", "properties": {"id": "east"}, "geometry": {"type": "Polygon",
             "coordinates": [[[-90, 35], [-85, 35], [-87, 40], [-90, 35]]]}}]}, f)
    cases = [("points", ["-v", "Tair,Rainf", "--points", pts], "station_id",
              ["Tair_mean", "Tair_max", "Rainf_mean", "Rainf_max"]),
             ("regions", ["-v", "Tair", "--region", gj, "--stat", "mean,max"], "region_id",
              ["Tair_mean_mean", "Tair_mean_max", "Tair_max_mean", "Tair_max_max"])]
    for label, where, idvar, names in cases:
        req = ["series", coll, *where, "--time", TRANGE, "--resample", "month",
               "--resample-stat", "mean,max", "-q"]
        nc = os.path.join(tmp, f"csv-{label}.nc")
        r = floe_np(0, *req, "-o", nc)
        check(r.returncode == 0, f"series {label} --resample month -o .nc: {r.stderr.strip()}")
        outs = []
        for np_ in (1, 2, 3):
            out = os.path.join(tmp, f"csv-{label}-{np_}.csv")
            r = floe_np(np_, *req, "-o", out)
            check(r.returncode == 0, f"series {label} --resample month -o .csv np {np_}: "
                                     f"{r.stderr.strip()}")
            if r.returncode == 0:
                outs.append(out)
        if len(outs) != 3 or not os.path.exists(nc):
            continue
        blobs = [open(p, "rb").read() for p in outs]
        check(blobs[1] == blobs[0] and blobs[2] == blobs[0],
              f"series {label} --resample -o .csv: the same bytes at np 1, 2 and 3")
        with open(outs[0], newline="") as f:
            rows = list(csv.reader(f))
        check(rows[0] == ["time", "id"] + names, f"series {label} resampled CSV header {rows[0]}")
        with netCDF4.Dataset(nc) as ds:
            tv = ds["time"]
            times = netCDF4.num2date(tv[:], tv.units, getattr(tv, "calendar", "standard"),
                                     only_use_cftime_datetimes=False,
                                     only_use_python_datetimes=True)
            ids = [str(s) for s in ds[idvar][:]] if ds[idvar].dtype == str else \
                [str(s) for s in netCDF4.chartostring(ds[idvar][:])]
            want = {n: masked(nc, n) for n in names}
        body = rows[1:]
        check(len(body) == len(times) * len(ids),
              f"series {label} resampled CSV: {len(body)} rows, want {len(times)} x {len(ids)}")
        if len(body) != len(times) * len(ids):
            continue
        check([r_[0] for r_ in body] == [t.isoformat() for t in times for _ in ids],
              f"series {label} resampled CSV times {sorted(set(r_[0] for r_ in body))} vs "
              f"{[t.isoformat() for t in times]}")
        check([r_[1] for r_ in body] == ids * len(times),
              f"series {label} resampled CSV ids {[r_[1] for r_ in body[:len(ids)]]} vs {ids}")
        for c, n in enumerate(names):
            got = np.array([np.float32(r_[2 + c]) if r_[2 + c] else np.nan for r_ in body],
                           dtype=np.float32)
            w = want[n].astype(np.float32).reshape(-1)
            check(np.array_equal(got, w, equal_nan=True) and not np.isnan(w).all(),
                  f"series {label} resampled CSV {n} equals the NetCDF's: {got} vs {w}")


def check_errors(coll, tmp):
    out = os.path.join(tmp, "err.nc")
    for args, want in [(["extract", coll, "-v", "Tair", "--resample", "week"], "--resample 'week'"),
                       (["series", coll, "-v", "Tair", "--bbox", BOX, "--resample", "weekly"],
                        "expected month, season or year"),
                       (["extract", coll, "-v", "Tair", "--resample-stat", "max"],
                        "--resample-stat needs --resample"),
                       (["series", coll, "-v", "Tair", "--bbox", BOX, "--stat", "count",
                         "--resample", "month"], "--resample with --stat count")]:
        r = floe_np(0, *args, "-o", out)
        lines = [l for l in r.stderr.strip().splitlines() if l.strip()]
        check(r.returncode != 0 and len(lines) == 1 and want in lines[0],
              f"{' '.join(args[3:])}: one error line with {want!r}: {r.stderr.strip()!r}")
        check(not os.path.exists(out), f"{' '.join(args[3:])}: no output")


def main(tbdir):
    if not shutil.which("cdo"):
        print("FAIL: cdo is not installed (scripts/setup installs it)")
        print("0 passed, 1 failed")
        return 1
    with open(os.path.join(tbdir, "testbed.json")) as f:
        tb = json.load(f)
    root = os.path.join(tbdir, "s3", tb["bucket"])
    coll = os.path.join(tbdir, "collection.json")
    tmp = tempfile.mkdtemp(prefix="floe-resample-")
    check_extract_vs_cdo(coll, tmp)
    check_end_labels(tb, root, coll, tmp)
    check_series(coll, tmp)
    check_series_csv(coll, tmp)
    check_errors(coll, tmp)
    shutil.rmtree(tmp, ignore_errors=True)
    return summary()


if __name__ == "__main__":
    run(main, __doc__)
