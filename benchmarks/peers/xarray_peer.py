#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
"""xarray_peer.py: the benchmark workloads with xarray + dask + fsspec
``reference://`` (Debian's Python stack), reading the test bed's chunks over
HTTP from the S3 stand-in through a kerchunk-style reference set
(make_refs.py). dask runs its threaded scheduler with one thread per core.

    xarray_peer.py --refs REFS.json --workload W1..W5,W7 --vars V[,V]
                   [--bbox W,S,E,N] [--points FILE.csv] [--time T0/T1]
                   [--labels LABELS.npy] [--threads N] --out DIR

W7 (many regions): LABELS.npy holds, for every cell, the region its centre
lies in (-1: none), rasterised once from the polygons as regionmask does
(benchmarks/peers/basins.py); each chunk is then reduced to per-region
area-weighted sums with numpy's bincount, in dask tasks.

--time bounds are ISO instants, both inclusive. The answer goes to DIR in
the harness's exchange format (answer.json + little-endian float64 files),
missing values as NaN. Nothing here knows floe's answer.
"""

import argparse
import json
import os

import dask
import numpy as np
import xarray as xr


def write_answer(out, arrays):
    os.makedirs(out, exist_ok=True)
    index = {}
    for name, a in arrays.items():
        a = np.ascontiguousarray(np.asarray(a, dtype="<f8"))
        a.tofile(os.path.join(out, name + ".f64"))
        index[name] = {"file": name + ".f64", "shape": list(a.shape)}
    with open(os.path.join(out, "answer.json"), "w") as fh:
        json.dump({"arrays": index}, fh)


def hours_since_2001(times):
    return (times.values - np.datetime64("2001-01-01T00:00:00")) / np.timedelta64(1, "h")


def cell_weights(lat):
    """Area of a 0.01-degree cell on the sphere, up to a constant: the lon
    width is the same for every cell, so only sin(north) - sin(south)."""
    lat = np.asarray(lat, dtype=np.float64)
    step = float(np.median(np.diff(lat)))
    return np.sin(np.deg2rad(lat + step / 2)) - np.sin(np.deg2rad(lat - step / 2))


def region_means(da, labels):
    """Per step and region, the area-weighted mean of the valid cells whose
    centres lie in the region: (time, region), NaN where none is valid."""
    nreg = int(labels.max()) + 1
    wts = np.broadcast_to(cell_weights(da.lat.values)[:, None], labels.shape)
    arr = da.data  # dask (time, lat, lon), one task per source chunk
    ychunks, xchunks = arr.chunks[1], arr.chunks[2]
    y_at = np.concatenate([[0], np.cumsum(ychunks)])
    x_at = np.concatenate([[0], np.cumsum(xchunks)])

    def part(block, lab, w):
        x = block.reshape(lab.shape)
        ok = (lab >= 0) & ~np.isnan(x)
        return np.stack([np.bincount(lab[ok], weights=(w * x)[ok], minlength=nreg),
                         np.bincount(lab[ok], weights=w[ok], minlength=nreg)])

    blocks = arr.to_delayed()
    tasks = []
    for t in range(blocks.shape[0]):
        row = []
        for i in range(blocks.shape[1]):
            for j in range(blocks.shape[2]):
                ys, xs = slice(y_at[i], y_at[i + 1]), slice(x_at[j], x_at[j + 1])
                lab = labels[ys, xs]
                if (lab >= 0).any():
                    row.append(dask.delayed(part)(blocks[t, i, j], lab, wts[ys, xs]))
        tasks.append(row)
    parts = dask.compute(*[dask.delayed(sum)(r) for r in tasks])
    out = np.full((len(parts), nreg), np.nan)
    for t, p in enumerate(parts):
        has = p[1] > 0
        out[t, has] = p[0][has] / p[1][has]
    return out


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--refs", required=True)
    ap.add_argument("--workload", required=True)
    ap.add_argument("--vars", required=True)
    ap.add_argument("--bbox")
    ap.add_argument("--points")
    ap.add_argument("--time")
    ap.add_argument("--labels")
    ap.add_argument("--threads", type=int, default=os.cpu_count())
    ap.add_argument("--out", required=True)
    a = ap.parse_args()

    dask.config.set(scheduler="threads", num_workers=a.threads)
    ds = xr.open_dataset("reference://", engine="zarr", chunks={},
                         backend_kwargs={"consolidated": False,
                                         "storage_options": {"fo": a.refs, "remote_protocol": "http"}})
    names = a.vars.split(",")
    if a.time:
        t0, t1 = (s.rstrip("Z") for s in a.time.split("/"))
        ds = ds.sel(time=slice(t0, t1))
    if a.bbox:
        w, s, e, n = (float(x) for x in a.bbox.split(","))
        # lat and lon ascend; label slices are inclusive at both ends.
        ds = ds.sel(lat=slice(s, n), lon=slice(w, e))

    w = a.workload
    if w == "W1":
        arrays = {names[0]: ds[names[0]].values}
    elif w == "W2":
        pts = []
        for line in open(a.points):
            f = line.strip().split(",")
            if len(f) >= 2:
                pts.append((float(f[0]), float(f[1])))
        lons = xr.DataArray([p[0] for p in pts], dims="station")
        lats = xr.DataArray([p[1] for p in pts], dims="station")
        # The cell that contains the point: the nearest centre on a regular grid.
        da = ds[names[0]].sel(lon=lons, lat=lats, method="nearest")
        arrays = {names[0]: da.transpose("time", "station").values, "time": hours_since_2001(ds.time)}
    elif w == "W3":
        da = ds[names[0]]
        wts = xr.DataArray(cell_weights(ds.lat.values), dims="lat", coords={"lat": ds.lat})
        # weighted() skips NaN (missing) cells and renormalises by their weights.
        m = da.weighted(wts).mean(("lat", "lon"))
        arrays = {names[0] + "_mean": m.values, "time": hours_since_2001(ds.time)}
    elif w == "W4":
        da = ds[names[0]]
        mean, mn, mx = dask.compute(da.mean("time"), da.min("time"), da.max("time"))
        arrays = {names[0] + "_mean": mean.values, names[0] + "_min": mn.values, names[0] + "_max": mx.values}
    elif w == "W5":
        clim = ds[names].groupby("time.month").mean("time").compute()
        arrays = {v + "_mean": clim[v].values for v in names}
        arrays["month"] = clim["month"].values.astype(np.float64)
    elif w == "W7":
        arrays = {names[0] + "_mean": region_means(ds[names[0]], np.load(a.labels)),
                  "time": hours_since_2001(ds.time)}
    else:
        raise SystemExit(f"xarray_peer: unknown workload {w}")
    write_answer(a.out, arrays)


if __name__ == "__main__":
    main()
