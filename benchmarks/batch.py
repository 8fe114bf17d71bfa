#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
"""batch.py: W8, floe as a batch job (issue #14), measured on the bench test
bed (run it through `benchmarks/run --batch`, which builds what it needs).

The job is W5, the whole-bench monthly climatology of Tair and Rainf
(bench.py's workload, all 365 steps), read through a stand-in of its own
(20 ms per request unless --latency-ms says otherwise).

(a) The dry run's plan against the run: `floe climatology ... --dry-run
    --json --ranks N` (no chunk fetched), then the same request run at N
    ranks with --report. Bytes, requests and chunks predicted / counted
    (target: within 5%), and the predicted peak memory per rank against the
    largest rank's measured peak RSS (the report's peak_rss_bytes, getrusage
    ru_maxrss; target: within 25%). The per-rank split is compared too.
(b) The cost of a checkpoint, per rank count: the same run with
    --checkpoint against the plain one (wall), the checkpoint's size (its
    folder at its largest, polled every POLL_S; the folder goes with the
    commit); then a run with --checkpoint signalled with SIGTERM (every
    rank, as srun does) once the checkpoint holds half the units the
    uninterrupted checkpointed run saved, which must exit 3, and the
    --resume that finishes it: interrupted + resumed wall against the
    plain run, and the resumed output the same as the plain run's (the
    data of every variable; and the whole file, byte for byte, where the
    FLOE_FIXED_TIME shim is built: build/tests/libfloe_fixed_time.so).

Writes the section "W8: batch jobs (issue #14)" of
benchmarks/results/RESULTS.md (replacing it if there, else before "How it
was measured"), leaving the other sections as they are.
"""

import argparse
import hashlib
import json
import os
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time

import netCDF4

import bench
from bench import MPI_ENV, ROOT, Standin, Testbed, log, machine

SECTION = "## W8: batch jobs (issue #14)"
BYTES_TOL, MEM_TOL = 0.05, 0.25  # the "Done means"
EXIT_CHECKPOINTED = 3  # cli/cli.h FLOE_EXIT_CHECKPOINTED
POLL_S = 0.05  # how often the checkpoint folder is looked at
# A 1-minute load average above this when the runs start: other work shares
# the cores, and the section says its wall times are not to be trusted.
QUIET_LOAD = 1.5
SHIM = os.path.join(ROOT, "build", "tests", "libfloe_fixed_time.so")


def request(tb, w, days):
    """The climatology's arguments (no output, no execution controls)."""
    tr = (w.tr[0], min(w.tr[1], w.tr[0] + days)) if days else w.tr
    t = f"{tb.instant(tr[0])}/{tb.instant(tr[1] - 1)}"
    return ["climatology", tb.collection, "-v", ",".join(w.vars), "--by", "month", "--stat", "mean",
            "--time", t], tr[1] - tr[0]


def floe_argv(ctx, np_, args):
    pre = ["env", f"LD_PRELOAD={SHIM}"] if ctx["shim"] else []
    argv = pre + [ctx["floe"]] + args
    return (["mpirun", "-np", str(np_)] + argv) if np_ > 1 else argv


def floe_env(ctx, np_):
    e = dict(os.environ)
    e["AWS_ENDPOINT_URL"] = ctx["endpoint"]
    if np_ > 1:
        e.update(MPI_ENV)
    return e


def descendants(root_pid, name):
    """Pids of the processes called name below root_pid (mpirun's ranks)."""
    children = {}
    for pid in os.listdir("/proc"):
        if not pid.isdigit():
            continue
        try:
            with open(f"/proc/{pid}/stat") as f:
                s = f.read()
            comm = s[s.index("(") + 1:s.rindex(")")]
            ppid = int(s.rsplit(")", 1)[1].split()[1])
        except (OSError, ValueError, IndexError):
            continue
        children.setdefault(ppid, []).append((int(pid), comm))
    found, todo = [], [root_pid]
    while todo:
        for pid, comm in children.get(todo.pop(), []):
            todo.append(pid)
            if comm == name:
                found.append(pid)
    return found


def ckpt_state(d):
    """(saved units, bytes) of a checkpoint folder (0, 0 when absent)."""
    n = b = 0
    try:
        with os.scandir(d) as it:
            for e in it:
                try:
                    b += e.stat().st_size
                except OSError:
                    continue  # renamed or removed while we looked
                if e.name.startswith("u-") and e.name.endswith(".blob"):
                    n += 1
    except OSError:
        pass
    return n, b


def run_job(ctx, np_, args, cwd, stop_at_units=None):
    """Runs floe under measure (bench.py's meter) in cwd, watching
    cwd/out.nc.floe-ckpt/; with stop_at_units, SIGTERMs every rank once that
    many units are saved. Returns measure's figures plus the checkpoint's
    largest size and units, and the units when signalled."""
    os.makedirs(cwd, exist_ok=True)
    mfile = os.path.join(cwd, "measure.json")
    ckpt = os.path.join(cwd, "out.nc.floe-ckpt")
    peak_n = peak_b = 0
    signalled = None
    with open(os.path.join(cwd, "stderr.txt"), "wb") as se:
        p = subprocess.Popen([bench.MEASURE, mfile] + floe_argv(ctx, np_, args), stdout=subprocess.DEVNULL,
                             stderr=se, env=floe_env(ctx, np_), cwd=cwd, start_new_session=True)
        t0 = time.time()
        try:
            while p.poll() is None:
                if time.time() - t0 > ctx["timeout"]:
                    raise subprocess.TimeoutExpired(args, ctx["timeout"])
                n, b = ckpt_state(ckpt)
                peak_n, peak_b = max(peak_n, n), max(peak_b, b)
                if stop_at_units is not None and signalled is None and n >= stop_at_units:
                    ranks = descendants(p.pid, "floe")
                    for pid in ranks:
                        try:
                            os.kill(pid, signal.SIGTERM)
                        except ProcessLookupError:
                            pass
                    signalled = n if ranks else None
                time.sleep(POLL_S)
        except BaseException:
            os.killpg(p.pid, signal.SIGKILL)
            p.wait()
            raise
    m = json.load(open(mfile))
    n, b = ckpt_state(ckpt)
    m.update(ckpt_peak_units=max(peak_n, n), ckpt_peak_bytes=max(peak_b, b), ckpt_left_units=n,
             ckpt_left_bytes=b, signalled_at=signalled)
    if m["rc"] not in (0, EXIT_CHECKPOINTED) or (m["rc"] == EXIT_CHECKPOINTED and stop_at_units is None):
        tail = open(os.path.join(cwd, "stderr.txt"), errors="replace").read().strip().splitlines()
        raise RuntimeError(f"np {np_} {' '.join(args[-3:])}: exit {m['rc']}: {tail[-1] if tail else ''}")
    return m


def data_digest(path):
    """sha256 over every variable's name, type, shape and raw values."""
    h = hashlib.sha256()
    with netCDF4.Dataset(path) as ds:
        for name in sorted(ds.variables):
            v = ds.variables[name]
            v.set_auto_maskandscale(False)
            a = v[:]
            h.update(f"{name}:{a.dtype.str}:{a.shape};".encode())
            h.update(a.tobytes())
    return h.hexdigest()


def file_digest(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def digests(cwd):
    """(data, file) digests of cwd/out.nc, then the output is removed (it is
    large and only its digests are kept)."""
    nc = os.path.join(cwd, "out.nc")
    d = (data_digest(nc), file_digest(nc))
    shutil.rmtree(cwd, ignore_errors=True)
    return d


def dry_run(ctx, np_, args, cwd):
    os.makedirs(cwd, exist_ok=True)
    r = subprocess.run([ctx["floe"]] + args + ["-o", "out.nc", "--dry-run", "--json", "--ranks", str(np_)],
                       capture_output=True, text=True, env=floe_env(ctx, 1), cwd=cwd, timeout=600)
    if r.returncode != 0:
        raise RuntimeError(f"dry run np {np_}: exit {r.returncode}: {r.stderr.strip()[-300:]}")
    return json.loads(r.stdout)


def plan_vs_report(np_, plan, rep, meas):
    tot, per = rep["total"], rep["per_rank"]
    measured_rss = max(r["peak_rss_bytes"] for r in per)
    pred_rank = {r["rank"]: r for r in plan["per_rank"]}
    worst = 0.0  # the largest |predicted/counted - 1| over ranks, chunks and bytes
    for r in per:
        p = pred_rank.get(r["rank"])
        for k in ("chunks", "bytes"):
            if p is None or not r.get(k):
                worst = float("inf")
            else:
                worst = max(worst, abs(p[k] / r[k] - 1))
    return {"np": np_, "bytes": (plan["bytes"], tot["bytes"]), "requests": (plan["requests"], tot["requests"]),
            "chunks": (plan["chunks"], tot["chunks"]), "mem": (plan["peak_memory_per_rank"], measured_rss),
            "rss_meter_mb": meas["maxrss_kb"] / 1024.0, "per_rank_worst": worst, "wall": meas["wall_s"],
            "steps": plan["time"]["steps"]}


def main():
    ap = argparse.ArgumentParser(description="W8: floe as a batch job (dry run, checkpoint, resume)")
    ap.add_argument("--batch", action="store_true", help="(the mode benchmarks/run was given)")
    ap.add_argument("--ranks", default="1,2,4", help="rank counts for the dry run against the run (default 1,2,4; "
                    "more ranks than cores run oversubscribed)")
    ap.add_argument("--checkpoint-ranks", default="1,2", help="rank counts for the checkpoint and resume runs")
    ap.add_argument("--runs", type=int, default=1, help="plain and --checkpoint runs per rank count, alternating "
                    "(medians; default 1)")
    ap.add_argument("--latency-ms", type=int, default=20)
    ap.add_argument("--days", type=int, help="the first N days only (a shorter run; RESULTS.md says so)")
    ap.add_argument("--floe", default=os.path.join(ROOT, "build", "floe"))
    ap.add_argument("--testbed", default=os.path.join(ROOT, "build", "testbed", "bench"))
    ap.add_argument("--bin", default=os.path.join(ROOT, "build", "bench-bin"), help="where measure was built")
    ap.add_argument("--results", default=os.path.join(bench.BENCH, "results"))
    ap.add_argument("--timeout", type=int, default=900, help="seconds per run")
    ap.add_argument("--keep", action="store_true", help="keep the work directory")
    ap.add_argument("--wait-quiet", type=float, default=0, metavar="MIN",
                    help=f"first wait up to MIN minutes for a load average below {QUIET_LOAD} (checked each minute)")
    a = ap.parse_args()
    bench.MEASURE = os.path.join(a.bin, "measure")
    ranks = [int(x) for x in a.ranks.split(",")]
    ck_ranks = [int(x) for x in a.checkpoint_ranks.split(",")]

    tb = Testbed(a.testbed)
    w = bench.workloads(tb, False)["W5"]
    args, steps = request(tb, w, a.days)
    work = tempfile.mkdtemp(prefix="floe-batch-")
    ctx = {"floe": a.floe, "timeout": a.timeout, "shim": os.path.exists(SHIM)}
    waited = time.time()
    while os.getloadavg()[0] >= QUIET_LOAD and time.time() - waited < 60 * a.wait_quiet:
        log(f"W8: load average {os.getloadavg()[0]:.2f}: waiting for a quiet machine")
        time.sleep(60)
    load0 = os.getloadavg()
    started = time.time()
    log(f"W8: work dir {work}; {steps} steps; ranks {ranks}, checkpoint ranks {ck_ranks}; load {load0[0]:.2f}")
    standin = Standin(tb, a.latency_ms, os.path.join(work, "standin"))
    ctx["endpoint"] = standin.endpoint
    plans, ckpts = [], []
    try:
        for np_ in sorted(set(ranks) | set(ck_ranks)):
            plan = dry_run(ctx, np_, args, os.path.join(work, f"dry{np_}"))
            plain, ckpt, dig = [], [], {}
            for k in range(a.runs if np_ in ck_ranks else 1):
                for mode in (("plain", "ckpt") if k % 2 == 0 else ("ckpt", "plain")):
                    if mode == "ckpt" and np_ not in ck_ranks:
                        continue
                    cwd = os.path.join(work, f"np{np_}-{mode}{k}")
                    extra = ["--report", "report.json"] + (["--checkpoint"] if mode == "ckpt" else [])
                    m = run_job(ctx, np_, args + ["-o", "out.nc", "-q"] + extra, cwd)
                    if mode == "plain":
                        m["report"] = json.load(open(os.path.join(cwd, "report.json")))
                    dig.setdefault(mode, digests(cwd))
                    (plain if mode == "plain" else ckpt).append(m)
                    log(f"np {np_} {mode} run {k + 1}: {m['wall_s']:.1f} s"
                        + (f", checkpoint {m['ckpt_peak_units']} units, {m['ckpt_peak_bytes'] / 1e6:.0f} MB"
                           if mode == "ckpt" else ""))
            if np_ in ranks:
                plans.append(plan_vs_report(np_, plan, plain[0]["report"], plain[0]))
            if np_ not in ck_ranks:
                continue
            units = ckpt[0]["ckpt_peak_units"]
            half = max(1, units // 2)
            cwd = os.path.join(work, f"np{np_}-resume")
            base = args + ["-o", "out.nc", "-q", "--report", "report.json"]
            intr = run_job(ctx, np_, base + ["--checkpoint"], cwd, stop_at_units=half)
            if intr["rc"] != EXIT_CHECKPOINTED:
                raise RuntimeError(f"np {np_}: the signalled run exited {intr['rc']}, not {EXIT_CHECKPOINTED} "
                                   f"(signalled at {intr['signalled_at']} units)")
            os.rename(os.path.join(cwd, "measure.json"), os.path.join(cwd, "measure-interrupted.json"))
            res = run_job(ctx, np_, base + ["--resume"], cwd)
            left = os.path.exists(os.path.join(cwd, "out.nc.floe-ckpt"))
            dig["resumed"] = digests(cwd)
            log(f"np {np_}: interrupted at {intr['signalled_at']} of {units} units after {intr['wall_s']:.1f} s, "
                f"resumed in {res['wall_s']:.1f} s")
            ckpts.append({"np": np_, "plain": statistics.median(m["wall_s"] for m in plain),
                          "ckpt": statistics.median(m["wall_s"] for m in ckpt), "units": units,
                          "ckpt_bytes": max(m["ckpt_peak_bytes"] for m in ckpt),
                          "signalled_at": intr["signalled_at"], "kept_units": intr["ckpt_left_units"],
                          "kept_bytes": intr["ckpt_left_bytes"], "interrupted": intr["wall_s"],
                          "resumed": res["wall_s"], "ckpt_removed": not left,
                          "same_data": dig["resumed"][0] == dig["plain"][0] == dig["ckpt"][0],
                          "same_file": (dig["resumed"][1] == dig["plain"][1] == dig["ckpt"][1]) if ctx["shim"]
                          else None})
    finally:
        standin.stop()
        if not a.keep:
            shutil.rmtree(work, ignore_errors=True)
    elapsed = time.time() - started
    section = write_section(a, steps, plans, ckpts, machine(), elapsed, load0, ctx["shim"])
    os.makedirs(a.results, exist_ok=True)
    path = os.path.join(a.results, "RESULTS.md")
    splice(path, section)
    log(f"W8: wrote its section of {path} in {elapsed:.0f} s")
    print("\n".join(section))


def pct(pred, got):
    return f"{pred / got:.3f}" if got else "-"


def met(pred, got, tol):
    return "yes" if got and abs(pred / got - 1) <= tol else "no"


def write_section(a, steps, plans, ckpts, mach, elapsed, load0, shim):
    argv = [x for x in sys.argv[1:] if x != "--batch"]
    if "--bin" in argv:  # added by benchmarks/run itself
        i = argv.index("--bin")
        argv = argv[:i] + argv[i + 2:]
    cmd = " ".join(["benchmarks/run --batch"] + argv)
    quiet = load0[0] < QUIET_LOAD
    days = f"the first {steps} days (--days)" if a.days else f"all {steps} steps of the bench year"
    L = [SECTION, "",
         f"Written by `{cmd}` on {mach['date']} in {elapsed / 60:.1f} minutes ({mach['cores']} cores, "
         f"{mach['memory']}; the bench test bed, its own stand-in at {a.latency_ms} ms per request; "
         f"load average {load0[0]:.2f} when it started"
         + ("" if quiet else ": **the machine was not quiet**, other work ran alongside, so the wall "
            "times below are high and their ratios noisy") + ").", "",
         f"The job: W5, the whole-domain monthly climatology (mean) of Tair and Rainf over {days}: "
         "`floe climatology bench/collection.json -v Tair,Rainf --by month --stat mean --time ...`.", "",
         "### Dry run against the run's --report", "",
         "`--dry-run --json --ranks N` (plans, fetches no chunk) against the same request run at N ranks with "
         "`--report`: predicted / counted. Targets (issue #14): bytes and requests within 5%, peak memory per "
         "rank within 25% (predicted `peak_memory_per_rank` against the largest rank's measured peak RSS, "
         "the report's `peak_rss_bytes`, getrusage `ru_maxrss`; in brackets the largest process's as "
         "`benchmarks/measure.c` saw it, `mpirun` included). Per-rank: the largest difference between a rank's "
         "predicted and counted chunks or bytes.", "",
         "| ranks | bytes pred / counted | requests pred / counted | chunks pred / counted | per-rank chunks "
         "and bytes, worst | peak memory per rank pred / measured MB | ratio | bytes, requests within 5% | "
         "memory within 25% |",
         "| ---: | --- | --- | --- | ---: | --- | ---: | --- | --- |"]
    for p in plans:
        (bp, bc), (rp, rc), (cp, cc), (mp, mc) = p["bytes"], p["requests"], p["chunks"], p["mem"]
        over = " (oversubscribed)" if p["np"] > mach["cores"] else ""
        L.append(f"| {p['np']}{over} | {bp / 1e6:.1f} / {bc / 1e6:.1f} MB = {pct(bp, bc)} | {rp} / {rc} = "
                 f"{pct(rp, rc)} | {cp} / {cc} = {pct(cp, cc)} | {100 * p['per_rank_worst']:.1f}% off | "
                 f"{mp / 2**20:.0f} / {mc / 2**20:.0f} (meter {p['rss_meter_mb']:.0f}) | {pct(mp, mc)} | "
                 f"{'yes' if met(bp, bc, BYTES_TOL) == met(rp, rc, BYTES_TOL) == 'yes' else 'no'} | "
                 f"{met(mp, mc, MEM_TOL)} |")
    L += ["", "### Checkpoint and resume", "",
          "Per rank count: the plain run, the same with `--checkpoint` (a unit is one tile of one variable over "
          "a rank's steps; its partial accumulators are saved as it completes), and a `--checkpoint` run "
          "signalled with SIGTERM (every rank, as srun does) once half the units are saved, which exits 3, "
          "then `--resume`. Checkpoint size: its folder at its largest (polled every "
          f"{int(POLL_S * 1000)} ms; the folder goes with the commit). Same output: the resumed run's against "
          "the plain and the checkpointed runs' (every variable's values"
          + ("; and whole files byte for byte, with the `FLOE_FIXED_TIME` shim" if shim else "") + ").", "",
          "| ranks | plain s | --checkpoint s | ratio | units | checkpoint MB | signalled at units "
          "(kept, MB) | interrupted s | resumed s | interrupted + resumed s | ratio to plain | same data | "
          "same file bytes |",
          "| ---: | ---: | ---: | ---: | ---: | ---: | --- | ---: | ---: | ---: | ---: | --- | --- |"]
    for c in ckpts:
        tot = c["interrupted"] + c["resumed"]
        L.append(f"| {c['np']} | {c['plain']:.1f} | {c['ckpt']:.1f} | {c['ckpt'] / c['plain']:.2f} | "
                 f"{c['units']} | {c['ckpt_bytes'] / 1e6:.0f} | {c['signalled_at']} ({c['kept_units']}, "
                 f"{c['kept_bytes'] / 1e6:.0f}) | {c['interrupted']:.1f} | {c['resumed']:.1f} | {tot:.1f} | "
                 f"{tot / c['plain']:.2f} | {'yes' if c['same_data'] else 'NO'} | "
                 f"{'-' if c['same_file'] is None else ('yes' if c['same_file'] else 'NO')} |")
    L += ["", "Wall times are from spawn to exit (under `mpirun` for more than one rank), one run each"
          + (f" ({a.runs} for the plain and --checkpoint runs, medians)" if a.runs > 1 else "")
          + "; the checkpoint removed after the resumed commit: "
          + ("yes" if all(c["ckpt_removed"] for c in ckpts) else "NO") + ".", ""]
    return L


def splice(path, section, header=SECTION):
    """Replaces the section headed header (W8's unless given) of RESULTS.md
    (up to the next '## '), or inserts it before '## How it was measured',
    or appends it."""
    try:
        lines = open(path).read().split("\n")
    except OSError:
        lines = []
    if header in lines:
        i = lines.index(header)
        j = next((k for k in range(i + 1, len(lines)) if lines[k].startswith("## ")), len(lines))
    elif "## How it was measured" in lines:
        i = j = lines.index("## How it was measured")
    else:
        i = j = len(lines)
    lines[i:j] = section + ([""] if section[-1] != "" else [])
    with open(path, "w") as fh:
        fh.write("\n".join(lines))


if __name__ == "__main__":
    main()
