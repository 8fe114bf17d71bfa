#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
"""check_outputs.py TESTBED_DIR: a run never loses a file (issue #11, items
5, 6 and 7), seen from outside: the files in the output folder after each
run, compared with what was there before (sha-256 of every file).

- Output paths: an output (or its default Item) that would replace the STAC
  document, the points file, or another output of the same run is refused
  with one line, even with -O; an output whose folder is missing is refused
  before anything is fetched (the stand-in's access log has no request);
  an existing output is refused without -O and replaced with it (data and
  Item together).
- Failures under MPI: with mpirun -np 2, a day's source files missing so
  that only rank 1 fails (404), and alone: exit non-zero, exactly one
  "floe: error" line, and nothing written (no data, no Item, no report,
  no temporary).
- Interrupts: SIGTERM, SIGINT and SIGHUP in the middle of a run (seen
  when its temporary appears; the data comes through a stand-in with
  latency) end it as killed by that signal, with the line "floe:
  interrupted by SIG...: no output written" once, and nothing left; under
  mpirun -np 2, SIGTERM to every rank (what Slurm does at a time limit)
  the same, and SIGTERM to mpirun itself leaves nothing either.
- SIGKILL leaves the temporary (nothing can remove it); its name says what
  and whose it is, and the next run of the same output removes it and
  succeeds. A temporary of another host is left alone.

Prints "N passed, N failed" last.
"""

import glob
import hashlib
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time

import reference
import testlib
from testlib import check, run, summary

STANDIN = os.path.join(reference.ROOT, "scripts", "s3-standin")
BOX = "--bbox=-75,38,-68,44"


def snapshot(folder):
    """{name: sha256} of every file in folder."""
    out = {}
    for name in sorted(os.listdir(folder)):
        p = os.path.join(folder, name)
        if os.path.isfile(p):
            with open(p, "rb") as f:
                out[name] = hashlib.sha256(f.read()).hexdigest()
    return out


def error_lines(stderr):
    return [ln for ln in stderr.splitlines() if ln.startswith("floe: error")]


def refused(what, r, folder, before, needle):
    """A refused run: usage error, one line containing needle, the folder as before."""
    lines = error_lines(r.stderr)
    check(r.returncode == 2, f"{what}: exit {r.returncode}, want 2 ({r.stderr.strip()})")
    check(len(lines) == 1 and needle in lines[0], f"{what}: want one line with '{needle}', "
          f"got {r.stderr.strip()!r}")
    check(snapshot(folder) == before, f"{what}: the folder changed: {sorted(snapshot(folder))}")


def output_paths(tb, coll, work):
    d = os.path.join(work, "paths")
    os.mkdir(d)
    doc = os.path.join(d, "mycoll.json")
    shutil.copy(coll, doc)
    pts = os.path.join(d, "st.csv")
    with open(pts, "w") as f:
        f.write("lon,lat,id\n-70.3,41.7,a\n")
    before = snapshot(d)
    ex = ["extract", doc, "-v", "Tair", BOX, "--time", "2001-01-03/2001-01-04", "-q"]

    r = testlib.floe_np(0, *ex, "-o", os.path.join(d, "mycoll.nc"))
    refused("-o mycoll.nc beside mycoll.json (the Item's default name)", r, d, before,
            "would replace the STAC document")
    r = testlib.floe_np(0, *ex, "-o", os.path.join(d, "mycoll.nc"), "-O")
    refused("the same with -O", r, d, before, "would replace the STAC document")
    r = testlib.floe_np(0, *ex, "-o", doc, "--item", os.path.join(d, "i.json"))
    refused("-o the collection itself", r, d, before, "would replace the STAC document")
    r = testlib.floe_np(0, "series", coll, "-v", "Tair", "--points", pts, "-o", pts, "-q")
    refused("series --points st.csv -o st.csv", r, d, before, "would replace the input")
    out = os.path.join(d, "out.nc")
    r = testlib.floe_np(0, *ex, "-o", out, "--report", out)
    refused("--report out.nc -o out.nc", r, d, before, "same file")
    r = testlib.floe_np(0, *ex, "-o", out, "--report", os.path.join(d, "out.json"))
    refused("--report out.json beside -o out.nc", r, d, before, "same file")
    r = testlib.floe_np(0, *ex, "-o", out, "--item", os.path.join(d, "missing", "out.json"))
    refused("--item in a missing folder", r, d, before, "missing does not exist")
    r = testlib.floe_np(0, *ex, "-o", out, "--report", os.path.join(d, "missing", "r.json"))
    refused("--report in a missing folder", r, d, before, "missing does not exist")

    # An existing output: refused without -O, replaced (with its Item) with it.
    with open(out, "w") as f:
        f.write("not yet\n")
    before = snapshot(d)
    r = testlib.floe_np(0, *ex, "-o", out)
    refused("an existing output without -O", r, d, before, "exists: give -O")
    r = testlib.floe_np(0, *ex, "-o", out, "-O", "--report", os.path.join(d, "r.json"))
    check(r.returncode == 0, f"-O: exit {r.returncode} ({r.stderr.strip()})")
    after = snapshot(d)
    check(after.get("out.nc") not in (None, before["out.nc"]), "-O: out.nc was not replaced")
    check(set(after) == set(before) | {"out.json", "r.json"},
          f"-O: files {sorted(after)}")


def without_some_days(tb, work):
    """A stand-in over a copy of the test bed (links) that lacks the source
    files of 2001-01-08..10."""
    root = os.path.join(work, "s3-holes")
    subprocess.run(["cp", "-as", os.path.join(tb, "s3"), root], check=True)
    gone = 0
    for day in ("08", "09", "10"):
        for p in glob.glob(os.path.join(root, "**", f"*A200101{day}*"), recursive=True):
            os.unlink(p)
            gone += 1
    check(gone >= 3, f"holes: removed {gone} source files")
    state = os.path.join(work, "standin-holes")
    r = subprocess.run([STANDIN, "start", root, "--port", "0", "--state", state],
                       capture_output=True, text=True, timeout=60)
    if r.returncode != 0:
        raise RuntimeError(f"s3-standin: {r.stderr.strip()}")
    with open(os.path.join(state, "endpoint")) as f:
        return state, f.read().strip()


def failing_rank(tb, coll, work, endpoint):
    for np_ in (2, 0):
        d = os.path.join(work, f"fail-np{np_}")
        os.mkdir(d)
        for cmd in (["extract", coll, "-v", "Tair,Rainf", BOX],
                    ["stats", coll, "-v", "Tair", BOX, "--stat", "mean"],
                    ["series", coll, "-v", "Tair", BOX]):
            what = f"{cmd[0]} np {np_} with rank {'1' if np_ else '0'}'s days missing"
            r = testlib.floe_np(np_, *cmd, "--time", "2001-01-03/2001-01-10", "-q",
                                "-o", os.path.join(d, "out.nc"), "--report",
                                os.path.join(d, "r.json"), endpoint=endpoint)
            lines = error_lines(r.stderr)
            check(r.returncode not in (0, 2) and r.returncode < 128,
                  f"{what}: exit {r.returncode}")
            check(len(lines) == 1 and "A200101" in lines[0],
                  f"{what}: want one line naming a missing file, got {r.stderr.strip()!r}")
            check(os.listdir(d) == [], f"{what}: left {os.listdir(d)}")


def slow_standin(tb, work):
    state = os.path.join(work, "standin-slow")
    r = subprocess.run([STANDIN, "start", os.path.join(tb, "s3"), "--port", "0", "--state",
                        state, "--latency-ms", "250", "--access-log"], capture_output=True,
                       text=True, timeout=60)
    if r.returncode != 0:
        raise RuntimeError(f"s3-standin: {r.stderr.strip()}")
    with open(os.path.join(state, "endpoint")) as f:
        return state, f.read().strip()


def requests_logged(state):
    try:
        with open(os.path.join(state, "access.log")) as f:
            return sum(1 for _ in f)
    except FileNotFoundError:
        return 0


def refused_before_fetching(coll, work, endpoint, state):
    """A refused output path costs no request at all: not even the STAC
    document's or the repository's (the stand-in's access log)."""
    d = os.path.join(work, "early")
    os.mkdir(d)
    for what, args in (
            ("--item in a missing folder", ["--item", os.path.join(d, "no", "i.json")]),
            ("--report in a missing folder", ["--report", os.path.join(d, "no", "r.json")]),
            ("-o in a missing folder", ["-o", os.path.join(d, "no", "x.nc")]),
            ("--report on the Item", ["--report", os.path.join(d, "out.json")])):
        n0 = requests_logged(state)
        r = testlib.floe_np(0, "stats", coll, "-v", "Tair", "-o", os.path.join(d, "out.nc"),
                            *args, "-q", endpoint=endpoint)
        time.sleep(0.2)  # nginx writes its log line after the answer
        check(r.returncode == 2, f"{what}: exit {r.returncode} ({r.stderr.strip()})")
        check(requests_logged(state) == n0,
              f"{what}: {requests_logged(state) - n0} request(s) before the refusal")
    # and the log does record requests (the check above can fail)
    n0 = requests_logged(state)
    r = testlib.floe_np(0, "inspect", coll, endpoint=endpoint)
    time.sleep(0.2)
    check(r.returncode == 0 and requests_logged(state) > n0, "the access log records requests")


def start_when_writing(np_, args, d, endpoint, env=None):
    """floe started in the background; returns (process, ok) once its
    temporary exists in d (the run is under way) or it ended."""
    cmd, env = testlib.floe_cmd(np_, *args, endpoint=endpoint, env=env)
    p = subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                         text=True)
    deadline = time.time() + 120
    while time.time() < deadline and p.poll() is None:
        if glob.glob(os.path.join(d, "*.floe-tmp-*")):
            return p, True
        time.sleep(0.05)
    return p, False


def rank_pids(out):
    """The floe processes (not mpirun) whose command line names out."""
    pids = []
    for pid in os.listdir("/proc"):
        if not pid.isdigit():
            continue
        try:
            with open(f"/proc/{pid}/cmdline", "rb") as f:
                argv = f.read().split(b"\0")
        except OSError:
            continue
        if out.encode() in argv and os.path.basename(argv[0]) == b"floe":
            pids.append(int(pid))
    return pids


def interrupts(coll, work, endpoint):
    long_run = ["stats", coll, "-v", "Tair,Rainf", "--stat", "mean,max", "-q"]
    cases = [(0, signal.SIGTERM, "floe"), (0, signal.SIGINT, "floe"), (0, signal.SIGHUP, "floe"),
             (2, signal.SIGTERM, "ranks"), (2, signal.SIGTERM, "mpirun")]
    for np_, sig, target in cases:
        what = f"{sig.name} to {target} (np {np_})"
        d = os.path.join(work, f"sig-{np_}-{sig.name}-{target}")
        os.mkdir(d)
        out = os.path.join(d, "out.nc")
        # mpirun forwards its SIGTERM and sends SIGKILL 1 s later (Open MPI's
        # odls_base_sigkill_timeout); on a loaded test machine (ASan, two
        # cores) a rank may not run its handler within 1 s: give it 10, as
        # Slurm gives 30 (KillWait).
        env = {"OMPI_MCA_odls_base_sigkill_timeout": "10"} if target == "mpirun" else None
        p, writing = start_when_writing(np_, [*long_run, "-o", out], d, endpoint, env)
        check(writing, f"{what}: the run never started writing ({p.poll()})")
        if target == "ranks":
            pids = rank_pids(out)
            check(len(pids) == 2, f"{what}: found rank processes {pids}")
            for pid in pids:
                os.kill(pid, sig)
        else:
            p.send_signal(sig)
        try:
            _, err = p.communicate(timeout=120)
        except subprocess.TimeoutExpired:
            p.kill()
            _, err = p.communicate()
            check(False, f"{what}: still running 120 s after the signal")
        if np_ == 0:
            check(p.returncode == -sig, f"{what}: status {p.returncode}, want killed by it")
        else:
            check(p.returncode != 0, f"{what}: mpirun exit {p.returncode}")
        line = f"floe: interrupted by {sig.name}: no output written"
        if target != "mpirun":  # mpirun may die before it relays its ranks' words
            check(err.count(line) == 1, f"{what}: want '{line}' once, got {err.strip()!r}")
        check(not [ln for ln in err.splitlines() if ln.startswith("floe: error")],
              f"{what}: an error line besides the interrupt: {err.strip()!r}")
        deadline = time.time() + 30  # mpirun's ranks may still be ending
        while os.listdir(d) and time.time() < deadline:
            time.sleep(0.1)
        check(os.listdir(d) == [], f"{what}: left {os.listdir(d)}")


def killed_runs(coll, work, endpoint, fast):
    d = os.path.join(work, "killed")
    os.mkdir(d)
    out = os.path.join(d, "out.nc")
    args = ["stats", coll, "-v", "Tair", "--stat", "mean", "-q", "-o", out]
    p, writing = start_when_writing(0, args, d, endpoint)
    check(writing, "SIGKILL: the run never started writing")
    p.kill()
    p.communicate()
    left = [n for n in os.listdir(d)]
    host = socket.gethostname()
    check(len(left) == 1 and left[0] == f"out.nc.floe-tmp-{host}-{p.pid}",
          f"SIGKILL: want one temporary naming this host and pid {p.pid}, found {left}")
    other = os.path.join(d, "out.nc.floe-tmp-elsewhere-1")  # another host's run
    open(other, "w").close()
    r = testlib.floe_np(0, *args, endpoint=fast)
    check(r.returncode == 0, f"after SIGKILL: exit {r.returncode} ({r.stderr.strip()})")
    check(sorted(os.listdir(d)) == ["out.json", "out.nc", os.path.basename(other)],
          f"after SIGKILL: files {sorted(os.listdir(d))}")


def main(tb):
    coll = os.path.join(tb, "collection.json")
    work = tempfile.mkdtemp(prefix="floe-outputs-")
    states = []
    try:
        output_paths(tb, coll, work)
        state, holes = without_some_days(tb, work)
        states.append(state)
        failing_rank(tb, coll, work, holes)
        state, slow = slow_standin(tb, work)
        states.append(state)
        refused_before_fetching(coll, work, slow, state)
        interrupts(coll, work, slow)
        killed_runs(coll, work, slow, os.environ["FLOE_S3_ENDPOINT"])
    finally:
        for s in states:
            subprocess.run([STANDIN, "stop", "--state", s], capture_output=True, timeout=60)
        shutil.rmtree(work, ignore_errors=True)
    return summary()


if __name__ == "__main__":
    run(main, __doc__)
