#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
"""make_refs.py: a kerchunk-style reference set (fsspec ``reference://``,
version 1 JSON) for the test bed, so that xarray + zarr 2 + fsspec read the
same chunk bytes over HTTP that floe and Icechunk read.

    make_refs.py TESTBED_DIR ENDPOINT OUT.json [--vars Tair,Rainf]

The chunk byte ranges come from TESTBED_DIR/testbed.json (what the generator
recorded with H5Dget_chunk_info, the same ranges the Icechunk repository
holds). The codecs are not assumed: they are read from the first source
file's HDF5 filter pipeline (shuffle + deflate here, which zarr 2 spells
filters=[shuffle], compressor=zlib). Coordinates (time, lat, lon) are read
from the NetCDF files themselves and stored inline, as kerchunk does for
small arrays. Chunk URLs are ENDPOINT/BUCKET/KEY (path-style, the stand-in).
"""

import argparse
import base64
import json
import os
import sys

import netCDF4
import numpy as np


def inline(arr):
    return "base64:" + base64.b64encode(np.ascontiguousarray(arr).tobytes()).decode()


def zarray(shape, chunks, dtype, fill, compressor=None, filters=None):
    return json.dumps({"zarr_format": 2, "shape": list(shape), "chunks": list(chunks),
                       "dtype": dtype, "fill_value": fill, "order": "C",
                       "compressor": compressor, "filters": filters})


def codecs_of(var):
    """zarr 2 (filters, compressor) equivalent to the HDF5 pipeline of var."""
    f = var.filters() or {}
    unsupported = [k for k in ("szip", "zstd", "bzip2", "blosc", "fletcher32") if f.get(k)]
    if unsupported:
        sys.exit(f"make_refs: {var.name}: HDF5 filters {unsupported} have no mapping here")
    filters = [{"id": "shuffle", "elementsize": var.dtype.itemsize}] if f.get("shuffle") else None
    # HDF5's deflate filter writes a zlib stream (header + adler32): numcodecs zlib.
    compressor = {"id": "zlib", "level": int(f.get("complevel") or 1)} if f.get("zlib") else None
    return filters, compressor


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("testbed")
    ap.add_argument("endpoint")
    ap.add_argument("out")
    ap.add_argument("--vars", default=None)
    a = ap.parse_args()

    tb = json.load(open(os.path.join(a.testbed, "testbed.json")))
    root = os.path.join(a.testbed, "s3", tb["bucket"])
    files = tb["files"]
    names = a.vars.split(",") if a.vars else [v["name"] for v in tb["variables"]]
    cy, cx = tb["chunks"][1], tb["chunks"][2]
    ny, nx, nt = tb["ny"], tb["nx"], len(files)
    gx = (nx + cx - 1) // cx
    base = a.endpoint.rstrip("/") + "/" + tb["bucket"] + "/"

    refs = {".zgroup": json.dumps({"zarr_format": 2}),
            ".zattrs": json.dumps({k: v for k, v in tb["global_attrs"].items()})}

    # Coordinates from the files (one file for lat/lon, every file's time).
    with netCDF4.Dataset(os.path.join(root, files[0]["key"])) as ds:
        ds.set_auto_maskandscale(False)
        lat = np.asarray(ds["lat"][:], dtype="<f4")
        lon = np.asarray(ds["lon"][:], dtype="<f4")
        coord_attrs = {c: {k: ds[c].getncattr(k) for k in ds[c].ncattrs()} for c in ("time", "lat", "lon")}
        var_meta = {}
        for n in names:
            v = ds[n]
            if v.chunking() != [1, cy, cx]:
                sys.exit(f"make_refs: {n}: file chunks {v.chunking()} differ from testbed.json {tb['chunks']}")
            fill = float(v.getncattr("_FillValue"))
            attrs = {k: (v.getncattr(k).item() if hasattr(v.getncattr(k), "item") else v.getncattr(k))
                     for k in v.ncattrs() if k != "_FillValue"}
            var_meta[n] = (codecs_of(v), fill, attrs)
    time = np.empty(nt, dtype="<f8")
    for t, f in enumerate(files):
        with netCDF4.Dataset(os.path.join(root, f["key"])) as ds:
            time[t] = ds["time"][0]

    def attrs_json(d, dims):
        out = {"_ARRAY_DIMENSIONS": dims}
        for k, v in d.items():
            out[k] = v.item() if hasattr(v, "item") else v
        return json.dumps(out)

    for name, arr, dt in (("time", time, "<f8"), ("lat", lat, "<f4"), ("lon", lon, "<f4")):
        refs[f"{name}/.zarray"] = zarray(arr.shape, arr.shape, dt, None)
        refs[f"{name}/.zattrs"] = attrs_json(coord_attrs[name], [name])
        refs[f"{name}/0"] = inline(arr)

    for n in names:
        (filters, compressor), fill, attrs = var_meta[n]
        refs[f"{n}/.zarray"] = zarray((nt, ny, nx), (1, cy, cx), "<f4", fill, compressor, filters)
        refs[f"{n}/.zattrs"] = attrs_json(attrs, ["time", "lat", "lon"])
        for t, f in enumerate(files):
            url = base + f["key"]
            for i, e in enumerate(f["chunks"][n]):
                if e is None:
                    continue  # never written: zarr reads it as the fill value
                refs[f"{n}/{t}.{i // gx}.{i % gx}"] = [url, int(e[0]), int(e[1])]

    tmp = a.out + ".tmp"
    with open(tmp, "w") as fh:
        json.dump({"version": 1, "refs": refs}, fh)
    os.replace(tmp, a.out)


if __name__ == "__main__":
    main()
