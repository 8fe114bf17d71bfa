#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
"""check_item.py ITEM.json [ITEM.json ...]: a derived STAC Item that floe
wrote next to its output says what the output holds.

Independent of floe: the offline validator (shared/tools/stac-validate
--lint, no LINT notes allowed), hashlib and os.stat for file:size and
file:checksum, netCDF4 for the bbox (lat_bnds/lon_bnds), the grid
(proj:shape, proj:transform), the times (netCDF4.num2date) and the
variables (units, _FillValue). Also the links: derived_from and via, via
naming the snapshot of `version`, a collection link exactly when the Item
has a "collection". Prints "N passed, N failed" last; exit 1 on a failure.

Importable: check_item(path) returns the list of failures (the test-bed
extract checks call it on the Items `floe extract` writes).
"""

import calendar
import hashlib
import json
import math
import os
import subprocess
import sys
import urllib.parse

import netCDF4
import numpy as np

import testlib


def shared_dir():
    here = os.path.dirname(os.path.abspath(__file__))
    return os.environ.get("FLOE_SHARED_DIR") or os.path.normpath(
        os.path.join(here, "..", "..", "..", "shared"))


def validate(path):
    """None when valid without LINT notes, else the validator's output."""
    validator = os.path.join(shared_dir(), "tools", "stac-validate")
    r = subprocess.run(["/usr/bin/python3", validator, "--lint", path],
                       capture_output=True, text=True, timeout=120)
    out = r.stdout + r.stderr
    return None if r.returncode == 0 and "LINT" not in out else out.strip()


def data_path(item_path, href):
    u = urllib.parse.urlparse(href)
    if u.scheme == "file":
        return urllib.parse.unquote(u.path)
    if u.scheme:
        return None  # remote: not checked here
    return os.path.normpath(os.path.join(os.path.dirname(os.path.abspath(item_path)),
                                         urllib.parse.unquote(href)))


def iso_utc(dt):
    # model calendars (360_day) have days a Gregorian month lacks: the Item
    # moves them to the month's last day (out/item/item.h)
    day = min(dt.day, calendar.monthrange(dt.year, dt.month)[1])
    return "%04d-%02d-%02dT%02d:%02d:%02dZ" % (dt.year, dt.month, day, dt.hour, dt.minute,
                                               dt.second)


def check_item(item_path):
    fails = []

    def check(cond, what):
        if not cond:
            fails.append(f"{item_path}: {what}")

    bad = validate(item_path)
    check(bad is None, f"stac-validate: {bad}")
    with open(item_path) as f:
        item = json.load(f)
    props = item.get("properties", {})
    asset = item.get("assets", {}).get("data", {})
    check(asset.get("type") == "application/netcdf", "asset type application/netcdf")
    check(asset.get("roles") == ["data"], "asset role data")
    path = data_path(item_path, asset.get("href", ""))
    if path is None or not os.path.exists(path):
        check(False, f"data file {asset.get('href')} not found")
        return fails

    # file: size and sha2-256 multihash of the bytes on disk
    with open(path, "rb") as f:
        digest = hashlib.sha256(f.read()).hexdigest()
    check(asset.get("file:size") == os.stat(path).st_size, "file:size is the file's size")
    check(asset.get("file:checksum") == "1220" + digest, "file:checksum is 1220 + sha256")
    check(item.get("id", "").endswith("-" + digest[:12]), "id ends with the checksum's start")

    # links
    links = item.get("links", [])
    rels = [l.get("rel") for l in links]
    check(rels.count("derived_from") == 1, "one derived_from link")
    check(rels.count("via") == 1, "one via link")
    via = next((l["href"] for l in links if l.get("rel") == "via"), "")
    check(via.endswith("#snapshot=" + str(props.get("version"))), "via names the snapshot")
    check(("collection" in rels) == ("collection" in item),
          "a collection link exactly when the Item has a collection")
    check("floe" in props.get("processing:software", {}), "processing:software names floe")

    with netCDF4.Dataset(path) as ds:
        lat = ds["lat"][:].data
        lon = ds["lon"][:].data
        # bbox: the outer cell edges the file holds, as float32 values
        lonb = ds["lon_bnds"][:].data
        latb = ds["lat_bnds"][:].data
        w, e = float(lonb.min()), float(lonb.max())
        if w >= 180:
            w, e = w - 360, e - 360
        elif e > 180:
            e -= 360
        bbox = item.get("bbox", [])
        want = [w, max(float(latb.min()), -90), e, min(float(latb.max()), 90)]
        dtype = ds["lat"].dtype
        check(len(bbox) == 4 and all(dtype.type(a) == dtype.type(b) for a, b in zip(bbox, want)),
              f"bbox {bbox} = cell edges {want}")
        check(props.get("proj:shape") == [len(lat), len(lon)], "proj:shape is (lat, lon)")
        tr = props.get("proj:transform")
        if tr is not None:
            # (col, row) = (0, 0) and (nx, ny) map to the outer corners of the grid
            x0, y0 = tr[2], tr[5]
            x1 = tr[0] * len(lon) + tr[1] * len(lat) + tr[2]
            y1 = tr[3] * len(lon) + tr[4] * len(lat) + tr[5]
            check(math.isclose(x0, lonb[0][0], abs_tol=1e-4) and
                  math.isclose(x1, lonb[-1][1], abs_tol=1e-4 * len(lon)) and
                  math.isclose(y0, latb[0][0], abs_tol=1e-4) and
                  math.isclose(y1, latb[-1][1], abs_tol=1e-4 * len(lat)),
                  f"proj:transform {tr} spans the cell edges")

        # time: the first and last steps (or, for statistics over a span,
        # the ends of its bounds), decoded by netCDF4
        t = ds["time"]
        cal = getattr(t, "calendar", "standard")
        battr = next((a for a in ("bounds", "climatology") if a in t.ncattrs()), None)
        if battr:
            b = ds[getattr(t, battr)][:]
            times = netCDF4.num2date([b[0][0], b[-1][1]], t.units, cal)
        else:
            times = netCDF4.num2date(t[:], t.units, cal)
        first, last = iso_utc(times[0]), iso_utc(times[-1])
        if len(times) == 1 or first == last:
            check(props.get("datetime") == first, f"datetime {props.get('datetime')} = {first}")
        else:
            check(props.get("datetime") is None and props.get("start_datetime") == first and
                  props.get("end_datetime") == last,
                  f"start/end {props.get('start_datetime')}/{props.get('end_datetime')} = "
                  f"{first}/{last}")

        # datacube: one variable per data variable of the file
        data_vars = {n for n, v in ds.variables.items()
                     if v.dimensions == ("time", "lat", "lon")}
        cube = props.get("cube:variables", {})
        check(set(cube) == data_vars, f"cube:variables {sorted(cube)} = {sorted(data_vars)}")
        for name in data_vars & set(cube):
            v = ds[name]
            check(cube[name].get("dimensions") == ["time", "lat", "lon"], f"{name} dimensions")
            if hasattr(v, "units"):
                check(cube[name].get("unit") == v.units, f"{name} unit")
            if hasattr(v, "_FillValue"):
                fill = float(v._FillValue)
                nd = cube[name].get("nodata")
                check(nd == "nan" if np.isnan(fill) else nd == fill, f"{name} nodata")
        dims = props.get("cube:dimensions", {})
        check(set(dims) == {"time", "lat", "lon"}, "cube:dimensions time, lat, lon")
        check(dims.get("time", {}).get("extent") == [first, last], "time extent")
    return fails


def main(paths):
    for p in paths:
        fails = check_item(p)
        for f in fails:
            testlib.check(False, f)
        if not fails:
            testlib.check(True, p)
    return testlib.summary()


if __name__ == "__main__":
    if len(sys.argv) < 2:
        sys.stderr.write("usage: check_item.py ITEM.json [ITEM.json ...]\n")
        sys.exit(2)
    sys.exit(main(sys.argv[1:]))
