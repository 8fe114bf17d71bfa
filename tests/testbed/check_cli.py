#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
"""check_cli.py TESTBED_DIR: the command line that catches mistakes, and
series as CSV (issue #16), on the test bed:

- `series -o OUT.csv`: a tidy CSV (time, id, one column per output) whose
  rows are the NetCDF series of the same request (values that round-trip
  to the stored float32, empty where the NetCDF holds the fill), its times
  as netCDF4's num2date decodes the time coordinate; the same bytes at 1,
  2 and 3 ranks; the Item names it as text/csv with its size; a region
  series' columns VAR_STAT; other extensions and CSV for other commands
  refused with one line, nothing written;
- `-v Rainf -v Tair` writes both; `-v 'Tair, Rainf'` works; an unknown
  variable suggests the closest name and lists the variables;
- a --bbox in CDO's order is one line naming W,S,E,N; on a terminal (a
  pty) a run prints one line saying what was selected (cells, the box of
  the cells' edges, the steps), and none with -q or off a terminal;
- `inspect --stac-only` shows the document's extents, cube:dimensions and
  cube:variables without network.
Prints "N passed, N failed" last.
"""

import csv
import io
import json
import os
import pty
import select
import subprocess
import tempfile

import netCDF4
import numpy as np

from testlib import check, floe_cmd, floe_np, load, run, summary

TIME = "2001-01-03/2001-01-09"
STATIONS = "lon,lat,id\n-70.3,41.7,cape-cod\n-71.06,42.36,boston\n-60.0,38.0,\"sea, open\"\n"


def csv_rows(path):
    with open(path, newline="") as f:
        return list(csv.reader(f))


def iso(t):
    return t.strftime("%Y-%m-%dT%H:%M:%S")


def series_csv(coll, d):
    pts = os.path.join(d, "stations.csv")
    with open(pts, "w") as f:
        f.write(STATIONS)
    base = ["series", coll, "-v", "Tair,Rainf", "--points", pts, "--time", TIME, "-q"]
    nc = os.path.join(d, "pts.nc")
    r = floe_np(0, *base, "-o", nc)
    check(r.returncode == 0, f"series -o pts.nc: {r.stderr.strip()}")
    blobs = {}
    for np_ in (0, 2, 3):
        out = os.path.join(d, f"pts.np{np_}.csv")
        r = floe_np(np_, *base, "-o", out)
        check(r.returncode == 0, f"series -o {out} at np {np_}: {r.stderr.strip()}")
        if r.returncode == 0:
            blobs[np_] = open(out, "rb").read()
    check(len(set(blobs.values())) == 1, "the CSV differs between 1, 2 and 3 ranks")
    if 0 not in blobs:
        return
    out = os.path.join(d, "pts.np0.csv")
    rows = csv_rows(out)
    check(rows[0] == ["time", "id", "Tair", "Rainf"], f"CSV header {rows[0]}")
    with netCDF4.Dataset(nc) as ds:
        t = ds["time"]
        times = [iso(x) for x in netCDF4.num2date(t[:], t.units, getattr(t, "calendar", "standard"))]
        ids = [str(s) for s in ds["station_id"][:]]
        vals = {}
        fills = {}
        for v in ("Tair", "Rainf"):
            ds[v].set_auto_maskandscale(False)
            vals[v] = np.asarray(ds[v][:])
            fills[v] = ds[v]._FillValue
    body = rows[1:]
    check(len(body) == len(times) * len(ids), f"CSV rows {len(body)}, want {len(times)} x {len(ids)}")
    empty = 0
    for k, row in enumerate(body[:len(times) * len(ids)]):
        ti, si = divmod(k, len(ids))
        check(row[0] == times[ti] and row[1] == ids[si], f"row {k}: {row[:2]}, want "
              f"{times[ti]}, {ids[si]}")
        for c, v in enumerate(("Tair", "Rainf")):
            want = vals[v][ti, si]
            if want == fills[v] or np.isnan(want):
                check(row[2 + c] == "", f"row {k} {v}: {row[2 + c]!r}, want empty (fill)")
                empty += 1
            else:
                check(row[2 + c] != "" and np.float32(float(row[2 + c])) == want,
                      f"row {k} {v}: {row[2 + c]!r}, want {want!r}")
    check(empty > 0, "no missing value in the CSV: the sea station should have some")
    with open(os.path.join(d, "pts.np0.json")) as f:
        item = json.load(f)
    data = item["assets"]["data"]
    check(data["type"] == "text/csv", f"Item data type {data['type']}")
    check(data["href"] == "./pts.np0.csv", f"Item data href {data['href']}")
    check(data["file:size"] == len(blobs[0]), f"Item file:size {data['file:size']}")

    out = os.path.join(d, "box.csv")
    r = floe_np(0, "series", coll, "-v", "Tair", "--bbox=-71,41,-70,42", "--stat",
                "mean,max,count", "--time", TIME, "-q", "-o", out)
    check(r.returncode == 0, f"series --bbox -o box.csv: {r.stderr.strip()}")
    if r.returncode == 0:
        rows = csv_rows(out)
        check(rows[0] == ["time", "id", "Tair_mean", "Tair_max", "Tair_count"],
              f"region CSV header {rows[0]}")
        check(len(rows) == 1 + len(times), f"region CSV rows {len(rows)}")
        check(all(r_[1] == rows[1][1] for r_ in rows[1:]) and rows[1][1].startswith("bbox"),
              f"region CSV ids {rows[1][1]}")
        check(all(r_[4].isdigit() for r_ in rows[1:]), "counts are whole numbers")

    # Many regions (a FeatureCollection): one row per (time, region), the
    # values of the NetCDF output of the same request, in its region order.
    gj = os.path.join(d, "two.geojson")
    with open(gj, "w") as f:
        json.dump({"type": "FeatureCollection", "features": [
            {"type": "Feature", "properties": {"id": "west"}, "geometry": {"type": "Polygon", "coordinates":
             [[[-100, 30], [-95, 30], [-95, 35], [-100, 35], [-100, 30]]]}},
            {"type": "Feature", "properties": {"id": "east"}, "geometry": {"type": "Polygon", "coordinates":
             [[[-90, 35], [-85, 35], [-87, 40], [-90, 35]]]}}]}, f)
    base = ["series", coll, "-v", "Tair,Rainf", "--region", gj, "--stat", "mean,count", "--time", TIME, "-q"]
    rnc, rcsv = os.path.join(d, "regions.nc"), os.path.join(d, "regions-rows.csv")
    r1 = floe_np(0, *base, "-o", rnc)
    r2 = floe_np(0, *base, "-o", rcsv)
    check(r1.returncode == 0 and r2.returncode == 0, f"regions: {r1.stderr.strip()} {r2.stderr.strip()}")
    if r1.returncode == 0 and r2.returncode == 0:
        rows = csv_rows(rcsv)
        names = ["Tair_mean", "Tair_count", "Rainf_mean", "Rainf_count"]
        check(rows[0] == ["time", "id"] + names, f"regions CSV header {rows[0]}")
        with netCDF4.Dataset(rnc) as ds:
            rids = [str(s) for s in netCDF4.chartostring(ds["region_id"][:])] \
                if ds["region_id"].dtype != str else [str(s) for s in ds["region_id"][:]]
            want = {n: np.asarray(ds[n][:]) for n in names}
        check(rids == ["west", "east"], f"region ids {rids}")
        body = rows[1:]
        check(len(body) == len(times) * 2, f"regions CSV rows {len(body)}, want {len(times)} x 2")
        for k, row in enumerate(body):
            ti, ri = divmod(k, 2)
            check(row[1] == rids[ri], f"regions row {k}: id {row[1]}, want {rids[ri]}")
            for c, n in enumerate(names):
                w_ = want[n][ti, ri]
                got = float(row[2 + c]) if row[2 + c] else float("nan")
                check(got == float(w_) if n.endswith("count") else np.float32(got) == np.float32(w_),
                      f"regions row {k} {n}: {row[2 + c]!r}, want {w_!r}")

    for args, needle in (
        (["series", coll, "-v", "Tair", "--points", pts, "-o", os.path.join(d, "x.txt")], ".csv"),
        (["extract", coll, "-v", "Tair", "-o", os.path.join(d, "x.csv")], "series only"),
        (["stats", coll, "-v", "Tair", "-o", os.path.join(d, "x.csv")], "series only"),
    ):
        before = sorted(os.listdir(d))
        r = floe_np(0, *args)
        lines = [ln for ln in r.stderr.splitlines() if ln.startswith("floe: error")]
        check(r.returncode == 2 and len(lines) == 1 and needle in lines[0],
              f"{' '.join(args[:1] + args[-2:])}: exit {r.returncode}, {r.stderr.strip()!r}")
        check(sorted(os.listdir(d)) == before, f"{args[-1]}: files were written")


def variables(coll, d):
    out = os.path.join(d, "two.nc")
    r = floe_np(0, "extract", coll, "-v", "Rainf", "-v", "Tair", "--bbox=-71,41,-70,42",
                "--time", "2001-01-03", "-q", "-o", out)
    check(r.returncode == 0, f"-v Rainf -v Tair: {r.stderr.strip()}")
    if r.returncode == 0:
        v = load(out)
        check("Rainf" in v and "Tair" in v, f"-v Rainf -v Tair wrote {sorted(v)}")
    out = os.path.join(d, "spaced.nc")
    r = floe_np(0, "extract", coll, "-v", "Tair, Rainf, Tair", "--bbox=-71,41,-70,42",
                "--time", "2001-01-03", "-q", "-o", out)
    check(r.returncode == 0, f"-v 'Tair, Rainf, Tair': {r.stderr.strip()}")
    r = floe_np(0, "extract", coll, "-v", "tair", "-q", "-o", os.path.join(d, "bad.nc"))
    lines = [ln for ln in r.stderr.splitlines() if ln.startswith("floe: error")]
    check(r.returncode != 0 and len(lines) == 1, f"-v tair: exit {r.returncode}, {r.stderr!r}")
    if lines:
        check("did you mean Tair?" in lines[0] and "Rainf" in lines[0] and "PSurf" in lines[0],
              f"-v tair: no suggestion or list: {lines[0]}")


def on_terminal(cmd, env):
    """Run cmd with stderr (and stdout) on a pty; its output and exit status."""
    pid, fd = pty.fork()
    if pid == 0:
        os.execvpe(cmd[0], cmd, env)
    chunks = []
    while True:
        ready, _, _ = select.select([fd], [], [], 120)
        if not ready:
            break
        try:
            data = os.read(fd, 65536)
        except OSError:
            break
        if not data:
            break
        chunks.append(data)
    _, status = os.waitpid(pid, 0)
    return b"".join(chunks).decode(errors="replace"), os.waitstatus_to_exitcode(status)


def bbox_and_selection(coll, d):
    r = floe_np(0, "extract", coll, "-v", "Tair", "--bbox=-125,-100,25,53", "-o",
                os.path.join(d, "cdo.nc"))
    lines = [ln for ln in r.stderr.splitlines() if ln.startswith("floe: error")]
    check(r.returncode == 2 and len(lines) == 1 and "W,S,E,N" in lines[0]
          and "--bbox=-125,25,-100,53" in lines[0], f"CDO-order bbox: {r.stderr.strip()!r}")

    cmd, env = floe_cmd(0, "extract", coll, "-v", "Tair", "--bbox=-71,41,-70,42", "--time",
                        TIME, "-o", os.path.join(d, "tty.nc"))
    text, status = on_terminal(cmd, env)
    check(status == 0, f"extract on a terminal: exit {status}: {text!r}")
    sel = [ln for ln in text.splitlines() if ln.startswith("floe: selected")]
    check(len(sel) == 1, f"one selection line on a terminal, got {text!r}")
    with netCDF4.Dataset(os.path.join(d, "tty.nc")) as ds:
        ny, nx, nt = len(ds["lat"]), len(ds["lon"]), len(ds["time"])
        lat_b, lon_b = ds["lat_bnds"][:], ds["lon_bnds"][:]
        t = ds["time"]
        first, last = (iso(x) for x in netCDF4.num2date(t[[0, -1]], t.units,
                                                         getattr(t, "calendar", "standard")))
    if sel:
        want = (f"{ny} x {nx} cells", f"{nt} steps", first, last,
                f"{lon_b.min():g}", f"{lat_b.min():g}", f"{lon_b.max():g}", f"{lat_b.max():g}")
        for w in want:
            check(w in sel[0], f"selection line lacks {w!r}: {sel[0]!r}")
    # points and regions: what they select, not the whole grid they read from
    gj = os.path.join(d, "sel.geojson")
    with open(gj, "w") as f:
        json.dump({"type": "FeatureCollection", "features": [
            {"type": "Feature", "properties": {"id": "a"}, "geometry": {"type": "Polygon", "coordinates":
             [[[-100, 30], [-95, 30], [-95, 35], [-100, 35], [-100, 30]]]}},
            {"type": "Feature", "properties": {"id": "b"}, "geometry": {"type": "Polygon", "coordinates":
             [[[-90, 35], [-85, 35], [-87, 40], [-90, 35]]]}}]}, f)
    cmd, env = floe_cmd(0, "series", coll, "-v", "Tair", "--region", gj, "--stat", "count", "--time", TIME,
                        "-o", os.path.join(d, "tty-reg.nc"))
    text, status = on_terminal(cmd, env)
    sel = [ln for ln in text.splitlines() if ln.startswith("floe: selected")]
    check(status == 0 and len(sel) == 1, f"regions on a terminal: exit {status}: {text!r}")
    if status == 0 and sel:
        with netCDF4.Dataset(os.path.join(d, "tty-reg.nc")) as ds:
            cells = int(np.sum(ds["region_cells"][:]))
            lo_w, lo_e = float(ds["lon_bnds"][:].min()), float(ds["lon_bnds"][:].max())
            la_s, la_n = float(ds["lat_bnds"][:].min()), float(ds["lat_bnds"][:].max())
        for w in ("2 regions", f"{cells} cells", f"lon {lo_w:g}..{lo_e:g}", f"lat {la_s:g}..{la_n:g}"):
            check(w in sel[0], f"region selection line lacks {w!r}: {sel[0]!r}")
    pts = os.path.join(d, "sel-pts.csv")
    with open(pts, "w") as f:
        f.write(STATIONS)
    cmd, env = floe_cmd(0, "series", coll, "-v", "Tair", "--points", pts, "--time", TIME,
                        "-o", os.path.join(d, "tty-pts.nc"))
    text, status = on_terminal(cmd, env)
    sel = [ln for ln in text.splitlines() if ln.startswith("floe: selected")]
    npts = len([ln for ln in STATIONS.splitlines()[1:] if ln.strip()])
    check(status == 0 and len(sel) == 1 and f"{npts} points" in sel[0] and "x" not in sel[0].split("points")[0],
          f"points on a terminal: one line naming {npts} points: {text!r}")
    for extra in (["-q"],):
        cmd, env = floe_cmd(0, "series", coll, "-v", "Tair", "--bbox=-71,41,-70,42", "--time",
                            TIME, *extra, "-o", os.path.join(d, "tty-q.nc"))
        text, status = on_terminal(cmd, env)
        check(status == 0 and "floe: selected" not in text, f"-q on a terminal: {text!r}")
    r = floe_np(0, "series", coll, "-v", "Tair", "--bbox=-71,41,-70,42", "--time", TIME,
                "-o", os.path.join(d, "notty.nc"))
    check(r.returncode == 0 and "selected" not in r.stderr, f"off a terminal: {r.stderr!r}")


def stac_only(coll):
    """inspect --stac-only says what the document says, with no network (an
    endpoint where nothing listens)."""
    r = floe_np(0, "inspect", coll, "--stac-only", endpoint="http://127.0.0.1:9")
    check(r.returncode == 0, f"inspect --stac-only: {r.stderr.strip()}")
    with open(coll) as f:
        doc = json.load(f)
    for want in ["cube:dimensions:", "cube:variables:",
                 "extent: temporal " + " .. ".join(doc["extent"]["temporal"]["interval"][0]),
                 "step P1D", *doc["cube:variables"]]:
        check(want in r.stdout, f"inspect --stac-only lacks {want!r}")
    for name, v in doc["cube:variables"].items():
        line = [ln for ln in r.stdout.splitlines() if ln.split()[:1] == [name]]
        check(line and v["unit"] in line[0] and v["description"] in line[0],
              f"inspect --stac-only: variable {name}: {line}")


def main(tb):
    coll = os.path.join(tb, "collection.json")
    with tempfile.TemporaryDirectory() as d:
        series_csv(coll, d)
        variables(coll, d)
        bbox_and_selection(coll, d)
    stac_only(coll)
    return summary()


if __name__ == "__main__":
    run(main, __doc__)
