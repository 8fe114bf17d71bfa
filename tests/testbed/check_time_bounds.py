#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
"""check_time_bounds.py TESTBED_DIR: the source's own time bounds (issue 12
section 2: without --time-label, a time coordinate's CF `bounds` attribute
names the (time, 2) array of its steps' intervals, and floe uses them).

The source is a small Icechunk repository written by the real library
(scripts/node/make_bounds_repo.mjs): each stamp is the END of its interval,
the intervals have unequal lengths and a gap, so no label (point, start,
end) derives them from the stamps. The expected answers are computed with
numpy from the values the script reports it wrote, never from floe:
- extract writes time_bnds equal to the source's bounds, the stamps and
  values unchanged, and its Item spans the first start .. the last end;
- --time selects the steps whose interval overlaps the request by more
  than an instant: a request inside one interval selects it, a month
  selects an interval it only partly holds, an instant at a boundary
  (a one-second request) selects the step that starts there, not the one
  whose stamp it is, a request inside the gap selects nothing (one error
  naming the range), a request past the data is clipped with one note;
- a monthly climatology groups each step by its interval's middle, counts
  and means match numpy, climatology_bounds are exactly the data of each
  group, its time the middle of the group's data within its first
  occurrence; the Item spans the data; 1 and 2 ranks write the same bytes;
- stats' single step has time_bnds from the first start to the last end;
  series has the source's time_bnds; their Items span the same;
- --time-label point (and end) overrides the bounds: the old behaviour;
- a bounds attribute naming a missing array: one warning (also under two
  ranks), the steps are points; none when --time-label is given.
The test bed itself is not read: this runs with the test-bed tests because
it needs the node tools installed (scripts/node/install).
Prints "N passed, N failed" last."""

import datetime
import json
import os
import subprocess
import tempfile

import netCDF4
import numpy as np

import reference
from testlib import check, floe_np, load, notes, run, summary

VAR = "Tair"
EPOCH = datetime.datetime(2001, 1, 1)
HOUR = datetime.timedelta(hours=1)
RANGE = "2001-01-01T00:00:00 .. 2001-04-03T00:00:00"


def make_repo(path, *extra):
    """Write the repository; what it holds, as the script reports it."""
    r = subprocess.run([os.path.join(reference.ROOT, "scripts", "node", "run"),
                        "make_bounds_repo.mjs", path, *extra], capture_output=True, text=True)
    check(r.returncode == 0, f"make_bounds_repo {' '.join(extra)}: {r.stderr.strip()}")
    return json.loads(r.stdout.strip().splitlines()[-1]) if r.returncode == 0 else None


def hours(text):
    """An ISO date-time (as floe writes them) in the repository's hours."""
    return (datetime.datetime.fromisoformat(text.rstrip("Z")) - EPOCH) / HOUR


def iso(h):
    return (EPOCH + float(h) * HOUR).isoformat()


def request_span(text):
    """[lo, hi) hours of a --time request, the pandas partial-date way:
    a date-time to the second is that second, a date its day, YYYY-MM its
    month; "A/B" from the start of A to the end of B."""
    def span(t):
        if "T" in t:
            lo = datetime.datetime.fromisoformat(t)
            return lo, lo + datetime.timedelta(seconds=1)
        if len(t) == 7:
            y, m = map(int, t.split("-"))
            return datetime.datetime(y, m, 1), datetime.datetime(y + m // 12, m % 12 + 1, 1)
        lo = datetime.datetime.fromisoformat(t)
        return lo, lo + datetime.timedelta(days=1)
    a, _, b = text.partition("/")
    lo, hi = span(a)
    if b:
        hi = span(b)[1]
    return (lo - EPOCH) / HOUR, (hi - EPOCH) / HOUR


def floe_ok(np_, *args):
    r = floe_np(np_, *args)
    check(r.returncode == 0, f"floe {' '.join(args)}: exit {r.returncode}: {r.stderr.strip()}")
    return r


def lines(r):
    return notes(r.stderr)


def main(_tbdir):
    tmp = tempfile.mkdtemp(prefix="floe-time-bounds-")
    out = lambda name: os.path.join(tmp, name)
    repo = out("repo")
    w = make_repo(repo)
    if w is None:
        return summary()
    stamps = np.array(w["time"], dtype=np.float64)
    bnds = np.array(w["time_bnds"], dtype=np.float64)
    data = np.array([np.nan if v is None else v for v in w["Tair"]],
                    dtype=np.float32).reshape(w["shape"])
    lo, hi = bnds[:, 0], bnds[:, 1]
    # what this is about: no label gives these intervals from the stamps
    end_lo = np.concatenate([[stamps[0] - (stamps[1] - stamps[0])], stamps[:-1]])
    start_hi = np.concatenate([stamps[1:], [stamps[-1] + stamps[-1] - stamps[-2]]])
    check(not np.array_equal(lo, end_lo) and not np.array_equal(hi, start_hi)
          and not np.array_equal(lo, stamps) and not np.array_equal(hi, lo),
          "the source's bounds are not derivable from its stamps")

    def section_extract():
        floe_ok(0, "extract", repo, "-v", VAR, "-o", out("ext.nc"), "-q")
        with netCDF4.Dataset(out("ext.nc")) as ds:
            check(np.array_equal(ds["time"][:], stamps), "extract: the source's stamps")
            check(ds["time"].getncattr("bounds") == "time_bnds"
                  if "bounds" in ds["time"].ncattrs() else False, "extract: time:bounds")
            check("time_bnds" in ds.variables and np.array_equal(ds["time_bnds"][:], bnds),
                  "extract: time_bnds = the source's bounds")
            v = ds[VAR]
            v.set_auto_maskandscale(False)
            check(np.array_equal(np.asarray(v[:]), data, equal_nan=True), "extract: values")
        with open(out("ext.json")) as f:
            p = json.load(f)["properties"]
        want = [iso(lo.min()) + "Z", iso(hi.max()) + "Z"]
        check([p.get("start_datetime"), p.get("end_datetime")] == want
              and p.get("cube:dimensions", {}).get("time", {}).get("extent") == want,
              f"extract Item spans the bounds {want}: {p.get('start_datetime')} .. "
              f"{p.get('end_datetime')}")
        floe_ok(2, "extract", repo, "-v", VAR, "-o", out("ext.np2.nc"), "-q")
        a, b = load(out("ext.nc")), load(out("ext.np2.nc"))
        check(set(a) == set(b) and all(np.array_equal(a[k], b[k], equal_nan=True) for k in a),
              "extract: np 1 and 2 identical")

    def section_select():
        # overlap by more than an instant, from the numbers written
        for k, req in enumerate(["2001-01-05", "2001-02", "2001-01-19/2001-01-20",
                                 "2001-02-01T00:00:00", "2001-01-12T00:00:00",
                                 "2001-03-20/2001-04-30", "2001-01-10T00:00:00", "2001-01-11"]):
            qlo, qhi = request_span(req)
            want = np.nonzero((lo < qhi) & (qlo < hi))[0]
            path = out(f"sel{k}.nc")
            r = floe_np(0, "extract", repo, "-v", VAR, "--time", req, "-o", path)
            if not len(want):
                check(r.returncode != 0 and len(lines(r)) == 1
                      and "selects no time step" in r.stderr and RANGE in r.stderr
                      and not os.path.exists(path),
                      f"--time {req}: nothing, one error naming the range: {lines(r)}")
                continue
            clipped = qlo < lo.min() or qhi > hi.max()
            check(r.returncode == 0 and len(lines(r)) == (1 if clipped else 0)
                  and (not clipped or ("clipped" in r.stderr and RANGE in r.stderr)),
                  f"--time {req}: exit {r.returncode}, {'one note' if clipped else 'quiet'}: "
                  f"{lines(r)}")
            if r.returncode:
                continue
            with netCDF4.Dataset(path) as ds:
                got = np.asarray(ds["time"][:])
                check(np.array_equal(got, stamps[want]),
                      f"--time {req}: steps {want.tolist()} (stamps {stamps[want].tolist()}), "
                      f"got stamps {got.tolist()}")
                if np.array_equal(got, stamps[want]):
                    check("time_bnds" in ds.variables
                          and np.array_equal(ds["time_bnds"][:], bnds[want]),
                          f"--time {req}: their bounds")
                    v = ds[VAR]
                    v.set_auto_maskandscale(False)
                    check(np.array_equal(np.asarray(v[:]), data[want], equal_nan=True),
                          f"--time {req}: their values")
        # the boundary instant is the stamp of the step before: not selected
        t_edge = hours("2001-02-01T00:00:00")
        check(t_edge in stamps and t_edge in lo, "2001-02-01T00:00 is a stamp and a start")

    def section_climatology():
        mids = lo + (hi - lo) / 2
        months = np.array([(EPOCH + m * HOUR).month for m in mids])
        groups = sorted(set(months.tolist()))
        for np_ in (0, 2):
            floe_ok(np_, "climatology", repo, "-v", VAR, "--by", "month", "--stat", "mean,count",
                    "-o", out(f"clim.np{np_}.nc"), "-q")
        a, b = load(out("clim.np0.nc")), load(out("clim.np2.nc"))
        check(set(a) == set(b) and all(np.array_equal(a[k], b[k], equal_nan=True) for k in a),
              "climatology: np 1 and 2 identical")
        with netCDF4.Dataset(out("clim.np0.nc")) as ds:
            cnt = np.asarray(ds[f"{VAR}_count"][:])
            mean = ds[f"{VAR}_mean"]
            mean.set_auto_maskandscale(False)
            mean = np.asarray(mean[:])
            cb = np.asarray(ds["climatology_bounds"][:])
            t = np.asarray(ds["time"][:])
        check(cnt.shape[0] == len(groups), f"climatology: {len(groups)} months "
              f"{groups} (got {cnt.shape[0]})")
        for g, m in enumerate(groups[:cnt.shape[0]]):
            x = data[months == m].astype(np.float64)
            ncount = np.sum(~np.isnan(x), axis=0)
            check(np.array_equal(cnt[g].astype(np.int64), ncount),
                  f"month {m}: count = numpy ({cnt[g].ravel().tolist()} vs "
                  f"{ncount.ravel().tolist()})")
            check(np.allclose(mean[g], np.nanmean(x, axis=0), rtol=0, atol=1e-3),
                  f"month {m}: mean = numpy")
            blo, bhi = lo[months == m].min(), hi[months == m].max()
            check(np.array_equal(cb[g], [blo, bhi]),
                  f"month {m}: climatology_bounds {iso(blo)} .. {iso(bhi)} "
                  f"(got {iso(cb[g][0])} .. {iso(cb[g][1])})")
            first = (datetime.datetime(2001, m, 1) - EPOCH) / HOUR
            nxt = (datetime.datetime(2001 + m // 12, m % 12 + 1, 1) - EPOCH) / HOUR
            a0, z0 = max(first, blo), min(nxt, bhi)
            check(t[g] == a0 + (z0 - a0) / 2, f"month {m}: time {iso(a0 + (z0 - a0) / 2)} "
                  f"(got {iso(t[g])})")
        with open(out("clim.np0.json")) as f:
            p = json.load(f)["properties"]
        want = [iso(lo.min()) + "Z", iso(hi.max()) + "Z"]
        check([p.get("start_datetime"), p.get("end_datetime")] == want
              and p.get("cube:dimensions", {}).get("time", {}).get("extent") == want,
              f"climatology Item spans the data {want}")

    def section_stats_series():
        req = "2001-02"
        qlo, qhi = request_span(req)
        sel = (lo < qhi) & (qlo < hi)
        floe_ok(0, "stats", repo, "-v", VAR, "--time", req, "-o", out("stats.nc"), "-q")
        with netCDF4.Dataset(out("stats.nc")) as ds:
            check(np.array_equal(ds["time_bnds"][:], [[lo[sel].min(), hi[sel].max()]])
                  if "time_bnds" in ds.variables else False,
                  f"stats --time {req}: time_bnds {iso(lo[sel].min())} .. {iso(hi[sel].max())}")
            m = ds[f"{VAR}_mean"]
            m.set_auto_maskandscale(False)
            check(np.allclose(m[0], np.nanmean(data[sel].astype(np.float64), axis=0), atol=1e-3),
                  "stats: mean of the selected steps")
        with open(out("stats.json")) as f:
            p = json.load(f)["properties"]
        check([p.get("start_datetime"), p.get("end_datetime")]
              == [iso(lo[sel].min()) + "Z", iso(hi[sel].max()) + "Z"],
              f"stats Item spans the bounds ({p.get('start_datetime')} .. "
              f"{p.get('end_datetime')})")
        floe_ok(0, "series", repo, "-v", VAR, "--bbox=-100,30,-97,32", "--time", "2001-01",
                "-o", out("series.nc"), "-q")
        qlo, qhi = request_span("2001-01")
        sel = (lo < qhi) & (qlo < hi)
        with netCDF4.Dataset(out("series.nc")) as ds:
            check(np.array_equal(ds["time"][:], stamps[sel]) and "time_bnds" in ds.variables
                  and np.array_equal(ds["time_bnds"][:], bnds[sel]),
                  "series --time 2001-01: the source's time_bnds")
        with open(out("series.json")) as f:
            p = json.load(f)["properties"]
        check([p.get("start_datetime"), p.get("end_datetime")]
              == [iso(lo[sel].min()) + "Z", iso(hi[sel].max()) + "Z"],
              f"series Item spans the bounds ({p.get('start_datetime')} .. "
              f"{p.get('end_datetime')})")

    def section_labels():
        # --time-label point: the stamps as instants, as before the bounds
        floe_ok(0, "extract", repo, "-v", VAR, "--time", "2001-02", "--time-label", "point",
                "-o", out("point.nc"), "-q")
        qlo, qhi = request_span("2001-02")
        want = (stamps >= qlo) & (stamps < qhi)
        with netCDF4.Dataset(out("point.nc")) as ds:
            check(np.array_equal(ds["time"][:], stamps[want]),
                  f"point: --time 2001-02 selects the stamps in February {stamps[want].tolist()}")
            check("time_bnds" not in ds.variables and "bounds" not in ds["time"].ncattrs(),
                  "point: no time_bnds")
        floe_ok(0, "climatology", repo, "-v", VAR, "--by", "month", "--stat", "count",
                "--time-label", "point", "-o", out("clim-point.nc"), "-q")
        months = np.array([(EPOCH + s * HOUR).month for s in stamps])
        with netCDF4.Dataset(out("clim-point.nc")) as ds:
            c = np.asarray(ds[f"{VAR}_count"][:])
            want = [int(np.sum(months == m)) for m in sorted(set(months.tolist()))]
            check([int(c[k].max()) for k in range(c.shape[0])] == want,
                  f"point climatology groups the stamps: {want}")
        with open(out("point.json")) as f:
            p = json.load(f)["properties"]
        sel = stamps[(stamps >= qlo) & (stamps < qhi)]
        check([p.get("start_datetime"), p.get("end_datetime")]
              == [iso(sel[0]) + "Z", iso(sel[-1]) + "Z"],
              f"point Item: the first and last stamps ({p.get('start_datetime')} .. "
              f"{p.get('end_datetime')})")
        # --time-label end: the spacing's intervals, not the source's
        floe_ok(0, "extract", repo, "-v", VAR, "--time-label", "end", "-o", out("end.nc"), "-q")
        with netCDF4.Dataset(out("end.nc")) as ds:
            check(np.array_equal(ds["time_bnds"][:], np.stack([end_lo, stamps], axis=1)),
                  "end: time_bnds from the stamps' spacing")

    def section_missing():
        bad = out("repo-missing")
        if make_repo(bad, "missing") is None:
            return
        for np_ in (0, 2):
            path = out(f"miss.np{np_}.nc")
            r = floe_np(np_, "extract", bad, "-v", VAR, "--time", "2001-02", "-o", path)
            ls = lines(r)
            check(r.returncode == 0 and len(ls) == 1 and "no_such_bnds" in ls[0]
                  and "points" in ls[0], f"missing bounds, np {np_}: one warning: {ls}")
            if r.returncode:
                continue
            qlo, qhi = request_span("2001-02")
            with netCDF4.Dataset(path) as ds:
                check(np.array_equal(ds["time"][:], stamps[(stamps >= qlo) & (stamps < qhi)])
                      and "time_bnds" not in ds.variables,
                      f"missing bounds, np {np_}: point steps, no time_bnds")
        r = floe_np(2, "climatology", bad, "-v", VAR, "--by", "month", "--stat", "count",
                    "-o", out("miss-clim.nc"))
        check(r.returncode == 0 and len(lines(r)) == 1 and "no_such_bnds" in r.stderr,
              f"missing bounds, climatology np 2: one warning: {lines(r)}")
        if r.returncode == 0:
            months = np.array([(EPOCH + s * HOUR).month for s in stamps])
            want = [int(np.sum(months == m)) for m in sorted(set(months.tolist()))]
            with netCDF4.Dataset(out("miss-clim.nc")) as ds:
                c = np.asarray(ds[f"{VAR}_count"][:])
                check([int(c[k].max()) for k in range(c.shape[0])] == want
                      and "time_bnds" not in ds.variables,
                      f"missing bounds, climatology: the stamps grouped as points {want}")
        r = floe_np(0, "extract", bad, "-v", VAR, "--time-label", "point", "-o", out("miss-p.nc"))
        check(r.returncode == 0 and not lines(r),
              f"missing bounds with --time-label point: no warning: {lines(r)}")

    # each part runs even when one before it failed, and counts its
    # exception as a failure
    for part in (section_extract, section_select, section_climatology, section_stats_series,
                 section_labels, section_missing):
        try:
            part()
        except Exception as e:  # pylint: disable=broad-except
            check(False, f"{part.__name__}: {type(e).__name__}: {e}")
    return summary()


if __name__ == "__main__":
    run(main, __doc__)
