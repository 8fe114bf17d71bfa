#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
"""check_series.py TESTBED_DIR: `floe series` under mpirun at 1, 2, 4 and 7
ranks, against independent answers computed from direct netCDF reads of
the source files:

- points, nearest cell: numpy's cell containing the point, and CDO's
  remapnn on the same files (points near cell centres, where "containing
  cell" and "nearest centre" agree), exactly;
- points, bilinear: numpy bilinear interpolation of the four centres,
  missing cells skipped and the weights renormalised;
- a region box: numpy area-weighted mean (weights sin(north edge) -
  sin(south edge) times the width, edges halfway between centres), min,
  max, plain sum and count of valid cells, and CDO's fldmean of
  sellonlatbox;
- a GeoJSON polygon: the same statistics over the cells whose centres an
  even-odd ray test puts inside (a polygon chosen with no centre on an
  edge);
- identical bytes in every data variable for every rank count, the CF
  attributes (featureType, cf_role), a valid derived STAC Item;
- refusals: a point outside the grid, two kinds of location, --stat with
  points, a missing points file: one line, non-zero exit, no output file.
Prints "N passed, N failed" last.
"""

import json
import os
import shutil
import subprocess
import tempfile
import warnings

import netCDF4
import numpy as np

from testlib import check, floe_np, load, run, summary
from check_item import validate

FILL = -9999.0
def edges(c):
    e = np.empty(len(c) + 1)
    e[1:-1] = (c[1:] + c[:-1]) / 2
    e[0] = c[0] - (c[1] - c[0]) / 2
    e[-1] = c[-1] + (c[-1] - c[-2]) / 2
    return e


def inside_polygon(ring, x, y):
    """Even-odd ray casting (independent of floe's region_mask)."""
    inside = np.zeros(np.broadcast(x, y).shape, dtype=bool)
    n = len(ring) - 1
    for k in range(n):
        x1, y1 = ring[k]
        x2, y2 = ring[k + 1]
        if y1 == y2:
            continue
        crosses = (y1 > y) != (y2 > y)
        xi = x1 + (y - y1) * (x2 - x1) / (y2 - y1)
        inside ^= crosses & (x < xi)
    return inside


def main(tbdir):
    with open(os.path.join(tbdir, "testbed.json")) as f:
        tb = json.load(f)
    names = [v["name"] for v in tb["variables"]]
    var = "Tair" if "Tair" in names else names[0]
    lat = np.array(tb["lat_values"], dtype=np.float32).astype(np.float64)
    lon = np.array(tb["lon_values"], dtype=np.float32).astype(np.float64)
    root = os.path.join(tbdir, "s3", tb["bucket"])
    coll = os.path.join(tbdir, "collection.json")
    files = [os.path.join(root, f["key"]) for f in tb["files"]]
    nt = len(files)
    tmp = tempfile.mkdtemp(prefix="floe-series-")
    try:
        # the whole archive of `var` in memory (62 x 650 x 1170 float32: 190 MB)
        x = np.empty((nt, len(lat), len(lon)), dtype=np.float32)
        for t, p in enumerate(files):
            with netCDF4.Dataset(p) as ds:
                v = ds[var]
                v.set_auto_maskandscale(False)
                x[t] = v[0]
        xm = x.astype(np.float64)
        xm[x == FILL] = np.nan
        ye, xe = edges(lat), edges(lon)

        # ---- points: near cell centres (a quarter cell off), land and sea
        rng = np.random.default_rng(7)
        picks = [(41.66, -70.30), (39.74, -104.99), (30.0, -60.0), (45.5, -122.7),
                 (25.8, -80.2), (60.0, -150.0), (47.6, -52.2)]
        pts = []
        for k, (py, px) in enumerate(picks):
            i = int(np.argmin(np.abs(lat - py)))
            j = int(np.argmin(np.abs(lon - px)))
            dy, dx = rng.uniform(-0.25, 0.25, 2) * 0.1
            pts.append((float(lon[j] + dx), float(lat[i] + dy), f"p{k}"))
        csv = os.path.join(tmp, "points.csv")
        with open(csv, "w") as f:
            f.write("id,lon,lat\n")
            for px, py, pid in pts:
                f.write(f"{pid},{px!r},{py!r}\n")
        for method in ("nearest", "bilinear"):
            outs = {}
            for np_ in (1, 2, 4, 7):
                out = os.path.join(tmp, f"pts-{method}-{np_}.nc")
                r = floe_np(np_, "series", coll, "-v", var, "--points", csv, "--method", method,
                            "-o", out)
                check(r.returncode == 0, f"points {method} np {np_}: {r.stderr.strip()}")
                if r.returncode == 0:
                    outs[np_] = load(out)
            if 1 not in outs:
                continue
            got = outs[1][var].astype(np.float64)
            check(got.shape == (nt, len(pts)), f"points {method}: shape {got.shape}")
            want = np.empty((nt, len(pts)))
            for s, (px, py, _) in enumerate(pts):
                if method == "nearest":
                    i = int(np.searchsorted(ye, py, side="right") - 1)
                    j = int(np.searchsorted(xe, px, side="right") - 1)
                    col = xm[:, i, j]
                else:
                    i = int(np.searchsorted(lat, py, side="right") - 1)
                    j = int(np.searchsorted(lon, px, side="right") - 1)
                    fy = (py - lat[i]) / (lat[i + 1] - lat[i])
                    fx = (px - lon[j]) / (lon[j + 1] - lon[j])
                    w = np.array([(1 - fy) * (1 - fx), (1 - fy) * fx, fy * (1 - fx), fy * fx])
                    v4 = np.stack([xm[:, i, j], xm[:, i, j + 1], xm[:, i + 1, j],
                                   xm[:, i + 1, j + 1]], axis=1)
                    ok = ~np.isnan(v4) & (w > 0)
                    ws = np.where(ok, w, 0).sum(axis=1)
                    with np.errstate(all="ignore"):
                        col = np.where(ws > 0, np.nansum(np.where(ok, v4 * w, 0), axis=1) / ws,
                                       np.nan)
                want[:, s] = col
            miss = got == FILL
            check(np.array_equal(miss, np.isnan(want)), f"points {method}: missing where no data")
            ok = ~miss
            if method == "nearest":
                check(np.array_equal(got[ok], want[ok]), f"points {method}: equals the cells")
            else:
                err = np.max(np.abs(got[ok] - want[ok]) / np.maximum(np.abs(want[ok]), 1))
                check(err < 2e-6, f"points {method}: relative error {err:.2e} vs numpy")
            for np_, o in outs.items():
                check(np.array_equal(o[var].view(np.uint8), outs[1][var].view(np.uint8)),
                      f"points {method}: np {np_} gives the same bytes as np 1")
            out1 = os.path.join(tmp, f"pts-{method}-1.nc")
            with netCDF4.Dataset(out1) as ds:
                check(getattr(ds, "featureType", None) == "timeSeries",
                      f"points {method}: featureType timeSeries")
                ids = [str(s) for s in ds["station_id"][:]]
                check(ids == [p[2] for p in pts], f"points {method}: station ids {ids}")
                check(getattr(ds["station_id"], "cf_role", None) == "timeseries_id",
                      f"points {method}: cf_role")
            bad = validate(os.path.join(tmp, f"pts-{method}-1.json"))
            check(bad is None, f"points {method}: derived Item valid: {bad}")

        # ---- CDO on the same files: remapnn at the points, fldmean of a box
        cdo = shutil.which("cdo")
        merged = os.path.join(tmp, "merged.nc")
        if cdo:
            args = []
            for p in files:
                args += [f"-selname,{var}", p]
            r = subprocess.run([cdo, "-s", "-O", "mergetime", *args, merged],
                               capture_output=True, text=True)
            check(r.returncode == 0, f"cdo mergetime: {r.stderr.strip()[:300]}")
        else:
            check(False, "cdo is installed (scripts/setup installs it)")

        def cdo_values(*ops):
            r = subprocess.run([cdo, "-s", "-outputf,%.9g,1", *ops, merged],
                               capture_output=True, text=True)
            if r.returncode != 0:
                return None, r.stderr.strip()[:300]
            return np.array([float(t) for t in r.stdout.split()]), None

        if cdo and os.path.exists(merged):
            got = load(os.path.join(tmp, "pts-nearest-1.nc"))[var].astype(np.float64)
            for s, (px, py, pid) in enumerate(pts):
                vals, e = cdo_values(f"-selname,{var}", f"-remapnn,lon={px}_lat={py}")
                check(vals is not None, f"cdo remapnn {pid}: {e}")
                if vals is None:
                    continue
                g = got[:, s]
                g = np.where(g == FILL, np.nan, g)
                vals = np.where(vals == FILL, np.nan, vals)
                check(np.array_equal(np.isnan(g), np.isnan(vals)) and
                      np.allclose(g[~np.isnan(g)], vals[~np.isnan(vals)], rtol=1e-7, atol=0),
                      f"points nearest {pid}: equals CDO remapnn")

        # ---- regions: a 2 x 2 degree box across chunk edges, and a polygon
        W, S, E, N = -71.0, 40.0, -69.0, 42.0
        poly = [[-100.03, 30.02], [-94.07, 30.02], [-97.01, 36.03], [-100.03, 30.02]]
        gj = os.path.join(tmp, "region.geojson")
        with open(gj, "w") as f:
            json.dump({"type": "FeatureCollection", "features": [
                {"type": "Feature", "properties": {"name": "triangle"},
                 "geometry": {"type": "Polygon", "coordinates": [poly]}}]}, f)
        latf = np.abs(np.sin(np.radians(np.clip(ye[1:], -90, 90))) -
                      np.sin(np.radians(np.clip(ye[:-1], -90, 90))))
        lonw = np.abs(np.radians(xe[1:] - xe[:-1]))
        LON, LAT = np.meshgrid(lon, lat)
        cases = [("box", ["--bbox", f"{W},{S},{E},{N}"],
                  (LAT >= S) & (LAT <= N) & (LON >= W) & (LON <= E)),
                 ("polygon", ["--region", gj], inside_polygon(poly, LON, LAT))]
        for label, where, mask in cases:
            rows, cols = np.nonzero(mask)
            w = latf[rows] * lonw[cols]
            vals = xm[:, rows, cols]
            valid = ~np.isnan(vals)
            n = valid.sum(axis=1)
            with np.errstate(all="ignore"), warnings.catch_warnings():
                warnings.simplefilter("ignore", RuntimeWarning)
                want = {
                    "mean": np.where(n > 0, np.nansum(vals * w, axis=1) /
                                     np.where(valid, w, 0).sum(axis=1), np.nan),
                    "min": np.nanmin(vals, axis=1), "max": np.nanmax(vals, axis=1),
                    "sum": np.where(n > 0, np.nansum(vals, axis=1), np.nan),
                    "count": n.astype(np.float64)}
            outs = {}
            for np_ in (1, 2, 4, 7):
                out = os.path.join(tmp, f"{label}-{np_}.nc")
                r = floe_np(np_, "series", coll, "-v", var, *where,
                            "--stat", "mean,min,max,sum,count", "-o", out)
                check(r.returncode == 0, f"{label} np {np_}: {r.stderr.strip()}")
                if r.returncode == 0:
                    outs[np_] = load(out)
                    if label == "polygon":  # a FeatureCollection: VAR_STAT(time, region)
                        o = outs[np_]
                        check(o[f"{var}_mean"].shape == (nt, 1),
                              f"polygon np {np_}: (time, region) {o[f'{var}_mean'].shape}")
                        outs[np_] = {k: v[:, 0] if k.startswith(var) and v.ndim == 2 else v
                                     for k, v in o.items()}
            if 1 not in outs:
                continue
            for st, wv in want.items():
                g = outs[1][f"{var}_{st}"].astype(np.float64)
                if st == "count":
                    check(np.array_equal(g, wv), f"{label} count: equals numpy")
                    continue
                miss = g == FILL
                check(np.array_equal(miss, np.isnan(wv)), f"{label} {st}: missing where no data")
                ok = ~miss
                if st in ("min", "max"):
                    check(np.array_equal(g[ok], wv[ok]), f"{label} {st}: equals numpy")
                else:
                    err = np.max(np.abs(g[ok] - wv[ok]) / np.maximum(np.abs(wv[ok]), 1))
                    check(err < 2e-6, f"{label} {st}: relative error {err:.2e} vs numpy")
            for np_, o in outs.items():
                check(all(np.array_equal(o[k].view(np.uint8), outs[1][k].view(np.uint8))
                          for k in outs[1] if k.startswith(var)),
                      f"{label}: np {np_} gives the same bytes as np 1")
            with netCDF4.Dataset(os.path.join(tmp, f"{label}-1.nc")) as ds:
                check("area: mean" in ds[f"{var}_mean"].cell_methods,
                      f"{label}: cell_methods {ds[f'{var}_mean'].cell_methods}")
            bad = validate(os.path.join(tmp, f"{label}-1.json"))
            check(bad is None, f"{label}: derived Item valid: {bad}")
            if label == "box" and cdo and os.path.exists(merged):
                vals_cdo, e = cdo_values(f"-selname,{var}", "-fldmean",
                                         f"-sellonlatbox,{W},{E},{S},{N}")
                check(vals_cdo is not None, f"cdo fldmean: {e}")
                if vals_cdo is not None:
                    g = outs[1][f"{var}_mean"].astype(np.float64)
                    ok = g != FILL
                    err = np.max(np.abs(g[ok] - vals_cdo[ok]) / np.abs(vals_cdo[ok]))
                    check(err < 1e-5, f"box mean: relative error {err:.2e} vs CDO fldmean")

        # ---- refusals: one line, non-zero exit, no file
        far = os.path.join(tmp, "far.csv")
        with open(far, "w") as f:
            f.write("0.0,0.0,nowhere\n")
        bad_cases = [
            ("point outside the grid", ["--points", far], "nowhere"),
            ("points and bbox", ["--points", csv, "--bbox", f"{W},{S},{E},{N}"], "exactly one"),
            ("--stat with points", ["--points", csv, "--stat", "mean"], "--stat"),
            ("missing points file", ["--points", os.path.join(tmp, "none.csv")], "none.csv"),
        ]
        for what, args, needle in bad_cases:
            out = os.path.join(tmp, "refused.nc")
            r = floe_np(0, "series", coll, "-v", var, *args, "-o", out)
            lines = [ln for ln in r.stderr.splitlines() if ln.strip()]
            check(r.returncode != 0 and len(lines) == 1 and needle in lines[0],
                  f"{what}: one line naming '{needle}', got exit {r.returncode}: {r.stderr!r}")
            check(not os.path.exists(out) and not os.path.exists(out[:-3] + ".json"),
                  f"{what}: no output left behind")
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return summary()


if __name__ == "__main__":
    run(main, __doc__)
