#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
"""check_anomaly_memory.py TESTBED_DIR: `--anomaly-from CLIM.nc` costs what
the query needs, not what the climatology file holds.

CLIM.nc is a day-of-year climatology of Tair over the WHOLE grid (66 days
x 650 x 1170, float32, about 200 MB as float32, 400 MB as double), written
here with numpy (values a smooth function of the cell and the day). Over
a small box (70 x 60 cells) floe stats, extract and series (box and
points), at 1 rank, with --report: the peak resident set of the largest
rank with --anomaly-from must stay within SLACK_MB of the same run
without it (reading the whole file into doubles, as floe once did, adds
about 400 MB and fails). The values are checked too: extract's anomalies
plus the climatology of each step's day (its midpoint) give the plain
extract's values back, and stats' mean is numpy's mean of those
anomalies. Prints "N passed, N failed" last."""

import datetime
import json
import os
import shutil
import tempfile

import netCDF4
import numpy as np

from testlib import check, floe_np, run, summary

BOX = "-75,38,-68,44"
# The box's climatology is ~1 MB; the rest is allocator and HDF5 noise
# (up to +20 MB seen); reading the whole climatology would add 382 MB.
SLACK_MB = 64
FIRST_DAY = datetime.datetime(2000, 12, 31)  # the data's days, with a margin each side
NDAYS = 66


def grid_axes(coll, tmp):
    """The source grid's lat/lon, from a one-step extract of the whole grid."""
    out = os.path.join(tmp, "grid.nc")
    r = floe_np(0, "extract", coll, "-v", "Tair", "--time", "2001-01-16", "-o", out)
    check(r.returncode == 0, f"whole-grid extract: {r.stderr.strip()}")
    if r.returncode:
        return None, None
    with netCDF4.Dataset(out) as ds:
        return np.asarray(ds["lat"][:]), np.asarray(ds["lon"][:])


def clim_value(lat, lon, day):
    """The climatology: float32, smooth in space, a step a day (computed
    in double from the float32 centres, then rounded once)."""
    lat, lon, day = (np.asarray(x, dtype=np.float64) for x in (lat, lon, day))
    return (250.0 + 0.5 * lat[None, :, None] + 0.01 * lon[None, None, :]
            + 0.25 * day[:, None, None]).astype(np.float32)


def write_clim(path, lat, lon):
    with netCDF4.Dataset(path, "w") as ds:
        ds.createDimension("time", None)
        ds.createDimension("lat", len(lat))
        ds.createDimension("lon", len(lon))
        t = ds.createVariable("time", "f8", ("time",))
        t.units = "days since 2000-01-01 00:00:00"
        t.calendar = "standard"
        ds.createVariable("lat", "f4", ("lat",))[:] = lat
        ds.createVariable("lon", "f4", ("lon",))[:] = lon
        v = ds.createVariable("Tair", "f4", ("time", "lat", "lon"), zlib=True, complevel=1,
                              chunksizes=(1, len(lat), len(lon)), fill_value=np.float32(-9999))
        days = np.arange(NDAYS)
        base = (FIRST_DAY - datetime.datetime(2000, 1, 1)).days
        t[:] = base + days + 0.5
        for k in range(NDAYS):
            v[k] = clim_value(lat, lon, days[k:k + 1])[0]


def peak_mb(report):
    with open(report) as f:
        return json.load(f)["total"]["peak_rss_bytes"] / 2**20


def step_days(path):
    """Each step's day index in the climatology (by the step's midpoint)."""
    with netCDF4.Dataset(path) as ds:
        t = ds["time"]
        bn = getattr(t, "bounds", None)
        x = np.asarray(ds[bn][:]).mean(axis=1) if bn else np.asarray(t[:])
        when = netCDF4.num2date(x, t.units, getattr(t, "calendar", "standard"),
                                only_use_cftime_datetimes=False)
    return np.array([(datetime.datetime(w.year, w.month, w.day) - FIRST_DAY).days for w in when])


def masked(path, name):
    with netCDF4.Dataset(path) as ds:
        v = ds[name]
        v.set_auto_maskandscale(False)
        x = np.asarray(v[:]).astype(np.float64)
        x[x == float(v._FillValue)] = np.nan
    return x


def main(tbdir):
    coll = os.path.join(tbdir, "collection.json")
    tmp = tempfile.mkdtemp(prefix="floe-anomaly-memory-")
    lat, lon = grid_axes(coll, tmp)
    if lat is None:
        return summary()
    clim = os.path.join(tmp, "clim.nc")
    write_clim(clim, lat, lon)
    pts = os.path.join(tmp, "pts.csv")
    with open(pts, "w") as f:
        f.write("lon,lat,id\n-70.3,41.7,a\n-72.2,40.1,b\n-74.5,43.9,c\n")
    sel = ["-v", "Tair", "--bbox", BOX]
    jobs = {"stats": ["stats", coll, *sel, "--stat", "mean"],
            "extract": ["extract", coll, *sel],
            "series box": ["series", coll, *sel, "--stat", "mean"],
            "series points": ["series", coll, "-v", "Tair", "--points", pts]}
    outs = {}
    for tag, args in jobs.items():
        mb = {}
        for anom in (0, 1):
            name = f"{tag.replace(' ', '-')}-{anom}"
            out, rep = os.path.join(tmp, name + ".nc"), os.path.join(tmp, name + ".report.json")
            extra = ["--anomaly-from", clim] if anom else []
            r = floe_np(1, *args, *extra, "--report", rep, "-o", out)
            check(r.returncode == 0, f"{tag} anomaly={anom}: {r.stderr.strip()}")
            if r.returncode:
                break
            mb[anom] = peak_mb(rep)
            outs[(tag, anom)] = out
        if len(mb) == 2:
            print(f"{tag}: peak RSS {mb[0]:.0f} MB without, {mb[1]:.0f} MB with --anomaly-from")
            if "ASAN_OPTIONS" in os.environ:  # its quarantine and shadow memory swamp the figures
                print(f"skipped: {tag}: peak RSS comparison under AddressSanitizer")
                continue
            check(mb[1] - mb[0] <= SLACK_MB,
                  f"{tag}: peak RSS with --anomaly-from {mb[1]:.0f} MB, without {mb[0]:.0f} MB "
                  f"(the whole climatology would add {NDAYS * lat.size * lon.size * 8 >> 20} MB)")
    if ("extract", 1) in outs and ("extract", 0) in outs:
        plain = masked(outs[("extract", 0)], "Tair")
        anom = masked(outs[("extract", 1)], "Tair")
        with netCDF4.Dataset(outs[("extract", 0)]) as ds:
            blat, blon = np.asarray(ds["lat"][:]), np.asarray(ds["lon"][:])
        c = clim_value(blat.astype(np.float64), blon.astype(np.float64),
                       step_days(outs[("extract", 0)]).astype(np.float64))
        want = (plain - c.astype(np.float64)).astype(np.float32).astype(np.float64)
        ok = ~np.isnan(plain)
        check(np.array_equal(np.isnan(anom), np.isnan(plain)), "extract: the same missing cells")
        check(ok.any() and np.array_equal(anom[ok], want[ok]),
              "extract --anomaly-from: plain minus the climatology of each step's day, exactly")
        if ("stats", 1) in outs:
            with np.errstate(invalid="ignore"), __import__("warnings").catch_warnings():
                __import__("warnings").simplefilter("ignore")
                mean = np.nanmean(anom, axis=0)
            got = masked(outs[("stats", 1)], "Tair_mean")[0]
            both = ~np.isnan(mean)
            check(np.array_equal(np.isnan(got), np.isnan(mean)) and
                  np.allclose(got[both], mean[both], rtol=1e-5, atol=1e-4),
                  "stats --anomaly-from mean: numpy's mean of the anomalies")
    shutil.rmtree(tmp, ignore_errors=True)
    return summary()


if __name__ == "__main__":
    run(main, __doc__)
