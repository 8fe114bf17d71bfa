#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
"""check_checkpoint_stats.py TESTBED_DIR: stats and climatology survive an
interrupt (--checkpoint, --resume) and split into pieces (--piece I/N,
floe merge), with the output file of the uninterrupted, unsplit run,
byte for byte (FLOE_FIXED_TIME: the history attribute's time is fixed).

The runs to interrupt read through a stand-in of their own with 30 ms of
latency per request (started here on the test bed's s3 folder, stopped
however the test ends), so a run takes long enough to be signalled part
way; the signal goes when the checkpoint holds units (not after a fixed
sleep), to every rank, as Slurm's srun does:
- SIGTERM at np 2: exit 3, one line saying to rerun with --resume, the
  checkpoint kept, no output; --resume at np 2 writes the np 2 run's
  bytes and removes the checkpoint (stats and climatology);
- the same interrupted climatology resumed at np 3: the np 3 run's bytes;
- kill -9 of one rank mid-run, then --resume: the same bytes;
- a checkpoint of another request (--by season) is refused, naming it;
- pieces 1..3 of 3 (one at np 2), then floe merge: the unsplit run's
  bytes, the parts removed; a missing piece is refused by merge;
- the resumed runs write --report (as every run here does, so that the
  recorded commands match): they fetched fewer chunks than the
  uninterrupted run;
- saves at every block boundary (FLOE_CHECKPOINT_SECONDS=0): a tile's
  steps in several units, chained back into the same bytes;
- SIGUSR1 (Slurm's --signal) while the dataset is still being opened
  (through a stand-in of 1.5 s a request): exit 3 with the checkpoint
  kept, not killed by the signal (status 138 before), for a run and a
  piece; --resume then writes the uninterrupted run's bytes.
Prints "N passed, N failed" last.
"""

import hashlib
import json
import os
import shutil
import signal
import subprocess
import tempfile
import time

import reference
import testlib
from standin import own_standin
from testlib import FLOE, check, floe_cmd, run, summary

STANDIN = os.path.join(reference.ROOT, "scripts", "s3-standin")
LATENCY_MS = "30"
UNITS_BEFORE_SIGNAL = 8  # saved units (blobs "u-...") to wait for before signalling
WAIT_S = 300
# every run but the part-way one writes its counters (recorded in the command)
REPORT = ["--report", "rep.json"]


def fetched(folder):
    """The chunks a run in folder fetched (its --report), or None."""
    try:
        with open(os.path.join(folder, "rep.json")) as f:
            return json.load(f)["total"]["chunks"]
    except (OSError, KeyError, ValueError):
        return None


def digest(path):
    with open(path, "rb") as f:
        return hashlib.sha256(f.read()).hexdigest()


class Env:
    def __init__(self, tbdir, tmp, shim, slow):
        self.coll = os.path.join(tbdir, "collection.json")
        self.tmp, self.shim, self.slow = tmp, shim, slow

    def cmd(self, np_, args, slow, env=None):
        """The command (the shim in floe only, not in mpirun) and its environment."""
        cmd, env = floe_cmd(np_, *args, endpoint=self.slow if slow else None, env=env)
        at = cmd.index(FLOE)
        cmd[at:at] = ["env", f"LD_PRELOAD={self.shim}",
                      "ASAN_OPTIONS=" + ":".join(filter(None, [os.environ.get("ASAN_OPTIONS"),
                                                               "verify_asan_link_order=0"]))]
        return cmd, env

    def floe(self, np_, args, cwd, slow=False, env=None):
        cmd, env = self.cmd(np_, args, slow, env)
        r = subprocess.run(cmd, capture_output=True, text=True, env=env, cwd=cwd, timeout=600)
        if r.returncode == 0:
            testlib.check_cf_output(args, cwd=cwd)
        return r

    def start(self, np_, args, cwd, env=None):
        cmd, env = self.cmd(np_, args, True, env)
        return subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                                env=env, cwd=cwd)


def ranks_of(proc):
    """The floe processes under proc (mpirun's children, or proc itself)."""
    found = []
    for pid in os.listdir("/proc"):
        if not pid.isdigit():
            continue
        try:
            with open(f"/proc/{pid}/stat") as f:
                ppid = int(f.read().rsplit(")", 1)[1].split()[1])
            with open(f"/proc/{pid}/cmdline", "rb") as f:
                line = f.read().split(b"\0")
        except (OSError, IndexError, ValueError):
            continue
        if ppid == proc.pid and line and os.path.basename(line[0].decode()) == "floe":
            found.append(int(pid))
    return found or [proc.pid]


def units(ckpt):
    try:
        return sum(1 for n in os.listdir(ckpt) if n.startswith("u-") and n.endswith(".blob"))
    except OSError:
        return 0


def interrupt(e, np_, args, cwd, ckpt, sig, one_rank=False):
    """Start a slow run, wait for units in its checkpoint, signal its ranks
    (or one of them); its (returncode, stderr, units when signalled)."""
    p = e.start(np_, args, cwd)
    t0, n = time.time(), 0
    while time.time() - t0 < WAIT_S and p.poll() is None:
        n = units(ckpt)
        if n >= UNITS_BEFORE_SIGNAL:
            break
        time.sleep(0.1)
    ranks = ranks_of(p) if p.poll() is None else []
    for pid in ranks[:1] if one_rank else ranks:
        try:
            os.kill(pid, sig)
        except ProcessLookupError:
            pass
    out, err = p.communicate(timeout=WAIT_S)
    check(ranks, f"{args[0]}: the run was still going with {n} units saved")
    return p.returncode, err, n


def check_fewer(what, cwd, full):
    got = fetched(cwd)
    check(got is not None and full and got < full,
          f"{what}: the resumed run fetched {got} chunks, the uninterrupted one {full}")


def check_interrupt_resume(e, kind, extra, ref, ref3, full):
    """SIGTERM at np 2, then --resume (np 2, or np 3 with ref3); full: the
    uninterrupted run's chunks."""
    cwd = tempfile.mkdtemp(dir=e.tmp, prefix=f"{kind}-")
    args = [kind, e.coll, "-v", "Tair,Rainf", *extra, "-o", "out.nc", "-q", *REPORT]
    ckpt = os.path.join(cwd, "out.nc.floe-ckpt")
    rc, err, n = interrupt(e, 2, args + ["--checkpoint"], cwd, ckpt, signal.SIGTERM)
    check(rc == 3, f"{kind}: SIGTERM with --checkpoint: exit {rc} (want 3): {err.strip()}")
    check("--resume" in err and "out.nc.floe-ckpt" in err,
          f"{kind}: the line says the checkpoint was kept and to rerun with --resume: {err}")
    check(not os.path.exists(os.path.join(cwd, "out.nc")), f"{kind}: no output after SIGTERM")
    check(units(ckpt) >= n > 0, f"{kind}: the checkpoint keeps its {n} units")
    check(not [f for f in os.listdir(cwd) if ".floe-tmp-" in f] and
          not [f for f in (os.listdir(ckpt) if os.path.isdir(ckpt) else []) if ".floe-tmp-" in f],
          f"{kind}: no temporaries left: {os.listdir(cwd)}")
    np_, want = (3, ref3) if ref3 else (2, ref)
    r = e.floe(np_, args + ["--resume"], cwd, slow=False)
    check(r.returncode == 0, f"{kind}: --resume at np {np_}: exit {r.returncode}: {r.stderr}")
    if r.returncode == 0:
        check(digest(os.path.join(cwd, "out.nc")) == want,
              f"{kind}: --resume at np {np_} writes the uninterrupted np {np_} run's bytes")
        check_fewer(f"{kind}: --resume at np {np_}", cwd, full)
    check(not os.path.exists(ckpt), f"{kind}: the checkpoint goes with the commit")


def check_kill9(e, ref, full):
    cwd = tempfile.mkdtemp(dir=e.tmp, prefix="kill9-")
    args = ["climatology", e.coll, "-v", "Tair,Rainf", "--by", "month", "-o", "out.nc", "-q",
            *REPORT]
    ckpt = os.path.join(cwd, "out.nc.floe-ckpt")
    rc, err, n = interrupt(e, 2, args + ["--resume"], cwd, ckpt, signal.SIGKILL, one_rank=True)
    check(rc != 0 and not os.path.exists(os.path.join(cwd, "out.nc")),
          f"kill -9 of a rank: the run fails without output (exit {rc})")
    # another request over this checkpoint: refused, naming it and the difference
    other = ["climatology", e.coll, "-v", "Tair,Rainf", "--by", "season", "-o", "out.nc", "-q",
             *REPORT, "--resume"]
    r = e.floe(2, other, cwd)
    check(r.returncode != 0 and "out.nc.floe-ckpt" in r.stderr and "by=month" in r.stderr
          and "by=season" in r.stderr,
          f"a checkpoint of another request is refused with one line: {r.stderr.strip()}")
    r = e.floe(2, args + ["--checkpoint"], cwd)
    check(r.returncode != 0 and "--resume" in r.stderr,
          f"--checkpoint over an existing checkpoint says to --resume: {r.stderr.strip()}")
    r = e.floe(2, args + ["--resume"], cwd)
    check(r.returncode == 0, f"--resume after kill -9: exit {r.returncode}: {r.stderr}")
    if r.returncode == 0:
        check(digest(os.path.join(cwd, "out.nc")) == ref,
              "--resume after a kill -9 writes the uninterrupted run's bytes")
        check_fewer("--resume after a kill -9", cwd, full)
    check(not os.path.exists(ckpt), "the checkpoint goes with the commit after kill -9")


def check_pieces(e, kind, extra, ref1):
    cwd = tempfile.mkdtemp(dir=e.tmp, prefix=f"pieces-{kind}-")
    args = [kind, e.coll, "-v", "Tair,Rainf", *extra, "-o", "out.nc", "-q", *REPORT]
    parts = os.path.join(cwd, "out.nc.floe-parts")
    for i in (1, 3):
        r = e.floe(0, args + ["--piece", f"{i}/3"], cwd)
        check(r.returncode == 0, f"{kind} --piece {i}/3: exit {r.returncode}: {r.stderr}")
    check(not os.path.exists(os.path.join(cwd, "out.nc")), f"{kind}: a piece writes no output")
    r = e.floe(0, ["merge", "out.nc"], cwd)
    check(r.returncode != 0 and "piece 2 of 3" in r.stderr and not
          os.path.exists(os.path.join(cwd, "out.nc")),
          f"{kind}: merge refuses a missing piece: {r.stderr.strip()}")
    r = e.floe(2, args + ["--piece", "2/3"], cwd)
    check(r.returncode == 0, f"{kind} --piece 2/3 at np 2: exit {r.returncode}: {r.stderr}")
    r = e.floe(0, ["merge", "out.nc"], cwd)
    check(r.returncode == 0, f"{kind}: merge: exit {r.returncode}: {r.stderr}")
    if r.returncode == 0:
        check(digest(os.path.join(cwd, "out.nc")) == ref1,
              f"{kind}: merge writes the unsplit run's bytes")
    check(not os.path.exists(parts), f"{kind}: merge removes the parts")


def check_part_way_saves(e, extra):
    """A save at every block boundary (FLOE_CHECKPOINT_SECONDS=0): each tile's
    steps in several units, chained back: the same bytes (a box of a few
    tiles, to be quick)."""
    cwd = tempfile.mkdtemp(dir=e.tmp, prefix="part-way-")
    args = ["climatology", e.coll, "-v", "Tair,Rainf", *extra, "--bbox=-100,30,-90,40",
            "-o", "out.nc", "-q"]
    plain = tempfile.mkdtemp(dir=e.tmp, prefix="part-way-plain-")
    r = e.floe(0, args, plain)
    check(r.returncode == 0, f"the box's plain climatology: exit {r.returncode}: {r.stderr}")
    ref1 = digest(os.path.join(plain, "out.nc")) if r.returncode == 0 else None
    p = e.start(0, args + ["--checkpoint"], cwd, env={"FLOE_CHECKPOINT_SECONDS": "0"})  # slow: watch the units as they come
    seen = set()
    while p.poll() is None:
        try:
            seen.update(n for n in os.listdir(os.path.join(cwd, "out.nc.floe-ckpt"))
                        if n.startswith("u-"))
        except OSError:
            pass
        time.sleep(0.05)
    p.communicate()
    check(p.returncode == 0 and digest(os.path.join(cwd, "out.nc")) == ref1,
          f"units saved part-way give the same bytes (exit {p.returncode})")
    # part-way: some tile saved as more than one unit (u-V-Y0-X0-Y1-X1-A-B)
    tiles = [n.rsplit("-", 2)[0] for n in seen]
    check(len(tiles) > len(set(tiles)), f"some tile was saved in parts: {sorted(seen)[:4]}")


def check_signal_during_open(e, tbdir, ref):
    """SIGUSR1 1 s into a run whose open takes several 1.5 s round trips."""
    with own_standin(tbdir, os.path.join(e.tmp, "very-slow"), "--latency-ms", "1500") as very:
        for what, ctl in (("run", ["--checkpoint"]), ("piece", ["--piece", "1/2"])):
            cwd = tempfile.mkdtemp(dir=e.tmp, prefix=f"open-{what}-")
            args = ["stats", e.coll, "-v", "Tair,Rainf", "--stat", "mean,min,max,std,count",
                    "-o", "out.nc", "-q", *REPORT, *ctl]
            cmd, env = floe_cmd(0, *args, endpoint=very)
            p = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                                 env=env, cwd=cwd)
            time.sleep(1.0)  # floe is in its open: the first answer takes 1.5 s
            check(p.poll() is None, f"signal during the open ({what}): still opening")
            p.send_signal(signal.SIGUSR1)
            _, err = p.communicate(timeout=WAIT_S)
            check(p.returncode == 3 and "--resume" in err,
                  f"signal during the open ({what}): exit {p.returncode} (3), {err.strip()!r}")
            check(not os.path.exists(os.path.join(cwd, "out.nc")),
                  f"signal during the open ({what}): no output")
            if what == "run":
                r = e.floe(0, [*args[:-1], "--resume"], cwd)
                check(r.returncode == 0 and digest(os.path.join(cwd, "out.nc")) == ref,
                      f"signal during the open: --resume: exit {r.returncode}, the "
                      f"uninterrupted run's bytes ({r.stderr.strip()})")


def main(tbdir):
    shim = os.environ.get("FLOE_FIXED_TIME")
    if not shim or not os.path.exists(shim):
        print("skipped: FLOE_FIXED_TIME (the fixed-time shim, built by CMake) not given")
        return 77
    tmp = tempfile.mkdtemp(prefix="floe-ckpt-stats-")
    state = os.path.join(tmp, "standin")
    r = subprocess.run([STANDIN, "start", os.path.join(tbdir, "s3"), "--port", "0",
                        "--latency-ms", LATENCY_MS, "--state", state],
                       capture_output=True, text=True, timeout=60)
    if r.returncode != 0:
        print(f"FAIL: the slow stand-in did not start: {r.stderr.strip()}")
        return 1
    try:
        with open(os.path.join(state, "endpoint")) as f:
            e = Env(tbdir, tmp, shim, f.read().strip())
        jobs = {"stats": ["--stat", "mean,min,max,std,count"], "climatology": ["--by", "month"]}
        refs, full = {}, {}
        for kind, extra in jobs.items():
            for np_ in (0, 2, 3):
                cwd = os.path.join(tmp, f"ref-{kind}-{np_}")
                os.makedirs(cwd)
                r = e.floe(np_, [kind, e.coll, "-v", "Tair,Rainf", *extra, "-o", "out.nc",
                                 "-q", *REPORT], cwd)
                check(r.returncode == 0, f"{kind} np {np_}: exit {r.returncode}: {r.stderr}")
                refs[kind, np_] = digest(os.path.join(cwd, "out.nc")) if r.returncode == 0 \
                    else None
                full[kind, np_] = fetched(cwd)
        check_interrupt_resume(e, "stats", jobs["stats"], refs["stats", 2], None,
                               full["stats", 2])
        check_interrupt_resume(e, "climatology", jobs["climatology"], refs["climatology", 2],
                               None, full["climatology", 2])
        check_interrupt_resume(e, "climatology", jobs["climatology"], refs["climatology", 2],
                               refs["climatology", 3], full["climatology", 3])
        check_kill9(e, refs["climatology", 2], full["climatology", 2])
        for kind, extra in jobs.items():
            check_pieces(e, kind, extra, refs[kind, 0])
        check_part_way_saves(e, jobs["climatology"])
        check_signal_during_open(e, tbdir, refs["stats", 0])
    finally:
        subprocess.run([STANDIN, "stop", "--state", state], capture_output=True, timeout=60)
        shutil.rmtree(tmp, ignore_errors=True)
    return summary()


if __name__ == "__main__":
    run(main, __doc__)
