#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
"""check_files.py TESTBED_DIR: the archive is what the testbed issue specifies.

Checks the NetCDF-4 files with netCDF4-python (an independent reader) and
the chunk index in testbed.json against the raw file bytes decoded with
Python's zlib + a numpy unshuffle: layout and names, dims, dtypes, chunking,
deflate + shuffle, fill values over a ~35% land mask, coordinates, the time
value at the end of each day, attributes, plausible smooth fields, and that
every indexed byte range decodes to exactly the chunk netCDF reads.
Prints "N passed, N failed" last; exits 1 on any failure.
"""

import datetime
import json
import os
import warnings
import zlib

import netCDF4
import numpy as np
from testlib import check, run, summary

FILL = np.float32(-9999.0)
VARS = ["Tair", "Tair_min", "Tair_max", "Qair", "PSurf",
        "LWdown", "SWdown", "Wind_E", "Wind_N", "Rainf"]
# Physically plausible ranges (loose): a generator bug shows up as values
# far outside them, a wrong unit or a sign error.
RANGES = {"Tair": (200, 330), "Tair_min": (195, 325), "Tair_max": (205, 340),
          "Qair": (0, 0.03), "PSurf": (5e4, 1.1e5), "LWdown": (100, 500),
          "SWdown": (0, 400), "Wind_E": (-20, 20), "Wind_N": (-20, 20),
          "Rainf": (0, 100)}

def unshuffle(raw, itemsize):
    """Undo the HDF5/numcodecs byte shuffle."""
    b = np.frombuffer(raw, dtype=np.uint8)
    return b.reshape(itemsize, -1).T.reshape(-1).tobytes()


def main(tbdir):
    # Rows of pure ocean have no land mean: NaN is the right answer there.
    warnings.filterwarnings("ignore", message="Mean of empty slice")
    with open(os.path.join(tbdir, "testbed.json")) as f:
        tb = json.load(f)
    ny, nx = tb["ny"], tb["nx"]
    _, cy, cx = tb["chunks"]
    files = tb["files"]
    names = [v["name"] for v in tb["variables"]]
    check(all(n in VARS for n in names), f"variables {names} are real NLDAS-3 names")
    if tb["scale"] == "mini":
        check(names == VARS, "mini has the ten variables")
        check((ny, nx, cy, cx) == (650, 1170, 50, 90), "mini grid and chunks")
        # 62 daily files from 2001-01-01 (the figure; they run to
        # 2001-03-03, so the repository history has three monthly commits).
        check(len(files) == 62 and files[0]["date"] == "2001-01-01",
              "mini: 62 days from 2001-01-01")
        check(-(-ny // cy) == 13 and -(-nx // cx) == 13, "13 x 13 chunk grid per day")
    dates = [datetime.date.fromisoformat(f["date"]) for f in files]
    check(all((b - a).days == 1 for a, b in zip(dates, dates[1:])),
          "one file per consecutive day")

    root = os.path.join(tbdir, "s3", tb["bucket"])
    land_mask = None
    north_means = []
    sample = sorted({0, 1, len(files) // 2, len(files) - 1})
    for fi in sample:
        fe = files[fi]
        day = datetime.date.fromisoformat(fe["date"])
        want_key = (f"NLDAS3/forcing/daily/{day:%Y%m}/"
                    f"NLDAS_FOR0010_D.A{day:%Y%m%d}.030.beta.nc")
        check(fe["key"] == want_key, f"key {fe['key']}")
        path = os.path.join(root, fe["key"])
        check(os.path.getsize(path) == fe["size"], f"{fe['key']}: size")
        check(int(os.stat(path).st_mtime) == fe["mtime"], f"{fe['key']}: mtime")
        with netCDF4.Dataset(path) as ds:
            check(ds.data_model == "NETCDF4", f"{fe['key']}: NetCDF-4 format")
            check(len(ds.dimensions["time"]) == 1 and ds.dimensions["time"].isunlimited(),
                  f"{fe['key']}: time is unlimited with 1 step")
            check(len(ds.dimensions["lat"]) == ny and len(ds.dimensions["lon"]) == nx,
                  f"{fe['key']}: lat/lon sizes")
            for g in ("missing_value", "title", "shortname", "version", "institution",
                      "MAP_PROJECTION", "SOUTH_WEST_CORNER_LAT", "SOUTH_WEST_CORNER_LON",
                      "DX", "DY"):
                check(g in ds.ncattrs(), f"{fe['key']}: global attribute {g}")
            # Time: end of the day the file is named after.
            t = ds["time"]
            when = netCDF4.num2date(t[:], t.units, t.calendar,
                                    only_use_cftime_datetimes=False)[0]
            check(when == datetime.datetime.combine(day + datetime.timedelta(days=1),
                                                    datetime.time()),
                  f"{fe['key']}: time {when} is the end of {day}")
            check(float(t[0]) == fe["time_value"], f"{fe['key']}: time value in index")
            lat = ds["lat"][:].data
            lon = ds["lon"][:].data
            check(lat.dtype == np.float32 and lon.dtype == np.float32, "float32 coordinates")
            want_lat = (tb["south"] + (np.arange(ny) + 0.5) * tb["step"]).astype(np.float32)
            want_lon = (tb["west"] + (np.arange(nx) + 0.5) * tb["step"]).astype(np.float32)
            check(np.array_equal(lat, want_lat) and np.array_equal(lon, want_lon),
                  f"{fe['key']}: cell centres on the {tb['step']} degree grid")
            check(np.array_equal(lat, np.array(tb["lat_values"], dtype=np.float32)) and
                  np.array_equal(lon, np.array(tb["lon_values"], dtype=np.float32)),
                  "index coordinates equal the file's")
            fields = {}
            for name in names:
                v = ds[name]
                v.set_auto_maskandscale(False)
                check(v.dtype == np.float32 and v.dimensions == ("time", "lat", "lon"),
                      f"{name}: float32 (time, lat, lon)")
                check(v.chunking() == [1, cy, cx], f"{name}: chunks {v.chunking()}")
                flt = v.filters()
                check(flt.get("zlib") and flt.get("shuffle")
                      and flt.get("complevel") == tb["deflate_level"],
                      f"{name}: deflate + shuffle {flt}")
                check(v._FillValue == FILL and v.missing_value == FILL,
                      f"{name}: _FillValue and missing_value -9999")
                for a in ("units", "long_name", "standard_name", "cell_methods", "vmin", "vmax"):
                    check(a in v.ncattrs(), f"{name}: attribute {a}")
                data = v[0]
                fields[name] = data
                mask = data != FILL
                if land_mask is None:
                    land_mask = mask
                    frac = mask.mean()
                    check(0.30 <= frac <= 0.40, f"land fraction {frac:.3f} about 35%")
                check(np.array_equal(mask, land_mask),
                      f"{fe['key']} {name}: same land mask for every variable and day")
                vals = data[mask]
                lo, hi = RANGES[name]
                check(vals.min() >= lo and vals.max() <= hi,
                      f"{name}: values {vals.min()}..{vals.max()} within {lo}..{hi}")
                check(v.vmin == vals.min() and v.vmax == vals.max(),
                      f"{fe['key']} {name}: vmin/vmax attributes are the file's range")
                check(len(np.unique(vals[:1000])) > 100, f"{name}: not constant")
            # Smooth physics: warmer south than north; min <= mean <= max.
            ta = np.where(land_mask, fields.get("Tair", data), np.nan)
            if "Tair" in fields:
                rows = np.nanmean(ta, axis=1)
                if day.month <= 7:
                    north_means.append((day, float(np.nanmean(rows[ny // 2:]))))
                south, north = np.nanmean(rows[: ny // 3]), np.nanmean(rows[-ny // 3:])
                check(south > north + 5, f"latitude gradient: south {south:.1f} K "
                                         f"> north {north:.1f} K")
            if {"Tair", "Tair_min", "Tair_max"} <= fields.keys():
                m = land_mask
                check(np.all(fields["Tair_min"][m] <= fields["Tair"][m]) and
                      np.all(fields["Tair"][m] <= fields["Tair_max"][m]),
                      "Tair_min <= Tair <= Tair_max")
            if "Rainf" in fields:
                dry = (fields["Rainf"][land_mask] == 0).mean()
                check(0.1 < dry < 0.8, f"dry land fraction {dry:.2f}")

            # The chunk index: each byte range decodes (zlib, unshuffle) to
            # exactly what netCDF reads for that chunk.
            with open(path, "rb") as raw:
                gx = -(-nx // cx)
                for name in names[:3]:
                    locs = fe["chunks"][name]
                    check(len(locs) == -(-ny // cy) * gx, f"{name}: one entry per chunk")
                    for k in sorted({0, gx + 1, len(locs) // 2, len(locs) - 1}):
                        off, length = locs[k]
                        raw.seek(off)
                        b = zlib.decompress(raw.read(length))
                        chunk = np.frombuffer(unshuffle(b, 4), dtype="<f4").reshape(cy, cx)
                        iy, ix = divmod(k, gx)
                        want = np.full((cy, cx), FILL, dtype=np.float32)
                        part = fields[name][iy * cy:(iy + 1) * cy, ix * cx:(ix + 1) * cx]
                        want[: part.shape[0], : part.shape[1]] = part
                        check(np.array_equal(chunk[: part.shape[0], : part.shape[1]], part),
                              f"{fe['key']} {name} chunk {k}: indexed bytes decode to the data")

    # Seasonal cycle: northern land is coldest in mid-January, so from the
    # first sampled day to a later one it warms (Jan -> Feb, Jan -> Jul).
    if "Tair" in names and len(north_means) >= 2:
        (d0, t0), (d1, t1) = north_means[0], north_means[-1]
        check(t1 > t0 + 1.0, f"seasonal cycle: northern land Tair {t0:.1f} K on {d0} "
                             f"-> {t1:.1f} K on {d1}")
    return summary()


if __name__ == "__main__":
    run(main, __doc__)
