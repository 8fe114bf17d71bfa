#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
"""scale.py: W9, the real archive's size (issue #13), measured on the scale
test beds (run it through `benchmarks/run --scale`).

The issue's targets are ratios taken in one run, never timed assertions:

(a) the seed query (Rainf over Cape Cod, one day) on the full-size default
    repository (8399 days, 10 variables, one manifest per array) against
    the same query on a 62-day repository of the same shapes: wall ratio
    (target <= 1.3) and peak RSS difference (target <= 40 MB);
(b) the same query with all ten variables at 1, 2 and 4 ranks on the full
    repository (target: 4 ranks no slower than 1);
(c) `floe inspect` of the full repository (target: under 1 s and 300 MB);
(d) the split variant (Icechunk's manifest splitting): the manifests the
    seed query fetched (the report's `manifests_read` when the floe has it,
    and the distinct manifest objects in the stand-in's access log) against
    those the real Icechunk fetches for the same query (its peer run through
    the same stand-in) and the manifests the repository holds;
(e) the 23-year point series (one variable, one cell, every day) at 1 and 2
    ranks against the real Icechunk + zarrita (benchmarks/peers/
    icechunk_peer.mjs, workload W2) on the same repository and endpoint
    (target: >= 10x); the answers are compared first;
(f) the 12.7-million-ref single manifest (the nldas-bigmanifest bed):
    whether `inspect` and the seed query open it, their wall and RSS;
and the history variant's seed query beside the full one.

Every floe binary given (--floe, and --before for the figures of an older
build) runs every cell; cells take turns run by run (rotating the order)
after one untimed run (which warms the page cache and must succeed), and
the median of --runs runs is reported with the peak RSS of the largest
process (benchmarks/measure.c) and, from floe's --report, per rank.

A bed that is missing gets a "not built" line saying how to build it.
Writes the section "W9: the real archive's size (issue #13)" of
benchmarks/results/RESULTS.md (replacing it if there, else before "How it
was measured"), leaving the other sections as they are.
"""

import argparse
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

import bench
from batch import splice
from bench import CAPE_COD, MPI_ENV, NODE_RUN, PEERS, POINT, ROOT, STANDIN, log, machine

SECTION = "## W9: the real archive's size (issue #13)"
# The targets.
SEED_RATIO, SEED_RSS_MB = 1.3, 40.0
INSPECT_S, INSPECT_MB = 1.0, 300.0
PEER_RATIO = 10.0
# A 1-minute load average above this: other work shares the cores, and the
# section says its wall times are not to be trusted.
QUIET_LOAD = 1.5
# The test beds, by role: (folder under --scale-dir, what it is, how to build it).
BEDS = {
    "full": ("nldas-full", "default layout, one manifest per array", "scripts/testbed build nldas-full"),
    "62d": ("nldas-62d", "the same shapes, 62 days", "scripts/testbed build nldas-full with 62 days"),
    "split": ("nldas-split", "Icechunk's manifest splitting", "scripts/testbed build nldas-split"),
    "history": ("nldas-history", "a base commit plus monthly appends", "scripts/testbed build nldas-history"),
    "reduced": ("nldas-reduced", "Tair and Rainf, 8399 days, default layout", "scripts/testbed build nldas-reduced"),
    "bigmanifest": ("nldas-bigmanifest", "one array whose manifest holds about 12.7 million refs",
                    "a variable of 75,000 days x 169 chunks"),
}
LOG_LINE = re.compile(r'^\S+ \[[^\]]*\] "(\S+) (\S+)[^"]*" (\d{3}) (\d+) ')


class Bed:
    """A test bed: collection.json, s3/ (served by its own stand-in)."""

    def __init__(self, role, d):
        self.role, self.dir = role, d
        self.collection = os.path.join(d, "collection.json")
        self.s3 = os.path.join(d, "s3")
        self.ready = os.path.isfile(self.collection) and os.path.isdir(self.s3)
        self.vars, self.extent, self.standin = [], None, None
        if self.ready:
            c = json.load(open(self.collection))
            self.vars = list(c.get("cube:variables", {}))
            self.extent = c.get("cube:dimensions", {}).get("time", {}).get("extent")

    def built(self):
        """What the bed's READY file says of its build (its last line)."""
        try:
            lines = [x.strip() for x in open(os.path.join(self.dir, "READY")) if x.strip()]
            return lines[-1][:300] if lines else None
        except OSError:
            return None

    def has_day(self, day):
        return bool(self.extent) and self.extent[0][:10] <= day <= self.extent[1][:10]

    def manifests(self):
        """Manifest objects the repository the collection opens holds (its
        Icechunk asset with role latest-version, else the first one)."""
        c = json.load(open(self.collection))
        assets = [x for x in c.get("assets", {}).values() if "icechunk" in x.get("type", "")]
        latest = [x for x in assets if "latest-version" in x.get("roles", [])]
        m = re.match(r"^s3://(.+?)/?$", (latest or assets or [{}])[0].get("href", ""))
        d = os.path.join(self.s3, m.group(1), "manifests") if m else None
        return len(os.listdir(d)) if d and os.path.isdir(d) else None


class Standin:
    """This bed's stand-in (scripts/s3-standin with an access log) and the
    requests it served since the last take(): count, bytes and the paths."""

    def __init__(self, bed, latency, state):
        subprocess.run(["nice", "-n", "10", STANDIN, "start", bed.s3, "--port", "0", "--latency-ms", str(latency), "--state", state,
                        "--access-log"], check=True, stdout=subprocess.DEVNULL)
        self.state = state
        self.endpoint = open(os.path.join(state, "endpoint")).read().strip()
        self.path = os.path.join(state, "access.log")
        self.pos = os.path.getsize(self.path) if os.path.exists(self.path) else 0

    def take(self):
        if not os.path.exists(self.path):
            return []
        with open(self.path, "rb") as fh:
            fh.seek(self.pos)
            data = fh.read()
        end = data.rfind(b"\n") + 1  # a partial last line is read next time
        self.pos += end
        out = []
        for line in data[:end].decode("utf-8", "replace").splitlines():
            m = LOG_LINE.match(line)
            if m and not m.group(2).startswith("/__s3-standin"):
                out.append((m.group(1), m.group(2).split("?")[0], int(m.group(4))))
        return out

    def stop(self):
        subprocess.run([STANDIN, "stop", "--state", self.state], check=False)


def manifest_gets(reqs):
    """(GETs, distinct objects, bytes) of the requests for manifests/ objects."""
    m = [r for r in reqs if r[0] == "GET" and "/manifests/" in r[1]]
    return len(m), len({r[1] for r in m}), sum(r[2] for r in m)


def run_one(argv, env, cwd, timeout, standin):
    """Runs argv under measure in cwd; measure's figures, the report (if
    written) and the stand-in's requests during the run."""
    os.makedirs(cwd, exist_ok=True)
    standin.take()
    e = dict(os.environ)
    e.update(env)
    mfile = os.path.join(cwd, "measure.json")
    with open(os.path.join(cwd, "stdout.txt"), "wb") as so, open(os.path.join(cwd, "stderr.txt"), "wb") as se:
        p = subprocess.Popen(["nice", "-n", "10", bench.MEASURE, mfile] + argv, stdout=so, stderr=se, env=e,
                             cwd=cwd, start_new_session=True)
        try:
            p.wait(timeout=timeout)
            killed = False
        except subprocess.TimeoutExpired:
            os.killpg(p.pid, 9)
            p.wait()
            killed = True
    try:
        m = json.load(open(mfile))
    except (OSError, ValueError):
        m = {"rc": p.returncode or -9, "wall_s": float(timeout), "maxrss_kb": 0}
    time.sleep(0.15)  # nginx logs a request just after its last byte went out
    r = {"rc": -9 if killed else m["rc"], "wall": m["wall_s"], "rss_mb": m["maxrss_kb"] / 1024.0,
         "reqs": standin.take(), "err": bench.err_tail(cwd) if (killed or m["rc"]) else ""}
    try:
        r["report"] = json.load(open(os.path.join(cwd, "report.json")))
    except (OSError, ValueError):
        r["report"] = None
    return r


class Cell:
    """One measured thing: a command on a bed, run --runs times."""

    def __init__(self, key, bed, label, argv, np_=1, peer=False, check=None):
        self.key, self.bed, self.label, self.argv, self.np = key, bed, label, argv, np_
        self.peer, self.check = peer, check
        self.runs, self.failed, self.answer = [], None, None

    def env(self):
        e = {"AWS_ENDPOINT_URL": self.bed.standin.endpoint}
        if self.np > 1:
            e.update(MPI_ENV)
        return e

    def command(self, out):
        argv = [a.replace("@OUT@", out) for a in self.argv]
        return (["mpirun", "-np", str(self.np)] + argv) if self.np > 1 else argv

    def run(self, work, tag, timeout):
        out = os.path.join(work, self.key.replace(" ", "_"), self.label, tag)
        r = run_one(self.command(out), self.env(), out, timeout, self.bed.standin)
        if r["rc"] != 0:
            self.failed = f"exit {r['rc']} after {r['wall']:.2f} s, {r['rss_mb']:.0f} MB: {r['err']}"
        elif self.check:
            r["answer"] = self.check(out)
        shutil.rmtree(out, ignore_errors=True)
        return r

    def wall(self):
        return med([r["wall"] for r in self.runs])

    def rss(self):
        return max((r["rss_mb"] for r in self.runs), default=None)


def short(msg, n=200, head=40):
    """A long error line's start (exit status, wall, RSS) and end (where
    floe says what went wrong)."""
    return msg if len(msg) <= n + head else msg[:head] + " ... " + msg[-n:]


def med(xs):
    xs = [x for x in xs if x is not None]
    return statistics.median(xs) if xs else None


def floe_args(floe, *args):
    return [floe] + list(args) + ["-o", "@OUT@/out.nc", "-q", "--report", "@OUT@/report.json"]


def seed_args(floe, bed, vars_, day):
    return floe_args(floe, "extract", bed.collection, "-v", ",".join(vars_),
                     "--bbox", ",".join(map(str, CAPE_COD)), "--time", day)


def plan(a, beds, floes, day, points):
    """Every cell of the run, in the order the section shows them."""
    cells = []
    full, d62, split, hist, big = (beds[k] for k in ("full", "62d", "split", "history", "bigmanifest"))
    series_bed = full if full.ready else beds["reduced"]
    for label, floe in floes:
        if "seed" in a.only:
            for bed in (full, d62, hist):
                if bed.ready and bed.has_day(day):
                    cells.append(Cell(f"seed {bed.role}", bed, label, seed_args(floe, bed, ["Rainf"], day)))
        if "vars10" in a.only and full.ready:
            for np_ in a.ranks:
                cells.append(Cell(f"vars10 full np{np_}", full, label, seed_args(floe, full, full.vars, day), np_))
            if d62.ready and d62.has_day(day):
                cells.append(Cell("vars10 62d np1", d62, label, seed_args(floe, d62, d62.vars, day)))
        if "inspect" in a.only and full.ready:
            cells.append(Cell("inspect full", full, label, [floe, "inspect", full.collection]))
        if "split" in a.only and split.ready and split.has_day(day):
            cells.append(Cell("seed split", split, label, seed_args(floe, split, ["Rainf"], day)))
        if "series" in a.only and series_bed.ready:
            for np_ in (1, 2):
                cells.append(Cell(f"series {series_bed.role} np{np_}", series_bed, label,
                                  floe_args(floe, "series", series_bed.collection, "-v", a.series_var,
                                            "--points", points), np_, check=floe_series_answer(a.series_var)))
        if "bigmanifest" in a.only and big.ready:
            cells.append(Cell("inspect bigmanifest", big, label, [floe, "inspect", big.collection]))
            if big.vars and big.has_day(day):
                cells.append(Cell("seed bigmanifest", big, label, seed_args(floe, big, big.vars[:1], day)))
    peers = []
    if "series" in a.only and series_bed.ready and a.peer_runs > 0:
        peers.append(Cell(f"series {series_bed.role} peer", series_bed, "icechunk-zarrita",
                          [NODE_RUN, os.path.join(PEERS, "icechunk_peer.mjs"), "--collection", series_bed.collection,
                           "--endpoint", "@ENDPOINT@", "--workload", "W2", "--vars", a.series_var,
                           "--points", points, "--concurrency", "32", "--out", "@OUT@"],
                          peer=True, check=bench.read_exchange))
    if "split" in a.only and split.ready and split.has_day(day):
        peers.append(Cell("seed split peer", split, "icechunk-zarrita",
                          [NODE_RUN, os.path.join(PEERS, "icechunk_peer.mjs"), "--collection", split.collection,
                           "--endpoint", "@ENDPOINT@", "--workload", "W1", "--vars", "Rainf",
                           "--bbox=" + ",".join(map(str, CAPE_COD)), "--time", day_instants(split, day),
                           "--concurrency", "32", "--out", "@OUT@"], peer=True))
    if "bigmanifest" in a.only and big.ready and big.vars and big.has_day(day):
        peers.append(Cell("seed bigmanifest peer", big, "icechunk-zarrita",
                          [NODE_RUN, os.path.join(PEERS, "icechunk_peer.mjs"), "--collection", big.collection,
                           "--endpoint", "@ENDPOINT@", "--workload", "W1", "--vars", big.vars[0],
                           "--bbox=" + ",".join(map(str, CAPE_COD)), "--time", day_instants(big, day),
                           "--concurrency", "32", "--out", "@OUT@"], peer=True))
    if a.peer_runs <= 0:
        peers = []
    for p in peers:
        p.argv = [x.replace("@ENDPOINT@", p.bed.standin.endpoint) if p.bed.standin else x for x in p.argv]
    return cells, peers


def day_instants(bed, day):
    """The peer's --time (inclusive instants) for the one stamp of the
    day, DT00 (as bench.py's W1: the files are stamped at the end of
    their day, so that stamp is the day before's file)."""
    return f"{day}T00:00:00Z/{day}T00:00:00Z"


def floe_series_answer(var):
    def check(out):
        nc = os.path.join(out, "out.nc")
        return {var: bench.nc_var(nc, var), "time": bench.nc_var(nc, "time")}
    return check


def measure(cells, runs, work, timeout, loads):
    """One untimed run per cell (must succeed), then runs rounds, the cells
    taking turns in a rotating order; the load average before each round
    goes to loads."""
    for c in cells:
        r = c.run(work, "warm", timeout)
        log(f"{c.key} {c.label}: warm-up {r['wall']:.2f} s" + (f" FAILED {c.failed}" if c.failed else ""))
        if c.check and not c.failed:
            c.answer = r.get("answer")
    live = [c for c in cells if not c.failed]
    for k in range(runs):
        loads.append(os.getloadavg()[0])
        order = live[k % len(live):] + live[:k % len(live)] if live else []
        for c in order:
            r = c.run(work, f"run{k}", timeout)
            r.pop("answer", None)
            if c.failed:
                continue
            c.runs.append(r)
        log(f"round {k + 1}/{runs} done; load {os.getloadavg()[0]:.2f}")


def measure_peers(peers, runs, work, timeout):
    for p in peers:
        for k in range(runs):
            r = p.run(work, f"run{k}", timeout)
            if p.failed:
                log(f"{p.key}: FAILED {p.failed}")
                break
            if k == 0:
                p.answer = r.pop("answer", None)
            p.runs.append(r)
            log(f"{p.key}: run {k + 1}/{runs} {r['wall']:.1f} s")


def per_rank_mb(c):
    """Per-rank peak RSS (MB, from the report) of the run with the median wall."""
    rs = [r for r in c.runs if r["report"]]
    if not rs:
        return None
    r = sorted(rs, key=lambda r: r["wall"])[len(rs) // 2]
    return [p.get("peak_rss_bytes", 0) / 2**20 for p in r["report"].get("per_rank", [])]


def report_total(c, field):
    vals = [r["report"]["total"].get(field) for r in c.runs if r["report"] and "total" in r["report"]]
    vals = [v for v in vals if v is not None]
    return med(vals)


def fmt(x, nd=2):
    if x is None:
        return "-"
    if x >= 100:
        return f"{x:.0f}"
    if x >= 10:
        return f"{x:.1f}"
    return f"{x:.{nd}f}"


def cell_row(c, extra=""):
    if c.failed:
        return f"| {c.key} | {c.label} | FAILED | | | | {short(c.failed)} |"
    if not c.runs:
        return f"| {c.key} | {c.label} | not run | | | | |"
    pr = per_rank_mb(c)
    walls = [r["wall"] for r in c.runs]
    return (f"| {c.key} | {c.label} | {fmt(c.wall(), 3)} ({fmt(min(walls), 3)}-{fmt(max(walls), 3)}) | "
            f"{fmt(c.rss(), 0)} | {', '.join(f'{x:.0f}' for x in pr) if pr else '-'} | "
            f"{med([len(r['reqs']) for r in c.runs]):.0f} | {extra} |")


def write_section(a, beds, cells, peers, floes, day, mach, elapsed, loads):
    argv = [x for x in sys.argv[1:] if x != "--scale"]
    if "--bin" in argv:  # added by benchmarks/run itself
        i = argv.index("--bin")
        argv = argv[:i] + argv[i + 2:]
    cmd = " ".join(["benchmarks/run --scale"] + argv)
    by = {(c.key, c.label): c for c in cells + peers}
    quiet = max(loads) < QUIET_LOAD
    L = [SECTION, "",
         f"Written by `{cmd}` on {mach['date']} in {elapsed / 60:.1f} minutes ({mach['cores']} cores, "
         f"{mach['memory']}; every bed served by its own `scripts/s3-standin` at {a.latency_ms} ms per request; "
         f"floe, its peer and the stand-ins run under `nice -n 10`; load average (1 min) "
         f"{', '.join(f'{x:.2f}' for x in loads)} at the start, before each round and before the peer's runs"
         + ("" if quiet else ": **the machine was not quiet**, other work ran alongside, so the wall times are "
            "high and their ratios noisy") + ").", "",
         "Binaries: " + "; ".join(f"`{lab}` = `{path}` ({version(path)})" for lab, path in floes) + ".", "",
         "Test beds (`--scale-dir " + a.scale_dir + "`):", ""]
    for role, (name, what, how) in BEDS.items():
        b = beds[role]
        L.append(f"- `{role}` ({name}, {what}): " + (
            f"{b.dir}, {len(b.vars)} variables, time {b.extent[0][:10]} .. {b.extent[1][:10]}" if b.ready and
            b.extent else (f"{b.dir}" if b.ready else f"**not built** (`{how}`)")) + (
            f"; built: {b.built()}" if b.ready and b.built() else ""))
    L += ["", f"The seed query: `floe extract COLLECTION -v Rainf --bbox {','.join(map(str, CAPE_COD))} "
          f"--time {day}` (one day{'' if day == '2001-06-01' else ', a day inside the 62-day bed'}); "
          "`vars10`: the same with every variable of the bed (`-v` all of them); "
          f"the point series: `floe series COLLECTION -v {a.series_var} --points P` at {POINT[2]} "
          f"({POINT[0]}, {POINT[1]}), every day.", ""]

    # against the targets
    L += ["### Against the targets", "", "| target | binary | measured | met |", "| --- | --- | --- | --- |"]
    for lab, _ in floes:
        f, s = by.get(("seed full", lab)), by.get(("seed 62d", lab))
        if f and s and f.runs and s.runs:
            ratio, d = f.wall() / s.wall(), f.rss() - s.rss()
            L.append(f"| seed query, full / 62-day wall <= {SEED_RATIO} | {lab} | {ratio:.2f} ({fmt(f.wall(), 3)} "
                     f"vs {fmt(s.wall(), 3)} s) | {yn(ratio <= SEED_RATIO)} |")
            L.append(f"| seed query, peak RSS full - 62-day <= {SEED_RSS_MB:.0f} MB | {lab} | {d:+.0f} MB "
                     f"({f.rss():.0f} vs {s.rss():.0f}) | {yn(d <= SEED_RSS_MB)} |")
        else:
            L.append(f"| seed query, full vs 62-day | {lab} | not measured: "
                     f"{missing(beds, ('full', '62d'), f, s)} | - |")
        one, four = by.get(("vars10 full np1", lab)), by.get((f"vars10 full np{max(a.ranks)}", lab))
        if one and four and one.runs and four.runs:
            L.append(f"| all {len(beds['full'].vars)} variables: np {max(a.ranks)} no slower than np 1 | {lab} | "
                     f"{fmt(four.wall(), 3)} vs {fmt(one.wall(), 3)} s = {four.wall() / one.wall():.2f}x | "
                     f"{yn(four.wall() <= one.wall())} |")
        if len(floes) > 1 and lab == floes[-1][0]:
            old = by.get(("vars10 full np1", floes[0][0]))
            if one and old and one.runs and old.runs:
                L.append(f"| all {len(beds['full'].vars)} variables, np 1: >= 3x faster than {floes[0][0]} | {lab} | "
                         f"{old.wall() / one.wall():.1f}x | {yn(old.wall() / one.wall() >= 3)} |")
        i = by.get(("inspect full", lab))
        if i and i.runs:
            L.append(f"| inspect full < {INSPECT_S:.0f} s and < {INSPECT_MB:.0f} MB | {lab} | {fmt(i.wall(), 3)} s, "
                     f"{i.rss():.0f} MB | {yn(i.wall() < INSPECT_S and i.rss() < INSPECT_MB)} |")
        sp, pp = by.get(("seed split", lab)), by.get(("seed split peer", "icechunk-zarrita"))
        if sp and sp.runs:
            gets, objs, mb = manifest_gets(sp.runs[0]["reqs"])
            rep = report_total(sp, "manifests_read")
            peer = manifest_gets(pp.runs[0]["reqs"])[1] if pp and pp.runs else None
            L.append(f"| split: fetches only the manifests the query overlaps | {lab} | "
                     f"{objs} manifest objects ({gets} GETs, {mb / 1e6:.1f} MB)"
                     + (f", report manifests_read {rep:.0f}" if rep is not None else "")
                     + (f"; Icechunk fetches {peer}" if peer is not None else "")
                     + f"; the repository holds {beds['split'].manifests()} | "
                     + (yn(objs <= peer) if peer is not None else "-") + " |")
        for np_ in (1, 2):
            sc = next((c for c in cells if c.key.startswith("series") and c.key.endswith(f"np{np_}")
                       and c.label == lab), None)
            pc = next((p for p in peers if p.key.startswith("series")), None)
            if sc and pc and sc.runs and pc.runs:
                r = pc.wall() / sc.wall()
                L.append(f"| 23-year point series: Icechunk + zarrita / floe np {np_} >= {PEER_RATIO:.0f}x | {lab} | "
                         f"{r:.1f}x ({fmt(pc.wall())} vs {fmt(sc.wall())} s) | {yn(r >= PEER_RATIO)} |")
        for key in ("inspect bigmanifest", "seed bigmanifest"):
            b = by.get((key, lab))
            pb = by.get(("seed bigmanifest peer", "icechunk-zarrita"))
            if key.startswith("seed") and pb and pb.runs:
                key += f"; Icechunk + zarrita reads it in {fmt(pb.wall(), 3)} s, {pb.rss():.0f} MB"
            elif key.startswith("seed") and pb and pb.failed:
                key += f"; Icechunk + zarrita: {short(pb.failed, 120)}"
            if b:
                what, _, peer = key.partition("; ")
                L.append(f"| 12.7-million-ref manifest opens ({what.split()[0]}{'; ' + peer if peer else ''}) | "
                         f"{lab} | "
                         + (f"FAILED: {short(b.failed)} | no |" if b.failed else
                            f"{fmt(b.wall(), 3)} s, {b.rss():.0f} MB | yes |"))
    if not beds["bigmanifest"].ready:
        L.append(f"| 12.7-million-ref manifest opens | - | not built ({BEDS['bigmanifest'][2]}: "
                 f"{beds['bigmanifest'].dir} is missing) | - |")
    L.append("")

    # every cell
    L += ["### Every measurement", "",
          f"Median wall of {a.runs} runs (min-max), after one untimed run; peak RSS of the largest process "
          "(`benchmarks/measure.c`, `ru_maxrss`; under `mpirun` the largest rank); per rank: the report's "
          "`peak_rss_bytes` of the median run; requests: lines of the stand-in's access log (metadata and "
          f"chunks). The peer runs {a.peer_runs} time{'s' if a.peer_runs != 1 else ''}.", "",
          "| cell | binary | wall s | peak RSS MB | per rank MB | requests | notes |",
          "| --- | --- | ---: | ---: | --- | ---: | --- |"]
    for c in cells + peers:
        notes = []
        if c.runs:
            gets, objs, mb = manifest_gets(c.runs[0]["reqs"])
            notes.append(f"manifests: {objs} objects, {gets} GETs, {mb / 1e6:.1f} MB")
            rep = report_total(c, "manifests_read")
            if rep is not None:
                notes.append(f"report manifests_read {rep:.0f}, manifest_bytes "
                             f"{(report_total(c, 'manifest_bytes') or 0) / 1e6:.1f} MB")
            if c.peer and c.key.startswith("series"):
                ref = next((x for x in cells if x.key.startswith("series") and x.np == 1 and getattr(x, "answer", None)
                            is not None), None)
                if ref is not None and getattr(c, "answer", None) is not None:
                    why = bench.compare(ref.answer, c.answer)
                    notes.append("same answer as floe np 1" if why is None else f"answer DIFFERS: {why}")
        L.append(cell_row(c, "; ".join(notes)))
    L += ["", "Commands (`@OUT@` is the run's folder, `@WORK@` the work folder; the environment names the bed's stand-in in "
          "`AWS_ENDPOINT_URL`):", ""]
    seen = set()
    for c in cells + peers:
        if c.key in seen:
            continue
        seen.add(c.key)
        argv = [re.sub(r"^.*/floe-scale-[^/]+/", "@WORK@/", x.replace(ROOT + "/", "")) for x in c.command("@OUT@")]
        L.append(f"- {c.key}: `{' '.join(argv)}`")
    L.append("")
    return L


def yn(ok):
    return "yes" if ok else "no"


def missing(beds, roles, *cells):
    gone = [beds[r].dir for r in roles if not beds[r].ready]
    if gone:
        return "not built: " + ", ".join(gone)
    bad = [c.failed for c in cells if c and c.failed]
    return "FAILED: " + short(bad[0]) if bad else "no runs"


def version(floe):
    try:
        r = subprocess.run([floe, "--version"], capture_output=True, text=True, timeout=30)
        return (r.stdout + r.stderr).strip().splitlines()[0]
    except (OSError, subprocess.TimeoutExpired, IndexError):
        return "?"


def pick_day(a, beds):
    if a.day:
        return a.day
    seed = "2001-06-01"  # bench.py's W1
    if not beds["62d"].ready or beds["62d"].has_day(seed):
        return seed
    e = beds["62d"].extent  # the middle of the 62-day bed
    t0 = time.mktime(time.strptime(e[0][:10], "%Y-%m-%d"))
    t1 = time.mktime(time.strptime(e[1][:10], "%Y-%m-%d"))
    return time.strftime("%Y-%m-%d", time.localtime((t0 + t1) / 2))


def main():
    ap = argparse.ArgumentParser(description="W9: the real archive's size (issue #13)")
    ap.add_argument("--scale", action="store_true", help="(the mode benchmarks/run was given)")
    default_dir = "/work/scale" if os.path.isdir("/work/scale") else os.path.join(ROOT, "build", "testbed")
    ap.add_argument("--scale-dir", default=default_dir,
                    help="where the scale beds are, as nldas-full, nldas-62d, ... (default %(default)s)")
    ap.add_argument("--bed", action="append", default=[], metavar="ROLE=DIR",
                    help=f"a bed elsewhere; ROLE one of {', '.join(BEDS)}")
    ap.add_argument("--floe", default=os.path.join(ROOT, "build", "floe"), help="the floe measured")
    ap.add_argument("--before", help="an older floe measured alongside (the 'before' figures)")
    ap.add_argument("--only", default="seed,vars10,inspect,split,series,bigmanifest",
                    help="parts to run (default all: %(default)s)")
    ap.add_argument("--runs", type=int, default=3, help="timed runs per cell (median; default 3)")
    ap.add_argument("--peer-runs", type=int, default=1, help="runs of the Icechunk peer (it takes minutes; 0: none)")
    ap.add_argument("--ranks", default="1,2,4", help="rank counts of the ten-variable query")
    ap.add_argument("--latency-ms", type=int, default=20)
    ap.add_argument("--day", help="the seed query's day (default 2001-06-01, or the middle of the 62-day bed "
                    "when that bed does not hold it)")
    ap.add_argument("--series-var", default="Rainf")
    ap.add_argument("--bin", default=os.path.join(ROOT, "build", "bench-bin"), help="where measure was built")
    ap.add_argument("--results", default=os.path.join(bench.BENCH, "results"))
    ap.add_argument("--timeout", type=int, default=900, help="seconds per run")
    ap.add_argument("--keep", action="store_true", help="keep the work directory")
    ap.add_argument("--wait-quiet", type=float, default=0, metavar="MIN",
                    help=f"first wait up to MIN minutes for a load average below {QUIET_LOAD}")
    ap.add_argument("--no-write", action="store_true", help="print the section, leave RESULTS.md alone")
    a = ap.parse_args()
    bench.MEASURE = os.path.join(os.path.abspath(a.bin), "measure")
    a.only = set(a.only.split(","))
    a.ranks = [int(x) for x in a.ranks.split(",")]
    dirs = {r: os.path.join(a.scale_dir, n) for r, (n, _, _) in BEDS.items()}
    for spec in a.bed:
        role, _, d = spec.partition("=")
        if role not in BEDS:
            sys.exit(f"scale: unknown bed role '{role}' (one of {', '.join(BEDS)})")
        dirs[role] = os.path.abspath(d)
    beds = {r: Bed(r, d) for r, d in dirs.items()}
    floes = [("floe", os.path.abspath(a.floe))]
    if a.before and os.path.realpath(a.before) != os.path.realpath(a.floe):
        floes = [("before", os.path.abspath(a.before)), ("after", os.path.abspath(a.floe))]
    day = pick_day(a, beds)

    work = tempfile.mkdtemp(prefix="floe-scale-")
    points = os.path.join(work, "points.csv")
    with open(points, "w") as fh:
        fh.write(f"{POINT[0]},{POINT[1]},{POINT[2]}\n")
    waited = time.time()
    while os.getloadavg()[0] >= QUIET_LOAD and time.time() - waited < 60 * a.wait_quiet:
        log(f"W9: load average {os.getloadavg()[0]:.2f}: waiting for a quiet machine")
        time.sleep(60)
    started, loads = time.time(), [os.getloadavg()[0]]
    log(f"W9: work dir {work}; day {day}; beds ready: {[r for r, b in beds.items() if b.ready]}; load {loads[0]:.2f}")
    try:
        for b in beds.values():
            if b.ready:
                b.standin = Standin(b, a.latency_ms, os.path.join(work, f"standin-{b.role}"))
        cells, peers = plan(a, beds, floes, day, points)
        measure(cells, a.runs, work, a.timeout, loads)
        loads.append(os.getloadavg()[0])
        measure_peers(peers, a.peer_runs, work, a.timeout)
    finally:
        for b in beds.values():
            if b.standin:
                b.standin.stop()
        if not a.keep:
            shutil.rmtree(work, ignore_errors=True)
    elapsed = time.time() - started
    section = write_section(a, beds, cells, peers, floes, day, machine(), elapsed, loads)
    if not a.no_write:
        os.makedirs(a.results, exist_ok=True)
        path = os.path.join(a.results, "RESULTS.md")
        splice(path, section, SECTION)
        log(f"W9: wrote its section of {path} in {elapsed:.0f} s")
    print("\n".join(section))


if __name__ == "__main__":
    main()
