#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
"""check_types_virtual.py TESTBED_DIR: data types read through VIRTUAL
references into legacy NetCDF-4/HDF5 files, against netCDF-C's reads.

netCDF4-python (netCDF-C and HDF5 underneath) writes two NetCDF-4 files of
three time steps each, holding (time, lat, lon) variables of several types:
int16 packed with double scale_factor/add_offset and _FillValue (shuffle +
zlib), int16 big-endian packed with float32 attributes, uint8, int32
(zlib) with a missing_value list, int8 with a scalar missing_value
(shuffle + zlib), float64 (shuffle + zlib) and a big-endian float32. One chunk of
every variable is never written (HDF5 allocates none: it reads as the
fill); lat and lon end in partial chunks. floe-hdf5-chunks (the test-bed
generator's H5Dget_chunk_info query) says where HDF5 put every chunk;
scripts/node/make_virtual_repo.mjs (the real Icechunk library) writes a
repository whose chunks are file:// virtual references to those bytes,
with the codecs VirtualiZarr declares (bytes in the variable's byte
order, numcodecs.shuffle, numcodecs.zlib). Checked, per variable:
  - extract: unpacked variables bit-identical in their own type to
    netCDF-C's raw read; packed ones equal, in the unpacked type, to
    netCDF4-python's masked and scaled read (fills NaN);
  - extract of a box and an interval (unpacked variables): the same
    slice of netCDF-C's read, bit-identical;
  - extract --keep-packing: the packed integers bit-identical to the raw
    read, scale_factor/add_offset/_FillValue kept;
  - stats --stat mean,count at np 1 and 2 (same bytes): mean against
    numpy in float64 on netCDF4-python's read, count integers equal.
The test bed is not read (only its presence is required by the harness).
Prints "N passed, N failed" last.
"""

import base64
import json
import os
import shutil
import subprocess
import tempfile

import netCDF4
import numpy as np

import reference
from testlib import check, floe_np, run, summary

ROOT = reference.ROOT
CHUNKS_TOOL = os.environ.get("FLOE_HDF5_CHUNKS",
                             os.path.join(ROOT, "build", "tests", "testbed", "floe-hdf5-chunks"))
FILES, NT_FILE, NY, NX = 2, 3, 5, 7
CHUNK = (3, 2, 3)                      # a file's whole time axis; partial lat/lon edges
UNWRITTEN = (1, 1, 1)                  # the chunk (file 1, row 1, column 1) never written
DAYS = [0, 10, 20, 31, 41, 59]
# lat 40, 40.25, .. 41 and lon -80, -79.75, .. -78.5 (cell centres): the box
# holds rows 1..3 and columns 2..4; the interval days 20..41 (steps 2..4).
SUBSET_BBOX, SUBSET_TIME = "-79.6,40.1,-78.9,40.8", "2001-01-15/2001-02-15"
SUBSET_CELLS = ((2, 5), (1, 4), (2, 5))

# name: numpy type, endian, shuffle, zlib level (0: none), attributes.
CASES = {
    "p16": ("i2", "little", True, 4, {"_FillValue": np.int16(-32767), "scale_factor": 0.01,
                                      "add_offset": 273.15, "units": "K"}),
    "p16_be": ("i2", "big", True, 1, {"_FillValue": np.int16(-32768),
                                      "scale_factor": np.float32(0.02),
                                      "add_offset": np.float32(250.0)}),
    "u8": ("u1", "little", False, 0, {"_FillValue": np.uint8(255)}),
    "i32": ("i4", "little", False, 6, {"_FillValue": np.int32(-2147483647),
                                       "missing_value": np.array([-1, 7], "i4")}),
    "i8": ("i1", "little", True, 2, {"_FillValue": np.int8(-127), "missing_value": np.int8(100)}),
    "f64": ("f8", "little", True, 5, {"_FillValue": 1e20}),
    "f32_be": ("f4", "big", False, 0, {"_FillValue": np.float32(-9999.0), "units": "K"}),
}


def is_packed(attrs):
    return "scale_factor" in attrs or "add_offset" in attrs


def unpacked_type(dtype, attrs):
    """float32 for data of at most 16 bits with float32 packing attributes,
    float64 otherwise (netCDF4-python's numpy arithmetic gives the same)."""
    small = np.dtype(dtype).itemsize <= 2
    f32 = all(np.asarray(attrs[k]).dtype == np.float32 for k in ("scale_factor", "add_offset")
              if k in attrs)
    return np.float32 if small and f32 else np.float64


def stats_type(dtype, attrs):
    if np.dtype(dtype) == np.float32 or (is_packed(attrs) and np.dtype(dtype).itemsize <= 2):
        return np.float32
    return np.float64


def source_values(name, dtype, rng):
    """The values of the whole (time, lat, lon) array, a fill placed in each file."""
    dt = np.dtype(dtype)
    shape = (FILES * NT_FILE, NY, NX)
    if dt.kind == "f":
        data = (rng.standard_normal(shape) * 20 + 280).astype(dt)
    elif name.startswith("p"):
        data = rng.integers(-3000, 3000, shape).astype(dt)
    else:
        info = np.iinfo(dt)
        data = rng.integers(info.min + 2, info.max - 1, shape, endpoint=True).astype(dt)
    attrs = CASES[name][4]
    data[0, 0, 0] = attrs["_FillValue"]
    data[NT_FILE + 2, NY - 1, NX - 1] = attrs["_FillValue"]
    for k, mv in enumerate(np.atleast_1d(attrs.get("missing_value", []))):
        data[1, 0, k] = data[NT_FILE, 2, k] = mv
    return data


def write_sources(srcdir, rng):
    """The NetCDF-4 files; each chunk written by itself, except UNWRITTEN."""
    full = {name: source_values(name, c[0], rng) for name, c in CASES.items()}
    paths = []
    for f in range(FILES):
        path = os.path.join(srcdir, f"legacy_{f}.nc")
        with netCDF4.Dataset(path, "w", format="NETCDF4") as ds:
            ds.createDimension("time", NT_FILE)
            ds.createDimension("lat", NY)
            ds.createDimension("lon", NX)
            for name, (dtype, endian, shuffle, level, attrs) in CASES.items():
                order = ">" if endian == "big" else "<"
                v = ds.createVariable(name, np.dtype(dtype).newbyteorder(order),
                                      ("time", "lat", "lon"), zlib=level > 0,
                                      complevel=level or 4, shuffle=shuffle, chunksizes=CHUNK,
                                      endian=endian, fill_value=attrs["_FillValue"])
                v.set_auto_maskandscale(False)
                for k, val in attrs.items():
                    if k != "_FillValue":
                        v.setncattr(k, val)
                block = full[name][f * NT_FILE:(f + 1) * NT_FILE]
                for y in range(0, NY, CHUNK[1]):
                    for x in range(0, NX, CHUNK[2]):
                        if (f, y // CHUNK[1], x // CHUNK[2]) != UNWRITTEN:
                            v[:, y:y + CHUNK[1], x:x + CHUNK[2]] = \
                                block[:, y:y + CHUNK[1], x:x + CHUNK[2]]
        paths.append(path)
    return paths


def chunk_index(path):
    r = subprocess.run([CHUNKS_TOOL, path, *CASES], capture_output=True, text=True)
    check(r.returncode == 0, f"floe-hdf5-chunks {os.path.basename(path)}: {r.stderr.strip()}")
    return json.loads(r.stdout) if r.returncode == 0 else None


def json_number(v):
    """A netCDF attribute value as JSON (exact: float32 widened to double)."""
    v = np.asarray(v)
    return [json_number(x) for x in v] if v.ndim else (
        float(v) if v.dtype.kind == "f" else int(v))


def zarr_meta(name):
    dtype, endian, shuffle, level, attrs = CASES[name]
    dt = np.dtype(dtype)
    codecs = [{"name": "bytes", "configuration": {"endian": endian}}]
    if shuffle:
        codecs.append({"name": "numcodecs.shuffle", "configuration": {"elementsize": dt.itemsize}})
    if level:
        codecs.append({"name": "numcodecs.zlib", "configuration": {"level": level}})
    return {"zarr_format": 3, "node_type": "array", "shape": [FILES * NT_FILE, NY, NX],
            "data_type": dt.name,
            "chunk_grid": {"name": "regular", "configuration": {"chunk_shape": list(CHUNK)}},
            "chunk_key_encoding": {"name": "default", "configuration": {"separator": "/"}},
            "fill_value": json_number(attrs["_FillValue"]), "codecs": codecs,
            "attributes": dict({k: json_number(v) if not isinstance(v, str) else v
                                for k, v in attrs.items()}, long_name=f"case {name}"),
            "dimension_names": ["time", "lat", "lon"]}


def coord(name, vals, dtype, attrs):
    meta = {"zarr_format": 3, "node_type": "array", "shape": [len(vals)], "data_type": dtype,
            "chunk_grid": {"name": "regular", "configuration": {"chunk_shape": [len(vals)]}},
            "chunk_key_encoding": {"name": "default", "configuration": {"separator": "/"}},
            "fill_value": "NaN", "codecs": [{"name": "bytes", "configuration": {"endian": "little"}}],
            "attributes": attrs, "dimension_names": [name]}
    return {"meta": json.dumps(meta), "chunks": {"c/0": base64.b64encode(vals.tobytes()).decode()}}


def build(tmp):
    """Sources, chunk index, repository; None when a step failed."""
    srcdir = os.path.join(tmp, "legacy")
    os.makedirs(srcdir)
    paths = write_sources(srcdir, np.random.default_rng(1207))
    arrays = {name: {"meta": json.dumps(zarr_meta(name)), "refs": []} for name in CASES}
    for f, path in enumerate(paths):
        index = chunk_index(path)
        if index is None:
            return None, None, None
        for name in CASES:
            keys = set()
            for c in index[name]:
                check(c["mask"] == 0, f"{name} file {f}: chunk {c['offset']} has every filter applied")
                t, y, x = (o // n for o, n in zip(c["offset"], CHUNK))
                keys.add((y, x))
                arrays[name]["refs"].append({"key": f"c/{f * (NT_FILE // CHUNK[0]) + t}/{y}/{x}",
                                             "location": "file://" + path,
                                             "offset": c["addr"], "length": c["size"]})
            if f == UNWRITTEN[0]:
                check(UNWRITTEN[1:] not in keys and len(keys) == -(-NY // CHUNK[1]) *
                      -(-NX // CHUNK[2]) - 1,
                      f"{name} file {f}: HDF5 allocated every chunk but the unwritten one")
    arrays["time"] = coord("time", np.array(DAYS, "<f8"), "float64",
                           {"units": "days since 2001-01-01", "calendar": "standard", "axis": "T"})
    arrays["lat"] = coord("lat", np.linspace(40, 41, NY).astype("<f4"), "float32",
                          {"units": "degrees_north"})
    arrays["lon"] = coord("lon", np.linspace(-80, -78.5, NX).astype("<f4"), "float32",
                          {"units": "degrees_east"})
    plan = os.path.join(tmp, "plan.json")
    with open(plan, "w") as fh:
        json.dump({"container": f"file://{srcdir}/", "arrays": arrays}, fh)
    repo = os.path.join(tmp, "repo")
    r = subprocess.run([os.path.join(ROOT, "scripts", "node", "run"), "make_virtual_repo.mjs",
                        repo, plan], capture_output=True, text=True)
    check(r.returncode == 0, f"make_virtual_repo: {r.stderr.strip()}")
    return (repo, srcdir, paths) if r.returncode == 0 else (None, None, None)


def netcdf_reads(paths, name):
    """netCDF-C through netCDF4-python: (raw stored values, masked and
    scaled values as float with NaN where masked, the decoded type)."""
    raws, decs = [], []
    for path in paths:
        with netCDF4.Dataset(path) as ds:
            v = ds[name]
            v.set_auto_maskandscale(False)
            raws.append(np.asarray(v[:]))
            v.set_auto_maskandscale(True)
            decs.append(v[:])
    dec = np.ma.concatenate(decs)
    return np.concatenate(raws), np.ma.filled(dec.astype(dec.dtype if dec.dtype.kind == "f"
                                                         else np.float64), np.nan), dec.dtype


def same_bits(a, b):
    a, b = np.asarray(a), np.asarray(b)
    return a.shape == b.shape and a.dtype == b.dtype and a.tobytes() == b.tobytes()


def read_out(path, name):
    with netCDF4.Dataset(path) as ds:
        v = ds[name]
        v.set_auto_maskandscale(False)
        return np.asarray(v[:]), {k: v.getncattr(k) for k in v.ncattrs()}


def check_extract(repo, tmp, allow, name, raw, dec, dec_type):
    dtype, _, _, _, attrs = CASES[name]
    out = os.path.join(tmp, f"x-{name}.nc")
    r = floe_np(0, "extract", repo, "-v", name, *allow, "-o", out, "-q")
    check(r.returncode == 0, f"extract {name}: {r.stderr.strip()}")
    if r.returncode:
        return
    got, natt = read_out(out, name)
    if not is_packed(attrs):
        check(same_bits(got, raw.astype(raw.dtype.newbyteorder("="))),
              f"extract {name}: {got.dtype} values bit-identical to netCDF-C's read ({raw.dtype})")
        check_subset(repo, tmp, allow, name, raw)
        return
    ut = unpacked_type(dtype, attrs)
    check(dec_type == ut, f"extract {name}: netCDF4-python unpacks to {np.dtype(ut)} too "
          f"(got {dec_type})")
    want = dec.astype(ut)
    check(got.dtype == ut, f"extract {name}: written as {np.dtype(ut)}, got {got.dtype}")
    check(np.array_equal(got, want, equal_nan=True),
          f"extract {name}: unpacked values equal netCDF4-python's "
          f"({np.sum(~((got == want) | (np.isnan(got) & np.isnan(want))))} differ)")
    check("scale_factor" not in natt and "add_offset" not in natt,
          f"extract {name}: no packing attributes on unpacked values: {sorted(natt)}")
    keep = os.path.join(tmp, f"xk-{name}.nc")
    r = floe_np(0, "extract", repo, "-v", name, "--keep-packing", *allow, "-o", keep, "-q")
    check(r.returncode == 0, f"extract --keep-packing {name}: {r.stderr.strip()}")
    if r.returncode:
        return
    got, katt = read_out(keep, name)
    check(same_bits(got, raw.astype(raw.dtype.newbyteorder("="))),
          f"extract --keep-packing {name}: the packed integers, bit-identical")
    for k in ("scale_factor", "add_offset", "_FillValue"):
        check(k in katt and katt[k] == attrs[k] and
              np.asarray(katt[k]).dtype == np.asarray(attrs[k]).dtype.newbyteorder("="),
              f"extract --keep-packing {name}: {k} kept ({katt.get(k)!r})")


def check_subset(repo, tmp, allow, name, raw):
    """A box and an interval that cut chunks and cross the two files."""
    out = os.path.join(tmp, f"xs-{name}.nc")
    r = floe_np(0, "extract", repo, "-v", name, "--bbox", SUBSET_BBOX, "--time", SUBSET_TIME,
                *allow, "-o", out, "-q")
    check(r.returncode == 0, f"extract {name} subset: {r.stderr.strip()}")
    if r.returncode:
        return
    got, _ = read_out(out, name)
    t, y, x = SUBSET_CELLS
    want = raw[t[0]:t[1], y[0]:y[1], x[0]:x[1]]
    check(same_bits(got, want.astype(want.dtype.newbyteorder("="))),
          f"extract {name} subset: steps {t}, rows {y}, columns {x} as netCDF-C reads them")


def check_stats(repo, tmp, allow, name, dec):
    dtype, _, _, _, attrs = CASES[name]
    otype = stats_type(dtype, attrs)
    runs = {}
    for np_ in (1, 2):
        out = os.path.join(tmp, f"s-{name}-{np_}.nc")
        r = floe_np(np_, "stats", repo, "-v", name, "--stat", "mean,count", *allow, "-o", out, "-q")
        check(r.returncode == 0, f"stats {name} np {np_}: {r.stderr.strip()}")
        if r.returncode == 0:
            runs[np_] = {s: read_out(out, f"{name}_{s}") for s in ("mean", "count")}
    if not runs:
        return
    if len(runs) == 2:
        check(all(same_bits(runs[1][s][0], runs[2][s][0]) for s in ("mean", "count")),
              f"stats {name}: np 2 bytes equal np 1's")
    (mean, matt), (count, _) = runs[min(runs)]["mean"], runs[min(runs)]["count"]
    mean, count = mean[0], count[0]
    vals = dec.astype(np.float64)
    want_count = np.sum(~np.isnan(vals), axis=0)
    with np.errstate(all="ignore"):
        want_mean = np.nansum(np.nan_to_num(vals), axis=0) / want_count
    check(count.dtype.kind in "iu" and np.array_equal(count, want_count),
          f"stats {name}_count: integers equal to numpy")
    check(mean.dtype == otype, f"stats {name}_mean: written as {np.dtype(otype)}, got {mean.dtype}")
    fill = matt.get("_FillValue", np.nan)
    gotm = np.where(np.isnan(mean) | (mean == fill), np.nan, mean.astype(np.float64))
    empty = want_count == 0
    check(np.array_equal(np.isnan(gotm), empty), f"stats {name}_mean: missing exactly where "
          "numpy has no value")
    ok = ~empty
    rtol = 2e-6 if otype == np.float32 else 1e-12
    err = np.max(np.abs(gotm[ok] - want_mean[ok]) / np.maximum(np.abs(want_mean[ok]), 1.0))
    check(err <= rtol, f"stats {name}_mean: equals numpy to {rtol} (relative error {err:g})")


def main(_tbdir):
    if not os.access(CHUNKS_TOOL, os.X_OK):
        print(f"FAIL: {CHUNKS_TOOL} is not built (FLOE_BUILD_TESTBED)")
        return 1
    tmp = tempfile.mkdtemp(prefix="floe-vtypes-")
    try:
        repo, srcdir, paths = build(tmp)
        if repo is None:
            return summary()
        allow = ["--allow", f"file://{srcdir}/"]
        for name in CASES:
            raw, dec, dec_type = netcdf_reads(paths, name)
            check(np.isnan(dec).any() and not np.isnan(dec).all(),
                  f"{name}: netCDF-C's read has fills and values")
            check_extract(repo, tmp, allow, name, raw, dec, dec_type)
            check_stats(repo, tmp, allow, name, dec)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return summary()


if __name__ == "__main__":
    run(main, __doc__)
