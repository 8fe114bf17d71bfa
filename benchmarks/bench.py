#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
"""bench.py: floe's benchmark driver (run it through benchmarks/run, which
installs and builds what it needs first).

Runs every workload x tool on the `bench` test bed, tools alternating run by
run, and writes benchmarks/results/results.csv and RESULTS.md. Before a
tool's runs are timed, its answer is checked against floe's (1 rank); a
mismatch marks the cell FAILED and it is not timed.

Per run: wall seconds, CPU seconds (user + sys of the child and its waited-for
descendants, from wait4), peak RSS (the largest single process, ru_maxrss),
and for tools reading over HTTP the requests and body bytes the S3 stand-in
served during the run (counted from its access log).
"""

import argparse
import csv
import datetime
import json
import os
import platform
import re
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time

import netCDF4
import numpy as np

ROOT = os.path.normpath(os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
BENCH = os.path.join(ROOT, "benchmarks")
PEERS = os.path.join(BENCH, "peers")
PY = "/usr/bin/python3"
NODE_RUN = os.path.join(ROOT, "scripts", "node", "run")
STANDIN = os.path.join(ROOT, "scripts", "s3-standin")
MEASURE = os.path.join(ROOT, "build", "bench-bin", "measure")
CAPE_COD = (-70.84, 41.48, -69.77, 42.10)
REGION_2X2 = (-72.5, 40.5, -70.5, 42.5)
# A land point (Boston); 0.0003 deg off a cell centre so "the cell that
# contains it" and "the nearest centre" are the same cell for every tool.
POINT = (-71.0547, 42.3553, "boston")
# W7's basin set: rows x columns of generated basins (peers/basins.py).
BASINS = (25, 40)
MPI_ENV = {"OMPI_ALLOW_RUN_AS_ROOT": "1", "OMPI_ALLOW_RUN_AS_ROOT_CONFIRM": "1",
           "OMPI_MCA_rmaps_base_oversubscribe": "1"}
RTOL, ATOL_REL = 1e-5, 1e-5


def log(msg):
    print(f"[bench {time.strftime('%H:%M:%S')}] {msg}", flush=True)


# --- the test bed -------------------------------------------------------------


class Testbed:
    def __init__(self, d):
        self.dir = d
        self.tb = json.load(open(os.path.join(d, "testbed.json")))
        self.collection = os.path.join(d, "collection.json")
        self.bucket = self.tb["bucket"]
        self.s3 = os.path.join(d, "s3")
        self.lat = np.array(self.tb["lat_values"], dtype=np.float32)
        self.lon = np.array(self.tb["lon_values"], dtype=np.float32)
        self.files = self.tb["files"]
        self.hours = np.array([f["time_value"] for f in self.files], dtype=np.float64)
        _, self.cy, self.cx = self.tb["chunks"]
        self.ny, self.nx = self.tb["ny"], self.tb["nx"]
        self.gx = (self.nx + self.cx - 1) // self.cx

    def path(self, t):
        return os.path.join(self.s3, self.bucket, self.files[t]["key"])

    def instant(self, t):
        """ISO instant of step t (the files are stamped at the END of their day)."""
        d = datetime.datetime(2001, 1, 1) + datetime.timedelta(hours=float(self.hours[t]))
        return d.strftime("%Y-%m-%dT%H:%M:%SZ")

    def box(self, bbox):
        """Half-open index ranges of the cells whose centres lie in bbox."""
        w, s, e, n = bbox
        ys = np.nonzero((self.lat.astype(np.float64) >= s) & (self.lat.astype(np.float64) <= n))[0]
        xs = np.nonzero((self.lon.astype(np.float64) >= w) & (self.lon.astype(np.float64) <= e))[0]
        return (int(ys[0]), int(ys[-1]) + 1), (int(xs[0]), int(xs[-1]) + 1)

    def point(self, lon, lat):
        i = int(np.argmin(np.abs(self.lat.astype(np.float64) - lat)))
        j = int(np.argmin(np.abs(self.lon.astype(np.float64) - lon)))
        return (i, i + 1), (j, j + 1)

    def chunks(self, var, tr, yr, xr):
        """(file index, offset, length) of every chunk the selection touches."""
        out = []
        for t in range(*tr):
            refs = self.files[t]["chunks"][var]
            for r in range(yr[0] // self.cy, (yr[1] - 1) // self.cy + 1):
                for c in range(xr[0] // self.cx, (xr[1] - 1) // self.cx + 1):
                    e = refs[r * self.gx + c]
                    if e is not None:
                        out.append((t, e[0], e[1]))
        return out


# --- workloads ------------------------------------------------------------------


class Workload:
    def __init__(self, key, title, vars_, tr, bbox=None, points=None, floe_time=None):
        self.key, self.title, self.vars, self.tr = key, title, vars_, tr
        self.bbox, self.points, self.floe_time = bbox, points, floe_time

    def time_arg(self, tb):
        return f"{tb.instant(self.tr[0])}/{tb.instant(self.tr[1] - 1)}"

    def selection(self, tb):
        if self.points:
            return tb.point(self.points[0][0], self.points[0][1])
        if self.bbox:
            return tb.box(self.bbox)
        return (0, tb.ny), (0, tb.nx)

    def needed_chunks(self, tb):
        yr, xr = self.selection(tb)
        return [(v,) + c for v in self.vars for c in tb.chunks(v, self.tr, yr, xr)]


def workloads(tb, quick, wide_days=None):
    nt = len(tb.files)
    # W1: the seed's query, one day. 2001-06-01 as a bare date covers that
    # day, whose only time stamp is 2001-06-01T00 (file A20010531).
    day = [t for t in range(nt) if tb.instant(t).startswith("2001-06-01")]
    year = (0, nt)
    if quick:
        w2, w3, w4, w5, w6, w7 = (0, 31), (0, 31), (0, 8), (26, 36), (0, 8), (0, 8)
    else:
        w2 = w3 = w4 = w5 = w7 = year
        if wide_days:  # the whole-domain workloads over the first days only
            w4 = w5 = (0, min(wide_days, nt))
        w6 = (0, 30)  # 360 chunks, like the orientation figures
    return {
        "W1": Workload("W1", "one day of Rainf over Cape Cod, incl. opening the STAC collection",
                       ["Rainf"], (day[0], day[-1] + 1), bbox=CAPE_COD, floe_time="2001-06-01"),
        "W2": Workload("W2", "point time series of Tair (one cell)", ["Tair"], w2, points=[POINT]),
        "W3": Workload("W3", "2x2 degree daily area-weighted mean of Tair", ["Tair"], w3, bbox=REGION_2X2),
        "W4": Workload("W4", "per-cell mean, min, max of Tair over the whole domain", ["Tair"], w4),
        "W5": Workload("W5", "monthly climatology (mean) of Tair and Rainf over the whole domain",
                       ["Tair", "Rainf"], w5),
        "W6": Workload("W6", "decode throughput: per-cell mean of Tair (floe only) over the chunks the "
                       "libdeflate ceiling decodes", ["Tair"], w6),
        "W7": Workload("W7", f"daily area-weighted mean of Tair in each of {BASINS[0] * BASINS[1]} generated basins "
                       "(concave polygons tiling the domain; one series per basin)", ["Tair"], w7),
    }


# --- answers: every tool's output as {name: float64 array, NaN = missing} -------


def nc_var(path, name):
    with netCDF4.Dataset(path) as ds:
        v = ds[name]
        v.set_auto_mask(True)
        a = v[:]
        return np.ma.filled(np.ma.asarray(a).astype(np.float64), np.nan)


def nc_months(path):
    with netCDF4.Dataset(path) as ds:
        t = ds["time"]
        dates = netCDF4.num2date(t[:], t.units, getattr(t, "calendar", "standard"))
        return np.array([d.month for d in dates], dtype=np.float64)


def read_exchange(d):
    idx = json.load(open(os.path.join(d, "answer.json")))["arrays"]
    out = {}
    for name, m in idx.items():
        a = np.fromfile(os.path.join(d, m["file"]), dtype=m.get("dtype", "<f8"))
        out[name] = a.reshape(m["shape"]).astype(np.float64)
    return out


def drop_empty_groups(ans, names):
    """Climatology groups without any data (months outside the time range)
    are dropped, whether a tool writes them as all-missing or not at all."""
    keep = np.array([not all(np.all(np.isnan(ans[n][g])) for n in names) for g in range(len(ans["month"]))])
    for n in names + ["month"]:
        ans[n] = ans[n][keep]
    return ans


def compare(ref, got):
    """None when got equals ref within tolerance, else a one-line reason."""
    for name, r in ref.items():
        if name not in got:
            return f"{name} missing (has {sorted(got)})"
        g = got[name]
        if g.shape != r.shape:
            return f"{name}: shape {g.shape} != floe's {r.shape}"
        rn, gn = np.isnan(r), np.isnan(g)
        if not np.array_equal(rn, gn):
            return f"{name}: missing cells differ ({int(np.sum(rn != gn))} of {r.size})"
        if name in ("time", "month"):
            if not np.array_equal(r, g):
                return f"{name}: values differ ({r[:3]}... vs {g[:3]}...)"
            continue
        ok = ~rn
        if not ok.any():
            continue
        atol = ATOL_REL * max(1.0, float(np.max(np.abs(r[ok]))))
        diff = np.abs(r[ok] - g[ok])
        bad = diff > atol + RTOL * np.abs(r[ok])
        if bad.any():
            return (f"{name}: {int(bad.sum())} of {int(ok.sum())} values differ "
                    f"(max abs diff {float(diff.max()):.3g})")
    return None


# --- tools ----------------------------------------------------------------------


class Tool:
    name = ""
    http = True        # reads through the S3 stand-in
    label = ""

    def supports(self, w):
        return w.key != "W6"  # W6 is floe against the decode ceiling

    def command(self, w, out, ctx):
        raise NotImplementedError

    def answer(self, w, out, ctx):
        raise NotImplementedError

    def env(self, ctx):
        return {}

    def restrict(self, ref, w, ctx):
        """The part of floe's answer this tool's answer covers (all of it)."""
        return ref

    def scale(self, w, ctx):
        """What the measured time is multiplied by to stand for the whole
        workload (1: the tool did all of it)."""
        return 1.0


class Floe(Tool):
    """floe with `ranks` ranks (under mpirun when more than one) of
    `threads` worker threads each (`--threads`, issue 15). floe-np1 and
    floe-np2 pass `--threads 1` (one core per rank: today's meaning of both
    rows, whatever floe's default), floe-t2 is one rank started without
    mpirun with `--threads 2`. A floe without `--threads` runs np1/np2 as
    before (one thread a rank is all it has) and cannot run floe-t2."""
    http = True

    def __init__(self, ranks, threads=1, name=None):
        self.ranks, self.threads = ranks, threads
        self.name = name or f"floe-np{ranks}"
        self.label = (f"floe, {ranks} rank{'s' if ranks > 1 else ''}"
                      + (" under mpirun" if ranks > 1 else ", no mpirun")
                      + f", {threads} thread{'s' if threads > 1 else ''} each" * (ranks > 1)
                      + f", {threads} thread{'s' if threads > 1 else ''}" * (ranks == 1))

    def supports(self, w):
        return True

    def needs_threads(self):
        """Whether this tool cannot run without floe's --threads."""
        return self.threads != 1

    def env(self, ctx):
        e = {"AWS_ENDPOINT_URL": ctx["endpoint"]}
        if self.ranks > 1:
            e.update(MPI_ENV)
        return e

    def command(self, w, out, ctx):
        tb = ctx["tb"]
        coll = tb.collection
        nc = os.path.join(out, "out.nc")
        common = ["-o", nc, "-q"]
        if ctx["floe_report"]:
            common += ["--report", os.path.join(out, "report.json")]
        t = w.floe_time or w.time_arg(tb)
        if w.key == "W1":
            args = ["extract", coll, "-v", w.vars[0], "--bbox", ",".join(map(str, w.bbox)), "--time", t]
        elif w.key == "W2":
            pts = os.path.join(ctx["work"], "points.csv")
            args = ["series", coll, "-v", w.vars[0], "--points", pts, "--time", t]
        elif w.key == "W3":
            args = ["series", coll, "-v", w.vars[0], "--bbox", ",".join(map(str, w.bbox)), "--stat", "mean",
                    "--time", t]
        elif w.key == "W4":
            args = ["stats", coll, "-v", w.vars[0], "--stat", "mean,min,max", "--time", t]
        elif w.key == "W6":
            args = ["stats", coll, "-v", w.vars[0], "--stat", "mean", "--time", t]
        elif w.key == "W5":
            args = ["climatology", coll, "-v", ",".join(w.vars), "--by", "month", "--stat", "mean", "--time", t]
        elif w.key == "W7":
            args = ["series", coll, "-v", w.vars[0], "--region", ctx["basins"], "--stat", "mean", "--time", t]
        if ctx.get("floe_threads"):
            common += ["--threads", str(self.threads)]
        argv = [ctx["floe"]] + args + common
        if self.ranks > 1:
            argv = ["mpirun", "-np", str(self.ranks)] + argv
        return argv

    def answer(self, w, out, ctx):
        nc = os.path.join(out, "out.nc")
        v = w.vars[0]
        if w.key == "W1":
            return {v: nc_var(nc, v)}
        if w.key == "W2":
            return {v: nc_var(nc, v), "time": nc_var(nc, "time")}
        if w.key in ("W3", "W7"):
            return {v + "_mean": nc_var(nc, v + "_mean"), "time": nc_var(nc, "time")}
        if w.key == "W4":
            return {f"{v}_{s}": nc_var(nc, f"{v}_{s}").reshape(ctx["tb"].ny, ctx["tb"].nx)
                    for s in ("mean", "min", "max")}
        if w.key == "W6":
            return {v + "_mean": nc_var(nc, v + "_mean")}
        if w.key == "W5":
            names = [x + "_mean" for x in w.vars]
            ans = {n: nc_var(nc, n) for n in names}
            ans["month"] = nc_months(nc)
            return drop_empty_groups(ans, names)


class Icechunk(Tool):
    name = "icechunk-zarrita"
    label = "Icechunk (Rust) + zarrita, Node"

    def supports(self, w):
        return w.key not in ("W6", "W7")

    def command(self, w, out, ctx):
        tb = ctx["tb"]
        argv = [NODE_RUN, os.path.join(PEERS, "icechunk_peer.mjs"), "--collection", tb.collection,
                "--endpoint", ctx["endpoint"], "--workload", w.key, "--vars", ",".join(w.vars),
                "--time", w.time_arg(tb), "--concurrency", str(ctx["concurrency"]), "--out", out]
        if w.bbox:
            argv += ["--bbox=" + ",".join(map(str, w.bbox))]
        if w.points:
            argv += ["--points", os.path.join(ctx["work"], "points.csv")]
        return argv

    def answer(self, w, out, ctx):
        ans = read_exchange(out)
        if w.key == "W5":
            ans = drop_empty_groups(ans, [x + "_mean" for x in w.vars])
        return ans


class Xarray(Icechunk):
    name = "xarray-dask"
    label = "xarray + dask + fsspec reference:// (W7: regionmask-style label raster + bincount)"

    def supports(self, w):
        return w.key != "W6"

    def command(self, w, out, ctx):
        tb = ctx["tb"]
        argv = [PY, os.path.join(PEERS, "xarray_peer.py"), "--refs", ctx["refs"], "--workload", w.key,
                "--vars", ",".join(w.vars), "--time", w.time_arg(tb), "--threads", str(ctx["cores"]),
                "--out", out]
        if w.bbox:
            argv += ["--bbox=" + ",".join(map(str, w.bbox))]
        if w.points:
            argv += ["--points", os.path.join(ctx["work"], "points.csv")]
        if w.key == "W7":
            argv += ["--labels", ctx["basin_labels"]]
        return argv


class Cdo(Tool):
    name = "cdo"
    label = "CDO, local files"
    http = False

    def command(self, w, out, ctx):
        tb = ctx["tb"]
        files = [tb.path(t) for t in range(*w.tr)]
        cdo = ["cdo", "-s", "-O", "-P", str(ctx["cores"])]
        sel = "-select,name=" + ",".join(w.vars)
        o = os.path.join(out, "out.nc")
        if w.key == "W1":
            b = w.bbox
            return cdo + [f"-sellonlatbox,{b[0]},{b[2]},{b[1]},{b[3]}", sel] + files + [o]
        if w.key == "W2":
            p = w.points[0]
            return cdo + [f"-remapnn,lon={p[0]}_lat={p[1]}", sel] + files + [o]
        if w.key == "W3":
            b = w.bbox
            return cdo + ["-fldmean", f"-sellonlatbox,{b[0]},{b[2]},{b[1]},{b[3]}", sel] + files + [o]
        if w.key == "W4":
            # CDO has no one-pass mean+min+max: three passes, as a user runs them.
            steps = [cdo + [f"-tim{s}", sel] + files + [os.path.join(out, f"{s}.nc")] for s in ("mean", "min", "max")]
            return ["sh", "-c", " && ".join(" ".join(map(sh_quote, s)) for s in steps)]
        if w.key == "W5":
            return cdo + ["-ymonmean", sel] + files + [o]
        if w.key == "W7":
            # One CDO call per basin, as a user loops over a basin set: the
            # basin's box, its polygon mask (maskregion: centres inside),
            # the area-weighted field mean. Timed on the first
            # ctx["cdo_regions"] basins only (a call reads every file).
            steps = []
            for k in range(ctx["cdo_regions"]):
                reg = os.path.join(ctx["basin_dir"], "cdo", f"{k:04d}.txt")
                pts = [tuple(map(float, ln.split())) for ln in open(reg)]
                x0, x1 = min(p[0] for p in pts) - 0.02, max(p[0] for p in pts) + 0.02
                y0, y1 = min(p[1] for p in pts) - 0.02, max(p[1] for p in pts) + 0.02
                steps.append(cdo + ["-fldmean", f"-maskregion,{reg}", f"-sellonlatbox,{x0:.4f},{x1:.4f},{y0:.4f},{y1:.4f}",
                                    sel] + files + [os.path.join(out, f"r{k:04d}.nc")])
            return ["sh", "-c", " && ".join(" ".join(map(sh_quote, s)) for s in steps)]

    def scale(self, w, ctx):
        return BASINS[0] * BASINS[1] / ctx["cdo_regions"] if w.key == "W7" else 1.0

    def restrict(self, ref, w, ctx):
        if w.key != "W7":
            return ref
        k = ctx["cdo_regions"]
        return {n: (a if n == "time" else a[:, :k]) for n, a in ref.items()}

    def answer(self, w, out, ctx):
        o = os.path.join(out, "out.nc")
        v = w.vars[0]
        tb = ctx["tb"]
        if w.key == "W1":
            return {v: nc_var(o, v)}
        if w.key == "W2":
            return {v: nc_var(o, v).reshape(-1, 1), "time": nc_var(o, "time")}
        if w.key == "W3":
            return {v + "_mean": nc_var(o, v).reshape(-1), "time": nc_var(o, "time")}
        if w.key == "W4":
            return {f"{v}_{s}": nc_var(os.path.join(out, f"{s}.nc"), v).reshape(tb.ny, tb.nx)
                    for s in ("mean", "min", "max")}
        if w.key == "W5":
            ans = {x + "_mean": nc_var(o, x) for x in w.vars}
            ans["month"] = nc_months(o)
            return drop_empty_groups(ans, [x + "_mean" for x in w.vars])
        if w.key == "W7":
            cols = [nc_var(os.path.join(out, f"r{k:04d}.nc"), v).reshape(-1) for k in range(ctx["cdo_regions"])]
            return {v + "_mean": np.stack(cols, axis=1),
                    "time": nc_var(os.path.join(out, "r0000.nc"), "time")}


class Nco(Cdo):
    name = "nco"
    label = "NCO, local files"

    def supports(self, w):
        # NCO has no area-weighted field mean per step or month grouping in
        # one operator; it does subsets (ncks, ncrcat) and record means (ncra).
        return w.key in ("W1", "W2", "W4")

    def command(self, w, out, ctx):
        tb = ctx["tb"]
        files = [tb.path(t) for t in range(*w.tr)]
        o = os.path.join(out, "out.nc")
        v = w.vars[0]
        if w.key == "W1":
            b = w.bbox
            return ["ncks", "-O", "-v", v, "-d", f"lat,{b[1]:.6f},{b[3]:.6f}", "-d", f"lon,{b[0]:.6f},{b[2]:.6f}"] \
                + files + [o]
        if w.key == "W2":
            (i0, _), (j0, _) = w.selection(tb)
            # index hyperslabs: a single coordinate value is not "the cell
            # containing the point" in NCO's hyperslab rules.
            return ["ncrcat", "-O", "-v", v, "-d", f"lat,{i0}", "-d", f"lon,{j0}"] + files + [o]
        if w.key == "W4":
            steps = [["ncra", "-O", "-y", op, "-v", v] + files + [os.path.join(out, f"{s}.nc")]
                     for op, s in (("avg", "mean"), ("min", "min"), ("max", "max"))]
            return ["sh", "-c", " && ".join(" ".join(map(sh_quote, s)) for s in steps)]


def sh_quote(s):
    return s if re.fullmatch(r"[\w@%+=:,./-]+", s) else "'" + s.replace("'", "'\\''") + "'"


# --- measuring ----------------------------------------------------------------------


class AccessLog:
    """Requests and body bytes the stand-in served since the last mark."""
    LINE = re.compile(r'^\S+ \[[^\]]*\] "(\S+) (\S+)[^"]*" (\d{3}) (\d+) ')

    def __init__(self, path):
        self.path = path
        self.pos = os.path.getsize(path) if os.path.exists(path) else 0

    def take(self):
        if not os.path.exists(self.path):
            return 0, 0
        with open(self.path, "rb") as fh:
            fh.seek(self.pos)
            data = fh.read()
        # only whole lines; a partial last line is read next time
        end = data.rfind(b"\n") + 1
        self.pos += end
        n = b = 0
        for line in data[:end].decode("utf-8", "replace").splitlines():
            m = self.LINE.match(line)
            if not m or m.group(2).startswith("/__s3-standin"):
                continue
            n += 1
            b += int(m.group(4))
        return n, b


def run_measured(argv, env, out, timeout, alog):
    """Runs argv under measure (benchmarks/measure.c); returns dict(rc, wall,
    cpu, user, sys, rss_mb, timeout[, requests, bytes])."""
    os.makedirs(out, exist_ok=True)
    if alog:
        alog.take()
    full_env = dict(os.environ)
    full_env.update(env)
    mfile = os.path.join(out, "measure.json")
    with open(os.path.join(out, "stdout.txt"), "wb") as so, open(os.path.join(out, "stderr.txt"), "wb") as se:
        p = subprocess.Popen([MEASURE, mfile] + argv, stdout=so, stderr=se, env=full_env, cwd=out,
                             start_new_session=True)
        try:
            p.wait(timeout=timeout)
            killed = False
        except subprocess.TimeoutExpired:
            os.killpg(p.pid, signal.SIGKILL)  # measure and the tool: its own session
            p.wait()
            killed = True
    try:
        m = json.load(open(mfile))
    except (OSError, ValueError):
        m = {"rc": p.returncode or -9, "wall_s": float(timeout), "user_s": 0.0, "sys_s": 0.0, "maxrss_kb": 0}
    r = {"rc": m["rc"] if not killed else -9, "wall": m["wall_s"], "user": m["user_s"], "sys": m["sys_s"],
         "cpu": m["user_s"] + m["sys_s"], "rss_mb": m["maxrss_kb"] / 1024.0, "timeout": killed}
    if alog:
        time.sleep(0.15)  # nginx logs a request just after its last byte went out
        r["requests"], r["bytes"] = alog.take()
    return r


def err_tail(out):
    try:
        with open(os.path.join(out, "stderr.txt"), errors="replace") as fh:
            lines = [l.strip() for l in fh if l.strip() and "RuntimeWarning" not in l]
        return (lines[-1] if lines else "")[:300]
    except OSError:
        return ""


def floe_report(out):
    try:
        rep = json.load(open(os.path.join(out, "report.json")))
    except (OSError, ValueError):
        return {}
    tot = rep.get("total", {})
    per = rep.get("per_rank", [])
    dec = sum(r.get("decode_seconds", 0) for r in per) or tot.get("decode_seconds", 0)
    dbytes = sum(r.get("decoded_bytes", 0) for r in per) or tot.get("decoded_bytes", 0)
    rank0 = next((r for r in per if r.get("rank") == 0), {})
    return {"floe_wall_s": rep.get("wall_seconds"), "floe_decode_s": dec, "floe_decoded_bytes": dbytes,
            "floe_threads": rep.get("threads", tot.get("threads")),
            "floe_rank0_bytes_received": rank0.get("bytes_received"),
            "floe_wait_s": sum(r.get("wait_seconds", 0) for r in per) or tot.get("wait_seconds"),
            "floe_requests": tot.get("requests"), "floe_rss_sum_mb": (tot.get("peak_rss_bytes_sum") or 0) / 2**20,
            "floe_ranks": rep.get("ranks")}


# --- stand-in ---------------------------------------------------------------------


class Standin:
    def __init__(self, tb, latency, state):
        self.state, self.latency = state, latency
        subprocess.run([STANDIN, "start", tb.s3, "--port", "0", "--latency-ms", str(latency), "--state", state,
                        "--access-log"], check=True, stdout=subprocess.DEVNULL)
        self.endpoint = open(os.path.join(state, "endpoint")).read().strip()
        self.log = AccessLog(os.path.join(state, "access.log"))

    def stop(self):
        subprocess.run([STANDIN, "stop", "--state", self.state], check=False)


# --- the suite ----------------------------------------------------------------------


def machine():
    model = "unknown"
    try:
        for line in open("/proc/cpuinfo"):
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    mem = ""
    try:
        for line in open("/proc/meminfo"):
            if line.startswith("MemTotal"):
                mem = f"{int(line.split()[1]) / 2**20:.0f} GiB"
    except OSError:
        pass
    return {"cores": os.cpu_count(), "model": model, "memory": mem, "kernel": platform.release(),
            "date": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")}


def versions(floe):
    def first(cmd):
        try:
            r = subprocess.run(cmd, capture_output=True, text=True, timeout=30)
            s = (r.stdout + r.stderr).strip().splitlines()
            return s[0].strip() if s else "?"
        except (OSError, subprocess.TimeoutExpired):
            return "not found"
    v = {"floe": first([floe, "--version"]), "cdo": first(["cdo", "--version"]),
         "nco": first(["ncks", "--version"]).replace("ncks, version ", "NCO ") if shutil.which("ncks") else "not found",
         "node": first(["node", "--version"])}
    try:
        lock = json.load(open(os.path.join(ROOT, "scripts", "node", "package.json")))["dependencies"]
        v["icechunk"] = "@earthmover/icechunk " + lock.get("@earthmover/icechunk", "?")
        v["zarrita"] = "zarrita " + lock.get("zarrita", "?")
    except (OSError, ValueError, KeyError):
        pass
    # Debian's python3-xarray reports __version__ 999: ask dpkg.
    v["python stack"] = ", ".join(
        first(["dpkg-query", "-W", "-f=${Package} ${Version}", p]).replace("python3-", "")
        for p in ("python3-xarray", "python3-dask", "python3-zarr", "python3-fsspec", "python3-numcodecs"))
    return v


def med(xs):
    xs = [x for x in xs if x is not None]
    return statistics.median(xs) if xs else None


def main():
    ap = argparse.ArgumentParser(description="floe benchmark suite")
    ap.add_argument("--quick", action="store_true", help="a few minutes: short time ranges, fewer runs, 20 ms only")
    ap.add_argument("--runs", type=int, help="timed runs per tool (default 3)")
    ap.add_argument("--latency-ms", help="comma-separated stand-in latencies (default 20,0; --quick 20)")
    ap.add_argument("--only", help="workloads, e.g. W1,W3 (W6 is the decode comparison)")
    ap.add_argument("--tools", help="tools (default all): floe-np1 (1 rank, 1 thread), floe-np2 (2 ranks under "
                    "mpirun, 1 thread each), floe-t2 (1 rank, --threads 2, no mpirun), icechunk-zarrita, "
                    "xarray-dask, cdo, nco; and the measurements ceilings (fetch and decode ceilings) and "
                    f"funnel (W5 once at np {FUNNEL_RANKS}: rank 0's bytes received); floe-np1 always runs")
    ap.add_argument("--floe", default=os.path.join(ROOT, "build", "floe"))
    ap.add_argument("--testbed", default=os.path.join(ROOT, "build", "testbed", "bench"))
    ap.add_argument("--bin", default=os.path.join(ROOT, "build", "bench-bin"), help="where the ceilings were built")
    ap.add_argument("--results", default=os.path.join(BENCH, "results"))
    ap.add_argument("--timeout", type=int, help="seconds per run (default 1200, --quick 300)")
    ap.add_argument("--concurrency", type=int, default=16, help="floe's requests in flight per rank (its default)")
    ap.add_argument("--wide-days", type=int,
                    help="full mode: W4 and W5 (whole domain) over the first N days, not the year")
    ap.add_argument("--keep", action="store_true", help="keep the work directory")
    ap.add_argument("--cdo-regions", type=int, default=3,
                    help="W7: basins CDO loops over (one call each; its time is scaled to all basins)")
    a = ap.parse_args()
    global MEASURE
    MEASURE = os.path.join(a.bin, "measure")

    runs = a.runs or 3
    lats = [int(x) for x in (a.latency_ms or ("20" if a.quick else "20,0")).split(",")]
    timeout = a.timeout or (300 if a.quick else 1200)
    only = set((a.only or "W1,W2,W3,W4,W5,W6,W7").upper().split(","))
    all_tools = [Floe(1), Floe(2), Floe(1, 2, "floe-t2"), Icechunk(), Xarray(), Cdo(), Nco()]
    extras = ["ceilings", "funnel"]  # measurements, not timed tools
    tool_names = set((a.tools or ",".join([t.name for t in all_tools] + extras)).split(","))
    unknown = tool_names - {t.name for t in all_tools} - set(extras)
    if unknown:
        sys.exit(f"bench: unknown tools {sorted(unknown)}")
    tool_names |= {"floe-np1"}  # the reference every answer is checked against
    tools = [t for t in all_tools if t.name in tool_names]
    cores = os.cpu_count()

    tb = Testbed(a.testbed)
    wls = workloads(tb, a.quick, None if a.quick else a.wide_days)
    sel = [w for k, w in wls.items() if k in only]
    help_text = subprocess.run([a.floe, "stats", "--help"], capture_output=True, text=True).stdout
    floe_report_ok = "--report" in help_text
    floe_threads_ok = "--threads" in help_text
    skipped = [t.name for t in tools if isinstance(t, Floe) and t.needs_threads() and not floe_threads_ok]
    if skipped:
        log(f"this floe has no --threads: not run: {skipped}")
        tools = [t for t in tools if t.name not in skipped]

    work = tempfile.mkdtemp(prefix="floe-bench-")
    with open(os.path.join(work, "points.csv"), "w") as fh:
        fh.write(f"{POINT[0]},{POINT[1]},{POINT[2]}\n")
    ctx = {"tb": tb, "work": work, "floe": a.floe, "cores": cores, "floe_report": floe_report_ok,
           "floe_threads": floe_threads_ok, "skipped": skipped,
           "concurrency": a.concurrency * 2,  # peers: as many requests in flight as floe on 2 ranks
           "cdo_regions": a.cdo_regions}
    if "W7" in only:
        bdir = os.path.join(work, "basins")
        subprocess.run([PY, os.path.join(PEERS, "basins.py"), "--testbed", tb.dir, "--rows", str(BASINS[0]),
                        "--cols", str(BASINS[1]), "--out", bdir], check=True)
        ctx.update(basins=os.path.join(bdir, "basins.geojson"), basin_labels=os.path.join(bdir, "labels.npy"),
                   basin_dir=bdir)
    rows, checks, ceilings, funnel = [], {}, [], None
    mach, vers = machine(), versions(a.floe)
    started = time.time()
    log(f"work dir {work}; {runs} runs; latencies {lats}; workloads {[w.key for w in sel]}; "
        f"tools {[t.name for t in tools]}")

    standin = None
    try:
        for li, lat in enumerate(lats):
            standin = Standin(tb, lat, os.path.join(work, f"standin-{lat}"))
            ctx["endpoint"] = standin.endpoint
            refs = os.path.join(work, f"refs-{lat}.json")
            subprocess.run([PY, os.path.join(PEERS, "make_refs.py"), tb.dir, standin.endpoint, refs], check=True)
            ctx["refs"] = refs
            log(f"stand-in {standin.endpoint}, latency {lat} ms")
            for w in sel:
                # Local-file tools do not see the latency: run them once.
                wtools = [t for t in tools if t.supports(w) and (t.http or li == 0)]
                ok_tools, ref = [], None
                for t in wtools:
                    out = os.path.join(work, f"L{lat}", w.key, t.name, "check")
                    r = run_measured(t.command(w, out, ctx), t.env(ctx), out, timeout, standin.log if t.http else None)
                    key = (lat, w.key, t.name)
                    if r["rc"] != 0:
                        why = "timed out" if r["timeout"] else f"exit {r['rc']}: {err_tail(out)}"
                        checks[key] = ("ERROR", why)
                    else:
                        try:
                            ans = t.answer(w, out, ctx)
                        except Exception as e:  # unreadable output is a failed answer
                            ans, why = None, f"output unreadable: {e}"
                        if ans is None:
                            checks[key] = ("FAILED", why)
                        elif t.name == "floe-np1":
                            ref = ans
                            checks[key] = ("OK", "the reference")
                        elif ref is None:
                            checks[key] = ("UNCHECKED", "floe-np1 gave no answer to check against")
                        else:
                            why = compare(t.restrict(ref, w, ctx), ans)
                            checks[key] = ("OK", "same answer as floe-np1") if why is None else ("FAILED", why)
                        del ans
                    log(f"{lat} ms {w.key} {t.name}: check {checks[key][0]} ({r['wall']:.2f} s)"
                        + ("" if checks[key][0] == "OK" else f": {checks[key][1]}"))
                    if checks[key][0] in ("OK", "UNCHECKED"):
                        ok_tools.append(t)
                    shutil.rmtree(os.path.join(work, f"L{lat}", w.key, t.name, "check"), ignore_errors=True)
                ref = None
                for k in range(runs):
                    order = ok_tools[k % len(ok_tools):] + ok_tools[:k % len(ok_tools)] if ok_tools else []
                    for t in order:
                        out = os.path.join(work, f"L{lat}", w.key, t.name, f"run{k}")
                        r = run_measured(t.command(w, out, ctx), t.env(ctx), out, timeout,
                                         standin.log if t.http else None)
                        row = {"latency_ms": lat if t.http else "", "workload": w.key, "tool": t.name, "run": k + 1,
                               "status": "ok" if r["rc"] == 0 else ("timeout" if r["timeout"] else f"exit {r['rc']}"),
                               "wall_s": round(r["wall"], 4), "cpu_s": round(r["cpu"], 3),
                               "user_s": round(r["user"], 3), "sys_s": round(r["sys"], 3),
                               "peak_rss_mb": round(r["rss_mb"], 1),
                               "requests": r.get("requests", ""), "bytes": r.get("bytes", "")}
                        if isinstance(t, Floe):
                            row.update(floe_report(out))
                        if r["rc"] != 0:
                            row["note"] = err_tail(out)
                        rows.append(row)
                        shutil.rmtree(out, ignore_errors=True)
                    log(f"{lat} ms {w.key}: round {k + 1}/{runs} done")
                if "ceilings" in tool_names and w.key not in ("W1", "W6"):
                    ceilings += fetch_ceilings(w, tb, standin, a.bin, runs, a.concurrency, work, lat)
                if "funnel" in tool_names and w.key == "W5" and li == 0:
                    funnel = funnel_run(w, ctx, work, timeout, standin)
            standin.stop()
            standin = None
        if "W6" in only and "ceilings" in tool_names:
            ceilings += decode_ceiling(tb, wls["W6"], a.bin, runs, work)
    finally:
        if standin:
            standin.stop()
        if not a.keep:
            shutil.rmtree(work, ignore_errors=True)

    os.makedirs(a.results, exist_ok=True)
    write_csv(os.path.join(a.results, "results.csv"), rows, ceilings)
    write_md(os.path.join(a.results, "RESULTS.md"), a, runs, lats, sel, tools, rows, checks, ceilings, mach, vers,
             floe_report_ok, time.time() - started, tb, ctx, funnel)
    log(f"wrote {a.results}/RESULTS.md and results.csv in {time.time() - started:.0f} s")


FUNNEL_RANKS = 4  # issue 15: the whole-domain climatology at -np 4 (oversubscribed)


def output_data_bytes(nc):
    """Bytes of the output's data variables as values (what a rank-0 funnel
    would receive), coordinates and bounds left out; and the file's size."""
    total = 0
    with netCDF4.Dataset(nc) as ds:
        for name, v in ds.variables.items():
            if name in ds.dimensions or name.endswith("_bnds") or name.endswith("_bounds") or v.ndim < 2:
                continue
            total += int(np.prod(v.shape)) * v.dtype.itemsize
    return total, os.path.getsize(nc)


def funnel_run(w, ctx, work, timeout, standin):
    """One run of W5 (the whole-domain climatology) at FUNNEL_RANKS ranks
    with --report: rank 0's bytes_received (MPI payload, a --report field;
    None when this floe does not report it) against the output's data
    bytes."""
    t = Floe(FUNNEL_RANKS)
    out = os.path.join(work, "funnel")
    r = run_measured(t.command(w, out, ctx), t.env(ctx), out, timeout, standin.log)
    res = {"ranks": FUNNEL_RANKS, "status": "ok" if r["rc"] == 0 else f"exit {r['rc']}: {err_tail(out)}",
           "wall_s": r["wall"]}
    if r["rc"] == 0:
        res.update(floe_report(out))
        res["data_bytes"], res["file_bytes"] = output_data_bytes(os.path.join(out, "out.nc"))
    log(f"W5 at np {FUNNEL_RANKS}: {res['status']}, rank 0 received "
        f"{res.get('floe_rank0_bytes_received', 'n/a')} bytes of {res.get('data_bytes', '?')}")
    shutil.rmtree(out, ignore_errors=True)
    return res


def fetch_ceilings(w, tb, standin, bindir, runs, conc, work, lat):
    """The workload's data ranges fetched with no decode, floe's concurrency
    per rank and twice that (floe on 2 ranks)."""
    lst = os.path.join(work, f"fetch-{w.key}.txt")
    base = standin.endpoint + "/" + tb.bucket + "/"
    with open(lst, "w") as fh:
        for v, t, off, ln in w.needed_chunks(tb):
            fh.write(f"{base}{tb.files[t]['key']} {off} {ln}\n")
    out = []
    for c in (conc, 2 * conc):
        for k in range(runs):
            r = subprocess.run([os.path.join(bindir, "fetch_ceiling"), lst, str(c)], capture_output=True, text=True)
            if r.returncode != 0:
                out.append({"latency_ms": lat, "workload": w.key, "tool": f"fetch-ceiling-{c}", "run": k + 1,
                            "status": "error", "note": r.stderr.strip()[:200]})
                break
            j = json.loads(r.stdout)
            out.append({"latency_ms": lat, "workload": w.key, "tool": f"fetch-ceiling-{c}", "run": k + 1,
                        "status": "ok", "wall_s": round(j["seconds"], 4), "requests": j["requests"],
                        "bytes": j["bytes"]})
        standin.log.take()
    log(f"{lat} ms {w.key}: fetch ceilings done")
    return out


def decode_ceiling(tb, w, bindir, runs, work):
    """One core, libdeflate + unshuffle over W6's chunks preloaded in memory
    (the same chunks floe decodes in W6: decode speed depends on the data)."""
    lst = os.path.join(work, "decode.txt")
    with open(lst, "w") as fh:
        for v, t, off, ln in w.needed_chunks(tb):
            fh.write(f"{tb.path(t)} {off} {ln}\n")
    out = []
    for k in range(runs):
        r = subprocess.run([os.path.join(bindir, "decode_ceiling"), lst, "4", str(tb.cy * tb.cx * 4), "5"],
                           capture_output=True, text=True)
        if r.returncode != 0:
            out.append({"workload": "W6", "tool": "decode-ceiling", "run": k + 1, "status": "error",
                        "note": r.stderr.strip()[:200]})
            break
        j = json.loads(r.stdout)
        out.append({"workload": "W6", "tool": "decode-ceiling", "run": k + 1, "status": "ok",
                    "wall_s": round(j["seconds"], 4), "decoded_bytes": j["decoded_bytes"],
                    "encoded_bytes": j["encoded_bytes"], "decoded_MBps": j["decoded_MBps"]})
    log("W6: decode ceiling done")
    return out


CSV_FIELDS = ["latency_ms", "workload", "tool", "run", "status", "wall_s", "cpu_s", "user_s", "sys_s", "peak_rss_mb",
              "requests", "bytes", "floe_ranks", "floe_threads", "floe_wall_s", "floe_decode_s", "floe_decoded_bytes", "floe_wait_s",
              "floe_requests", "floe_rss_sum_mb", "decoded_bytes", "encoded_bytes", "decoded_MBps", "note"]


def write_csv(path, rows, ceilings):
    with open(path, "w", newline="") as fh:
        wr = csv.DictWriter(fh, fieldnames=CSV_FIELDS, extrasaction="ignore")
        wr.writeheader()
        for r in rows + ceilings:
            wr.writerow(r)


def fmt(x, nd=3):
    if x is None or x == "":
        return "-"
    if isinstance(x, float):
        if x >= 100:
            return f"{x:.0f}"
        if x >= 10:
            return f"{x:.1f}"
        return f"{x:.{nd}f}"
    return str(x)


def fmt_n(x):
    return "-" if x is None else f"{x:.0f}"


FLOE_TOOLS = ("floe-np1", "floe-np2", "floe-t2")
TWO_CORES = (("floe-np2", "2 ranks under mpirun"), ("floe-t2", "1 rank, 2 threads, no mpirun"))


def efficiency(f1, f2):
    """Parallel efficiency on 2 cores: one core's time over twice two cores'."""
    return f1 / (2 * f2)


def summary(lats, sel, rows, ceilings, floe_med, quick, ctx, funnel):
    """The issue's targets, each with what this run measured."""
    def m(lat, wk, tool):
        rs = [r["wall_s"] for r in rows if r["workload"] == wk and r["tool"] == tool and r["status"] == "ok"
              and r["latency_ms"] in (lat, "")]
        return med(rs)
    lat = 20 if 20 in lats else lats[0]
    L = [f"## Against the targets ({lat} ms{', QUICK ranges' if quick else ''})", "",
         "`floe-np1` is one core (1 rank, 1 thread); the 2-core rows are `floe-np2` (2 ranks under mpirun, 1 "
         "thread each) and `floe-t2` (1 rank started without mpirun, 2 threads)"
         + (f"; not run: {', '.join(ctx['skipped'])} (this floe has no `--threads`)" if ctx.get("skipped") else "")
         + ".", "",
         "| target | measured | met |", "| --- | --- | --- |"]
    keys = [w.key for w in sel]
    if "W1" in keys:
        f1 = floe_med.get((lat, "W1", "floe-np1"))
        ft = floe_med.get((lat, "W1", "floe-t2"))
        f2 = floe_med.get((lat, "W1", "floe-np2"))
        alone = [x for x in (f1, ft) if x]
        if alone:
            got = [f"{what} {x:.3f} s" for what, x in (("1 rank", f1), ("1 rank 2 threads", ft),
                                                       ("2 ranks under mpirun", f2)) if x]
            L.append(f"| W1 under 0.1 s incl. opening, without mpirun | {', '.join(got)} | "
                     f"{'yes' if min(alone) < 0.1 else 'no'} |")
    if "W2" in keys:
        f1 = floe_med.get((lat, "W2", "floe-np1"))
        for name, what in TWO_CORES:
            f2 = floe_med.get((lat, "W2", name))
            if f1 and f2:
                L.append(f"| W2 on 2 cores faster than on 1 ({what}) | {fmt(f2)} s vs {fmt(f1)} s | "
                         f"{'yes' if f2 < f1 else 'no'} |")
    for wk in ("W3", "W4", "W5"):
        f1 = floe_med.get((lat, wk, "floe-np1"))
        for name, what in TWO_CORES:
            f2 = floe_med.get((lat, wk, name))
            if wk in keys and f1 and f2:
                e = efficiency(f1, f2)
                L.append(f"| {wk}: parallel efficiency on 2 cores >= 90% ({what}) | {100 * e:.0f}% ({fmt(f1)} s "
                         f"on 1 core, {fmt(f2)} s on 2) | {'yes' if e >= 0.9 else 'no'} |")
    if "W7" in keys and floe_med.get((lat, "W7", "floe-np2")):
        f2 = floe_med[(lat, "W7", "floe-np2")]
        nb = BASINS[0] * BASINS[1]
        for tool in ("xarray-dask", "cdo"):
            p = m(lat, "W7", tool)
            if p is None:
                continue
            if tool == "cdo":
                k = a_cdo_regions[0]
                L.append(f"| W7: a loop of CDO calls / floe ({nb} basins) | {p * nb / k / f2:.0f}x "
                         f"({fmt(p)} s for {k} basins, so {fmt(p * nb / k)} s for {nb}, vs {fmt(f2)} s) | - |")
            else:
                L.append(f"| W7: {tool} / floe ({nb} basins) | {p / f2:.1f}x ({fmt(p)} s vs {fmt(f2)} s) | - |")
    for wk in ("W3", "W4", "W5"):
        if wk not in keys:
            continue
        for name, what in TWO_CORES:
            f2 = floe_med.get((lat, wk, name))
            if not f2:
                continue
            for tool, goal in (("icechunk-zarrita", 10), ("xarray-dask", 10), ("cdo", 5)):
                p = m(lat, wk, tool)
                if p is None:
                    continue
                L.append(f"| {wk}: {tool} / floe ({what}) >= {goal}x | {p / f2:.1f}x ({fmt(p)} s vs {fmt(f2)} s) | "
                         f"{'yes' if p / f2 >= goal else 'no'} |")
    dc = [c["decoded_MBps"] for c in ceilings if c.get("tool") == "decode-ceiling" and c.get("status") == "ok"]
    ceil = med(dc) if dc else None
    if ceil and "W6" in keys:
        for tool in ("floe-np1", "floe-np2"):
            rs = [r for r in rows if r["workload"] == "W6" and r["tool"] == tool and r["status"] == "ok"
                  and r.get("floe_decode_s") and r["latency_ms"] == lat]
            if rs:
                rate = med([r["floe_decoded_bytes"] / r["floe_decode_s"] / 1e6 for r in rs])
                L.append(f"| W6: decode per rank >= 85% of the libdeflate ceiling ({tool}) | {rate:.0f} of "
                         f"{ceil:.0f} MB/s = {100 * rate / ceil:.0f}% | {'yes' if rate >= 0.85 * ceil else 'no'} |")
    if ceil:
        for wk in ("W4", "W6"):
            rs = [r for r in rows if r["workload"] == wk and r["tool"] == "floe-t2" and r["status"] == "ok"
                  and r.get("floe_decoded_bytes") and r["latency_ms"] == lat]
            if wk in keys and rs:
                e2e = med([r["floe_decoded_bytes"] / r["wall_s"] / 1e6 for r in rs])
                goal = 0.85 * 2 * ceil
                L.append(f"| {wk}: end-to-end decoded MB/s on 2 cores, no mpirun (floe-t2) >= 85% of twice the "
                         f"per-core ceiling{' (measured on W6 chunks)' if wk != 'W6' else ''} | {e2e:.0f} MB/s vs {goal:.0f} (= 0.85 x 2 x {ceil:.0f}) MB/s, "
                         f"{100 * e2e / (2 * ceil):.0f}% of twice the ceiling | {'yes' if e2e >= goal else 'no'} |")
    if funnel:
        got = funnel.get("floe_rank0_bytes_received")
        if funnel["status"] != "ok":
            L.append(f"| whole-domain climatology (W5) at np {funnel['ranks']}: rank 0 receives <= 1/4 of the "
                     f"output bytes | {funnel['status'][:120]} | no |")
        elif got is None:
            L.append(f"| whole-domain climatology (W5) at np {funnel['ranks']}: rank 0 receives <= 1/4 of the "
                     f"output bytes | n/a: this floe's --report has no bytes_received (output: "
                     f"{funnel['data_bytes'] / 1e6:.1f} MB of values) | n/a |")
        else:
            share = got / funnel["data_bytes"] if funnel["data_bytes"] else float("nan")
            L.append(f"| whole-domain climatology (W5) at np {funnel['ranks']}: rank 0 receives <= 1/4 of the "
                     f"output bytes | {got / 1e6:.1f} MB of {funnel['data_bytes'] / 1e6:.1f} MB of values = "
                     f"{100 * share:.0f}% | {'yes' if share <= 0.25 else 'no'} |")
    if (ctx.get("cores") or 0) < 16:
        L += ["", f"Scaling over more cores (np 1..16 and threads 1..16 on W4/W5) is not measured: this machine "
              f"has {ctx.get('cores')} cores and no machine with more cores was lent for this suite."]
    return L + [""]


a_cdo_regions = [3]  # --cdo-regions, for summary()


def write_md(path, a, runs, lats, sel, tools, rows, checks, ceilings, mach, vers, report_ok, elapsed, tb, ctx,
             funnel):
    a_cdo_regions[0] = a.cdo_regions
    L = []
    argv = sys.argv[1:]
    if "--bin" in argv:  # added by benchmarks/run itself
        i = argv.index("--bin")
        argv = argv[:i] + argv[i + 2:]
    cmd = "benchmarks/run " + " ".join(argv)
    mode = ("QUICK (--quick)" if a.quick else
            f"full, except W4 and W5 over the first {a.wide_days} days" if a.wide_days else "full")
    L += ["# floe benchmarks", "",
          f"Written by `{cmd.strip()}` on {mach['date']} in {elapsed / 60:.1f} minutes. Mode: **{mode}**, "
          f"{runs} timed runs per cell (after one untimed run whose answer is checked), tools alternating run by run.",
          "",
          f"Machine: {mach['cores']} cores, {mach['model']}, {mach['memory']}, Linux {mach['kernel']}.", "",
          "Versions: " + "; ".join(f"{k}: {v}" for k, v in vers.items()) + ".", ""]
    if a.quick:
        L += ["**Quick mode: not the suite's answer.** Only the 20 ms stand-in unless --latency-ms is given; "
              "short time ranges instead of the whole year (the step counts below; W5's cross the "
              "January/February boundary, so two month groups); every peer still runs every workload, on "
              "the short ranges. Whole-domain outputs (W4-W6) carry a fixed cost (writing 5.4 M cells) that "
              "a short range does not amortise, so the ratios here understate what the year shows.", ""]
    L += ["Data: the `bench` test bed (2000 x 2700 cells at 0.01 deg, chunks 1 x 500 x 900, 365 daily files "
          "of 2001, Tair and Rainf, deflate + shuffle), the virtual Icechunk repository and the chunks served by "
          "the loopback S3 stand-in (`scripts/s3-standin`, per-request latency injected by nginx); CDO and NCO "
          "read the same NetCDF files from local disk (page cache warm: every cell's untimed check run reads "
          "the same bytes first).", ""]
    L += ["Workloads:", ""]
    for w in sel:
        n = w.tr[1] - w.tr[0]
        L.append(f"- **{w.key}**: {w.title}; {n} time step{'s' if n > 1 else ''} "
                 f"({tb.instant(w.tr[0])} .. {tb.instant(w.tr[1] - 1)}), "
                 f"{len(w.needed_chunks(tb))} chunks.")
    L.append("")
    L += ["Tools: " + "; ".join(f"`{t.name}` = {t.label}" for t in tools) + ". "
          "Ratios are the peer's median wall time over floe's (>1: floe is faster).", ""]

    def cell_rows(lat_key, w, t):
        return [r for r in rows if r["workload"] == w.key and r["tool"] == t.name and r["status"] == "ok"
                and (r["latency_ms"] == lat_key)]

    floe_med = {}
    for lat in lats:
        for w in sel:
            for t in tools:
                if isinstance(t, Floe):
                    rs = cell_rows(lat, w, t)
                    floe_med[(lat, w.key, t.name)] = med([r["wall_s"] for r in rs])

    L += summary(lats, sel, rows, ceilings, floe_med, a.quick, ctx, funnel)
    for li, lat in enumerate(lats):
        if li > 0:
            L += [f"## Stand-in latency {lat} ms", "",
                  "CDO and NCO read local files: they are in the first table only, and the ratios here are "
                  "against floe at this latency.", ""]
        else:
            L += [f"## Stand-in latency {lat} ms", ""]
        L += [
              "| workload | tool | median s | min s | max s | CPU s | peak RSS MB | requests | MB fetched "
              "| x floe np1 | x floe np2 | status |",
              "| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- |"]
        for w in sel:
            for t in tools:
                if not t.supports(w):
                    continue
                if not t.http and li > 0:
                    continue
                lat_key = lat if t.http else ""
                chk = checks.get((lat, w.key, t.name)) or checks.get((lats[0], w.key, t.name))
                if chk is None:
                    continue
                rs = cell_rows(lat_key, w, t)
                all_rs = [r for r in rows if r["workload"] == w.key and r["tool"] == t.name
                          and r["latency_ms"] == lat_key]
                name = t.name + ("" if t.http else " (local files)")
                sc = t.scale(w, {"cdo_regions": a.cdo_regions})
                if sc != 1.0:
                    name += f" ({a.cdo_regions} of {BASINS[0] * BASINS[1]} basins; ratios scaled x{sc:.0f})"
                if chk[0] not in ("OK", "UNCHECKED") or not rs:
                    status = chk[0] if chk[0] not in ("OK", "UNCHECKED") else \
                        (all_rs[0]["status"] if all_rs else "no runs")
                    L.append(f"| {w.key} | {name} | {status} | | | | | | | | | {status}: {chk[1][:120]} |")
                    continue
                walls = [r["wall_s"] for r in rs]
                m = med(walls)
                reqs = med([r["requests"] for r in rs if r["requests"] != ""])
                mb = med([r["bytes"] / 1e6 for r in rs if r["bytes"] != ""])
                rss = max(r["peak_rss_mb"] for r in rs)
                if isinstance(t, Floe) and t.ranks > 1:
                    s = med([r.get("floe_rss_sum_mb") for r in rs if r.get("floe_rss_sum_mb")])
                    rss_s = f"{rss:.0f} (sum {s:.0f})" if s else f"{rss:.0f}"
                else:
                    rss_s = f"{rss:.0f}"
                f1, f2 = floe_med.get((lat, w.key, "floe-np1")), floe_med.get((lat, w.key, "floe-np2"))
                r1 = f"{sc * m / f1:.1f}" if f1 and not isinstance(t, Floe) else "-"
                r2 = f"{sc * m / f2:.1f}" if f2 and not isinstance(t, Floe) else "-"
                bad = len(all_rs) - len(rs)
                st = "ok" if chk[0] == "OK" else chk[0]
                if bad:
                    st += f" ({bad} runs failed)"
                L.append(f"| {w.key} | {name} | {fmt(m)} | {fmt(min(walls))} | {fmt(max(walls))} | "
                         f"{fmt(med([r['cpu_s'] for r in rs]), 2)} | {rss_s} | {fmt_n(reqs)} | "
                         f"{fmt(mb, 1) if mb is not None else '-'} | {r1} | {r2} | {st} |")
            cs = [c for c in ceilings if c.get("workload") == w.key and c.get("latency_ms") == lat and
                  c.get("status") == "ok"]
            for name in sorted({c["tool"] for c in cs}, key=lambda s: int(s.rsplit("-", 1)[1])):
                ws = [c["wall_s"] for c in cs if c["tool"] == name]
                c0 = [c for c in cs if c["tool"] == name][0]
                L.append(f"| {w.key} | {name} (no decode) | {fmt(med(ws))} | {fmt(min(ws))} | {fmt(max(ws))} | "
                         f"| | {c0['requests']} | {c0['bytes'] / 1e6:.1f} | | | bound |")
        L.append("")

    # parallel efficiency: one core against two, as two ranks and as two threads
    L += ["## floe: 1 core vs 2 cores (2 ranks, or 1 rank with 2 threads)", "",
          "Parallel efficiency = np1's time / (2 x the 2-core time). `-` where a tool was not run.", "",
          "| latency ms | workload | np1 median s | np2 median s | np2 efficiency | t2 median s | t2 efficiency |",
          "| ---: | --- | ---: | ---: | ---: | ---: | ---: |"]
    for lat in lats:
        for w in sel:
            f1 = floe_med.get((lat, w.key, "floe-np1"))
            f2, ft = floe_med.get((lat, w.key, "floe-np2")), floe_med.get((lat, w.key, "floe-t2"))
            if f1 and (f2 or ft):
                e2 = f"{100 * efficiency(f1, f2):.0f}%" if f2 else "-"
                et = f"{100 * efficiency(f1, ft):.0f}%" if ft else "-"
                L.append(f"| {lat} | {w.key} | {fmt(f1)} | {fmt(f2)} | {e2} | {fmt(ft)} | {et} |")
    L.append("")

    # where floe's time goes (its own --report)
    if report_ok:
        L += ["## floe's own report (medians over the timed runs)", "",
              "| latency ms | workload | tool | wall s | requests | decode s (sum over ranks) | "
              "wait s (sum over ranks) | decoded MB |",
              "| ---: | --- | --- | ---: | ---: | ---: | ---: | ---: |"]
        for lat in lats:
            for w in sel:
                for name in FLOE_TOOLS:
                    rs = [r for r in rows if r["workload"] == w.key and r["tool"] == name
                          and r["latency_ms"] == lat and r["status"] == "ok" and r.get("floe_wall_s") is not None]
                    if not rs:
                        continue
                    L.append(f"| {lat} | {w.key} | {name} | {fmt(med([r['floe_wall_s'] for r in rs]))} | "
                             f"{fmt_n(med([r['floe_requests'] for r in rs]))} | "
                             f"{fmt(med([r['floe_decode_s'] for r in rs]))} | "
                             f"{fmt(med([r['floe_wait_s'] for r in rs]))} | "
                             f"{fmt(med([r['floe_decoded_bytes'] / 1e6 for r in rs]), 1)} |")
        L.append("")

    # W6
    L += ["## W6: decode throughput per core", ""]
    dc = [c for c in ceilings if c.get("tool") == "decode-ceiling" and c.get("status") == "ok"]
    ceil = med([c["decoded_MBps"] for c in dc]) if dc else None
    if dc:
        L.append(f"- Ceiling (`benchmarks/ceiling/decode_ceiling.c`): libdeflate zlib inflate + 4-byte unshuffle, "
                 f"one core, W6's {dc[0]['decoded_bytes'] / 1e6:.0f} MB of Tair chunks preloaded in memory: median "
                 f"**{ceil:.0f} MB/s** decoded (min {min(c['decoded_MBps'] for c in dc):.0f}, "
                 f"max {max(c['decoded_MBps'] for c in dc):.0f}; best of 5 passes per run).")
    else:
        L.append("- Ceiling: not measured in this run (needs W6 and the ceilings tool).")
    if not report_ok:
        L.append("- floe: TODO: this floe has no `--report`, so its decode seconds are not known.")
    else:
        for w in sel:
            if w.key not in ("W4", "W5", "W6"):
                continue
            for lat in lats:
                for name in FLOE_TOOLS:
                    rs = [r for r in rows if r["workload"] == w.key and r["tool"] == name and r["status"] == "ok"
                          and r.get("floe_decode_s") and r["latency_ms"] == lat]
                    if not rs:
                        continue
                    rate = med([r["floe_decoded_bytes"] / r["floe_decode_s"] / 1e6 for r in rs])
                    same = w.key == "W6"
                    pct = f", **{100 * rate / ceil:.0f}%** of the ceiling" if ceil and same else \
                        (" (other chunks than the ceiling's: not comparable)" if not same else "")
                    L.append(f"- {name}, {w.key}, {lat} ms: decoded bytes / decode seconds, per rank: "
                             f"{rate:.0f} MB/s{pct}; wall {fmt(med([r['wall_s'] for r in rs]))} s for "
                             f"{med([r['floe_decoded_bytes'] for r in rs]) / 1e6:.0f} MB decoded = "
                             f"{med([r['floe_decoded_bytes'] / r['wall_s'] for r in rs]) / 1e6:.0f} MB/s end to end.")
    L += ["", "floe's decode seconds are its own measurement (`--report`: the time in `zarr_chunk_decode`, "
          "inflate + unshuffle). Decode speed depends on the chunk (ocean fill values inflate faster), so only "
          "W6, which decodes the very chunks the ceiling does, is compared with it.", ""]

    L += ["## Checks", "",
          "Each tool's first run per workload (and latency) is untimed; its output is compared with floe's "
          "(1 rank): same shape, same missing cells, values within rtol 1e-5 and atol 1e-5 x max |value| "
          "(float32 outputs, different summation orders), time stamps and month groups equal.", "",
          "| latency ms | workload | tool | result |", "| ---: | --- | --- | --- |"]
    for (lat, wk, tn), (st, why) in sorted(checks.items(), key=lambda kv: (kv[0][0], kv[0][1], kv[0][2])):
        L.append(f"| {lat} | {wk} | {tn} | {st}: {why} |")
    L += ["", "## How it was measured", "",
          "- Wall: from spawn to exit of the tool's command (for floe including MPI start-up under `mpirun`; for "
          "the Node and Python peers including interpreter start-up and opening the store; for W1 everything "
          "from reading the STAC collection).",
          "- CPU s: user + sys of the command and the descendants it waited for (`wait4` rusage); the stand-in's "
          "own CPU is not included. Peak RSS: the largest single process (`ru_maxrss`); for floe on 2 ranks the "
          "sum over ranks from its report is given too.",
          "- Requests and MB fetched: lines and body bytes in the stand-in's access log during the run "
          "(metadata and chunk GETs alike). CDO and NCO read local files: no HTTP counts.",
          "- floe's cores: `floe-np1` and `floe-np2` pass `--threads 1` (one core per rank), `floe-t2` passes "
          "`--threads 2` to one rank started without mpirun (decode and reduction on a worker pool); a floe "
          "without `--threads` runs np1/np2 without it (one thread a rank) and no t2. The W5 row at np "
          f"{FUNNEL_RANKS} (`funnel`) is one run of the W5 command under `mpirun -np {FUNNEL_RANKS}` "
          "(oversubscribed) with `--report`: rank 0's `bytes_received` (MPI payload) against the output's data "
          "variables as values (coordinates and bounds left out).",
          "- Concurrency: floe 16 requests in flight per rank (its default); the Icechunk peer bounds zarrita's "
          "queue at 32 (floe's total on 2 ranks); dask runs one thread per core, each chunk a task.",
          "- Fetch ceiling rows: `benchmarks/ceiling/fetch_ceiling.c`, libcurl multi fetching exactly the "
          "workload's chunk ranges (no metadata, no decode) with 16 and 32 in flight: the network-bound floor "
          "at that latency.",
          "- CDO runs with `-P cores`; W4 is three passes (`timmean`, `timmin`, `timmax`), W2 uses `remapnn` to "
          "the point, W1/W3 `sellonlatbox`. NCO: `ncks` (W1), `ncrcat` with index hyperslabs (W2), three `ncra` "
          "passes (W4); no operator for W3/W5.",
          "- W7: the basins are `benchmarks/peers/basins.py`'s (a fixed seed): floe reads them as one GeoJSON "
          "FeatureCollection in one run; xarray rasterises them once into a label grid (regionmask's way) and "
          "reduces every chunk with numpy's bincount in dask tasks; CDO runs one call per basin "
          "(`-fldmean -maskregion -sellonlatbox`), timed on the first `--cdo-regions` basins and scaled to all "
          "(every call reads every file, so the time is linear in the basins).",
          "- Time: the files are stamped at the end of their day (A20010101 holds 2001-01-02T00); every tool "
          "selects the same stamps (floe and the peers by instant, CDO/NCO by file list).", ""]
    with open(path, "w") as fh:
        fh.write("\n".join(L))


if __name__ == "__main__":
    main()
