#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
"""check_placed_output.py TESTBED_DIR: stats and climatology write their
output without the rank-0 funnel, and the file is the same.

By default, under mpirun, each rank writes its own compressed output
chunks into the file rank 0 lays out (engine/job/stats_place.h);
--gather-output sends them all to rank 0, as before. For stats (two
variables, mean, max, count) and a monthly climatology, at 2 and 4 ranks,
both ways, with the same command line in two folders and the same time of
day (FLOE_FIXED_TIME, for the "history" attribute):
- both runs succeed and the whole .nc files are equal, byte for byte;
- --report's per-rank bytes_received: gathered, rank 0 receives much of
  the output (at least a quarter of the file's bytes); placed, at most a
  tenth of what it received gathered, and at 4 ranks at most a quarter of
  the output's bytes (the issue's target; it receives only sizes);
- every rank's bytes_sent, bytes_received and comm_wait_seconds are there.
The climatology again with every rank but 0 seeing a private tmpfs in
place of the run's folder (its own mount namespace: as nodes with local
disks): the probe must find that out, the chunks are gathered and the file
is the gathered one.
Then a failure: the climatology at 2 and 4 ranks into a small tmpfs where
the coordinates fit and the data do not (mounting needs root: else that
part is skipped and says so): non-zero exit, not by a signal, one floe
error line "no space left on device writing OUT", nothing left in the
folder (no output, no temporary, no probe file).
Prints "N passed, N failed" last.
"""

import hashlib
import json
import os
import shutil
import subprocess
import tempfile

from testlib import FLOE, check, fixed_time_shim, floe_cmd, run, summary

RANKS = (2, 4)
PAGE = 4096
# The climatology's file is about 4.5 MB: 256 pages (1 MiB) hold its
# coordinates and definitions, not its data.
SMALL_DISK_PAGES = 256
NO_SPACE = "no space left on device"
SIGNAL_STATUS = 128


# Each rank but 0 in a mount namespace of its own with a private tmpfs
# over the run's folder (then entered again, so its relative paths resolve
# there): the ranks do not share the output's file system, as on nodes with
# local disks.
PRIVATE_FOLDER = ["unshare", "-m", "sh", "-c",
                  'if [ "$OMPI_COMM_WORLD_RANK" != 0 ]; then '
                  'mount -t tmpfs -o size=16m tmpfs "$PWD" && cd "$PWD" || exit 9; fi; '
                  'exec "$@"', "sh"]
# The same, but the ranks other than 0 see the very folder, read-only (a
# read-only bind mount over it): they can read rank 0's probe but not write
# their chunks, so the probe must say no (it once only read the nonce back,
# and such a run failed where gathering works).
READ_ONLY_FOLDER = ["unshare", "-m", "sh", "-c",
                    'if [ "$OMPI_COMM_WORLD_RANK" != 0 ]; then '
                    'mount --bind "$PWD" "$PWD" && mount -o remount,bind,ro "$PWD" '
                    '&& cd "$PWD" || exit 9; fi; '
                    'exec "$@"', "sh"]


def run_floe(args, folder, np_, shim, extra=(), wrap=()):
    """floe ARGS -o out.nc --report report.json in folder at np_ ranks, the
    time fixed (wrap: a command each rank runs floe through): (result,
    sha256 of out.nc, its size, the report)."""
    os.makedirs(folder, exist_ok=True)
    cmd, env = floe_cmd(np_, *args, "-o", "out.nc", "--report", "report.json", "-q", *extra)
    at = cmd.index(FLOE)
    cmd[at:at] = [*wrap, "env", f"LD_PRELOAD={shim}",
                  "ASAN_OPTIONS=" + ":".join(filter(None, [os.environ.get("ASAN_OPTIONS"),
                                                           "verify_asan_link_order=0"]))]
    r = subprocess.run(cmd, capture_output=True, text=True, env=env, cwd=folder, timeout=600)
    out = os.path.join(folder, "out.nc")
    if r.returncode != 0 or not os.path.exists(out):
        return r, None, 0, None
    with open(out, "rb") as f:
        data = f.read()
    with open(os.path.join(folder, "report.json")) as f:
        report = json.load(f)
    digest = hashlib.sha256(data).hexdigest()
    # the Item records the file as committed: its checksum is read after
    # every rank placed its chunks (it once hashed the placeholders)
    with open(os.path.join(folder, "out.json")) as f:
        item = json.load(f)
    sums = [a.get("file:checksum") for a in item.get("assets", {}).values()
            if a.get("file:checksum")]
    check(sums == ["1220" + digest],
          f"{folder}: the Item's file:checksum {sums} is the file's sha2-256 {digest}")
    return r, digest, len(data), report


def rank_field(report, rank, name):
    for p in report["per_rank"]:
        if p["rank"] == rank:
            return p.get(name)
    return None


def same_file_less_funnel(name, args, np_, tmp, shim):
    got = {}
    for mode, extra in (("placed", ()), ("gathered", ("--gather-output",))):
        r, digest, size, report = run_floe(args, os.path.join(tmp, f"{name}-np{np_}-{mode}"),
                                           np_, shim, extra)
        check(r.returncode == 0 and digest is not None,
              f"{name} np {np_} {mode}: exit {r.returncode}: {r.stderr.strip()[-2000:]}")
        got[mode] = (digest, size, report)
    if got["placed"][0] is None or got["gathered"][0] is None:
        return None
    check(got["placed"][0] == got["gathered"][0],
          f"{name} np {np_}: placed file {got['placed'][:2]} == gathered {got['gathered'][:2]}")
    size = got["gathered"][1]
    for mode in got:
        report = got[mode][2]
        for r in range(np_):
            for field in ("bytes_sent", "bytes_received", "comm_wait_seconds"):
                v = rank_field(report, r, field)
                check(isinstance(v, (int, float)) and v >= 0,
                      f"{name} np {np_} {mode}: rank {r} reports {field} ({v})")
    placed = rank_field(got["placed"][2], 0, "bytes_received") or 0
    gathered = rank_field(got["gathered"][2], 0, "bytes_received") or 0
    print(f"{name} np {np_}: file {size} bytes; rank 0 received {placed} bytes placed, "
          f"{gathered} gathered")
    check(gathered >= size / 4,
          f"{name} np {np_}: gathered, rank 0 received {gathered} bytes of a {size}-byte file")
    check(placed <= gathered / 10,
          f"{name} np {np_}: placed, rank 0 received {placed} bytes, gathered {gathered}")
    if np_ == 4:
        check(placed <= size / 4,
              f"{name} np 4: placed, rank 0 received {placed} bytes, over a quarter of {size}")
    return got["gathered"][0]


def unshared_folder(name, args, np_, tmp, shim, gathered, wrap=PRIVATE_FOLDER, how="unshared"):
    """The ranks but 0 see another folder (or the same one read-only): the
    probe says so, the chunks are gathered, and the file is the gathered
    one (placed, the others would write into a file of their own, or fail
    to open it)."""
    r, digest, size, report = run_floe(args, os.path.join(tmp, f"{name}-np{np_}-{how}"), np_,
                                       shim, wrap=wrap)
    if r.returncode == 9 or "unshare" in r.stderr and "Operation not permitted" in r.stderr:
        return "cannot make a private mount namespace: " + r.stderr.strip()[-300:]
    check(r.returncode == 0 and digest == gathered,
          f"{name} np {np_} {how} folder: exit {r.returncode}, file {digest} == gathered "
          f"{gathered}: {r.stderr.strip()[-2000:]}")
    received = rank_field(report, 0, "bytes_received") if report else 0
    check(received is not None and received >= size / 4,
          f"{name} np {np_} {how} folder: rank 0 received {received} bytes of {size}: "
          "not gathered")
    return None


def mount_tmpfs(path, pages):
    r = subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={pages * PAGE},mode=0755",
                        "tmpfs", path], capture_output=True, text=True, timeout=60)
    return r.returncode == 0, r.stderr.strip()


def full_disk(args, np_, disk):
    """The run into a disk too small for its data: one line, nothing left."""
    what = f"climatology np {np_} on {SMALL_DISK_PAGES} pages"
    out = os.path.join(disk, "out.nc")
    cmd, env = floe_cmd(np_, *args, "-o", out, "-q")
    r = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=600)
    check(r.returncode != 0, f"{what}: exit 0")
    check(0 <= r.returncode < SIGNAL_STATUS,
          f"{what}: killed by a signal (status {r.returncode}):\n{r.stderr[-2000:]}")
    lines = [l for l in r.stderr.splitlines() if l.strip()]
    said = [l for l in lines if NO_SPACE in l]
    check(len(said) == 1 and out in said[0],
          f"{what}: not one line '{NO_SPACE} writing {out}':\n{r.stderr[-2000:]}")
    floe_lines = [l for l in lines if "floe" in l and "error" in l]
    check(len(floe_lines) == 1, f"{what}: not one floe error line:\n{r.stderr[-2000:]}")
    left = os.listdir(disk)
    check(not left, f"{what}: left {left}")


def main(tbdir):
    shim = fixed_time_shim()
    if not shim:
        return 77
    with open(os.path.join(tbdir, "testbed.json")) as f:
        tb = json.load(f)
    names = [v["name"] for v in tb["variables"]]
    coll = os.path.join(tbdir, "collection.json")
    jobs = {
        "stats": ["stats", coll, "-v", ",".join(names[:2]), "--stat", "mean,max,count"],
        "climatology": ["climatology", coll, "-v", names[0], "--by", "month"],
    }
    tmp = tempfile.mkdtemp(prefix="floe-placed-")
    disk = os.path.join(tmp, "small")
    os.mkdir(disk)
    skipped = None
    try:
        for name, args in jobs.items():
            for np_ in RANKS:
                gathered = same_file_less_funnel(name, args, np_, tmp, shim)
                if name == "climatology" and gathered and not skipped:
                    skipped = unshared_folder(name, args, np_, tmp, shim, gathered)
                if name == "climatology" and gathered and not skipped:
                    skipped = unshared_folder(name, args, np_, tmp, shim, gathered,
                                              READ_ONLY_FOLDER, "read-only")
        for np_ in RANKS if not skipped else ():
            ok, why = mount_tmpfs(disk, SMALL_DISK_PAGES)
            if not ok:
                skipped = why
                break
            try:
                full_disk(jobs["climatology"], np_, disk)
            finally:
                subprocess.run(["umount", disk], capture_output=True, timeout=60)
    finally:
        subprocess.run(["umount", disk], capture_output=True, timeout=60)
        shutil.rmtree(tmp, ignore_errors=True)
    if skipped:
        print(f"skipped part: the unshared-folder and full-disk runs (no mounts: {skipped})")
    return summary()


if __name__ == "__main__":
    run(main, __doc__)
