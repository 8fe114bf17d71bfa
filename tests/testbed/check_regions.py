#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
"""check_regions.py TESTBED_DIR: `floe series --region` with a
FeatureCollection (one series per feature), --weights centre|fraction,
--region-id, and stations outside the grid, against independent numpy
computations on the test bed's source files (read directly with netCDF4):

- centre: the cells whose centres an even-odd ray test puts inside each
  feature; area-weighted mean, min, max, plain sum, count, exactly as
  check_series.py does for one region; a feature with no centre: a missing
  series (count 0) and a warning line naming it;
- fraction: each cell's fraction from a 64 x 64 supersampling (sub-cell
  centres tested by the even-odd rule, exterior less holes, summed over
  parts) on a concave polygon, a polygon with a hole, a multipolygon and a
  polygon smaller than one cell; the tolerance is the supersampling's own
  error bound: a sub-cell whose four corners agree is wholly in or out, so
  a cell's fraction is off by at most (its sub-cells with disagreeing
  corners) / 64^2, carried through each statistic;
- the polygon smaller than a cell: its mean is that cell's value and its
  sum that value times the triangle's area over the cell's (exact);
- ids from id, name, the feature's id, the 1-based index; --region-id;
  duplicate ids refused naming both features;
- byte-identical data at np 1, 2 and 3;
- a station outside the grid: exit 0, one warning naming it, a missing
  series for it and the other stations' values unchanged;
- every chunk fetched and decoded once for all regions: overlapping
  regions decode steps x (the chunks of their union), counted by --report.
Prints "N passed, N failed" last.
"""

import json
import os
import shutil
import tempfile

import netCDF4
import numpy as np

from testlib import check, floe_np, load, run, summary

FILL = -9999.0
N = 64  # sub-cells per cell side


def edges(c):
    e = np.empty(len(c) + 1)
    e[1:-1] = (c[1:] + c[:-1]) / 2
    e[0] = c[0] - (c[1] - c[0]) / 2
    e[-1] = c[-1] + (c[-1] - c[-2]) / 2
    return e


def even_odd(rings, x, y):
    """Inside by the even-odd rule over every ring (our own, not floe's)."""
    inside = np.zeros(np.broadcast(x, y).shape, dtype=bool)
    for ring in rings:
        for k in range(len(ring) - 1):
            (x1, y1), (x2, y2) = ring[k], ring[k + 1]
            if y1 == y2:
                continue
            crosses = (y1 > y) != (y2 > y)
            xi = x1 + (y - y1) * (x2 - x1) / (y2 - y1)
            inside ^= crosses & (x < xi)
    return inside


def parts(geom):
    return [geom["coordinates"]] if geom["type"] == "Polygon" else geom["coordinates"]


def contains(geom, x, y):
    out = np.zeros(np.broadcast(x, y).shape, dtype=bool)
    for p in parts(geom):
        out |= even_odd(p, x, y)
    return out


def supersample(geom, ye, xe):
    """(fraction, bound) per cell of the grid with edges ye, xe."""
    nr, nc = len(ye) - 1, len(xe) - 1
    lo_y, hi_y = np.minimum(ye[:-1], ye[1:]), np.maximum(ye[:-1], ye[1:])
    lo_x, hi_x = np.minimum(xe[:-1], xe[1:]), np.maximum(xe[:-1], xe[1:])
    t = (np.arange(N) + 0.5) / N
    tc = np.arange(N + 1) / N
    ys = lo_y[:, None] + t[None, :] * (hi_y - lo_y)[:, None]          # (nr, N)
    xs = lo_x[:, None] + t[None, :] * (hi_x - lo_x)[:, None]          # (nc, N)
    inside = contains(geom, xs[None, None, :, :], ys[:, :, None, None])  # (nr, N, nc, N)
    frac = inside.mean(axis=(1, 3))
    yc = lo_y[:, None] + tc[None, :] * (hi_y - lo_y)[:, None]
    xc = lo_x[:, None] + tc[None, :] * (hi_x - lo_x)[:, None]
    c = contains(geom, xc[None, None, :, :], yc[:, :, None, None])   # (nr, N+1, nc, N+1)
    a, b = c[:, :-1, :, :-1], c[:, 1:, :, :-1]
    d, e = c[:, :-1, :, 1:], c[:, 1:, :, 1:]
    mixed = (a != b) | (a != d) | (a != e)
    return frac, mixed.sum(axis=(1, 3)) / N ** 2


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
    ye_all, xe_all = edges(lat), edges(lon)
    latf_all = np.abs(np.sin(np.radians(np.clip(ye_all[1:], -90, 90))) -
                      np.sin(np.radians(np.clip(ye_all[:-1], -90, 90))))
    lonw_all = np.abs(np.radians(xe_all[1:] - xe_all[:-1]))
    # the window the regions lie in, read straight from the source files
    win_y = np.nonzero((lat > 29.5) & (lat < 37.5))[0]
    win_x = np.nonzero((lon > -101) & (lon < -87))[0]
    i0, i1, j0, j1 = win_y[0], win_y[-1] + 1, win_x[0], win_x[-1] + 1
    x = []
    for p in files:
        with netCDF4.Dataset(p) as ds:
            v = ds[var]
            v.set_auto_maskandscale(False)
            x.append(np.asarray(v[0, i0:i1, j0:j1]))
    x = np.array(x, dtype=np.float32).astype(np.float64)
    x[x == FILL] = np.nan
    lat_w, lon_w = lat[i0:i1], lon[j0:j1]
    ye, xe = ye_all[i0:i1 + 1], xe_all[j0:j1 + 1]
    area = latf_all[i0:i1, None] * lonw_all[None, j0:j1]

    # the polygon smaller than a cell: inside the cell nearest (-88.05, 35.05), no centre
    ti = int(np.argmin(np.abs(lat_w - 35.05)))
    tj = int(np.argmin(np.abs(lon_w + 88.05)))
    cw, cs = min(xe[tj], xe[tj + 1]), min(ye[ti], ye[ti + 1])
    dx, dy = abs(xe[tj + 1] - xe[tj]), abs(ye[ti + 1] - ye[ti])
    tiny = [[cw + 0.1 * dx, cs + 0.1 * dy], [cw + 0.4 * dx, cs + 0.1 * dy],
            [cw + 0.2 * dx, cs + 0.4 * dy], [cw + 0.1 * dx, cs + 0.1 * dy]]
    tiny_frac = (0.3 * 0.3 / 2) * dx * dy / (dx * dy)
    feats = [
        ({"id": "basin-1"}, None, {"type": "Polygon", "coordinates": [[
            [-99.53, 31.07], [-97.02, 31.07], [-97.02, 33.51], [-97.71, 33.51],
            [-97.71, 31.83], [-98.84, 31.83], [-98.84, 33.51], [-99.53, 33.51],
            [-99.53, 31.07]]]}, "basin-1"),
        ({"name": "holed"}, None, {"type": "Polygon", "coordinates": [
            [[-96.03, 30.52], [-93.48, 30.52], [-93.48, 32.97], [-96.03, 32.97], [-96.03, 30.52]],
            [[-95.26, 31.23], [-95.26, 32.18], [-94.31, 32.18], [-94.31, 31.23],
             [-95.26, 31.23]]]}, "holed"),
        ({}, 7, {"type": "MultiPolygon", "coordinates": [
            [[[-92.97, 33.02], [-91.02, 33.02], [-92.01, 34.93], [-92.97, 33.02]]],
            [[[-90.48, 30.81], [-89.03, 31.42], [-90.12, 32.17], [-90.48, 30.81]]]]}, "7"),
        ({}, None, {"type": "Polygon", "coordinates": [tiny]}, "4"),
    ]
    tmp = tempfile.mkdtemp(prefix="floe-regions-")
    try:
        def feature(props, fid, geom):
            f = {"type": "Feature", "properties": dict(props), "geometry": geom}
            if fid is not None:
                f["id"] = fid
            return f
        gj = os.path.join(tmp, "basins.geojson")
        with open(gj, "w") as f:
            json.dump({"type": "FeatureCollection",
                       "features": [feature(p, i, g) for p, i, g, _ in feats]}, f)
        ids = [want for *_, want in feats]
        stats = "mean,min,max,sum,count"

        def series(np_, name, *args):
            out = os.path.join(tmp, name)
            r = floe_np(np_, "series", coll, "-v", var, "--region", gj, "--stat", stats,
                        *args, "-o", out)
            check(r.returncode == 0, f"{name}: exit {r.returncode}: {r.stderr.strip()}")
            return (load(out), r) if r.returncode == 0 else (None, r)

        # ---- centre weights: exact against numpy's centre mask
        got, r = series(0, "centre.nc")
        if got is not None and got[f"{var}_mean"].ndim != 2:
            check(False, f"VAR_mean(time, region): shape {got[f'{var}_mean'].shape}")
            got = None
        if got is not None:
            check(list(got["region_id"]) == ids, f"region ids {list(got['region_id'])} == {ids}")
            check(got[f"{var}_mean"].shape == (len(files), len(feats)),
                  f"VAR_mean(time, region): {got[f'{var}_mean'].shape}")
            LON, LAT = np.meshgrid(lon_w, lat_w)
            for k, (_, _, geom, rid) in enumerate(feats):
                mask = contains(geom, LON, LAT)
                cnt = got[f"{var}_count"][:, k]
                if not mask.any():
                    check(np.all(cnt == 0) and np.all(got[f"{var}_mean"][:, k] == FILL),
                          f"centre {rid}: no centre inside: missing series, count 0")
                    warned = [ln for ln in r.stderr.splitlines() if f"'{rid}'" in ln]
                    check(len(warned) == 1, f"centre {rid}: one warning line: {r.stderr!r}")
                    continue
                w = area[mask]
                vals = x[:, mask]
                valid = ~np.isnan(vals)
                n = valid.sum(axis=1)
                mean = np.nansum(vals * w, axis=1) / np.where(valid, w, 0).sum(axis=1)
                check(np.array_equal(cnt, n), f"centre {rid}: count equals numpy")
                g = got[f"{var}_mean"][:, k].astype(np.float64)
                err = np.max(np.abs(g - mean) / np.abs(mean))
                check(err < 2e-6, f"centre {rid}: mean relative error {err:.2e}")
                check(np.array_equal(got[f"{var}_min"][:, k], np.nanmin(vals, axis=1)
                                     .astype(np.float32)), f"centre {rid}: min equals numpy")
                check(np.array_equal(got[f"{var}_max"][:, k], np.nanmax(vals, axis=1)
                                     .astype(np.float32)), f"centre {rid}: max equals numpy")
                s = np.nansum(vals, axis=1)
                err = np.max(np.abs(got[f"{var}_sum"][:, k] - s) / np.abs(s))
                check(err < 2e-6, f"centre {rid}: sum relative error {err:.2e}")

        # ---- fraction weights: against the supersampling, within its bound
        outs = {}
        for np_ in (1, 2, 3):
            got_np, _ = series(np_, f"fraction-{np_}.nc", "--weights", "fraction")
            if got_np is not None:
                outs[np_] = got_np
        got = outs.get(1)
        if got is not None and got[f"{var}_mean"].ndim == 2:
            for k, (_, _, geom, rid) in enumerate(feats):
                f, bound = supersample(geom, ye, xe)
                may = (f + bound) > 0   # cells floe may weigh
                must = f > 0            # cells it must weigh
                w, wb = f * area, bound * area
                for t in range(len(files)):
                    xt = x[t]
                    ok = ~np.isnan(xt)
                    m = np.sum(w[ok] * xt[ok]) / np.sum(w[ok])
                    tol = 1.5 * np.sum(wb[ok] * np.abs(xt[ok] - m)) / np.sum(w[ok]) + 1e-6 * abs(m)
                    g = float(got[f"{var}_mean"][t, k])
                    if abs(g - m) > tol:
                        check(False, f"fraction {rid} step {t}: mean {g} vs {m} (tol {tol:.3g})")
                        break
                    s = np.sum(f[ok] * xt[ok])
                    stol = 1.5 * np.sum(bound[ok] * np.abs(xt[ok])) + 1e-6 * abs(s)
                    gs = float(got[f"{var}_sum"][t, k])
                    if abs(gs - s) > stol:
                        check(False, f"fraction {rid} step {t}: sum {gs} vs {s} (tol {stol:.3g})")
                        break
                    c = int(got[f"{var}_count"][t, k])
                    if not (np.sum(must & ok) <= c <= np.sum(may & ok)):
                        check(False, f"fraction {rid} step {t}: count {c} outside "
                                     f"[{np.sum(must & ok)}, {np.sum(may & ok)}]")
                        break
                    lo_min, hi_min = np.min(xt[may & ok]), np.min(xt[must & ok])
                    gmin, gmax = float(got[f"{var}_min"][t, k]), float(got[f"{var}_max"][t, k])
                    if not (lo_min <= gmin <= hi_min and
                            np.max(xt[must & ok]) <= gmax <= np.max(xt[may & ok])):
                        check(False, f"fraction {rid} step {t}: min/max {gmin}/{gmax}")
                        break
                else:
                    check(True, f"fraction {rid}: mean, sum, count, min, max within the "
                                f"supersampling bound, every step")
            # the polygon smaller than a cell: that cell's value, exact area
            k = ids.index("4")
            xv = x[:, ti, tj]
            check(np.allclose(got[f"{var}_mean"][:, k], xv, rtol=1e-7, atol=0),
                  "tiny: mean is its one cell's value")
            check(np.allclose(got[f"{var}_sum"][:, k], tiny_frac * xv, rtol=1e-6, atol=0),
                  "tiny: sum is the value x its exact fraction")
            check(np.all(got[f"{var}_count"][:, k] == 1), "tiny: count 1")
            for np_, o in outs.items():
                check(all(np.array_equal(o[v].view(np.uint8), got[v].view(np.uint8))
                          for v in got if v.startswith(var)),
                      f"fraction: np {np_} gives the same bytes as np 1")
            with netCDF4.Dataset(os.path.join(tmp, "fraction-1.nc")) as ds:
                check(getattr(ds, "floe_weights", None) == "fraction", "floe_weights attribute")

        # ---- ids: --region-id, and duplicates refused
        with open(gj) as f:
            doc = json.load(f)
        for k, ft in enumerate(doc["features"]):
            ft["properties"]["code"] = f"B{k:02d}"
        coded = os.path.join(tmp, "coded.geojson")
        with open(coded, "w") as f:
            json.dump(doc, f)
        out = os.path.join(tmp, "coded.nc")
        r = floe_np(0, "series", coll, "-v", var, "--region", coded, "--region-id", "code",
                    "-o", out)
        check(r.returncode == 0 and list(load(out)["region_id"]) ==
              [f"B{k:02d}" for k in range(len(feats))], f"--region-id code: {r.stderr.strip()}")
        doc["features"][2]["properties"]["id"] = "basin-1"
        dup = os.path.join(tmp, "dup.geojson")
        with open(dup, "w") as f:
            json.dump(doc, f)
        out = os.path.join(tmp, "dup.nc")
        r = floe_np(0, "series", coll, "-v", var, "--region", dup, "-o", out)
        lines = [ln for ln in r.stderr.splitlines() if ln.strip()]
        check(r.returncode != 0 and len(lines) == 1 and "features[0] and features[2]" in lines[0]
              and "basin-1" in lines[0] and not os.path.exists(out),
              f"duplicate ids: one line naming both: {r.stderr!r}")

        # ---- a station outside the grid
        inside_csv = os.path.join(tmp, "in.csv")
        mixed_csv = os.path.join(tmp, "mixed.csv")
        with open(inside_csv, "w") as f:
            f.write("lon,lat,id\n-97.31,32.72,fw\n-90.07,29.95,no\n")
        with open(mixed_csv, "w") as f:
            f.write("lon,lat,id\n-97.31,32.72,fw\n0.0,0.0,nowhere\n-90.07,29.95,no\n")
        a, b = os.path.join(tmp, "in.nc"), os.path.join(tmp, "mixed.nc")
        ra = floe_np(0, "series", coll, "-v", var, "--points", inside_csv, "-o", a)
        rb = floe_np(0, "series", coll, "-v", var, "--points", mixed_csv, "-o", b)
        warned = [ln for ln in rb.stderr.splitlines() if "nowhere" in ln]
        check(rb.returncode == 0 and len(warned) == 1 and "line 3" in warned[0],
              f"station outside: exit 0 and one warning naming it: {rb.stderr!r}")
        if ra.returncode == 0 and rb.returncode == 0:
            ga, gb = load(a)[var], load(b)[var]
            check(np.all(gb[:, 1] == FILL), "station outside: a missing series")
            check(np.array_equal(gb[:, [0, 2]], ga), "station outside: the others unchanged")
        once(coll, tb, lat, lon, var, tmp)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return summary()


def once(coll, tb, lat, lon, var, tmp):
    """Every chunk is fetched and decoded once for all regions: three
    overlapping boxes as one FeatureCollection read exactly the chunks
    that hold a centre of any of them (their union, worked out here from
    the test bed's chunk shape), once per step, at 1 and 2 ranks."""
    boxes = [(-99.2, 30.3, -95.1, 33.8), (-97.0, 31.1, -92.4, 35.2), (-98.3, 32.0, -94.0, 36.6)]
    fc = {"type": "FeatureCollection", "features": [
        {"type": "Feature", "properties": {"id": f"box{k}"}, "geometry": {"type": "Polygon", "coordinates": [[
            [w, s], [e, s], [e, n], [w, n], [w, s]]]}} for k, (w, s, e, n) in enumerate(boxes)]}
    gj = os.path.join(tmp, "overlap.geojson")
    with open(gj, "w") as f:
        json.dump(fc, f)
    _, cy, cx = tb["chunks"]
    union = set()
    for w, s, e, n in boxes:  # centres strictly inside: none lies on these edges
        ys = np.nonzero((lat > s) & (lat < n))[0]
        xs = np.nonzero((lon > w) & (lon < e))[0]
        union |= {(int(i) // cy, int(j) // cx) for i in ys for j in xs}
    steps = 4
    for np_ in (0, 2):
        out, rep = os.path.join(tmp, f"once{np_}.nc"), os.path.join(tmp, f"once{np_}-report.json")
        r = floe_np(np_, "series", coll, "-v", var, "--region", gj, "--time", "2001-01-03/2001-01-06",
                    "-o", out, "--report", rep)
        check(r.returncode == 0, f"overlapping regions at np {np_}: {r.stderr.strip()}")
        if r.returncode != 0:
            continue
        with open(rep) as f:
            total = json.load(f)["total"]
        want = steps * len(union)
        check(total["chunks"] == want and total["decoded_bytes"] == want * cy * cx * 4,
              f"np {np_}: {total['chunks']} chunks decoded ({total['decoded_bytes']} bytes), want "
              f"{want}: {steps} steps x the {len(union)} chunks of the regions' union")


if __name__ == "__main__":
    run(main, __doc__)
