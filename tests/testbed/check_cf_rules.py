#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
"""check_cf_rules.py TESTBED_DIR: the CF-1.8 rules (issue #12, part 3) and
the derived STAC Item's catalog rules (part 4) on every kind of output floe
writes: extract, series at points, series over a box and over a GeoJSON
region, stats, climatology.

No CF checker is packaged for Debian and cfchecker needs the network for
its standard name table, so the rules are written out here:
  - cell_methods parse by the CF 7.3 grammar ("name: [name: ...] method
    [where|over|within ...] [(...)]", methods of Appendix E) and say what
    was computed for each statistic (7.3, and 7.4's "within/over years"
    forms on a climatological time axis); counts claim no method;
  - standard_name: only CF standard names. Without the table offline, a
    name must have the table's spelling (lower case, digits, '_', an
    optional Appendix C modifier) AND be one of the names these outputs
    can legitimately carry (ALLOWED below, copied from the CF table v84);
    the test bed's free-text names ("Near surface air temperature") must
    not come through, their text stays in long_name;
  - a cf_role = timeseries_id variable in every time series, holding the
    CSV's station ids or the region's name (GeoJSON feature properties);
  - the source's global attributes carried over, history beginning with
    floe's line and a UTC timestamp, a title of each command's own;
  - an unlimited time dimension in extract and series outputs, and CDO's
    mergetime concatenating two extracts;
  - xarray opens every output with decode_cf (use_cftime for a calendar
    numpy cannot hold).
Items: no collection link by default, derived_from the source, hrefs
relative where the files sit together, a self link, the series' ids,
--collection ID and HREF; every Item valid under shared/tools/stac-validate.
Prints "N passed, N failed" last.
"""

import json
import os
import re
import shutil
import subprocess
import tempfile
import urllib.parse

import netCDF4
import numpy as np
import xarray as xr

from check_item import validate
from testlib import FLOE, check, run, summary

# CF Appendix E cell methods.
METHODS = {"point", "sum", "maximum", "maximum_absolute_value", "median", "mid_range",
           "minimum", "minimum_absolute_value", "mean", "mean_absolute_value",
           "mean_of_upper_decile", "mode", "range", "root_mean_square", "standard_deviation",
           "sum_of_squares", "variance"}
# CF Appendix C standard name modifiers.
MODIFIERS = {"detection_minimum", "number_of_observations", "standard_error", "status_flag"}
# The CF standard names (table v84) a floe output of the test bed may carry.
ALLOWED = {"time", "latitude", "longitude", "air_temperature", "specific_humidity",
           "surface_air_pressure", "precipitation_amount", "precipitation_flux",
           "surface_downwelling_longwave_flux_in_air",
           "surface_downwelling_shortwave_flux_in_air", "eastward_wind", "northward_wind"}
# What floe computes, as CF methods.
STAT_METHOD = {"mean": "mean", "min": "minimum", "max": "maximum", "sum": "sum",
               "std": "standard_deviation"}
# The test bed's variables' own cell_methods (tests/testbed/nldas_testbed_gen.c).
SOURCE_METHODS = {"Tair": "time: mean", "Rainf": "time: sum"}
TS = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ: floe ")


def parse_cell_methods(text):
    """[(names, method, qualifier words, comment)] or None when it breaks
    the CF 7.3 grammar."""
    out = []
    rest = text.strip()
    entry = re.compile(r"((?:[A-Za-z_][A-Za-z0-9_]*:\s+)+)([a-z_]+)"
                       r"((?:\s+(?:where|over|within)\s+[A-Za-z_][A-Za-z0-9_]*)*)"
                       r"(?:\s+\(([^()]*)\))?\s*")
    while rest:
        m = entry.match(rest)
        if not m or m.end() == 0:
            return None
        names = [n.rstrip(":") for n in m.group(1).split()]
        out.append((names, m.group(2), m.group(3).split(), m.group(4)))
        rest = rest[m.end():]
    return out


def check_cell_methods(tag, var, text, want_prefix):
    parsed = parse_cell_methods(text)
    check(parsed is not None, f"{tag}: {var} cell_methods {text!r} parse by CF 7.3")
    if parsed is None:
        return
    for names, method, words, comment in parsed:
        check(method in METHODS, f"{tag}: {var} method {method!r} is a CF method")
        if comment and comment.startswith("interval:"):
            check(re.match(r"interval: \S+ \S+", comment), f"{tag}: {var} interval {comment!r}")
    check(text.startswith(want_prefix), f"{tag}: {var} cell_methods {text!r} "
                                        f"say {want_prefix!r}")


def check_standard_names(tag, ds):
    for name, v in ds.variables.items():
        sn = getattr(v, "standard_name", None)
        if sn is None:
            continue
        base, _, mod = sn.partition(" ")
        ok = re.fullmatch(r"[a-z][a-z0-9_]*", base) and (not mod or mod in MODIFIERS)
        check(ok and base in ALLOWED, f"{tag}: {name} standard_name {sn!r} is a CF name")


def timeseries_ids(ds):
    roles = [n for n, v in ds.variables.items() if getattr(v, "cf_role", None) == "timeseries_id"]
    if len(roles) != 1:
        return roles, None
    v = ds[roles[0]]
    if v.dtype == np.dtype("S1"):  # characters along a length dimension
        chars = np.atleast_2d(v[:].filled(b""))
        return roles, [b"".join(r).decode() for r in chars]
    return roles, [str(x) for x in np.atleast_1d(v[:])]


def check_file(tag, path, kind, stats=()):
    with netCDF4.Dataset(path) as ds:
        g = {a: ds.getncattr(a) for a in ds.ncattrs()}
        check(g.get("Conventions") == "CF-1.8", f"{tag}: Conventions CF-1.8")
        check("conventions" not in g, f"{tag}: no second, lower-case conventions attribute")
        for a, want in (("institution", "NASA GSFC"), ("version", "3.0 beta"),
                        ("shortname", "NLDAS_FOR0010_D_3.0"), ("time_definition", "daily")):
            check(g.get(a) == want, f"{tag}: source global {a} carried over ({g.get(a)!r})")
        hist = g.get("history", "")
        check(TS.match(hist), f"{tag}: history starts with a UTC time and floe: {hist[:60]!r}")
        check(hist.splitlines()[0].endswith(g.get("floe_command", "?")),
              f"{tag}: floe's history line holds the command")
        check("floe_source" in g and g["floe_source"].endswith("collection.json"),
              f"{tag}: floe_source names the document")
        title = g.get("title", "")
        check(title, f"{tag}: a title")
        check_standard_names(tag, ds)
        tdim = ds.dimensions["time"]
        if kind in ("extract", "points", "region"):
            check(tdim.isunlimited(), f"{tag}: time is the unlimited dimension")
        data = [n for n, v in ds.variables.items()
                if v.dimensions and v.dimensions[0] == "time" and n not in
                ("time", "time_bnds", "climatology_bounds")]
        for n in data:
            v = ds[n]
            check(getattr(v, "long_name", ""), f"{tag}: {n} has a long_name")
            cm = getattr(v, "cell_methods", None)
            stat = n.rsplit("_", 1)[1] if "_" in n and kind not in ("extract", "points") else None
            if stat == "count":
                check(cm is None, f"{tag}: {n} (a count) claims no cell method ({cm!r})")
                check(getattr(v, "long_name", "").startswith("number of"),
                      f"{tag}: {n} long_name says it counts ({getattr(v, 'long_name', '')!r})")
                # an integer of another quantity than the source's (issue #12)
                check(v.dtype.kind in "iu", f"{tag}: {n} (a count) is an integer ({v.dtype})")
                check(getattr(v, "units", None) == "1" and "standard_name" not in v.ncattrs() and
                      "_FillValue" not in v.ncattrs(),
                      f"{tag}: {n} (a count) units '1', no standard_name, no _FillValue "
                      f"({v.ncattrs()})")
                continue
            if kind in ("extract", "points"):
                if cm is not None:
                    check_cell_methods(tag, n, cm, "time: ")
                continue
            if kind == "stats":
                want = f"time: {STAT_METHOD[stat]}"
                check_cell_methods(tag, n, cm or "", want)
                check(cm == want, f"{tag}: {n} cell_methods {cm!r} == {want!r}")
            elif kind == "climatology":
                m = STAT_METHOD[stat]
                if stat == "std":
                    # pooled over every value of the cell: no within-year std was taken
                    want = "time: point within years time: standard_deviation over years"
                else:
                    want = f"time: {m} within years time: {m} over years"
                check_cell_methods(tag, n, cm or "", want)
                parsed = parse_cell_methods(cm or "") or []
                quals = [w for p in parsed for w in p[2]]
                check(quals == ["within", "years", "over", "years"],
                      f"{tag}: {n} uses CF 7.4's within/over years form ({cm!r})")
            elif kind == "region":
                # the source's own method at each step, then the area's
                src = SOURCE_METHODS[n.rsplit("_", 1)[0]]
                want = f"{src} area: {STAT_METHOD[stat]}"
                check_cell_methods(tag, n, cm or "", want)
        if kind in ("points", "region"):
            check(g.get("featureType") == "timeSeries", f"{tag}: featureType timeSeries")
            roles, ids = timeseries_ids(ds)
            check(len(roles) == 1, f"{tag}: one cf_role = timeseries_id variable ({roles})")
            for n in data:
                check(roles and roles[0] in getattr(ds[n], "coordinates", "").split(),
                      f"{tag}: {n} coordinates name the timeseries_id")
            return ids, title
    return None, title


def check_xarray(tag, path):
    with netCDF4.Dataset(path) as nc:
        cal = getattr(nc["time"], "calendar", "standard")
    cftime = cal not in ("standard", "gregorian", "proleptic_gregorian")
    try:
        with xr.open_dataset(path, decode_cf=True, use_cftime=cftime) as ds:
            t = ds["time"].values
            check(len(t) > 0, f"{tag}: xarray decodes time ({t[:1]})")
    except Exception as e:  # noqa: BLE001 - any failure to open is the finding
        check(False, f"{tag}: xarray decode_cf: {e}")


def link(item, rel):
    return [l for l in item.get("links", []) if l.get("rel") == rel]


def check_item(tag, item_path, src_path, ids=None):
    bad = validate(item_path)
    check(bad is None, f"{tag}: Item valid: {bad}")
    with open(item_path) as f:
        item = json.load(f)
    check("collection" not in item and not link(item, "collection"),
          f"{tag}: no collection by default ({item.get('collection')})")
    df = link(item, "derived_from")
    check(len(df) == 1 and df[0]["href"] == "./" + os.path.basename(src_path),
          f"{tag}: derived_from the source beside it, relative ({df})")
    check(item["assets"]["data"]["href"].startswith("./"), f"{tag}: data href relative")
    self_ = link(item, "self")
    want = "file://" + urllib.parse.quote(os.path.abspath(item_path))
    check(len(self_) == 1 and self_[0]["href"] == want, f"{tag}: self link {self_} = {want}")
    if ids is not None:
        got = item["properties"].get("floe:series_ids")
        check(got == ids, f"{tag}: Item series ids {got} == {ids}")
    return item


def floe(args, env):
    return subprocess.run([FLOE, *args], capture_output=True, text=True, env=env, timeout=600)


def main(tbdir):
    env = dict(os.environ, AWS_ENDPOINT_URL=os.environ["FLOE_S3_ENDPOINT"])
    tmp = tempfile.mkdtemp(prefix="floe-cfrules-")
    try:
        # the collection copied beside the outputs (its hrefs are s3://)
        coll = os.path.join(tmp, "collection.json")
        shutil.copy(os.path.join(tbdir, "collection.json"), coll)
        with open(coll) as f:
            src_id = json.load(f)["id"]
        pts = os.path.join(tmp, "p.csv")
        with open(pts, "w") as f:
            f.write("lon,lat,id\n-70.3,41.66,cape\n-104.99,39.74,denver\n")
        region = os.path.join(tmp, "r.geojson")
        with open(region, "w") as f:
            json.dump({"type": "FeatureCollection", "features": [{
                "type": "Feature", "properties": {"name": "new-england"},
                "geometry": {"type": "Polygon", "coordinates": [[
                    [-75, 38], [-70, 38], [-70, 42], [-75, 42], [-75, 38]]]}}]}, f)
        box = "-75,38,-70,42"
        jobs = {
            "extract": ("extract", ["extract", "-v", "Tair,Rainf", "--bbox", box, "--time",
                                    "2001-01-10/2001-01-20"]),
            "extract2": ("extract", ["extract", "-v", "Tair,Rainf", "--bbox", box, "--time",
                                     "2001-01-21/2001-01-25"]),
            "stats": ("stats", ["stats", "-v", "Tair,Rainf", "--stat",
                                "mean,min,max,sum,std,count", "--bbox", box]),
            "climatology": ("climatology", ["climatology", "-v", "Tair", "--by", "month",
                                            "--stat", "mean,min,max,sum,std,count", "--bbox",
                                            box]),
            "points": ("points", ["series", "-v", "Tair", "--points", pts]),
            "box": ("region", ["series", "-v", "Rainf", "--bbox", box, "--stat",
                               "mean,min,max,sum,count"]),
            "geojson": ("region", ["series", "-v", "Tair", "--region", region, "--stat",
                                   "mean,count"]),
        }
        titles = {}
        for name, (kind, args) in jobs.items():
            out = os.path.join(tmp, f"{name}.nc")
            r = floe([args[0], coll, *args[1:], "-o", out], env)
            check(r.returncode == 0, f"{name}: floe exit {r.returncode}: {r.stderr.strip()}")
            if r.returncode:
                continue
            ids, title = check_file(name, out, kind)
            titles[name] = title
            check_xarray(name, out)
            want_ids = {"points": ["cape", "denver"], "box": [f"bbox {box}"],
                        "geojson": ["new-england"]}.get(name)
            if want_ids:
                check(ids == want_ids, f"{name}: timeseries ids {ids} == {want_ids}")
            check_item(name, os.path.join(tmp, f"{name}.json"), coll, want_ids)
        # distinct, truthful titles
        for name, word in (("extract", "Subset"), ("stats", "Statistics"),
                           ("climatology", "climatology"), ("points", "Time series at 2 points"),
                           ("box", "Time series over"), ("geojson", "new-england")):
            check(word in titles.get(name, ""), f"{name}: title {titles.get(name)!r} says {word!r}")
        kinds = ["extract", "stats", "climatology", "points", "box"]
        check(len({titles.get(k) for k in kinds}) == len(kinds), f"distinct titles {titles}")

        # unlimited time: CDO concatenates two extracts
        merged = os.path.join(tmp, "merged.nc")
        r = subprocess.run(["cdo", "-s", "mergetime", os.path.join(tmp, "extract.nc"),
                            os.path.join(tmp, "extract2.nc"), merged], capture_output=True,
                           text=True)
        check(r.returncode == 0, f"cdo mergetime: {r.stderr.strip()}")
        if r.returncode == 0:
            with netCDF4.Dataset(merged) as ds:
                check(len(ds["time"]) == 16, f"mergetime: 11 + 5 steps ({len(ds['time'])})")
        if shutil.which("ncrcat"):
            r = subprocess.run(["ncrcat", "-O", os.path.join(tmp, "extract.nc"),
                                os.path.join(tmp, "extract2.nc"), merged + "2"],
                               capture_output=True, text=True)
            check(r.returncode == 0, f"ncrcat: {r.stderr.strip()}")
        else:
            print("ncrcat: not installed, skipped")

        # --collection: an id, and an href beside the Item
        for name, value in (("cid", "my-subsets"), ("chref", coll)):
            out = os.path.join(tmp, f"{name}.nc")
            r = floe(["extract", coll, "-v", "Tair", "--bbox", box, "--time", "2001-01-10",
                      "--collection", value, "-o", out], env)
            check(r.returncode == 0, f"--collection {value}: exit {r.returncode}: "
                                     f"{r.stderr.strip()}")
            if r.returncode:
                continue
            item_path = os.path.join(tmp, f"{name}.json")
            check(validate(item_path) is None, f"--collection {value}: Item valid")
            with open(item_path) as f:
                item = json.load(f)
            cl = link(item, "collection")
            check(len(cl) == 1, f"--collection {value}: one collection link")
            if name == "cid":
                # an id alone: where STAC's best-practice layout keeps the collection
                check(item.get("collection") == "my-subsets" and cl and
                      cl[0]["href"] == "../collection.json",
                      f"--collection ID: {item.get('collection')} {cl}")
            else:
                check(item.get("collection") == src_id and cl and
                      cl[0]["href"] == "./collection.json",
                      f"--collection HREF: id of the document, relative href ({cl})")
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return summary()


if __name__ == "__main__":
    run(main, __doc__)
