#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
"""check_retry.py TESTBED_DIR: every request floe makes survives S3's bad
moments (issue #17): one retry policy for metadata as for chunks.

A second S3 stand-in (scripts/s3-standin, own state dir, port 0, same root)
injects faults on every request (--faults-scope all: GET and HEAD, ranged or
not: the repository file, snapshots, manifests, store chunks, data reads);
floe is told nothing.

- Every object class failing once: the first attempt of every distinct
  request (method, URI, Range) answers 503 SlowDown, 500 InternalError, is
  reset (connection closed, nothing sent) or truncated (half the body);
  429 with Retry-After: 1 hits every third request (each costs a second).
  extract, series (points), stats and climatology, alone (no launcher) and
  under mpirun -np 2: exit 0, the same bytes in every variable as a clean
  run (np 1, through $FLOE_S3_ENDPOINT), faults of the kind were injected on
  metadata (no Range) and data (Range) requests, and --report counts the
  retries by class: metadata_retries > 0, and retries = metadata_retries +
  chunk_retries, per rank and in total. The clean runs at np 2 give the
  same bytes as at np 1.
- A permanent 503 (every request, every attempt): `floe extract
  --retry-budget 3` (with --retries 100, high enough that the budget is what
  stops it) ends within the budget plus a margin, exits non-zero with one
  error line naming the object (s3://...), the attempts and the 503 (under
  mpirun: one such line, rank 0's), and leaves nothing in the output folder
  (no .nc, no .json, no temporary file).
- A thundering herd: a stand-in limited to 50 requests per second
  (--rate-limit 50: 503 SlowDown above it); 32 floe processes (the seed's
  Cape Cod extract) and one mpirun -np 4 job of the same request started at
  once: all succeed, every output has the clean run's bytes, the stand-in
  refused requests (the herd really hit the limit) and the reports' retries
  sum to more than 0.

Every run is bounded in time (its process group killed past it), the whole
test to 540 s; the stand-in is stopped however the test ends. Prints "N passed, N failed" last.
"""

import json
import os
import re
import shutil
import signal
import subprocess
import tempfile
import time

import testlib
from check_faults import Standin
from testlib import check, failures, load, run, summary

TEST_TIMEOUT = 540       # seconds, the whole test (ctest gives it 600)
RUN_TIMEOUT = 120        # seconds, one floe run of part a or c
BUDGET = 3               # --retry-budget of the permanent 503, seconds
BUDGET_MARGIN = 4        # start-up, the last attempt, a loaded 2-core machine
MPI_MARGIN = 8           # ... and mpirun's start and teardown
HERD = 32                # floe processes of the herd, besides the mpirun job
HERD_RANKS = 4
HERD_RATE = 50           # requests per second the stand-in allows the herd
HERD_TIMEOUT = 300       # seconds, the whole herd
# Enough for 32 clients at 50 requests per second on 2 cores: the herd needs
# some 700 requests, about 14 s at the limit, and backs off at random.
HERD_RETRY = ["--retries", "50", "--retry-budget", "120"]


_deadline = time.monotonic() + TEST_TIMEOUT


def time_left(limit):
    """limit, or less when the whole test's time runs out (0: none left)."""
    return max(0.0, min(limit, _deadline - time.monotonic()))


def kill_group(p):
    """SIGKILL the process group of p (started with start_new_session)."""
    try:
        os.killpg(p.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass


def floe(endpoint, np_, *args, timeout=RUN_TIMEOUT):
    """floe alone (np_ 0) or under mpirun -np np_ through endpoint, at most
    timeout seconds: (exit status or None when it was killed, stderr, seconds)."""
    cmd, env = testlib.floe_cmd(np_, *args, endpoint=endpoint)
    timeout = time_left(timeout)
    if timeout == 0:
        return None, f"not run: the test's {TEST_TIMEOUT} s are spent", 0.0
    t0 = time.monotonic()
    p = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                         text=True, start_new_session=True)
    try:
        _, err = p.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        kill_group(p)
        _, err = p.communicate()
        return None, f"killed after {timeout} s; stderr: {err}", time.monotonic() - t0
    return p.returncode, err, time.monotonic() - t0


def same_bytes(got, want):
    """None when two load()ed files hold the same variables with the same
    bytes (strings, e.g. series station ids, compared as values), else why not."""
    if sorted(got) != sorted(want):
        return f"variables {sorted(got)} vs {sorted(want)}"
    for k in want:
        a, b = got[k], want[k]
        if a.dtype != b.dtype or a.shape != b.shape:
            return f"variable {k}: {a.dtype} {a.shape} vs {b.dtype} {b.shape}"
        same = a.tolist() == b.tolist() if a.dtype == object else a.tobytes() == b.tobytes()
        if not same:
            return f"variable {k} differs"
    return None


def why(err):
    """A failed run's stderr in short: floe's own lines (not mpirun's), else its end."""
    mine = [ln for ln in err.splitlines() if ln.startswith("floe")]
    return "\n    ".join(mine[:3]) or err.strip()[-600:]


def ran(what, rc, err):
    """Check one run's exit status; True when it succeeded."""
    check(rc == 0, f"{what}: exit {rc}: {why(err)}")
    return rc == 0


def report_retries(what, path, want_metadata):
    """The retry counts of a --report file, checked: metadata_retries and
    chunk_retries per rank and in total, retries their sum, the total the sum
    of the ranks'; with want_metadata, metadata_retries > 0. Returns the
    total dict (None when unreadable)."""
    try:
        with open(path) as f:
            rep = json.load(f)
        tot, per = rep["total"], rep["per_rank"]
    except (OSError, ValueError, KeyError) as e:
        check(False, f"{what}: --report {path}: {e}")
        return None
    fields = ("metadata_retries", "chunk_retries")
    missing = [k for k in fields if k not in tot or any(k not in r for r in per)]
    if missing:
        check(False, f"{what}: --report has no {' and '.join(missing)} (per rank and in "
                     f"total; issue #17 counts retries by request class); total retries: "
                     f"{tot.get('retries')}")
        return tot
    for r in [tot, *per]:
        who = f"rank {r['rank']}" if "rank" in r else "total"
        check(r["retries"] == r["metadata_retries"] + r["chunk_retries"],
              f"{what}: --report {who}: retries {r['retries']} != metadata_retries "
              f"{r['metadata_retries']} + chunk_retries {r['chunk_retries']}")
    for k in fields:
        check(tot[k] == sum(r[k] for r in per),
              f"{what}: --report total {k} {tot[k]} is not the sum of the ranks' "
              f"{[r[k] for r in per]}")
    if want_metadata:
        check(tot["metadata_retries"] > 0,
              f"{what}: --report shows no metadata retries: {tot['metadata_retries']} "
              f"(chunk_retries {tot['chunk_retries']})")
    return tot


def faults_logged(si, since):
    """(kind, uri, range) of the faults the stand-in's error log records after
    offset `since` (range "" for a request without one)."""
    with open(os.path.join(si.state, "error.log"), "rb") as f:
        f.seek(since)
        text = f.read().decode("utf-8", "replace")
    return re.findall(r"s3-standin fault=(\S+) n=\d+ uri=(\S+) range=([^,]*),", text)


def every_class_fails_once(si, tmp, jobs, want):
    """Part a: each fault kind on the first attempt of every request."""
    kinds = (("503", ["--faults", "503:1"]),
             ("500", ["--faults", "500:1"]),
             ("429 Retry-After 1", ["--faults", "429:3", "--faults-retry-after", "1"]),
             ("reset", ["--faults", "drop:1"]),
             ("truncated", ["--faults", "short:1"]))
    for label, opts in kinds:
        kind = opts[1].split(":")[0]
        for job, args in jobs.items():
            for np_ in (0, 2):
                what = f"{label} once: {job} " + (f"np {np_}" if np_ else "alone")
                si.stop()  # fresh counts, per request too
                ep = si.start(*opts, "--faults-scope", "all", "--faults-per-range", "1")
                eoff = si.log_size("error.log")
                out = os.path.join(tmp, f"once-{kind}-{job}-{np_}.nc")
                report = os.path.join(tmp, f"once-{kind}-{job}-{np_}-report.json")
                rc, err, _ = floe(ep, np_, *args, "-o", out, "--report", report)
                if not ran(what, rc, err):
                    continue
                # The test's own premise: both classes of request really failed.
                logged = faults_logged(si, eoff)
                check(any(k == kind and not r for k, _, r in logged),
                      f"{what}: the stand-in failed no request without Range (metadata): "
                      f"{len(logged)} faults logged")
                check(any(k == kind and r for k, _, r in logged),
                      f"{what}: the stand-in failed no ranged request: {len(logged)} faults")
                report_retries(what, report, want_metadata=True)
                if job in want:
                    bad = same_bytes(load(out), want[job])
                    check(bad is None, f"{what}: not the clean run's bytes: {bad}")


def permanent_503(si, tmp, job_args):
    """Part c: every attempt of every request answers 503."""
    ep = si.start("--faults", "503:1", "--faults-scope", "all", "--faults-per-range", "0")
    for np_ in (0, 2):
        what = f"permanent 503, --retry-budget {BUDGET}: extract " + \
            (f"np {np_}" if np_ else "alone")
        odir = os.path.join(tmp, f"dead-{np_}")
        os.mkdir(odir)
        rc, err, secs = floe(ep, np_, *job_args, "-o", os.path.join(odir, "out.nc"),
                             "--retries", "100", "--retry-budget", str(BUDGET))
        limit = BUDGET + (MPI_MARGIN if np_ else BUDGET_MARGIN)
        check(rc is not None and secs <= limit,
              f"{what}: took {secs:.1f} s, over the budget {BUDGET} s + margin "
              f"({limit} s): {err.strip()[-300:]}")
        check(rc not in (0, None), f"{what}: exit status {rc}")
        lines = [ln for ln in err.splitlines() if ln.strip()]
        mine = [ln for ln in lines if ln.startswith("floe")] if np_ else lines
        check(len(mine) == 1, f"{what}: want one error line, got {len(mine)}: "
                              f"{err.strip()[:1000]}")
        check(mine and all(re.search(r"s3://\S+", ln) and
                           re.search(r"\b\d+ attempts?\b", ln) and "503" in ln for ln in mine),
              f"{what}: the error line names no object (s3://...), attempts (N attempts) "
              f"or 503: {mine}")
        check(os.listdir(odir) == [], f"{what}: files left: {os.listdir(odir)}")


def herd(si, tmp, job_args, want):
    """Part b: 32 processes and one mpirun -np 4 job at once, rate-limited."""
    ep = si.start("--rate-limit", str(HERD_RATE))
    c0 = si.counts()
    hdir = os.path.join(tmp, "herd")
    os.mkdir(hdir)
    procs, killed = [], set()
    try:
        t0 = time.monotonic()
        for i in [*range(HERD), "mpi"]:
            np_ = HERD_RANKS if i == "mpi" else 0
            cmd, env = testlib.floe_cmd(
                np_, *job_args, "-o", os.path.join(hdir, f"{i}.nc"),
                "--report", os.path.join(hdir, f"{i}-report.json"), *HERD_RETRY,
                endpoint=ep)
            with open(os.path.join(hdir, f"{i}.err"), "w") as errf:
                procs.append((i, subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL,
                                                  stderr=errf, start_new_session=True)))
        for i, p in procs:
            try:
                p.wait(timeout=max(1.0, time_left(HERD_TIMEOUT - (time.monotonic() - t0))))
            except subprocess.TimeoutExpired:
                pass
        secs = time.monotonic() - t0
    finally:
        for _, p in procs:
            if p.poll() is None:
                kill_group(p)
                p.wait()
                killed.add(p.pid)
    print(f"herd: {HERD} processes and mpirun -np {HERD_RANKS} in {secs:.1f} s")
    refused = si.counts().get("ratelimited", 0) - c0.get("ratelimited", 0)
    check(refused > 0, f"herd: the stand-in refused no request (ratelimited {refused}): "
                       f"the herd did not reach {HERD_RATE} requests per second")
    retries, ok, failed = 0, 0, []
    for i, p in procs:
        what = f"herd: process {i}" if i != "mpi" else f"herd: mpirun -np {HERD_RANKS}"
        with open(os.path.join(hdir, f"{i}.err")) as f:
            err = f.read()
        if p.pid in killed:
            failed.append(f"{what}: still running after {secs:.0f} s (killed)")
            continue
        if p.returncode != 0:
            failed.append(f"{what}: exit {p.returncode}: {why(err)}")
            continue
        ok += 1
        tot = report_retries(what, os.path.join(hdir, f"{i}-report.json"), want_metadata=False)
        retries += (tot or {}).get("retries", 0)
        if want is not None:
            bad = same_bytes(load(os.path.join(hdir, f"{i}.nc")), want)
            check(bad is None, f"{what}: not the clean run's bytes: {bad}")
    check(ok == len(procs), f"herd: {len(failed)} of {len(procs)} runs failed; the first:\n  "
                            + "\n  ".join(failed[:3]))
    check(retries > 0, f"herd: the reports show no retries ({ok} reports read)")


def main(tbdir):
    coll = os.path.join(tbdir, "collection.json")
    normal = os.environ["FLOE_S3_ENDPOINT"]
    tmp = tempfile.mkdtemp(prefix="floe-retry-")
    si = Standin(os.path.join(tbdir, "s3"), os.path.join(tmp, "standin"))
    points = os.path.join(tmp, "points.csv")
    with open(points, "w") as f:
        f.write("lon,lat,id\n-70.3,41.7,a\n-100.2,40.1,b\n-120.5,45.5,c\n")
    # Small requests (a few dozen to a hundred S3 requests each), so that 40
    # faulty runs stay short; climatology spans two months.
    seed = ["extract", coll, "-v", "Tair,Rainf", "--bbox=-70.84,41.48,-69.77,42.10",
            "--time", "2001-01-16/2001-01-20"]
    jobs = {
        "extract": seed,
        "series": ["series", coll, "-v", "Tair", "--points", points,
                   "--time", "2001-01-01/2001-01-10"],
        "stats": ["stats", coll, "-v", "Tair", "--stat", "mean,max,count",
                  "--bbox=-100,30,-65,45", "--time", "2001-01-01/2001-01-04"],
        "climatology": ["climatology", coll, "-v", "Tair", "--by", "month",
                        "--bbox=-100,30,-65,45", "--time", "2001-01-30/2001-02-02"],
    }
    try:
        # ---- the clean answers (np 1 alone; np 2 must give the same bytes)
        want = {}
        for job, args in jobs.items():
            for np_ in (0, 2):
                what = f"clean {job} " + (f"np {np_}" if np_ else "alone")
                out = os.path.join(tmp, f"clean-{job}-{np_}.nc")
                rc, err, _ = floe(normal, np_, *args, "-o", out)
                if not ran(what, rc, err):
                    continue
                if np_ == 0:
                    want[job] = load(out)
                elif job in want:
                    bad = same_bytes(load(out), want[job])
                    check(bad is None, f"{what}: not the bytes of np 1: {bad}")

        every_class_fails_once(si, tmp, jobs, want)
        permanent_503(si, tmp, seed)
        herd(si, tmp, seed, want.get("extract"))
    finally:
        si.stop()
    if failures() == 0:
        shutil.rmtree(tmp, ignore_errors=True)
    else:
        print(f"outputs and the stand-in's logs are in {tmp}")
    return summary()


if __name__ == "__main__":
    run(main, __doc__)
