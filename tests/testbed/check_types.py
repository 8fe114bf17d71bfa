#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
"""check_types.py TESTBED_DIR: every Zarr v3 numeric data type as a source
of extract, stats and climatology.

A repository written by the real Icechunk library (scripts/node/
make_types_repo.mjs; gzip, zstd and blosc by numcodecs) holds one
(time, lat, lon) array per case: bool, int8..int64, uint8..uint64,
float16, float32, float64, little- and big-endian, fill values spelled as
numbers, "NaN", "-Infinity" and hex bits, CF _FillValue / missing_value as
scalars and lists, CF packing (scale_factor/add_offset) unpacked to float32
or float64, a transpose codec, partial edge chunks on every axis and one
missing chunk. The expected values are numpy's, from the bytes this test
made:
  - extract: unpacked sources bit-identical in their own type (float16 as
    float32); packed sources unpacked in the unpacked type, packed fills
    masked (NaN); with --keep-packing the packed integers and their
    scale_factor/add_offset, bit-identical;
  - stats (every statistic) and climatology (--by month) against numpy in
    float64, written float32 for float16/float32 and 8/16-bit packed
    sources, float64 otherwise; count an integer variable with units "1"
    and no standard_name; the same bytes at np 1, 2 and 3;
  - series over a region (area-weighted mean, min, max, sum, count) and at
    two points (nearest cell), written in the same types, against numpy;
    the same bytes at np 1, 2 and 3;
  - a resampled float32 series (--resample month) does not depend on the
    other variables requested: -v f32_be and -v f32_be,f64 (a float64
    variable: results computed in double) give the same f32_be bytes.
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
from testlib import check, floe_np, load, run, summary

ROOT = reference.ROOT
NT, NY, NX = 6, 5, 7
CT, CY, CX = 2, 2, 3
DAYS = [0, 10, 20, 31, 41, 59]          # Jan x3, Feb x2, Mar x1 of 2001
MISSING_CHUNK = "c/1/1/1"
F32 = lambda x: float(np.float32(x))     # a number as a float32 attribute stores it


def meta(shape, chunks, dtype, fill, codecs, attrs, dims):
    return {"zarr_format": 3, "node_type": "array", "shape": shape, "data_type": dtype,
            "chunk_grid": {"name": "regular", "configuration": {"chunk_shape": chunks}},
            "chunk_key_encoding": {"name": "default", "configuration": {"separator": "/"}},
            "fill_value": fill, "codecs": codecs, "attributes": attrs, "dimension_names": dims}


def bytes_codec(endian):
    return {"name": "bytes", "configuration": {"endian": endian}}


# name: dtype, endian, compressors, Zarr fill (JSON) and its value, attributes,
# transpose. Data avoid every missing value except where placed on purpose.
CASES = {
    "b_bool": ("bool", "little", [], False, False, {}, False),
    "i8": ("int8", "little", [], -128, -128, {"_FillValue": -128}, False),
    "i16_be": ("int16", "big", [{"name": "gzip", "configuration": {"level": 5}}], -32768, -32768,
               {"_FillValue": -32768, "missing_value": [-9999, -9998]}, False),
    "i32": ("int32", "little", [{"name": "zstd", "configuration": {"level": 3, "checksum": False}}],
            2147483647, 2147483647, {"missing_value": 2147483647}, False),
    "i64_be": ("int64", "big", [{"name": "blosc", "configuration": {
        "cname": "lz4", "clevel": 5, "shuffle": "shuffle", "typesize": 8, "blocksize": 0}}],
               -9223372036854775808, -9223372036854775808, {"_FillValue": -9223372036854775808},
               False),
    "u8_t": ("uint8", "little", [{"name": "zstd", "configuration": {"level": 1, "checksum": False}}],
             255, 255, {"_FillValue": 255}, True),
    "u16_be": ("uint16", "big", [], 65535, 65535, {"_FillValue": 65535}, False),
    "u32": ("uint32", "little", [{"name": "blosc", "configuration": {
        "cname": "zstd", "clevel": 3, "shuffle": "noshuffle", "typesize": 4, "blocksize": 0}}],
            4294967295, 4294967295, {}, False),
    "u64_be": ("uint64", "big", [{"name": "gzip", "configuration": {"level": 1}}],
               18446744073709551615, 18446744073709551615, {"_FillValue": 18446744073709551615},
               True),
    "f16": ("float16", "little", [], "NaN", np.nan, {"_FillValue": "NaN"}, False),
    "f16_be": ("float16", "big", [{"name": "zstd", "configuration": {"level": 3, "checksum": False}}],
               "0x7e00", np.nan, {}, False),
    "f32_be": ("float32", "big", [{"name": "gzip", "configuration": {"level": 5}}],
               "0x7fc00000", np.nan, {"_FillValue": "NaN", "units": "K"}, False),
    "f32_inf": ("float32", "little", [], "-Infinity", -np.inf, {"_FillValue": "-Infinity"}, True),
    "f64": ("float64", "little", [{"name": "zstd", "configuration": {"level": 3, "checksum": False}}],
            "NaN", np.nan, {"missing_value": 1e20}, False),
    "f64_be": ("float64", "big", [], -9999.0, -9999.0, {"_FillValue": [-9999.0]}, False),
    # packed: unpacked type float64 (a double scale), float32 (float32 attributes
    # on 8/16-bit data), float64 (32-bit data always)
    "p16_f64": ("int16", "little", [{"name": "zstd", "configuration": {"level": 3, "checksum": False}}],
                -32767, -32767, {"_FillValue": -32767, "scale_factor": 0.01, "add_offset": 273.15,
                                 "units": "K", "standard_name": "air_temperature"}, False),
    "p16_f32": ("int16", "big", [], -32768, -32768,
                {"_FillValue": -32768, "missing_value": -32767, "scale_factor": F32(0.02),
                 "add_offset": F32(250.0)}, True),
    "p8_f32": ("uint8", "little", [{"name": "gzip", "configuration": {"level": 5}}], 255, 255,
               {"_FillValue": 255, "scale_factor": F32(0.5)}, False),
    "p32_f64": ("int32", "big", [], -2147483648, -2147483648,
                {"_FillValue": -2147483648, "scale_factor": 0.001, "add_offset": 0.0}, False),
}


def is_packed(attrs):
    return "scale_factor" in attrs or "add_offset" in attrs


def unpacked_type(dtype, attrs):
    """float32 when the data are at most 16 bits and every packing attribute
    is a float32 value; float64 otherwise (the rule the README states)."""
    small = np.dtype(dtype).itemsize <= 2
    exact = all(F32(attrs[k]) == attrs[k] for k in ("scale_factor", "add_offset") if k in attrs)
    return np.float32 if small and exact else np.float64


def stats_type(dtype, attrs):
    """float32 for float16/float32 sources and 8/16-bit packed ones, else float64."""
    if dtype in ("float16", "float32"):
        return np.float32
    if is_packed(attrs) and np.dtype(dtype).itemsize <= 2:
        return np.float32
    return np.float64


def make_data(name, dtype, rng):
    """The stored values (the missing chunk's cells become the fill later)."""
    dt = np.dtype(dtype)
    shape = (NT, NY, NX)
    if dt == np.bool_:
        return rng.integers(0, 2, shape).astype(bool)
    if dt.kind == "f":
        return (rng.standard_normal(shape) * 20 + 280).astype(dt)
    if name.startswith("p"):
        return rng.integers(0, 2500, shape).astype(dt)
    info = np.iinfo(dt)
    if dt.itemsize == 8:   # beyond 2^53: extract must still be exact
        lo = info.max // 4 if dt.kind == "u" else -(2 ** 60)
        return rng.integers(lo, lo + 2 ** 62 if dt.kind == "u" else 2 ** 60, shape,
                            dtype=dt, endpoint=False)
    return rng.integers(info.min + 2, info.max - 1, shape).astype(dt)


def place_missing(name, data, attrs):
    """Put each CF missing value somewhere (cell (0, 0, k), k = 0, 1, ...)."""
    vals = []
    for key in ("_FillValue", "missing_value"):
        v = attrs.get(key)
        vals += v if isinstance(v, list) else ([] if v is None else [v])
    for k, v in enumerate(vals):
        data[0, 0, k] = np.float64(v) if isinstance(v, str) else v
    if data.dtype.kind == "f":
        data[1, 1, 1] = np.nan
    if name.startswith("i") or name.startswith("u"):
        data[2, 4, 6] = 0  # an ordinary zero


def chunk_bytes(full, fillv, t0, y0, x0, endian, transpose):
    block = np.full((CT, CY, CX), fillv, dtype=full.dtype)
    part = full[t0:t0 + CT, y0:y0 + CY, x0:x0 + CX]
    block[:part.shape[0], :part.shape[1], :part.shape[2]] = part
    if transpose:
        block = block.transpose(2, 1, 0)
    order = ">" if endian == "big" else "<"
    return np.ascontiguousarray(block).astype(block.dtype.newbyteorder(order)).tobytes()


def build(tmp):
    """The plan, the repository, and each case's stored values as read."""
    rng = np.random.default_rng(12)
    arrays, stored = {}, {}
    for name, (dtype, endian, comps, zfill, zfillv, attrs, transpose) in CASES.items():
        data = make_data(name, dtype, rng)
        place_missing(name, data, attrs)
        codecs = ([{"name": "transpose", "configuration": {"order": [2, 1, 0]}}] if transpose
                  else []) + [bytes_codec(endian)] + comps
        chunks = {}
        for t in range(0, NT, CT):
            for y in range(0, NY, CY):
                for x in range(0, NX, CX):
                    key = f"c/{t // CT}/{y // CY}/{x // CX}"
                    if key != MISSING_CHUNK:
                        chunks[key] = base64.b64encode(
                            chunk_bytes(data, zfillv, t, y, x, endian, transpose)).decode()
        data[CT:2 * CT, CY:2 * CY, CX:2 * CX] = zfillv  # the missing chunk reads as the fill
        stored[name] = data
        arrays[name] = {"meta": json.dumps(meta([NT, NY, NX], [CT, CY, CX], dtype, zfill, codecs,
                                                dict(attrs, long_name=f"case {name}"),
                                                ["time", "lat", "lon"])), "chunks": chunks}
    coords = {"time": (np.array(DAYS, "<f8"), "float64",
                       {"units": "days since 2001-01-01", "calendar": "standard", "axis": "T"}),
              "lat": (np.linspace(40, 41, NY).astype("<f4"), "float32", {"units": "degrees_north"}),
              "lon": (np.linspace(-80, -78.5, NX).astype("<f4"), "float32",
                      {"units": "degrees_east"})}
    for name, (vals, dtype, attrs) in coords.items():
        arrays[name] = {"meta": json.dumps(meta([len(vals)], [len(vals)], dtype, "NaN",
                                                [bytes_codec("little")], attrs, [name])),
                        "chunks": {"c/0": base64.b64encode(vals.tobytes()).decode()}}
    plan = os.path.join(tmp, "plan.json")
    with open(plan, "w") as f:
        json.dump({"arrays": arrays}, f)
    repo = os.path.join(tmp, "repo")
    r = subprocess.run([os.path.join(ROOT, "scripts", "node", "run"), "make_types_repo.mjs", repo,
                        plan], capture_output=True, text=True)
    check(r.returncode == 0, f"make_types_repo: {r.stderr.strip()}")
    return repo, stored


def missing_values(name):
    dtype, _, _, _, zfillv, attrs, _ = CASES[name]
    vals = []
    for key in ("_FillValue", "missing_value"):
        v = attrs.get(key)
        vals += v if isinstance(v, list) else ([] if v is None else [v])
    if dtype != "bool":
        vals.append(zfillv)  # floe masks the Zarr fill too (as xarray does for Zarr v2)
    return vals


def decoded(name, stored):
    """Physical values, NaN where missing: masks compared in the stored type,
    then unpacked in the unpacked type (as xarray does)."""
    dtype, _, _, _, _, attrs, _ = CASES[name]
    x = stored
    mask = np.isnan(x) if x.dtype.kind == "f" else np.zeros(x.shape, bool)
    for m in missing_values(name):
        mv = np.float64(m) if isinstance(m, str) else m
        if x.dtype.kind == "f":
            if not np.isnan(mv):
                mask |= x == np.array(mv).astype(x.dtype)
        elif x.dtype != np.bool_:
            mask |= x == np.array(mv).astype(x.dtype)
    if is_packed(attrs):
        ut = unpacked_type(dtype, attrs)
        y = x.astype(ut)
        if "scale_factor" in attrs:
            y = y * ut(attrs["scale_factor"])
        if "add_offset" in attrs:
            y = y + ut(attrs["add_offset"])
    else:
        y = x.astype(np.float64)
    y = y.astype(np.float64)
    y[mask] = np.nan
    return y


def same_bits(a, b):
    a, b = np.asarray(a), np.asarray(b)
    return a.shape == b.shape and a.dtype == b.dtype and a.tobytes() == b.tobytes()


def check_extract(repo, tmp, name, stored):
    dtype, _, _, _, _, attrs, _ = CASES[name]
    out = os.path.join(tmp, f"x-{name}.nc")
    r = floe_np(0, "extract", repo, "-v", name, "-o", out, "-q")
    check(r.returncode == 0, f"extract {name}: {r.stderr.strip()}")
    if r.returncode:
        return
    with netCDF4.Dataset(out) as ds:
        v = ds[name]
        v.set_auto_maskandscale(False)
        got = np.asarray(v[:])
        natt = {k: v.getncattr(k) for k in v.ncattrs()}
    if not is_packed(attrs):
        want = stored.astype(np.float32) if dtype == "float16" else \
            stored.astype(np.uint8) if dtype == "bool" else stored
        check(same_bits(got, want.astype(want.dtype.newbyteorder("="))),
              f"extract {name}: {got.dtype} values bit-identical to the source ({want.dtype})")
    else:
        ut = unpacked_type(dtype, attrs)
        want = decoded(name, stored).astype(ut)
        check(got.dtype == ut, f"extract {name}: written as {np.dtype(ut)}, got {got.dtype}")
        check(np.array_equal(got, want, equal_nan=True) and got.dtype == want.dtype,
              f"extract {name}: unpacked values equal numpy's "
              f"({np.sum(~((got == want) | (np.isnan(got) & np.isnan(want))))} differ)")
        check("scale_factor" not in natt and "add_offset" not in natt,
              f"extract {name}: no packing attributes on unpacked values: {sorted(natt)}")
        check(np.isnan(natt.get("_FillValue", 0.0)), f"extract {name}: _FillValue NaN")
        keep = os.path.join(tmp, f"xk-{name}.nc")
        r = floe_np(0, "extract", repo, "-v", name, "--keep-packing", "-o", keep, "-q")
        check(r.returncode == 0, f"extract --keep-packing {name}: {r.stderr.strip()}")
        if r.returncode:
            return
        with netCDF4.Dataset(keep) as ds:
            v = ds[name]
            v.set_auto_maskandscale(False)
            got = np.asarray(v[:])
            katt = {k: v.getncattr(k) for k in v.ncattrs()}
            sf_type = v.getncattr("scale_factor").dtype if "scale_factor" in katt else None
        check(same_bits(got, stored.astype(stored.dtype.newbyteorder("="))),
              f"extract --keep-packing {name}: the packed integers, bit-identical")
        for k in ("scale_factor", "add_offset"):
            if k in attrs:
                check(k in katt and katt[k] == ut(attrs[k]),
                      f"extract --keep-packing {name}: {k} kept ({katt.get(k)})")
        check(sf_type is None or sf_type == ut,
              f"extract --keep-packing {name}: scale_factor is {np.dtype(ut)}, got {sf_type}")
        check(katt.get("_FillValue") == attrs["_FillValue"] and
              np.asarray(katt.get("_FillValue")).dtype == stored.dtype,
              f"extract --keep-packing {name}: packed _FillValue {katt.get('_FillValue')!r}")


def reference_stats(vals):
    """numpy in float64 over the first axis; NaN where a cell has no value."""
    cnt = np.sum(~np.isnan(vals), axis=0)
    with np.errstate(all="ignore"), __import__("warnings").catch_warnings():
        __import__("warnings").simplefilter("ignore")
        return {"mean": np.nanmean(vals, axis=0), "min": np.nanmin(vals, axis=0),
                "max": np.nanmax(vals, axis=0), "sum": np.where(cnt > 0, np.nansum(vals, axis=0),
                                                                np.nan),
                "std": np.nanstd(vals, axis=0), "count": cnt}


def compare_stat(what, got, want, otype, fill):
    """A statistic against numpy: min/max/count exact, the others to the
    precision of the written type; empty cells hold the _FillValue."""
    empty = np.isnan(want)
    gotm = np.where(np.isnan(got) | (got == fill), np.nan, got.astype(np.float64))
    check(np.array_equal(np.isnan(gotm), empty), f"{what}: missing exactly where numpy has no value")
    ok = ~empty
    if what.endswith(("_min", "_max")):
        check(np.array_equal(got[ok], want[ok].astype(otype)), f"{what}: equals numpy")
    else:
        rtol = 2e-6 if otype == np.float32 else 1e-12
        scale = np.maximum(np.abs(want[ok]), 1.0)
        err = np.max(np.abs(gotm[ok] - want[ok]) / scale) if ok.any() else 0.0
        check(err <= rtol, f"{what}: equals numpy to {rtol} (relative error {err:g})")


def check_stats(repo, tmp, name, stored):
    dtype, _, _, _, _, attrs, _ = CASES[name]
    otype = stats_type(dtype, attrs)
    vals = decoded(name, stored)
    runs = {}
    for np_ in (1, 2, 3):
        out = os.path.join(tmp, f"s-{name}-{np_}.nc")
        r = floe_np(np_, "stats", repo, "-v", name, "--stat", "mean,min,max,sum,std,count",
                    "-o", out, "-q")
        check(r.returncode == 0, f"stats {name} np {np_}: {r.stderr.strip()}")
        if r.returncode == 0:
            runs[np_] = load(out)
    if not runs:
        return
    first = runs[min(runs)]
    for np_, data in runs.items():
        check(all(same_bits(first[k], data[k]) for k in first) and first.keys() == data.keys(),
              f"stats {name}: np {np_} bytes equal np {min(runs)}'s")
    ref = reference_stats(vals)
    with netCDF4.Dataset(os.path.join(tmp, f"s-{name}-{min(runs)}.nc")) as ds:
        for stat, want in ref.items():
            v = ds[f"{name}_{stat}"]
            v.set_auto_maskandscale(False)
            got = np.asarray(v[:])[0]
            if stat == "count":
                check(got.dtype.kind in "iu", f"stats {name}_count: an integer variable, got {got.dtype}")
                check(np.array_equal(got, want), f"stats {name}_count: equals numpy")
                check(getattr(v, "units", None) == "1" and "standard_name" not in v.ncattrs(),
                      f"stats {name}_count: units '1', no standard_name ({v.ncattrs()})")
                continue
            check(got.dtype == otype, f"stats {name}_{stat}: written as {np.dtype(otype)}, got {got.dtype}")
            fill = v.getncattr("_FillValue") if "_FillValue" in v.ncattrs() else np.nan
            compare_stat(f"stats {name}_{stat}", got, want, otype, fill)


def check_climatology(repo, tmp, name, stored):
    dtype, _, _, _, _, attrs, _ = CASES[name]
    otype = stats_type(dtype, attrs)
    vals = decoded(name, stored)
    runs = {}
    for np_ in (1, 2, 3):
        out = os.path.join(tmp, f"c-{name}-{np_}.nc")
        r = floe_np(np_, "climatology", repo, "-v", name, "--by", "month",
                    "--stat", "mean,std,count,min", "-o", out, "-q")
        check(r.returncode == 0, f"climatology {name} np {np_}: {r.stderr.strip()}")
        if r.returncode == 0:
            runs[np_] = load(out)
    if not runs:
        return
    first = runs[min(runs)]
    for np_, data in runs.items():
        check(all(same_bits(first[k], data[k]) for k in first) and first.keys() == data.keys(),
              f"climatology {name}: np {np_} bytes equal np {min(runs)}'s")
    months = [(0, 3), (3, 5), (5, 6)]
    with netCDF4.Dataset(os.path.join(tmp, f"c-{name}-{min(runs)}.nc")) as ds:
        for g, (t0, t1) in enumerate(months):
            ref = reference_stats(vals[t0:t1])
            for stat in ("mean", "std", "count", "min"):
                v = ds[f"{name}_{stat}"]
                v.set_auto_maskandscale(False)
                got = np.asarray(v[:])[g]
                if stat == "count":
                    check(got.dtype.kind in "iu" and np.array_equal(got, ref["count"]),
                          f"climatology {name}_count month {g + 1}: integers equal to numpy")
                    continue
                check(got.dtype == otype,
                      f"climatology {name}_{stat}: written as {np.dtype(otype)}, got {got.dtype}")
                fill = v.getncattr("_FillValue") if "_FillValue" in v.ncattrs() else np.nan
                compare_stat(f"climatology {name}_{stat} month {g + 1}", got, ref[stat], otype, fill)


def area_weights():
    """Per-row weights of the area-weighted mean: |sin(north) - sin(south)|
    of each row, edges halfway between centres (floe's, and CDO's, rule);
    the longitudes are evenly spaced, so their widths are equal."""
    lat = np.linspace(40, 41, NY).astype("<f4").astype(np.float64)
    mid = (lat[:-1] + lat[1:]) / 2
    edges = np.concatenate([[lat[0] - (mid[0] - lat[0])], mid, [lat[-1] + (lat[-1] - mid[-1])]])
    return np.abs(np.sin(np.radians(edges[1:])) - np.sin(np.radians(edges[:-1])))


def check_series(repo, tmp, name, stored):
    """Region (every cell) and point series: written as stats are, float32
    or float64 (counts int32), against numpy; the same bytes at np 1, 2
    and 3."""
    dtype, _, _, _, _, attrs, _ = CASES[name]
    otype = stats_type(dtype, attrs)
    vals = decoded(name, stored)
    pts = os.path.join(tmp, "points.csv")
    lat = np.linspace(40, 41, NY).astype("<f4")
    lon = np.linspace(-80, -78.5, NX).astype("<f4")
    cells = [(0, 0), (2, 3)]  # a cell with CF missing values, one in the missing chunk
    with open(pts, "w") as f:
        f.write("lon,lat,id\n")
        for y, x in cells:
            f.write(f"{float(lon[x])!r},{float(lat[y])!r},c{y}{x}\n")
    for kind, args in (("region", ["--bbox", "-81,39,-78,42", "--stat", "mean,min,max,sum,count"]),
                       ("points", ["--points", pts])):
        runs = {}
        for np_ in (1, 2, 3):
            out = os.path.join(tmp, f"r-{kind}-{name}-{np_}.nc")
            r = floe_np(np_, "series", repo, "-v", name, *args, "-o", out, "-q")
            check(r.returncode == 0, f"series {kind} {name} np {np_}: {r.stderr.strip()}")
            if r.returncode == 0:
                runs[np_] = load(out)
        if not runs:
            continue
        first = runs[min(runs)]
        for np_, data in runs.items():  # station ids are strings: compared as such
            check(all(same_bits(first[k], data[k]) if first[k].dtype != object else
                      first[k].tolist() == data[k].tolist() for k in first) and
                  first.keys() == data.keys(),
                  f"series {kind} {name}: np {np_} bytes equal np {min(runs)}'s")
        with netCDF4.Dataset(os.path.join(tmp, f"r-{kind}-{name}-{min(runs)}.nc")) as ds:
            if kind == "points":
                v = ds[name]
                v.set_auto_maskandscale(False)
                got = np.asarray(v[:])
                fill = v.getncattr("_FillValue")
                want = np.stack([vals[:, y, x] for y, x in cells], axis=1)
                check(got.dtype == otype, f"series points {name}: written as {np.dtype(otype)}, "
                      f"got {got.dtype}")
                gotm = np.where(np.isnan(got) | (got == fill), np.nan, got)
                check(np.array_equal(gotm, want.astype(otype), equal_nan=True),
                      f"series points {name}: the cells' values, as numpy reads them")
                continue
            w = np.broadcast_to(area_weights()[None, :, None], vals.shape)
            ok = ~np.isnan(vals)
            cnt = ok.sum(axis=(1, 2))
            with np.errstate(all="ignore"):
                ref = {"mean": np.where(cnt > 0, np.nansum(np.where(ok, w * vals, 0), axis=(1, 2)) /
                                        np.sum(np.where(ok, w, 0), axis=(1, 2)), np.nan),
                       "min": np.where(cnt > 0, np.nanmin(np.where(ok, vals, np.inf), axis=(1, 2)),
                                       np.nan),
                       "max": np.where(cnt > 0, np.nanmax(np.where(ok, vals, -np.inf), axis=(1, 2)),
                                       np.nan),
                       "sum": np.where(cnt > 0, np.nansum(vals, axis=(1, 2)), np.nan)}
            for stat, want in ref.items():
                v = ds[f"{name}_{stat}"]
                v.set_auto_maskandscale(False)
                got = np.asarray(v[:])
                check(got.dtype == otype, f"series {name}_{stat}: written as {np.dtype(otype)}, "
                      f"got {got.dtype}")
                compare_stat(f"series {name}_{stat}", got, want, otype, v.getncattr("_FillValue"))
            # a count is an integer variable (issue #12): units "1", no
            # _FillValue (0 is a count), no standard_name, no cell_methods
            v = ds[f"{name}_count"]
            v.set_auto_maskandscale(False)
            got = np.asarray(v[:])
            check(got.dtype == np.int32, f"series {name}_count: written as int32, got {got.dtype}")
            check(np.array_equal(got, cnt), f"series {name}_count: equals numpy's valid cells")
            check(v.ncattrs() and v.getncattr("units") == "1" and
                  all(k not in v.ncattrs() for k in ("_FillValue", "standard_name", "cell_methods",
                                                     "missing_value", "scale_factor", "add_offset")),
                  f"series {name}_count: units '1', no _FillValue/standard_name/cell_methods "
                  f"({v.ncattrs()})")
            check(v.getncattr("long_name") == f"number of valid cells of {name} in the region",
                  f"series {name}_count: its long_name ({v.ncattrs()})")
            # as a reader sees it (masked and scaled): an unpacked series has
            # no packing attributes to scale it again
            got = ds[f"{name}_count"][:]
            check(np.array_equal(np.ma.filled(got, -1), cnt),
                  f"series {name}_count: equals numpy, read with masking and scaling")
            check(all(k not in ds[f"{name}_mean"].ncattrs() for k in ("scale_factor", "add_offset")),
                  f"series {name}_mean: no packing attributes on unpacked values")


def check_resample_alone(repo, tmp):
    """A float32 variable's period statistics are of its daily values as
    written (float32), with or without a float64 variable beside it."""
    names = [f"f32_be_mean_{st}" for st in ("mean", "sum", "std")]
    got = {}
    for label, vs in (("alone", "f32_be"), ("with_f64", "f32_be,f64")):
        out = os.path.join(tmp, f"rs-{label}.nc")
        r = floe_np(0, "series", repo, "-v", vs, "--bbox", "-81,39,-78,42", "--stat", "mean",
                    "--resample", "month", "--resample-stat", "mean,sum,std", "-o", out, "-q")
        check(r.returncode == 0, f"series -v {vs} --resample month: {r.stderr.strip()}")
        if r.returncode == 0:
            got[label] = load(out)
    if len(got) != 2:
        return
    for n in names:
        a, b = got["alone"][n], got["with_f64"][n]
        check(a.dtype == np.float32 and same_bits(a, b),
              f"series --resample {n}: the same bytes with f64 requested too ({a} vs {b})")


def main(_tbdir):
    tmp = tempfile.mkdtemp(prefix="floe-types-")
    try:
        repo, stored = build(tmp)
        for name in CASES:
            check_extract(repo, tmp, name, stored[name])
            check_stats(repo, tmp, name, stored[name])
            check_series(repo, tmp, name, stored[name])
        for name in ("i16_be", "u64_be", "f16", "f64_be", "p16_f64", "p16_f32"):
            check_climatology(repo, tmp, name, stored[name])
        check_resample_alone(repo, tmp)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return summary()


if __name__ == "__main__":
    run(main, __doc__)
