# SPDX-License-Identifier: Apache-2.0
"""step_runs.py: what the checkpoint and piece checks of extract and series
(check_resume_steps.py, check_merge_steps.py) share: a slow stand-in of
their own, runs with a fixed time of day (FLOE_FIXED_TIME, so whole files
compare byte for byte: see check_same_bytes.py), each in its own folder
with the same relative paths, so that every run records the same command."""

import hashlib
import os
import shutil
import subprocess
import time

import reference
from testlib import FLOE, check, check_cf_output, floe_cmd

STANDIN = os.path.join(reference.ROOT, "scripts", "s3-standin")
# a box of 2 x 2 chunks of the mini test bed (100 x 180 cells)
BOX = "--bbox=-105.95,32.05,-88.05,41.95"
# six variables: six batches (units) a rank, one after the other
VARS = "Tair,Tair_min,Tair_max,Qair,PSurf,LWdown"
# points in different tiles of the mini test bed
POINTS = ("lon,lat,id\n-71.06,42.36,boston\n-87.63,41.88,chicago\n-104.99,39.74,denver\n"
          "-122.33,47.61,seattle\n-90.07,29.95,new-orleans\n-100.5,35.2,amarillo\n")


def start_standin(tb, state, latency_ms):
    """A stand-in of the test bed's S3 with latency_ms a request: its endpoint."""
    r = subprocess.run([STANDIN, "start", os.path.join(tb, "s3"), "--port", "0", "--state",
                        state, "--latency-ms", str(latency_ms)], capture_output=True, text=True,
                       timeout=60)
    if r.returncode != 0:
        raise RuntimeError(f"s3-standin: {r.stderr.strip()}")
    with open(os.path.join(state, "endpoint")) as f:
        return f.read().strip()


def stop_standin(state):
    subprocess.run([STANDIN, "stop", "--state", state], capture_output=True, timeout=60)


def inputs(folder, tb):
    """The folder, with points.csv and basin.geojson in it."""
    os.makedirs(folder, exist_ok=True)
    with open(os.path.join(folder, "points.csv"), "w") as f:
        f.write(POINTS)
    shutil.copy(os.path.join(tb, "basin.geojson"), os.path.join(folder, "basin.geojson"))
    return folder


def command(np_, args, endpoint):
    """(command, environment): floe (under mpirun for np_ > 0) with the
    fixed-time shim."""
    cmd, env = floe_cmd(np_, *args, endpoint=endpoint)
    at = cmd.index(FLOE)
    cmd[at:at] = ["env", f"LD_PRELOAD={os.environ['FLOE_FIXED_TIME']}",
                  "ASAN_OPTIONS=" + ":".join(filter(None, [os.environ.get("ASAN_OPTIONS"),
                                                           "verify_asan_link_order=0"]))]
    return cmd, env


def run_in(folder, np_, args, endpoint):
    """Run to the end in folder: the CompletedProcess."""
    cmd, env = command(np_, args, endpoint)
    r = subprocess.run(cmd, capture_output=True, text=True, env=env, cwd=folder, timeout=600)
    if r.returncode == 0:
        check_cf_output(args, cwd=folder)
    return r


def start_in(folder, np_, args, endpoint):
    """Start in folder: the Popen."""
    cmd, env = command(np_, args, endpoint)
    return subprocess.Popen(cmd, env=env, cwd=folder, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)


def digest(path):
    """sha256 and size of a whole file, or None."""
    if not os.path.exists(path):
        return None
    with open(path, "rb") as f:
        data = f.read()
    return hashlib.sha256(data).hexdigest(), len(data)


def units(store, letter):
    """The unit blobs in a checkpoint store (engine/job/step_units.h)."""
    if not os.path.isdir(store):
        return []
    return sorted(n for n in os.listdir(store) if n.startswith(letter + "-") and
                  n.endswith(".blob"))


def same(folder, ref_digest, what):
    got = digest(os.path.join(folder, "out.nc"))
    check(got is not None and got == ref_digest,
          f"{what}: out.nc {got} == the uninterrupted run's {ref_digest}")


def rank_pids(folder):
    """{rank: pid} of the floe processes running in folder."""
    pids = {}
    for pid in os.listdir("/proc"):
        if not pid.isdigit():
            continue
        try:
            if os.readlink(f"/proc/{pid}/cwd") != folder:
                continue
            with open(f"/proc/{pid}/cmdline", "rb") as f:
                argv = f.read().split(b"\0")
            with open(f"/proc/{pid}/environ", "rb") as f:
                env = dict(e.split(b"=", 1) for e in f.read().split(b"\0") if b"=" in e)
        except OSError:
            continue
        if argv and os.path.basename(argv[0]) == b"floe" and b"OMPI_COMM_WORLD_RANK" in env:
            pids[int(env[b"OMPI_COMM_WORLD_RANK"])] = int(pid)
    return pids


def wait_for_units(p, store, letter, want):
    """Wait until want(units) holds or p ended: the units then."""
    deadline = time.time() + 300
    while time.time() < deadline and p.poll() is None:
        got = units(store, letter)
        if want(got):
            return got
        time.sleep(0.02)
    return units(store, letter)


def wait_ranks_gone(pids):
    """Wait (up to 60 s) until the processes pids are gone, zombies too
    (mpirun may end before the ranks it killed are reaped, and a temporary
    of a process still there is not a dead run's). Whether they are."""
    deadline = time.time() + 60
    while any(os.path.exists(f"/proc/{p}") for p in pids) and time.time() < deadline:
        time.sleep(0.05)
    return not any(os.path.exists(f"/proc/{p}") for p in pids)
