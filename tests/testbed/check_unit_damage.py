#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
"""check_unit_damage.py TESTBED_DIR: a damaged unit in the checkpoint of
`floe extract` and `floe series` (engine/job/step_units.h) is treated as
stats treats one: as never saved.

- a --checkpoint run (np 2, against a slow stand-in of its own, 30 ms a
  request) stopped by SIGTERM once it saved two units; one unit's blob gets
  a byte flipped (corrupt), another loses its tail (torn); --resume writes
  the uninterrupted run's bytes (FLOE_FIXED_TIME), warns naming each damaged
  unit, and removes the checkpoint;
- pieces 1/2 and 2/2, a byte of a unit of piece 2 flipped: `floe merge`
  (which may fetch nothing) is refused with one line naming the unit and
  saying to rerun piece 2/2 with --resume, no output, the parts kept; after
  that rerun (which warns and computes the unit again) the merge writes the
  unsplit run's bytes; the same with pieces by variable (piece 2 holds the
  last variable; the line says --piece 2/2 --piece-by variable).
Prints "N passed, N failed" last.
"""

import os
import shutil
import signal
import tempfile

import step_runs
from step_runs import (VARS, BOX, digest, inputs, rank_pids, run_in, same, start_in, units,
                       wait_for_units)
from testlib import check, run, summary

CASES = [
    ("extract", ["extract", "COLL", "-v", VARS, BOX], "x"),
    ("series-points", ["series", "COLL", "-v", VARS, "--points", "points.csv"], "s"),
]
# no -q: the warnings are what is checked (-q is recorded in the output: every run
# here goes without it)
OUT = ["-o", "out.nc"]
BLOB_HEAD = 24  # "FLOECKP1", length, checksum (out/checkpoint_store.h)


def flip_byte(path):
    """Flip the last byte of the blob's payload."""
    with open(path, "r+b") as f:
        f.seek(-1, os.SEEK_END)
        b = f.read(1)
        f.seek(-1, os.SEEK_END)
        f.write(bytes([b[0] ^ 0x5A]))


def tear(path):
    """Cut the blob's tail off, as a write that never finished would."""
    size = os.path.getsize(path)
    os.truncate(path, BLOB_HEAD + (size - BLOB_HEAD) // 2)


def unit_name(blob):
    return blob[:-len(".blob")]


def damaged_resume(work, tb, name, args, letter, slow, fast, ref):
    d = inputs(os.path.join(work, f"{name}-resume"), tb)
    store = os.path.join(d, "out.nc.floe-ckpt")
    p = start_in(d, 2, [*args, "--checkpoint", *OUT], slow)
    got = wait_for_units(p, store, letter, lambda u: len(u) >= 2)
    check(p.poll() is None and len(got) >= 2,
          f"{name}: two units saved before the run ended ({p.poll()}, {got})")
    for pid in rank_pids(d).values():
        os.kill(pid, signal.SIGTERM)
    _, err = p.communicate(timeout=300)
    check(p.returncode == 3, f"{name}: SIGTERM: exit {p.returncode}, want 3 ({err.strip()!r})")
    kept = units(store, letter)
    if len(kept) < 2:
        check(False, f"{name}: the checkpoint holds {kept}, want two units")
        return
    flip_byte(os.path.join(store, kept[0]))
    tear(os.path.join(store, kept[-1]))
    r = run_in(d, 2, [*args, "--resume", *OUT], fast)
    check(r.returncode == 0, f"{name}: --resume with a corrupt and a torn unit: exit "
          f"{r.returncode} ({r.stderr.strip()})")
    same(d, ref, f"{name}: resumed with a corrupt and a torn unit")
    warnings = [ln for ln in r.stderr.splitlines() if "warning" in ln]
    for blob, how in ((kept[0], "corrupt"), (kept[-1], "torn")):
        check(any(unit_name(blob) in ln and how in ln for ln in warnings),
              f"{name}: a warning names the {how} unit {blob}: {warnings}")
    check(not os.path.exists(store), f"{name}: the checkpoint is left after the resume")


def damaged_merge(work, tb, name, args, letter, fast, ref, by="time"):
    d = inputs(os.path.join(work, f"{name}-merge-{by}"), tb)
    parts = os.path.join(d, "out.nc.floe-parts")
    split = ["--piece-by", by]
    for i in (1, 2):
        r = run_in(d, 1, [*args, "--piece", f"{i}/2", *split, *OUT], fast)
        check(r.returncode == 0, f"{name}: piece {i}/2 by {by}: exit {r.returncode} "
              f"({r.stderr.strip()})")
    # by time, piece 2 holds the later steps: the unit of the first variable
    # starting last; by variable, it holds the last variable
    saved = units(parts, letter)
    var = max(int(u.split("-")[1]) for u in saved) if saved and by == "variable" else 0
    of_var = [u for u in saved if int(u.split("-")[1]) == var]
    if not of_var:
        check(False, f"{name}: the pieces saved no unit: {os.listdir(d)}")
        return
    bad = max(of_var, key=lambda u: int(u.split("-")[2]))
    flip_byte(os.path.join(parts, bad))
    r = run_in(d, 0, ["merge", "out.nc"], fast)
    check(r.returncode != 0, f"{name}: merge with a corrupt unit: exit {r.returncode}")
    lines = [ln for ln in r.stderr.splitlines() if ln.strip()]
    rerun = "--piece 2/2" + (" --piece-by variable" if by == "variable" else "")
    check(len(lines) == 1 and unit_name(bad) in lines[0] and rerun in lines[0] and
          "--resume" in lines[0],
          f"{name}: merge with a corrupt unit (by {by}): one line naming {bad} and "
          f"{rerun} --resume: {lines}")
    check(not os.path.exists(os.path.join(d, "out.nc")), f"{name}: merge refused: an output")
    check(os.path.exists(os.path.join(parts, bad)), f"{name}: merge refused: parts not kept")
    r = run_in(d, 1, [*args, "--piece", "2/2", *split, "--resume", *OUT], fast)
    check(r.returncode == 0, f"{name}: piece 2/2 --resume: exit {r.returncode} "
          f"({r.stderr.strip()})")
    check(unit_name(bad) in r.stderr and "corrupt" in r.stderr,
          f"{name}: piece 2/2 --resume warns of {bad}: {r.stderr.strip()!r}")
    r = run_in(d, 0, ["merge", "out.nc"], fast)
    check(r.returncode == 0, f"{name}: merge after the rerun: exit {r.returncode} "
          f"({r.stderr.strip()})")
    same(d, ref, f"{name}: merged after piece 2 was rerun")
    check(not os.path.exists(parts), f"{name}: the parts are left after the merge")


def main(tb):
    if not os.path.exists(os.environ.get("FLOE_FIXED_TIME", "")):
        print("skipped: FLOE_FIXED_TIME (the fixed-time shim, built by CMake) not given")
        return 77
    coll = os.path.join(tb, "collection.json")
    fast = os.environ["FLOE_S3_ENDPOINT"]
    work = tempfile.mkdtemp(prefix="floe-unit-damage-")
    state = os.path.join(work, "standin-slow")
    try:
        slow = step_runs.start_standin(tb, state, 30)
        for name, args, letter in CASES:
            args = [coll if a == "COLL" else a for a in args]
            d = inputs(os.path.join(work, f"{name}-ref"), tb)
            r = run_in(d, 2, [*args, *OUT], fast)
            check(r.returncode == 0, f"{name}: uninterrupted run: exit {r.returncode} "
                  f"({r.stderr.strip()})")
            ref = digest(os.path.join(d, "out.nc"))
            damaged_resume(work, tb, name, args, letter, slow, fast, ref)
            damaged_merge(work, tb, name, args, letter, fast, ref)
            damaged_merge(work, tb, name, args, letter, fast, ref, "variable")
    finally:
        step_runs.stop_standin(state)
        shutil.rmtree(work, ignore_errors=True)
    return summary()


if __name__ == "__main__":
    run(main, __doc__)
