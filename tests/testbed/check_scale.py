#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
"""check_scale.py: floe on the reduced scale test bed (nldas-reduced: Tair
and Rainf with the real NLDAS-3 shapes, 8399 days x 6500 x 11700, chunks
1 x 500 x 900, 2.84 million refs in one manifest per variable, written by
the real Icechunk; scripts/testbed build nldas-reduced), through a stand-in
of its own.

The test bed is FLOE_SCALE_TESTBED_DIR (scripts/test builds it and sets
it); without it the test says skipped (exit 77), never passed; set but not
built (no READY): a failure.

(a) `floe extract` of the seed's Cape Cod box and of a box across chunk
    edges on one day each, and `floe series` at a point over all 8399 days,
    bit for bit against netCDF reads of the source files themselves (the
    day's own file name; the series through the real files, after checking
    that every day's file is the very inode of real file t mod k, and
    reading a few days' own names directly too);
(b) the same selections against the real Icechunk reader
    (scripts/node/reference_read.mjs): the boxes, and the point on a few
    stretches of days;
(c) the series and the Cape Cod extract at np 1, 2 and 4 under mpirun:
    the whole output files byte for byte (FLOE_FIXED_TIME, as
    check_same_bytes.py), with --report: every rank received from rank 0
    the refs of exactly the chunks it read, none went to a manifest, and
    together the chunks the query needs (counted from the grid), not the
    archive's 2.84 million.
Prints "N passed, N failed" last.
"""

import datetime
import hashlib
import json
import os
import shutil
import subprocess
import sys
import tempfile

import netCDF4
import numpy as np

import reference
from archive import Archive, same_bits
from standin import own_standin
from testlib import FLOE, check, floe_cmd, load, run, summary

RANKS = (1, 2, 4)
MANIFESTS = []  # the repository's, from its repo-v2.json (main)
CAPE_COD = "-70.84,41.48,-69.77,42.10"  # the seed query's box
POINT = (-97.497, 38.503)                # Kansas: land, inside a cell (not on an edge)
# stretches of days the real Icechunk reader reads at the point
REFERENCE_DAYS = ((0, 3), (4198, 4202), (8396, 8399))
DIRECT_DAYS = (0, 1, 2, 4321, 8398)      # days read through their own file name


def iso_day(tb, t):
    """The ISO date of time step t's stamp (the end of file t's day)."""
    return (datetime.date.fromisoformat(tb["files"][t]["date"]) +
            datetime.timedelta(days=1)).isoformat()


def floe_run(np_, args, folder, shim, endpoint):
    """floe ARGS -o out.nc --report report.json in folder at np_ ranks (the
    fixed-time shim in floe only); (sha256 of out.nc, report) or None."""
    os.makedirs(folder, exist_ok=True)
    cmd, env = floe_cmd(np_, *args, "-o", "out.nc", "--report", "report.json", "-q",
                        endpoint=endpoint)
    at = cmd.index(FLOE)
    cmd[at:at] = ["env", f"LD_PRELOAD={shim}",
                  "ASAN_OPTIONS=" + ":".join(filter(None, [os.environ.get("ASAN_OPTIONS"),
                                                           "verify_asan_link_order=0"]))]
    r = subprocess.run(cmd, capture_output=True, text=True, env=env, cwd=folder, timeout=1200)
    check(r.returncode == 0, f"{folder}: exit {r.returncode}: {r.stderr.strip()}")
    if r.returncode != 0:
        return None
    with open(os.path.join(folder, "out.nc"), "rb") as f:
        digest = hashlib.sha256(f.read()).hexdigest()
    with open(os.path.join(folder, "report.json")) as f:
        return digest, json.load(f)


def check_refs_per_rank(label, np_, report, want_total, nvars):
    """What each rank of a run received from rank 0 (--report's per_rank):
    every rank's table holds exactly the refs of the chunks it read (each
    chunk is read once, by one rank: a time chunk is one step), no lookup
    went past it to a manifest, and together they are the chunks the query
    needs (want_total, counted from the grid here), not the archive's."""
    per = report.get("per_rank", [])
    check(report.get("ranks") == np_ and len(per) == np_,
          f"{label} np {np_}: --report has one entry per rank")
    for r in per:
        check(r.get("refs_outside_table") == 0,
              f"{label} np {np_} rank {r.get('rank')}: refs_outside_table "
              f"{r.get('refs_outside_table')} == 0")
        check(r.get("refs_received") == r.get("chunks"),
              f"{label} np {np_} rank {r.get('rank')}: refs_received {r.get('refs_received')} "
              f"== the chunks it read {r.get('chunks')}")
    total = sum(r.get("refs_received") or 0 for r in per)
    check(total == want_total, f"{label} np {np_}: refs received by all ranks {total} == "
          f"the query's chunks {want_total}")
    # No rank parses a data manifest but rank 0, and rank 0 each of the
    # query's once: the other ranks hold only the coordinates' manifests
    # (rank 0's metadata blob), by the repository's own list (repo-v2.json:
    # a coordinate's manifest holds 1 ref, a variable's 1.42 million).
    coords = [m for m in MANIFESTS if m["n_refs"] == 1]
    data = [m for m in MANIFESTS if m["n_refs"] > 1]
    coord_bytes = sum(m["size_bytes"] for m in coords)
    for r in per:
        if r.get("rank") == 0:
            extra = (r.get("manifest_bytes") or 0) - coord_bytes
            # every variable's manifest, or (one variable) one of them
            want_extra = ({sum(m["size_bytes"] for m in data)} if nvars == len(data)
                          else {m["size_bytes"] for m in data})
            ok = r.get("manifests_read") == len(coords) + nvars and extra in want_extra
            check(ok, f"{label} np {np_} rank 0: read {r.get('manifests_read')} manifests, "
                  f"{r.get('manifest_bytes')} bytes: the {len(coords)} coordinates' and its "
                  f"{nvars} variable(s)' once each")
        else:
            check(r.get("manifests_read") == len(coords) and
                  r.get("manifest_bytes") == coord_bytes,
                  f"{label} np {np_} rank {r.get('rank')}: {r.get('manifests_read')} manifests, "
                  f"{r.get('manifest_bytes')} bytes: the coordinates' alone "
                  f"({len(coords)}, {coord_bytes} bytes)")


def box_chunks(rows, cols, cy, cx):
    """Chunks of one step that a box of cell rows [i0, i1) x cols [j0, j1) touches."""
    (i0, i1), (j0, j1) = rows, cols
    return ((i1 - 1) // cy - i0 // cy + 1) * ((j1 - 1) // cx - j0 // cx + 1)


def real_values(tb, tbdir, var, i, j):
    """var[0, i, j] of every real file, read with netCDF4 from the file."""
    root = os.path.join(tbdir, "s3", tb["bucket"])
    out = []
    for f in tb["real_files"]:
        with netCDF4.Dataset(os.path.join(root, f["key"])) as ds:
            v = ds[var]
            v.set_auto_maskandscale(False)
            out.append(np.float32(v[0, i, j]))
    return np.array(out, dtype=np.float32)


def check_links(tb, tbdir):
    """Every day's file is the inode of real file t mod k (same mtime): the
    premise of reading the series through the real files."""
    root = os.path.join(tbdir, "s3", tb["bucket"])
    real = [os.stat(os.path.join(root, f["key"])) for f in tb["real_files"]]
    bad = []
    for t, f in enumerate(tb["files"]):
        st = os.stat(os.path.join(root, f["key"]))
        r = real[t % len(real)]
        if f["real"] != t % len(real) or (st.st_dev, st.st_ino) != (r.st_dev, r.st_ino):
            bad.append(f["key"])
    check(not bad, f"every day's file is a hard link to real file t mod k: {bad[:3]}")


def main(tbdir):
    shim = os.environ.get("FLOE_FIXED_TIME")
    if not shim or not os.path.exists(shim):
        print("skipped: FLOE_FIXED_TIME (the fixed-time shim, built by CMake) not given")
        return 77
    with open(os.path.join(tbdir, "repo-v2.json")) as f:
        MANIFESTS[:] = json.load(f)["manifests"]
    with open(os.path.join(tbdir, "testbed.json")) as f:
        tb = json.load(f)
    ntime, ny, nx = len(tb["files"]), tb["ny"], tb["nx"]
    names = [v["name"] for v in tb["variables"]]
    check((ntime, ny, nx) == (8399, 6500, 11700) and tb["chunks"] == [1, 500, 900] and
          names == ["Tair", "Rainf"], f"the reduced scale test bed: {ntime} x {ny} x {nx}, {names}")
    lat = np.array(tb["lat_values"], dtype=np.float32)
    lon = np.array(tb["lon_values"], dtype=np.float32)
    arc = Archive(tbdir, tb)
    check_links(tb, tbdir)
    coll = os.path.join(tbdir, "collection.json")
    tmp = tempfile.mkdtemp(prefix="floe-scale-")
    cy, cx = tb["chunks"][1:]
    # a box across the corner of four chunks, late in the record
    i0, i1, j0, j1 = 4 * cy - 2, 4 * cy + 3, 9 * cx - 4, 9 * cx + 1
    edge = (f"{float(lon[j0])!r},{float(lat[i0])!r},"
            f"{float(lon[j1 - 1])!r},{float(lat[i1 - 1])!r}")
    extracts = {"cape-cod": ("Rainf", CAPE_COD, 15), "chunk-corner": ("Tair", edge, 6001)}
    boxes = {}  # label: the cell rows and columns the np 1 extract wrote
    try:
        with own_standin(tbdir, os.path.join(tmp, "standin")) as ep:
            # ---- (a) + (b): extracts on one day
            for label, (var, box, t) in extracts.items():
                got = floe_run(1, ["extract", coll, "-v", var, "--bbox", box,
                                   "--time", iso_day(tb, t)],
                               os.path.join(tmp, f"{label}-np1"), shim, ep)
                if got is None:
                    continue
                out = load(os.path.join(tmp, f"{label}-np1", "out.nc"))
                la, lo = out["lat"], out["lon"]
                ri, rj = int(np.searchsorted(lat, la[0])), int(np.searchsorted(lon, lo[0]))
                boxes[label] = ((ri, ri + len(la)), (rj, rj + len(lo)))
                check(np.array_equal(la, lat[ri:ri + len(la)]) and
                      np.array_equal(lo, lon[rj:rj + len(lo)]),
                      f"{label}: output lat/lon are the source's cell centres")
                check(np.array_equal(out["time"], [tb["files"][t]["time_value"]]),
                      f"{label}: time {out['time']} is day {t}'s")
                want = arc.read(var, t, t + 1, ri, ri + len(la), rj, rj + len(lo))
                check(same_bits(out[var], want), f"{label}: {var} equals the netCDF read of "
                      f"{tb['files'][t]['key']}")
                _, ref = reference.read(2, "--var", var, "--time-index", f"{t}:{t + 1}",
                                        "--lat-index", f"{ri}:{ri + len(la)}",
                                        "--lon-index", f"{rj}:{rj + len(lo)}", endpoint=ep)
                check(same_bits(out[var], ref), f"{label}: {var} equals the real Icechunk's")
            # ---- (a) + (b): a point over the whole record
            pts = os.path.join(tmp, "point.csv")
            with open(pts, "w") as f:
                f.write(f"lon,lat,id\n{POINT[0]},{POINT[1]},kansas\n")
            series = ["series", coll, "-v", ",".join(names), "--points", pts]
            got = floe_run(1, series, os.path.join(tmp, "series-np1"), shim, ep)
            if got is not None:
                out = load(os.path.join(tmp, "series-np1", "out.nc"))
                # the cell that holds the point, from the grid (nearest centre)
                i = int(np.argmin(np.abs(lat.astype(np.float64) - POINT[1])))
                j = int(np.argmin(np.abs(lon.astype(np.float64) - POINT[0])))
                cell = (out.get("cell_lat", [None])[0], out.get("cell_lon", [None])[0])
                check(cell == (float(lat[i]), float(lon[j])),
                      f"series: the cell read {cell} is the one holding the point "
                      f"({float(lat[i])}, {float(lon[j])})")
                check(np.array_equal(out["time"], [f["time_value"] for f in tb["files"]]),
                      "series: the 8399 time stamps of the record")
                for var in names:
                    s = out[var][:, 0]
                    per_real = real_values(tb, tbdir, var, i, j)
                    want = per_real[[f["real"] for f in tb["files"]]]
                    check(same_bits(s, want), f"series {var}: every day equals the netCDF "
                          "read of its real file")
                    for t in DIRECT_DAYS:
                        w = arc.read(var, t, t + 1, i, i + 1, j, j + 1)[0, 0, 0]
                        check(same_bits(s[t], w), f"series {var} day {t}: {s[t]} equals the "
                              f"netCDF read of {tb['files'][t]['key']} ({w})")
                    for t0, t1 in REFERENCE_DAYS:
                        _, ref = reference.read(2, "--var", var, "--time-index", f"{t0}:{t1}",
                                                "--lat-index", f"{i}:{i + 1}",
                                                "--lon-index", f"{j}:{j + 1}", endpoint=ep)
                        check(same_bits(s[t0:t1], ref[:, 0, 0]),
                              f"series {var} days {t0}:{t1} equal the real Icechunk's")
                check_refs_per_rank("series", 1, got[1], ntime * len(names), len(names))
            # ---- (c): the same bytes at 1, 2 and 4 ranks
            jobs = {"series": series,
                    "cape-cod": ["extract", coll, "-v", "Rainf", "--bbox", CAPE_COD,
                                 "--time", iso_day(tb, extracts["cape-cod"][2])]}
            for label, args in jobs.items():
                digests = {}
                for np_ in RANKS:
                    got = floe_run(np_, args, os.path.join(tmp, f"{label}-same-np{np_}"), shim, ep)
                    if got is not None:
                        digests[np_] = got[0]
                        want = (ntime * len(names) if label == "series" else
                                box_chunks(*boxes.get(label, ((0, 0), (0, 0))), cy, cx))
                        check_refs_per_rank(label, np_, got[1], want,
                                            len(names) if label == "series" else 1)
                for np_ in RANKS[1:]:
                    check(np_ in digests and digests[np_] == digests.get(RANKS[0]),
                          f"{label}: np {np_} file {digests.get(np_)} == np {RANKS[0]} "
                          f"{digests.get(RANKS[0])}")
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return summary()


if __name__ == "__main__":
    tbdir = os.environ.get("FLOE_SCALE_TESTBED_DIR")
    if not tbdir:
        print("skipped: FLOE_SCALE_TESTBED_DIR is not set (scripts/test builds nldas-reduced "
              "and sets it)")
        sys.exit(77)
    if not os.path.isfile(os.path.join(tbdir, "READY")):
        print(f"FAIL: FLOE_SCALE_TESTBED_DIR={tbdir} holds no finished test bed")
        sys.exit(1)
    sys.argv[1:] = [tbdir]
    run(main, __doc__)
