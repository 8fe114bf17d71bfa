# SPDX-License-Identifier: Apache-2.0
"""testlib.py: what the test-bed checks of floe share: pass/fail counting,
running floe (alone or under mpirun) against the S3 stand-in, and reading
an output file's variables as stored."""

import os
import random
import re
import subprocess
import sys

import netCDF4
import numpy as np

import cf_output_rules
import reference

FLOE = os.environ.get("FLOE_BIN", os.path.join(reference.ROOT, "build", "floe"))
MPIRUN = os.environ.get("MPIEXEC", "mpirun")
_counts = {"passed": 0, "failed": 0}


def check(cond, what):
    """Count one check; print it when it fails."""
    if cond:
        _counts["passed"] += 1
    else:
        _counts["failed"] += 1
        print(f"FAIL: {what}")


def failures():
    """How many checks failed so far."""
    return _counts["failed"]


def summary():
    """Print "N passed, N failed"; the exit status: 1 on any failure, and 1
    when no check ran at all (a run that checked nothing proves nothing)."""
    print(f"{_counts['passed']} passed, {_counts['failed']} failed")
    if _counts["passed"] + _counts["failed"] == 0:
        print("FAIL: no check ran")
        return 1
    return 1 if _counts["failed"] else 0


def floe_cmd(np_, *args, endpoint=None, env=None):
    """(command, environment) of floe under mpirun -np np_, or alone (no MPI
    launcher) for np_ 0, reading through endpoint (default: FLOE_S3_ENDPOINT)."""
    e = dict(os.environ, AWS_ENDPOINT_URL=endpoint or os.environ["FLOE_S3_ENDPOINT"],
             OMPI_ALLOW_RUN_AS_ROOT="1", OMPI_ALLOW_RUN_AS_ROOT_CONFIRM="1",
             OMPI_MCA_rmaps_base_oversubscribe="1", **(env or {}))
    cmd = [MPIRUN, "-np", str(np_), FLOE, *args] if np_ else [FLOE, *args]
    return cmd, e


def output_of(args):
    """The -o/--output path among floe's arguments, or None."""
    for i, a in enumerate(args):
        if a in ("-o", "--output") and i + 1 < len(args):
            return args[i + 1]
        if a.startswith("--output="):
            return a[len("--output="):]
    return None


def check_cf_output(args, cwd=None):
    """The CF rules of cf_output_rules.py on the NetCDF file a successful
    run wrote (issue #12: every output the suite writes)."""
    out = output_of(list(args))
    if not out or not out.endswith((".nc", ".nc4")):
        return
    path = os.path.join(cwd, out) if cwd and not os.path.isabs(out) else out
    if not os.path.exists(path):
        return
    bad = cf_output_rules.problems(path)
    check(not bad, f"CF rules of {path}: {bad}")


def notes(stderr):
    """stderr's lines but the progress lines a log gets (issue #14: "floe
    extract: progress ..." every --progress-interval, "floe extract: done
    ..." at the end), which say nothing about the request."""
    return [ln for ln in stderr.splitlines()
            if ln.strip() and not re.match(r"floe \w+: (progress|done) ", ln)]


def floe_np(np_, *args, endpoint=None, env=None):
    """floe under mpirun -np np_, or alone (no MPI launcher) for np_ 0,
    reading through endpoint (default: FLOE_S3_ENDPOINT). A run that
    succeeds has its output checked against the CF rules (check_cf_output)."""
    cmd, e = floe_cmd(np_, *args, endpoint=endpoint, env=env)
    r = subprocess.run(cmd, capture_output=True, text=True, env=e, timeout=600)
    if r.returncode == 0:
        check_cf_output(args)
    return r


def load(path):
    """Every variable of a NetCDF file as stored (no masking or scaling)."""
    out = {}
    with netCDF4.Dataset(path) as ds:
        for k in ds.variables:
            v = ds[k]
            v.set_auto_maskandscale(False)
            out[k] = np.asarray(v[:])
    return out


def testbed_changes(tbdir):
    """The status-change time (ctime) of every file the test bed serves
    (TESTBED_DIR/s3): writing a file, or setting its mtime back after a
    change, moves it. Those files are shared: every test reads them, at the
    same time under ctest -j, so a test that changes one, however briefly,
    fails another's reads ("changed since the snapshot", HTTP 412)."""
    state = {}
    for d, _, files in os.walk(os.path.join(tbdir, "s3")):
        for f in files:
            p = os.path.join(d, f)
            try:
                state[p] = os.lstat(p).st_ctime_ns
            except FileNotFoundError:
                pass
    return state


def run(main, doc):
    """The checks' entry point: main(TESTBED_DIR) -> exit status; it fails
    when the test bed's files were changed while main ran (by this test, or
    by one running beside it): a test changes its own copy of what it needs."""
    if len(sys.argv) != 2:
        print(doc, file=sys.stderr)
        sys.exit(2)
    before = testbed_changes(sys.argv[1])
    status = main(sys.argv[1])
    after = testbed_changes(sys.argv[1])
    changed = sorted(os.path.relpath(p, sys.argv[1]) for p in before.keys() | after.keys()
                     if before.get(p) != after.get(p))
    if changed:
        print(f"FAIL: the test bed's files were changed while this test ran (by it, or by a "
              f"test running beside it; they are shared: change a copy): {changed[:3]}")
        status = status or 1
    sys.exit(status)


def fixed_time_shim():
    """The fixed-time LD_PRELOAD shim (FLOE_FIXED_TIME, built by CMake) that
    makes whole output files comparable byte for byte, or None (after
    saying "skipped: ..."): the caller then returns 77."""
    shim = os.environ.get("FLOE_FIXED_TIME")
    if not shim or not os.path.exists(shim):
        print("skipped: FLOE_FIXED_TIME (the fixed-time shim, built by CMake) not given")
        return None
    return shim


def points_csv(path, n, tb, seed):
    """n points inside the test bed's grid (tb: testbed.json), lon,lat,id,
    from a fixed seed."""
    lat, lon = tb["lat_values"], tb["lon_values"]
    rng = random.Random(seed)
    with open(path, "w") as f:
        f.write("lon,lat,id\n")
        for k in range(n):
            f.write(f"{rng.uniform(lon[0], lon[-1]):.4f},{rng.uniform(lat[0], lat[-1]):.4f},p{k}\n")
