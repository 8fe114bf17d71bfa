#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
"""check_cf_open.py TESTBED_DIR: every kind of file floe writes opens in
`ncdump -h` and in xarray (CF decoding on), with the CF attributes the
issue asks for: coordinates with units/axis/standard_name and no
_FillValue, time decoded to datetimes with its calendar, lat/lon bounds
(grids), data variables with units, long_name, cell_methods and
_FillValue, global Conventions and the provenance attributes; time series
with featureType and a timeseries_id; climatologies with
climatology_bounds. Prints "N passed, N failed" last.
"""

import json
import os
import shutil
import subprocess
import tempfile

import numpy as np
import xarray as xr

from testlib import FLOE, check, run, summary

def main(tbdir):
    coll = os.path.join(tbdir, "collection.json")
    env = dict(os.environ, AWS_ENDPOINT_URL=os.environ["FLOE_S3_ENDPOINT"])
    tmp = tempfile.mkdtemp(prefix="floe-cf-")
    try:
        pts = os.path.join(tmp, "p.csv")
        with open(pts, "w") as f:
            f.write("lon,lat,id\n-70.3,41.66,cape\n-104.99,39.74,denver\n")
        box = "-75,38,-70,42"
        jobs = {
            "extract": ["extract", "-v", "Tair,Rainf", "--bbox", box, "--time",
                        "2001-01-10/2001-01-20"],
            "stats": ["stats", "-v", "Tair", "--stat", "mean,std,count", "--bbox", box],
            "climatology": ["climatology", "-v", "Tair", "--by", "month", "--bbox", box],
            "points": ["series", "-v", "Tair", "--points", pts],
            "region": ["series", "-v", "Rainf", "--bbox", box, "--stat", "mean,max,count"],
        }
        for name, args in jobs.items():
            out = os.path.join(tmp, f"{name}.nc")
            r = subprocess.run([FLOE, args[0], coll, *args[1:], "-o", out], capture_output=True,
                               text=True, env=env, timeout=600)
            check(r.returncode == 0, f"{name}: floe exit {r.returncode}: {r.stderr.strip()}")
            if r.returncode:
                continue
            h = subprocess.run(["ncdump", "-h", out], capture_output=True, text=True)
            check(h.returncode == 0 and "Conventions = \"CF-1.8\"" in h.stdout,
                  f"{name}: ncdump -h reads it, Conventions CF-1.8")
            with xr.open_dataset(out) as ds:
                check(np.issubdtype(ds["time"].dtype, np.datetime64),
                      f"{name}: xarray decodes time ({ds['time'].dtype})")
                check(str(ds["time"].values[0]).startswith("2001-"),
                      f"{name}: first time {ds['time'].values[0]}")
                check("calendar" in ds["time"].encoding and "units" in ds["time"].encoding,
                      f"{name}: time units and calendar")
                for attr in ("floe_repository", "floe_snapshot_id", "floe_command", "history"):
                    check(attr in ds.attrs, f"{name}: global attribute {attr}")
                for c in ("lat", "lon"):
                    if c in ds.variables:
                        v = ds[c]
                        check(v.attrs.get("units", "").startswith("degrees") and
                              v.attrs.get("standard_name") in ("latitude", "longitude"),
                              f"{name}: {c} units and standard_name")
                        check("_FillValue" not in v.encoding or v.encoding["_FillValue"] is None,
                              f"{name}: no _FillValue on {c}")
                data = [k for k in ds.data_vars if not k.endswith("_bnds") and
                        k not in ("station_id", "climatology_bounds", "cell_lat", "cell_lon")]
                check(data, f"{name}: data variables present")
                for k in data:
                    v = ds[k]
                    check("units" in v.attrs and "long_name" in v.attrs,
                          f"{name}: {k} has units and long_name")
                    # a count has no missing value (0 is data): an integer
                    # variable without _FillValue, which xarray keeps integer
                    check(("_FillValue" in v.encoding) != k.endswith("_count"),
                          f"{name}: {k} has _FillValue (counts: none)")
                    if k.endswith("_count"):
                        # a count is no CF method: its long_name says what it counts
                        check("cell_methods" not in v.attrs, f"{name}: {k} claims no method")
                        check(np.issubdtype(v.dtype, np.integer) and v.attrs.get("units") == "1",
                              f"{name}: {k} is an integer ({v.dtype}) with units '1'")
                    elif name != "extract":
                        check("cell_methods" in v.attrs, f"{name}: {k} has cell_methods")
                if name in ("extract", "stats", "climatology"):
                    check(ds["lat"].attrs.get("bounds") == "lat_bnds" and "lat_bnds" in ds,
                          f"{name}: lat bounds")
                    check(ds["lat"].attrs.get("axis") == "Y" and ds["lon"].attrs.get("axis") == "X",
                          f"{name}: axis attributes")
                if name == "climatology":
                    check(ds["time"].attrs.get("climatology") == "climatology_bounds" and
                          "climatology_bounds" in ds, f"{name}: climatology_bounds")
                if name in ("points", "region"):
                    check(ds.attrs.get("featureType") == "timeSeries", f"{name}: featureType")
                if name == "region":
                    # the derived Item describes the count as the file holds it
                    with open(os.path.join(tmp, f"{name}.json")) as f:
                        cv = json.load(f)["properties"]["cube:variables"].get("Rainf_count", {})
                    check(cv.get("data_type") == "int32" and cv.get("unit") == "1" and
                          "nodata" not in cv, f"{name}: Item's Rainf_count int32, unit 1, no "
                          f"nodata ({cv})")
                if name == "points":
                    check(ds["station_id"].attrs.get("cf_role") == "timeseries_id",
                          f"{name}: station_id is the timeseries_id")
                    check(list(ds["Tair"].dims) == ["time", "station"], f"{name}: dims")
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return summary()


if __name__ == "__main__":
    run(main, __doc__)
