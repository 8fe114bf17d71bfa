#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
"""check_resume_steps.py TESTBED_DIR: --checkpoint and --resume of
`floe extract` and `floe series` (points, regions) under mpirun -np 2,
against a slow stand-in of their own (30 ms a request):

- SIGTERM to both ranks (what Slurm does at a time limit) once the
  checkpoint folder holds units: exit status 3, no output, no temporary,
  the checkpoint kept; --resume (at another rank count too) writes the
  whole file byte for byte as the uninterrupted run (FLOE_FIXED_TIME), and
  removes the checkpoint;
- kill -9 of rank 1 once it saved a unit, then --resume: the same bytes;
- every run writes --report: a resumed run fetched fewer chunks than the
  uninterrupted one, and (at the rank count that saved the units) exactly
  the chunks of the steps its checkpoint did not cover;
- a checkpoint of another request (the points file changed) is refused
  with one line naming it.
Prints "N passed, N failed" last.
"""

import json
import os
import shutil
import signal
import tempfile

import step_runs
from step_runs import (BOX, VARS, digest, inputs, rank_pids, run_in, same, start_in, units,
                       wait_for_units, wait_ranks_gone)
from testlib import check, run, summary

# (name, arguments, unit letter, resume at this rank count after SIGTERM)
CASES = [
    ("extract", ["extract", "COLL", "-v", VARS, BOX], "x", 3),
    ("series-points", ["series", "COLL", "-v", VARS, "--points", "points.csv"], "s", 1),
    ("series-region", ["series", "COLL", "-v", VARS, "--region", "basin.geojson",
                       "--stat", "mean,max"], "s", 2),
]
# every run writes its counters (recorded in the command: all alike)
OUT = ["-o", "out.nc", "-q", "--report", "rep.json"]
STEPS = 62  # the mini test bed's time steps, all selected


def fetched(folder):
    """The chunks a run in folder fetched (its --report), or None."""
    try:
        with open(os.path.join(folder, "rep.json")) as f:
            return json.load(f)["total"]["chunks"]
    except (OSError, KeyError, ValueError):
        return None


def check_fetched(name, d, args, kept, ref_chunks, exact):
    """The resumed run in d fetched fewer chunks than the uninterrupted one's
    ref_chunks; with exact, just those of the steps the units kept do not
    cover (every variable and step costs the same chunks)."""
    got = fetched(d)
    check(got is not None and ref_chunks and got < ref_chunks,
          f"{name}: the resumed run fetched {got} chunks, the uninterrupted one {ref_chunks}")
    if exact and got is not None and ref_chunks:
        nvars = len(args[args.index("-v") + 1].split(","))
        covered = sum(int(n[:-len(".blob")].split("-")[3]) - int(n.split("-")[2]) for n in kept)
        want = ref_chunks * (nvars * STEPS - covered) // (nvars * STEPS)
        check(got == want, f"{name}: the resumed run fetched {got} chunks, want {want} "
              f"({covered} of {nvars * STEPS} variable steps saved)")


def leftovers(folder):
    """What a run left beside the inputs (not the checkpoint folder)."""
    return sorted(n for n in os.listdir(folder)
                  if n not in ("points.csv", "basin.geojson", "out.nc.floe-ckpt", "rep.json"))


def sigterm_then_resume(work, tb, name, args, letter, np_resume, slow, fast, ref, ref_chunks):
    d = inputs(os.path.join(work, f"{name}-term"), tb)
    store = os.path.join(d, "out.nc.floe-ckpt")
    p = start_in(d, 2, [*args, "--checkpoint", *OUT], slow)
    got = wait_for_units(p, store, letter, lambda u: len(u) >= 1)
    check(p.poll() is None and got, f"{name}: no unit saved before the run ended ({p.poll()})")
    pids = rank_pids(d)
    check(len(pids) == 2, f"{name}: rank processes {pids}")
    for pid in pids.values():
        os.kill(pid, signal.SIGTERM)
    _, err = p.communicate(timeout=300)
    check(p.returncode == 3, f"{name}: SIGTERM: exit {p.returncode}, want 3 ({err.strip()!r})")
    check("--resume" in err, f"{name}: SIGTERM: the line says to rerun with --resume: {err!r}")
    check(leftovers(d) == [], f"{name}: SIGTERM left {leftovers(d)}")
    kept = units(store, letter)
    check(len(kept) >= 1, f"{name}: SIGTERM: the checkpoint holds no unit: {kept}")
    # all of the work would be 6 variables x 2 ranks
    check(len(kept) < 12, f"{name}: SIGTERM: the run did not stop early ({len(kept)} units)")
    if name == "series-points":  # another request: the points file changed
        pts = os.path.join(d, "points.csv")
        with open(pts) as f:
            text = f.read()
        with open(pts, "w") as f:
            f.write(text.replace("boston", "provincetown").replace("-71.06", "-70.19"))
        r = run_in(d, 2, [*args, "--resume", *OUT], fast)
        check(r.returncode != 0 and "out.nc.floe-ckpt" in r.stderr,
              f"{name}: a checkpoint of other points: exit {r.returncode}, {r.stderr.strip()!r}")
        check(not os.path.exists(os.path.join(d, "out.nc")), f"{name}: other points: output")
        with open(pts, "w") as f:
            f.write(text)
    r = run_in(d, np_resume, [*args, "--resume", *OUT], fast)
    check(r.returncode == 0, f"{name}: --resume at np {np_resume}: exit {r.returncode} "
          f"({r.stderr.strip()})")
    same(d, ref, f"{name}: resumed at np {np_resume} after SIGTERM")
    check_fetched(f"{name}: resumed at np {np_resume}", d, args, kept, ref_chunks,
                  np_resume == 2)
    check(not os.path.exists(store), f"{name}: the checkpoint is left after the resume")


def kill9_then_resume(work, tb, name, args, letter, slow, fast, ref, ref_chunks):
    d = inputs(os.path.join(work, f"{name}-kill"), tb)
    store = os.path.join(d, "out.nc.floe-ckpt")
    p = start_in(d, 2, [*args, "--checkpoint", *OUT], slow)
    # a unit of rank 1: steps from the middle of the selection on
    got = wait_for_units(p, store, letter, lambda u: any(n.split("-")[2] != "0" for n in u))
    check(p.poll() is None and got, f"{name}: no unit of rank 1 before the run ended")
    pids = rank_pids(d)
    check(1 in pids, f"{name}: rank processes {pids}")
    if 1 in pids:
        os.kill(pids[1], signal.SIGKILL)
    p.communicate(timeout=300)
    check(p.returncode != 0, f"{name}: kill -9 of rank 1: mpirun exit {p.returncode}")
    check(wait_ranks_gone(pids.values()), f"{name}: kill -9 of rank 1: ranks still running")
    check(not os.path.exists(os.path.join(d, "out.nc")), f"{name}: kill -9: an output")
    kept = units(store, letter)
    r = run_in(d, 2, [*args, "--resume", *OUT], fast)
    check(r.returncode == 0, f"{name}: --resume after kill -9: exit {r.returncode} "
          f"({r.stderr.strip()})")
    same(d, ref, f"{name}: resumed after kill -9 of rank 1")
    check_fetched(f"{name}: resumed after kill -9", d, args, kept, ref_chunks, True)
    check(leftovers(d) == ["out.json", "out.nc"], f"{name}: after the resume: {leftovers(d)}")


def main(tb):
    if not os.path.exists(os.environ.get("FLOE_FIXED_TIME", "")):
        print("skipped: FLOE_FIXED_TIME (the fixed-time shim, built by CMake) not given")
        return 77
    coll = os.path.join(tb, "collection.json")
    fast = os.environ["FLOE_S3_ENDPOINT"]
    work = tempfile.mkdtemp(prefix="floe-resume-steps-")
    state = os.path.join(work, "standin-slow")
    try:
        slow = step_runs.start_standin(tb, state, 30)
        for name, args, letter, np_resume in CASES:
            args = [coll if a == "COLL" else a for a in args]
            d = inputs(os.path.join(work, f"{name}-ref"), tb)
            r = run_in(d, 2, [*args, *OUT], fast)
            check(r.returncode == 0, f"{name}: uninterrupted run: exit {r.returncode} "
                  f"({r.stderr.strip()})")
            ref = digest(os.path.join(d, "out.nc"))
            sigterm_then_resume(work, tb, name, args, letter, np_resume, slow, fast, ref,
                                fetched(d))
            kill9_then_resume(work, tb, name, args, letter, slow, fast, ref, fetched(d))
    finally:
        step_runs.stop_standin(state)
        shutil.rmtree(work, ignore_errors=True)
    return summary()


if __name__ == "__main__":
    run(main, __doc__)
