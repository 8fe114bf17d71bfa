#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
"""check_time_label.py TESTBED_DIR: time stamps as interval labels
(`--time-label`, issue 12 section 2) on the test bed, whose daily files are
stamped like NLDAS-3's: file A2001MMDD holds 00:00 of the NEXT day.

The expected answers come from the source files themselves (netCDF4 reads
of each file's time and Tair, numpy), never from floe:
- with --time-label end, --time 2001-01 selects the 31 files
  A20010101..A20010131 (extract: their stamps, values and CF time_bnds);
- a monthly climatology of January 2001 counts 31 values in every land
  cell and its mean matches numpy on the 31 files; climatology_bounds are
  exactly the data that went in (a March of 3 days says so); the derived
  Item's datetimes follow the intervals and a climatology has no step;
- stats' single step and series carry time_bnds;
- --time reaching past the data is clipped with one warning naming the
  range; selecting nothing is one error line naming the range;
- the STAC document's cube:dimensions time "floe:time_label" is honoured,
  and --time-label overrides it;
- without a label the steps are points, as before: 30 files for January,
  no time_bnds, CF 7.4 occurrence bounds;
- 1 and 2 ranks write identical bytes.
Prints "N passed, N failed" last."""

import copy
import datetime
import json
import os
import tempfile

import netCDF4
import numpy as np

from testlib import check, floe_np, load, notes, run, summary

VAR = "Tair"
BOX = "-75,38,-68,44"
UNITS_HOURS = 3600.0


def source_files(tb, root):
    """(file date, stamp as datetime, path) of every source file, read from
    the files' own time coordinate."""
    out = []
    for f in tb["files"]:
        path = os.path.join(root, f["key"])
        with netCDF4.Dataset(path) as ds:
            t = ds["time"]
            stamp = netCDF4.num2date(t[0], t.units, t.calendar,
                                     only_use_cftime_datetimes=False,
                                     only_use_python_datetimes=True)
        out.append((datetime.date.fromisoformat(f["date"]), stamp, path))
    return out


def iso(ds, name):
    """A time-like variable of an output as ISO strings (flattened)."""
    units = ds["time"].units
    v = np.asarray(ds[name][:]).ravel()
    return [d.isoformat() for d in netCDF4.num2date(v, units, only_use_cftime_datetimes=False,
                                                    only_use_python_datetimes=True)]


def floe_ok(np_, *args):
    r = floe_np(np_, *args)
    check(r.returncode == 0, f"floe {' '.join(args)}: exit {r.returncode}: {r.stderr.strip()}")
    return r


def main(tbdir):
    with open(os.path.join(tbdir, "testbed.json")) as f:
        tb = json.load(f)
    root = os.path.join(tbdir, "s3", tb["bucket"])
    coll = os.path.join(tbdir, "collection.json")
    tmp = tempfile.mkdtemp(prefix="floe-time-label-")
    files = source_files(tb, root)
    # the stamps really are the end of each file's day (what this is about)
    check(all(s == datetime.datetime.combine(d + datetime.timedelta(days=1), datetime.time())
              for d, s, _ in files), "source stamps are 00:00 after each file's day")
    jan = [p for d, _, p in files if d.year == 2001 and d.month == 1]
    check(len(jan) == 31, f"31 source files of January 2001 ({len(jan)})")
    out = lambda name: os.path.join(tmp, name)

    def section_0():
        # extract: the 31 files of January, their stamps, values, bounds
        floe_ok(0, "extract", coll, "-v", VAR, f"--bbox={BOX}", "--time", "2001-01",
                "--time-label", "end", "-o", out("ext-end.nc"), "-q")
        with netCDF4.Dataset(out("ext-end.nc")) as ds:
            times = iso(ds, "time")
            want = [s.isoformat() for d, s, _ in files if d.month == 1]
            check(times == want, f"extract --time-label end: the 31 January stamps ({len(times)})")
            check(ds["time"].getncattr("bounds") == "time_bnds"
                  if "bounds" in ds["time"].ncattrs() else False, "time:bounds = time_bnds")
            b = np.asarray(ds["time_bnds"][:]) if "time_bnds" in ds.variables else None
            t = np.asarray(ds["time"][:])
            check(b is not None and b.shape == (31, 2) and np.array_equal(b[:, 1], t)
                  and np.array_equal(b[:, 0], t - 24), "time_bnds = (stamp - 1 day, stamp]")
            lat, lon = np.asarray(ds["lat"][:]), np.asarray(ds["lon"][:])
            got = ds[VAR]
            got.set_auto_maskandscale(False)
            got = np.asarray(got[:])
        with netCDF4.Dataset(jan[30]) as src:
            slat, slon = np.asarray(src["lat"][:]), np.asarray(src["lon"][:])
            r0 = int(np.nonzero(slat == lat[0])[0][0])
            c0 = int(np.nonzero(slon == lon[0])[0][0])
            v = src[VAR]
            v.set_auto_maskandscale(False)
            ref = np.asarray(v[0, r0:r0 + len(lat), c0:c0 + len(lon)])
        check(np.array_equal(got[30], ref), "extract: step 31 is A20010131's Tair")
        with open(out("ext-end.json")) as f:
            props = json.load(f)["properties"]
        check(props.get("start_datetime") == "2001-01-01T00:00:00Z"
              and props.get("end_datetime") == "2001-02-01T00:00:00Z",
              f"extract Item spans January ({props.get('start_datetime')} .. "
              f"{props.get('end_datetime')})")

    def section_1():
        # climatology of January: 31 in every land cell, numpy's mean
        stack = []
        for p in jan:
            with netCDF4.Dataset(p) as src:
                v = src[VAR]
                v.set_auto_maskandscale(False)
                stack.append(np.asarray(v[0]).astype(np.float64))
        x = np.stack(stack)
        fill = float(tb["fill_value"])
        valid = x != fill
        ncount = valid.sum(axis=0)
        land = ncount > 0
        check(land.sum() > 0 and np.all(ncount[land] == 31), "numpy: 31 values in every land cell")
        with np.errstate(invalid="ignore", divide="ignore"):
            nmean = np.where(valid, x, 0).sum(axis=0) / ncount
        for np_ in (0, 2):
            floe_ok(np_, "climatology", coll, "-v", VAR, "--by", "month", "--time", "2001-01",
                    "--time-label", "end", "--stat", "mean,count", "-o", out(f"clim-jan.np{np_}.nc"),
                    "-q")
        d0, d2 = load(out("clim-jan.np0.nc")), load(out("clim-jan.np2.nc"))
        check(set(d0) == set(d2) and all(np.array_equal(d0[k], d2[k]) for k in d0),
              "climatology: np 1 and 2 identical bytes")
        cnt = d0.get(f"{VAR}_count")
        mean = d0.get(f"{VAR}_mean")
        check(cnt is not None and cnt.shape[0] == 1, "climatology of January: one group")
        if cnt is not None:
            c = cnt[0].astype(np.int64)
            check(np.array_equal(c, ncount), "climatology count = numpy count in every cell")
            check(np.all(c[land] == 31), f"count 31 in every land cell (min {c[land].min()})")
            m = mean[0].astype(np.float64)
            check(np.allclose(m[land], nmean[land], rtol=0, atol=1e-4 * np.abs(nmean[land]).max()),
                  "climatology mean = numpy mean of the 31 files")
            check(np.all(m[~land] == np.float32(fill)), "ocean cells missing")
        with netCDF4.Dataset(out("clim-jan.np0.nc")) as ds:
            check(iso(ds, "climatology_bounds") == ["2001-01-01T00:00:00", "2001-02-01T00:00:00"]
                  and iso(ds, "time") == ["2001-01-16T12:00:00"],
                  f"January: time and climatology_bounds ({iso(ds, 'time')}, "
                  f"{iso(ds, 'climatology_bounds')})")

        # the whole test bed by month: March holds 1-3 March, and says so
        floe_ok(0, "climatology", coll, "-v", VAR, f"--bbox={BOX}", "--by", "month",
                "--time-label", "end", "--stat", "count", "-o", out("clim-all.nc"), "-q")
        with netCDF4.Dataset(out("clim-all.nc")) as ds:
            cb = iso(ds, "climatology_bounds")
            check(cb == ["2001-01-01T00:00:00", "2001-02-01T00:00:00", "2001-02-01T00:00:00",
                         "2001-03-01T00:00:00", "2001-03-01T00:00:00", "2001-03-04T00:00:00"],
                  f"climatology_bounds cover exactly the data ({cb})")
            c = np.asarray(ds[f"{VAR}_count"][:])
            check([int(c[k].max()) for k in range(3)] == [31, 28, 3],
                  f"months hold 31, 28 and 3 days ({[int(c[k].max()) for k in range(3)]})")
        with open(out("clim-all.json")) as f:
            item = json.load(f)
        p = item["properties"]
        tdim = p.get("cube:dimensions", {}).get("time", {})
        check(p.get("start_datetime") == "2001-01-01T00:00:00Z"
              and p.get("end_datetime") == "2001-03-04T00:00:00Z"
              and tdim.get("extent") == ["2001-01-01T00:00:00Z", "2001-03-04T00:00:00Z"],
              f"climatology Item: the data's span ({p.get('start_datetime')} .. "
              f"{p.get('end_datetime')}, {tdim.get('extent')})")
        check(tdim.get("step") is None, f"climatology Item: no step ({tdim.get('step')})")

    def section_2():
        # stats' single step and series: time_bnds
        floe_ok(0, "stats", coll, "-v", VAR, f"--bbox={BOX}", "--time", "2001-01",
                "--time-label", "end", "-o", out("stats.nc"), "-q")
        with netCDF4.Dataset(out("stats.nc")) as ds:
            check(iso(ds, "time_bnds") == ["2001-01-01T00:00:00", "2001-02-01T00:00:00"]
                  and iso(ds, "time") == ["2001-01-16T12:00:00"],
                  f"stats: time_bnds of January ({iso(ds, 'time_bnds')})")
        floe_ok(0, "series", coll, "-v", VAR, f"--bbox={BOX}", "--time", "2001-01",
                "--time-label", "end", "-o", out("series.nc"), "-q")
        with netCDF4.Dataset(out("series.nc")) as ds:
            check("time_bnds" in ds.variables and ds["time"].getncattr("bounds") == "time_bnds"
                  and iso(ds, "time_bnds")[:2] == ["2001-01-01T00:00:00", "2001-01-02T00:00:00"]
                  and len(ds["time"]) == 31, "series: 31 steps with time_bnds")

    def section_3():
        # clipping and empty selections
        r = floe_ok(0, "extract", coll, "-v", VAR, f"--bbox={BOX}", "--time", "2001-02-15/2001-04",
                    "--time-label", "end", "-o", out("clip.nc"))
        lines = notes(r.stderr)
        check(len(lines) == 1 and "2001-01-01T00:00:00 .. 2001-03-04T00:00:00" in lines[0]
              and "clipped" in lines[0], f"one note naming the range: {lines}")
        with netCDF4.Dataset(out("clip.nc")) as ds:
            check(len(ds["time"]) == 17, f"clipped to Feb 15 .. Mar 3 ({len(ds['time'])} steps)")
        r = floe_np(0, "extract", coll, "-v", VAR, f"--bbox={BOX}", "--time", "2002",
                    "--time-label", "end", "-o", out("none.nc"))
        lines = notes(r.stderr)
        check(r.returncode != 0 and len(lines) == 1 and "selects no time step" in lines[0]
              and "2001-01-01T00:00:00 .. 2001-03-04T00:00:00" in lines[0]
              and not os.path.exists(out("none.nc")), f"empty selection: one error line: {lines}")
        r = floe_np(0, "extract", coll, "-v", VAR, "--time-label", "middle", "-o", out("bad.nc"))
        check(r.returncode != 0 and "--time-label 'middle'" in r.stderr,
              f"a bad label is refused: {r.stderr.strip()}")

    def section_4():
        # the STAC hint, and the flag over it
        with open(coll) as f:
            doc = json.load(f)
        hinted = copy.deepcopy(doc)
        hinted["cube:dimensions"]["time"]["floe:time_label"] = "end"
        hcoll = out("collection.json")
        with open(hcoll, "w") as f:
            json.dump(hinted, f)
        floe_ok(0, "extract", hcoll, "-v", VAR, f"--bbox={BOX}", "--time", "2001-01",
                "-o", out("hint.nc"), "-q")
        with netCDF4.Dataset(out("hint.nc")) as ds:
            check(len(ds["time"]) == 31 and "time_bnds" in ds.variables,
                  f"STAC floe:time_label end: 31 steps with bounds ({len(ds['time'])})")
        floe_ok(0, "extract", hcoll, "-v", VAR, f"--bbox={BOX}", "--time", "2001-01",
                "--time-label", "point", "-o", out("hint-point.nc"), "-q")
        with netCDF4.Dataset(out("hint-point.nc")) as ds:
            check(len(ds["time"]) == 30 and "time_bnds" not in ds.variables,
                  "--time-label point overrides the STAC hint")

    def section_5():
        # no label: points, as before
        r = floe_ok(0, "extract", coll, "-v", VAR, f"--bbox={BOX}", "--time", "2001-01",
                    "-o", out("ext-point.nc"))
        with netCDF4.Dataset(out("ext-point.nc")) as ds:
            times = iso(ds, "time")
            check(len(times) == 30 and times[0] == "2001-01-02T00:00:00"
                  and times[-1] == "2001-01-31T00:00:00", f"default: 30 point steps ({len(times)})")
            check("time_bnds" not in ds.variables and "bounds" not in ds["time"].ncattrs(),
                  "default: no time_bnds")
        floe_ok(0, "climatology", coll, "-v", VAR, f"--bbox={BOX}", "--by", "month",
                "--stat", "count", "-o", out("clim-point.nc"), "-q")
        with netCDF4.Dataset(out("clim-point.nc")) as ds:
            c = np.asarray(ds[f"{VAR}_count"][:])
            check([int(c[k].max()) for k in range(3)] == [30, 28, 4],
                  f"default climatology: stamps as points ({[int(c[k].max()) for k in range(3)]})")
            check(iso(ds, "climatology_bounds")[-2:] == ["2001-03-01T00:00:00", "2001-04-01T00:00:00"],
                  "default climatology_bounds: CF 7.4 occurrences")

    def section_6():
        # ranks: identical bytes for an extract with bounds
        floe_ok(2, "extract", coll, "-v", VAR, f"--bbox={BOX}", "--time", "2001-01",
                "--time-label", "end", "-o", out("ext-end.np2.nc"), "-q")
        a, b = load(out("ext-end.nc")), load(out("ext-end.np2.nc"))
        check(set(a) == set(b) and all(np.array_equal(a[k], b[k]) for k in a),
              "extract --time-label end: np 1 and 2 identical bytes")

    # each part runs even when one before it failed (e.g. on a floe
    # without --time-label), and counts its exception as a failure
    for part in (section_0, section_1, section_2, section_3, section_4, section_5, section_6):
        try:
            part()
        except Exception as e:  # pylint: disable=broad-except
            check(False, f"{part.__code__.co_firstlineno}: {type(e).__name__}: {e}")
    return summary()


if __name__ == "__main__":
    run(main, __doc__)
