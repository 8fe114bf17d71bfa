#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
"""check_disk_full.py TESTBED_DIR: floe writing to a full disk.

Every command that writes NetCDF (extract, series at points, in a box and
in a GeoJSON region, stats, climatology), alone and under mpirun -np 2,
writes its output into a small tmpfs where it does not fit. Sizes: one
page (the file's first metadata already fails), a few pages (the
definitions fit) and, for the gridded outputs, a few dozen pages (the
coordinates fit, the data or the close do not). Each run must
- exit non-zero, and not by a signal (the bug: HDF5 crashed with SIGSEGV
  at exit, closing a file whose failed close had freed it),
- say "no space left on device writing OUT" on exactly one line of
  stderr (alone: the only line; under mpirun: the only floe line),
- leave the folder empty (no OUT, no OUT.floe-tmp-*, no Item).

Then the data file fits (it goes to a roomy folder) but the Item, or the
--report, goes to a tmpfs already filled to the last page: the same line
naming the Item's or the report's path, no crash, nothing of floe's left
in the full folder, and no data file either (a run's outputs are
committed together or not at all).

Mounting needs root (CAP_SYS_ADMIN): without it the test prints
"skipped" and exits 77; it never passes without having run. Every mount is
unmounted however the test ends. Prints "N passed, N failed" last.
"""

import os
import shutil
import subprocess
import tempfile

import testlib
from testlib import check, run, summary

SKIP = 77
PAGE = 4096
NO_SPACE = "no space left on device"
# A run that is killed by a signal: subprocess gives -SIG alone, the shell's
# 128 + SIG through mpirun.
SIGNAL_STATUS = 128
# Sizes of the full disk, in pages: one page holds not even the file's first
# metadata; 4 pages hold the definitions of every output but no output (the
# smallest, series at points, takes 6); 48 pages hold the coordinates of the
# gridded outputs (extract, stats, climatology: 100 pages and more), so that
# their data or their close is what fails.
SIZES_PAGES = (1, 4)
GRID_SIZE_PAGES = 48


class NotPermitted(Exception):
    """Mounting is not allowed here (no root, no CAP_SYS_ADMIN)."""


def mount_tmpfs(path, pages):
    """A tmpfs of `pages` pages at path; NotPermitted without the right."""
    r = subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={pages * PAGE},mode=0755",
                        "tmpfs", path], capture_output=True, text=True, timeout=60)
    if r.returncode != 0:
        if os.geteuid() != 0 or "permission denied" in r.stderr.lower() or \
                "only root" in r.stderr.lower():
            raise NotPermitted(r.stderr.strip())
        raise RuntimeError(f"mount tmpfs on {path}: {r.stderr.strip()}")


def umount(path):
    subprocess.run(["umount", path], capture_output=True, timeout=60)


def fill(folder):
    """Fill the file system of folder to its last byte with one file."""
    path = os.path.join(folder, "filler")
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
    try:
        while os.write(fd, b"\0" * PAGE) > 0:
            pass
    except OSError:
        pass
    finally:
        os.close(fd)
    return path


def expect_no_space(r, path, np_, what):
    """r: floe's result; path: the file it could not write."""
    rc = r.returncode
    check(rc != 0, f"{what}: exit 0 on a full disk")
    check(0 <= rc < SIGNAL_STATUS, f"{what}: killed by a signal (status {rc}):\n{r.stderr[-2000:]}")
    lines = [l for l in r.stderr.splitlines() if l.strip()]
    said = [l for l in lines if NO_SPACE in l]
    check(len(said) == 1 and path in said[0],
          f"{what}: not one line '{NO_SPACE} writing {path}':\n{r.stderr[-2000:]}")
    if np_ == 0:
        check(len(lines) == 1, f"{what}: more than the one error line:\n{r.stderr[-2000:]}")
    else:
        floe_lines = [l for l in lines if "floe" in l and "error" in l]
        check(len(floe_lines) == 1, f"{what}: not one floe error line:\n{r.stderr[-2000:]}")


def commands(coll, tmp):
    """(name, floe arguments without -o) of every command that writes NetCDF."""
    pts = os.path.join(tmp, "points.csv")
    with open(pts, "w") as f:
        f.write("lon,lat,id\n-70.3,41.7,a\n-100.2,40.1,b\n-120.5,45.5,c\n")
    region = os.path.join(tmp, "region.geojson")
    with open(region, "w") as f:
        f.write('{"type": "Polygon", "coordinates": [[[-100, 30], [-90, 30], [-90, 40], '
                '[-100, 30]]]}\n')
    return [
        ("extract", ["extract", coll, "-v", "Tair,Rainf", "--bbox=-75,38,-68,44"]),
        ("series points", ["series", coll, "-v", "Tair", "--points", pts]),
        ("series box", ["series", coll, "-v", "Rainf", "--bbox=-100,30,-90,40",
                        "--stat", "mean,max,count"]),
        ("series region", ["series", coll, "-v", "Rainf", "--region", region]),
        ("stats", ["stats", coll, "-v", "Tair,Rainf", "--stat", "mean,min,max,sum,std,count"]),
        ("climatology", ["climatology", coll, "-v", "Tair", "--by", "month"]),
    ]


def data_file_cases(cmds, disk):
    """The output itself does not fit."""
    for pages in SIZES_PAGES + (GRID_SIZE_PAGES,):
        for np_ in (0, 2):
            for name, args in cmds:
                if pages == GRID_SIZE_PAGES and name.startswith("series"):
                    continue
                what = f"{name} np {np_} on {pages} page(s)"
                mount_tmpfs(disk, pages)
                try:
                    out = os.path.join(disk, "out.nc")
                    r = testlib.floe_np(np_, *args, "-o", out, "-q")
                    expect_no_space(r, out, np_, what)
                    left = sorted(os.listdir(disk))
                    check(left == [], f"{what}: left {left} behind")
                finally:
                    umount(disk)


def side_file_cases(cmds, disk, roomy):
    """The output fits, its Item (or report) does not."""
    for side in ("--item", "--report"):
        for np_ in (0, 2):
            for name, args in cmds[:2]:
                what = f"{name} np {np_} with {side} on a full disk"
                mount_tmpfs(disk, 1)
                try:
                    filler = fill(disk)
                    out = os.path.join(roomy, "out.nc")
                    side_path = os.path.join(disk, "side.json")
                    r = testlib.floe_np(np_, *args, "-o", out, side, side_path, "-q")
                    expect_no_space(r, side_path, np_, what)
                    left = sorted(os.listdir(disk))
                    check(left == [os.path.basename(filler)], f"{what}: left {left} behind")
                    check(os.listdir(roomy) == [], f"{what}: left {os.listdir(roomy)} beside "
                                                   "the data")
                finally:
                    umount(disk)
                    for f in os.listdir(roomy):
                        os.remove(os.path.join(roomy, f))


def main(tbdir):
    coll = os.path.join(tbdir, "collection.json")
    tmp = tempfile.mkdtemp(prefix="floe-disk-full-")
    disk = os.path.join(tmp, "full")
    roomy = os.path.join(tmp, "roomy")
    os.mkdir(disk)
    os.mkdir(roomy)
    try:
        cmds = commands(coll, tmp)
        try:
            data_file_cases(cmds, disk)
            side_file_cases(cmds, disk, roomy)
        except NotPermitted as e:
            print(f"skipped: cannot mount a tmpfs here ({e})")
            return SKIP
    finally:
        umount(disk)
        shutil.rmtree(tmp, ignore_errors=True)
    return summary()


if __name__ == "__main__":
    run(main, __doc__)
