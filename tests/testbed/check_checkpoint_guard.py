#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
"""check_checkpoint_guard.py TESTBED_DIR: what a checkpoint or parts store
must guard against (engine/job/checkpoint.h), with floe extract:

- secrets: a source URL with user:PASS@ and a --collection href with a
  pre-signed query: no byte of any file in OUT.floe-ckpt/ or
  OUT.floe-parts/ holds them; --resume with a refreshed password and
  signature continues the checkpoint (the same bytes as the uninterrupted
  run); pieces with different signatures merge; `floe merge --source URL`
  takes the credentials again (a URL that is not the pieces' source is
  refused); a merge that fails without them says they were not recorded;
- --anomaly-from by its contents: pieces made with one climatology are not
  merged (nor resumed) once the file holds another;
- pieces made in sub/ with -o r.nc merge with `floe merge sub/r.nc` from
  the parent folder (the run goes where the pieces ran);
- two --resume runs of one request at once: the second is refused with one
  line naming the store and the holder, the first completes.
Prints "N passed, N failed" last.
"""

import os
import shutil
import signal
import tempfile

import step_runs
from step_runs import (BOX, VARS, digest, inputs, rank_pids, run_in, same, start_in,
                       wait_for_units)
from testlib import check, run, summary

CONTAINER = "s3://nasa-waterinsight/NLDAS3/forcing/daily/"
OUT = ["-o", "out.nc", "-q"]


def repo_url(endpoint, password):
    host = endpoint.split("://", 1)[1].rstrip("/")
    return f"http://user:{password}@{host}/nasa-waterinsight/virtual-zarr-store/NLDAS-3-icechunk/"


def collection_href(secret):
    return f"https://stac.example/c/collection.json?X-Amz-Signature={secret}&X-Amz-Credential={secret}"


def secret_args(endpoint, n):
    return ["extract", repo_url(endpoint, f"PASS{n}"), "--allow", CONTAINER, "-v", VARS, BOX,
            "--collection", collection_href(f"SECRET{n}")]


def secrets_in(store):
    """The files of store holding a secret."""
    found = []
    for root, _, names in os.walk(store):
        for n in names:
            with open(os.path.join(root, n), "rb") as f:
                data = f.read()
            if b"PASS" in data or b"SECRET" in data:
                found.append(n)
    return found


def check_secrets(work, tb, slow, fast):
    ref_dir = inputs(os.path.join(work, "secrets-ref"), tb)
    r = run_in(ref_dir, 2, [*secret_args(slow, 0), *OUT], slow)
    check(r.returncode == 0, f"secrets: uninterrupted run: exit {r.returncode} ({r.stderr.strip()})")
    ref = digest(os.path.join(ref_dir, "out.nc"))
    # --checkpoint, SIGTERM, --resume with a refreshed password and signature
    d = inputs(os.path.join(work, "secrets-term"), tb)
    store = os.path.join(d, "out.nc.floe-ckpt")
    p = start_in(d, 2, [*secret_args(slow, 1), "--checkpoint", *OUT], slow)
    got = wait_for_units(p, store, "x", lambda u: len(u) >= 1)
    check(p.poll() is None and got, f"secrets: no unit saved before the run ended ({p.poll()})")
    for pid in rank_pids(d).values():
        os.kill(pid, signal.SIGTERM)
    _, err = p.communicate(timeout=300)
    check(p.returncode == 3, f"secrets: SIGTERM: exit {p.returncode} ({err.strip()!r})")
    check(os.path.isdir(store) and secrets_in(store) == [],
          f"secrets: the checkpoint's files holding a secret: {secrets_in(store)}")
    r = run_in(d, 2, [*secret_args(slow, 2), "--resume", *OUT], slow)
    check(r.returncode == 0,
          f"secrets: --resume with a refreshed URL: exit {r.returncode} ({r.stderr.strip()})")
    same(d, ref, "secrets: resumed with a refreshed password and signature")
    # pieces with different signatures; merge --source
    d = inputs(os.path.join(work, "secrets-pieces"), tb)
    parts = os.path.join(d, "out.nc.floe-parts")
    for i in (1, 2):
        r = run_in(d, 0, [*secret_args(slow, i), "--piece", f"{i}/2", *OUT], slow)
        check(r.returncode == 0, f"secrets: piece {i}/2: exit {r.returncode} ({r.stderr.strip()})")
    check(secrets_in(parts) == [], f"secrets: the parts' files holding a secret: "
          f"{secrets_in(parts)}")
    other = repo_url(slow, "PASS3").replace("NLDAS-3-icechunk", "elsewhere")
    r = run_in(d, 0, ["merge", "out.nc", "--source", other], slow)
    check(r.returncode != 0 and "--source" in r.stderr and "PASS" not in r.stderr,
          f"secrets: merge --source of another source: refused, no secret printed: "
          f"{r.stderr.strip()!r}")
    r = run_in(d, 0, ["merge", "out.nc", "--source", repo_url(slow, "PASS3")], slow)
    check(r.returncode == 0 and "PASS" not in r.stderr,
          f"secrets: merge --source: exit {r.returncode} ({r.stderr.strip()!r})")
    same(d, ref, "secrets: pieces with different signatures merged")


def check_merge_without_credentials(work, tb):
    """Pieces read through a stand-in that is gone when they merge: the
    merge fails, and its line says the credentials were not recorded."""
    d = inputs(os.path.join(work, "nocred"), tb)
    state = os.path.join(work, "standin-gone")
    gone = step_runs.start_standin(tb, state, 0)
    try:
        for i in (1, 2):
            r = run_in(d, 0, [*secret_args(gone, i), "--piece", f"{i}/2", *OUT], gone)
            check(r.returncode == 0, f"no credentials: piece {i}/2: exit {r.returncode} "
                  f"({r.stderr.strip()})")
    finally:
        step_runs.stop_standin(state)
    r = run_in(d, 0, ["merge", "out.nc"], gone)
    check(r.returncode != 0 and "credentials" in r.stderr and "--source" in r.stderr
          and "PASS" not in r.stderr,
          f"no credentials: merge says they were not recorded: {r.stderr.strip()!r}")


def check_anomaly_contents(work, tb, coll, fast):
    d = inputs(os.path.join(work, "anomaly"), tb)
    clim = ["climatology", coll, "-v", "Tair", BOX, "--by", "month", "--stat", "mean", "-q"]
    r = run_in(d, 0, [*clim, "-o", "clim.nc"], fast)
    check(r.returncode == 0, f"anomaly: climatology: exit {r.returncode} ({r.stderr.strip()})")
    r = run_in(d, 0, [*clim, "--time", "2001-01-10/2001-03-04", "-o", "other.nc"], fast)
    check(r.returncode == 0, f"anomaly: other climatology: exit {r.returncode} "
          f"({r.stderr.strip()})")
    args = ["extract", coll, "-v", "Tair", BOX, "--anomaly-from", "clim.nc"]
    for i in (1, 2):
        r = run_in(d, 0, [*args, "--piece", f"{i}/2", *OUT], fast)
        check(r.returncode == 0, f"anomaly: piece {i}/2: exit {r.returncode} ({r.stderr.strip()})")
    os.replace(os.path.join(d, "other.nc"), os.path.join(d, "clim.nc"))
    r = run_in(d, 0, ["merge", "out.nc"], fast)
    check(r.returncode != 0 and "anomaly-from" in r.stderr
          and not os.path.exists(os.path.join(d, "out.nc")),
          f"anomaly: merge with another climatology refused: {r.stderr.strip()!r}")
    r = run_in(d, 0, [*args, "--piece", "1/2", "--resume", *OUT], fast)
    check(r.returncode != 0 and "anomaly-from" in r.stderr,
          f"anomaly: --resume of a piece with another climatology refused: "
          f"{r.stderr.strip()!r}")


def check_merge_elsewhere(work, tb, coll, fast):
    args = ["series", coll, "-v", "Tair", "--points", "points.csv", "-o", "r.nc", "-q"]
    ref_dir = inputs(os.path.join(work, "elsewhere-ref"), tb)
    r = run_in(ref_dir, 0, args, fast)
    check(r.returncode == 0, f"elsewhere: unsplit run: exit {r.returncode} ({r.stderr.strip()})")
    top = os.path.join(work, "elsewhere")
    sub = inputs(os.path.join(top, "sub"), tb)
    for i in (1, 2):
        r = run_in(sub, 0, [*args, "--piece", f"{i}/2"], fast)
        check(r.returncode == 0, f"elsewhere: piece {i}/2: exit {r.returncode} "
              f"({r.stderr.strip()})")
    r = run_in(top, 0, ["merge", "sub/r.nc"], fast)
    check(r.returncode == 0, f"elsewhere: merge sub/r.nc from the parent: exit {r.returncode} "
          f"({r.stderr.strip()})")
    check(digest(os.path.join(sub, "r.nc")) == digest(os.path.join(ref_dir, "r.nc")),
          "elsewhere: merged from the parent: the unsplit run's bytes")
    check(not os.path.exists(os.path.join(sub, "r.nc.floe-parts")),
          "elsewhere: the parts are removed")


def check_two_runs(work, tb, coll, slow, fast):
    args = ["extract", coll, "-v", VARS, BOX]
    ref_dir = inputs(os.path.join(work, "two-ref"), tb)
    r = run_in(ref_dir, 2, [*args, *OUT], fast)
    check(r.returncode == 0, f"two runs: reference: exit {r.returncode} ({r.stderr.strip()})")
    ref = digest(os.path.join(ref_dir, "out.nc"))
    d = inputs(os.path.join(work, "two"), tb)
    store = os.path.join(d, "out.nc.floe-ckpt")
    p = start_in(d, 2, [*args, "--resume", *OUT], slow)
    got = wait_for_units(p, store, "x", lambda u: len(u) >= 1)
    check(p.poll() is None and got, "two runs: the first saved no unit before it ended")
    r = run_in(d, 0, [*args, "--resume", *OUT], fast)
    lines = [ln for ln in r.stderr.splitlines() if ln.strip()]
    check(r.returncode != 0 and len(lines) == 1 and "out.nc.floe-ckpt" in r.stderr
          and "pid" in r.stderr,
          f"two runs: the second is refused naming the store and its holder: exit "
          f"{r.returncode} ({r.stderr.strip()!r})")
    _, err = p.communicate(timeout=300)
    check(p.returncode == 0, f"two runs: the first completes: exit {p.returncode} "
          f"({err.strip()!r})")
    same(d, ref, "two runs: the first one's output")
    check(not os.path.exists(store), "two runs: the checkpoint goes with the commit")


def main(tb):
    if not os.path.exists(os.environ.get("FLOE_FIXED_TIME", "")):
        print("skipped: FLOE_FIXED_TIME (the fixed-time shim, built by CMake) not given")
        return 77
    coll = os.path.join(tb, "collection.json")
    fast = os.environ["FLOE_S3_ENDPOINT"]
    work = tempfile.mkdtemp(prefix="floe-ckpt-guard-")
    state = os.path.join(work, "standin-slow")
    try:
        slow = step_runs.start_standin(tb, state, 30)
        check_secrets(work, tb, slow, fast)
        check_merge_without_credentials(work, tb)
        check_anomaly_contents(work, tb, coll, fast)
        check_merge_elsewhere(work, tb, coll, fast)
        check_two_runs(work, tb, coll, slow, fast)
    finally:
        step_runs.stop_standin(state)
        shutil.rmtree(work, ignore_errors=True)
    return summary()


if __name__ == "__main__":
    run(main, __doc__)
