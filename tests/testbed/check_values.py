#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
"""check_values.py TESTBED_DIR: values the real Icechunk library reads through
the virtual references equal direct netCDF reads of the source files.

For both spec versions, through the loopback S3 stand-in: several variables,
days and boxes (the seed's Cape Cod query, boxes across chunk edges and
across monthly commits, one cell over all days, a whole day of the domain,
the last edge chunk), compared bit for bit with netCDF4-python reading the
daily files. Also: the tag sees only the first month, and a source file
changed after the snapshot makes the read fail instead of returning data.
Prints "N passed, N failed" last.
"""

import json
import os
import tempfile

import numpy as np

import reference
from archive import Archive, same_bits
from standin import own_standin, private_root
from testlib import check, run, summary


def main(tbdir):
    with open(os.path.join(tbdir, "testbed.json")) as f:
        tb = json.load(f)
    arc = Archive(tbdir, tb)
    ntime, ny, nx = len(tb["files"]), tb["ny"], tb["nx"]
    _, cy, cx = tb["chunks"]
    names = [v["name"] for v in tb["variables"]]
    lat = np.array(tb["lat_values"], dtype=np.float32).astype(np.float64)
    lon = np.array(tb["lon_values"], dtype=np.float32).astype(np.float64)

    def pick(*want):
        return next((n for n in want if n in names), names[0])

    # Boxes by index (half-open), chosen from the chunk grid so they cross
    # chunk edges, commit boundaries and the domain's last edge chunk.
    first_month_len = sum(1 for f in tb["files"] if f["month"] == tb["files"][0]["month"])
    cases = [
        (pick("Tair"), (first_month_len - 3, min(first_month_len + 3, ntime)),
         (cy - 10, min(2 * cy + 10, ny)), (cx - 5, min(2 * cx + 5, nx))),
        (pick("PSurf", "Tair"), (0, ntime), (ny // 2 + 3, ny // 2 + 4), (nx // 2 + 7, nx // 2 + 8)),
        (pick("Qair", "Rainf"), (ntime // 2, ntime // 2 + 1), (0, ny), (0, nx)),
        (pick("Wind_N", "Rainf"), (ntime - 1, ntime), (ny - cy, ny), (nx - cx, nx)),
        (pick("SWdown", "Tair"), (1, 3), (0, 1), (0, nx)),
    ]

    for spec in (2, 1):
        # 1. The seed notebook's query: Rainf over Cape Cod on 2001-01-16.
        if "Rainf" in names and tb["files"][0]["date"] <= "2001-01-15" <= tb["files"][-1]["date"]:
            W, S, E, N = -70.84, 41.48, -69.77, 42.10
            s, got = reference.read(spec, "--var", "Rainf", "--bbox", f"{W},{S},{E},{N}",
                                    "--time", "2001-01-16/2001-01-16")
            # Independently: cells whose centres lie in the box; the one time
            # stamp on that day (file A20010115 ends at 2001-01-16T00).
            rows = np.nonzero((lat >= S) & (lat <= N))[0]
            cols = np.nonzero((lon >= W) & (lon <= E))[0]
            t = next(k for k, f in enumerate(tb["files"]) if f["date"] == "2001-01-15")
            check(s["index"] == {"time": [t, t + 1], "lat": [int(rows[0]), int(rows[-1]) + 1],
                                 "lon": [int(cols[0]), int(cols[-1]) + 1]},
                  f"spec {spec} Cape Cod: selection {s['index']}")
            want = arc.read("Rainf", t, t + 1, rows[0], rows[-1] + 1, cols[0], cols[-1] + 1)
            check(same_bits(got, want), f"spec {spec} Cape Cod Rainf: values equal netCDF")
            check((want != -9999).all(), "Cape Cod is land in the test bed")

        # 2. Boxes by index.
        for var, (t0, t1), (i0, i1), (j0, j1) in cases:
            s, got = reference.read(spec, "--var", var, "--time-index", f"{t0}:{t1}",
                                    "--lat-index", f"{i0}:{i1}", "--lon-index", f"{j0}:{j1}")
            want = arc.read(var, t0, t1, i0, i1, j0, j1)
            check(same_bits(got, want),
                  f"spec {spec} {var}[{t0}:{t1},{i0}:{i1},{j0}:{j1}]: values equal netCDF")

        # 3. The tag pins the first month: its last day reads, the next does not.
        with open(os.path.join(tbdir, f"repo-v{spec}.json")) as f:
            tag = json.load(f)["tag"]["name"]
        var = names[0]
        s, got = reference.read(spec, "--tag", tag, "--var", var,
                                "--time-index", f"{first_month_len - 1}:{first_month_len}",
                                "--lat-index", "0:5", "--lon-index", "0:5")
        check(same_bits(got, arc.read(var, first_month_len - 1, first_month_len, 0, 5, 0, 5)),
              f"spec {spec}: at tag {tag}, the month's last day reads")
        try:
            reference.read(spec, "--tag", tag, "--var", var,
                           "--time-index", f"{first_month_len}:{first_month_len + 1}")
            check(False, f"spec {spec}: at tag {tag}, day {first_month_len} must not exist")
        except reference.ReaderError:
            check(True, "")

    # 4. A source file modified after the snapshot: the library refuses it
    # (last-modified checksum), then reads again once the mtime is restored.
    # A copy of the file, served by a stand-in of this test's own: other
    # tests read the test bed's files at the same time.
    t = ntime - 1
    with tempfile.TemporaryDirectory(prefix="floe-values-") as tmp:
        root = os.path.join(tmp, "root")
        path, = private_root(tbdir, root, [os.path.relpath(arc.path(t), os.path.join(tbdir, "s3"))])
        st = os.stat(path)
        with own_standin(tbdir, os.path.join(tmp, "standin"), root=root) as endpoint:
            os.utime(path, (st.st_atime, st.st_mtime + 86400))
            try:
                reference.read(2, "--var", names[0], "--time-index", f"{t}:{t + 1}",
                               "--lat-index", "0:1", "--lon-index", "0:1", endpoint=endpoint)
                check(False, "a changed source file must make the read fail")
            except reference.ReaderError as e:
                check("checksum" in str(e).lower() or "modified" in str(e).lower()
                      or "virtual" in str(e).lower(), f"changed file error: {e}")
            os.utime(path, (st.st_atime, st.st_mtime))
            s, got = reference.read(2, "--var", names[0], "--time-index", f"{t}:{t + 1}",
                                    "--lat-index", "0:1", "--lon-index", "0:1", endpoint=endpoint)
    check(same_bits(got, arc.read(names[0], t, t + 1, 0, 1, 0, 1)), "restored file reads again")

    return summary()


if __name__ == "__main__":
    run(main, __doc__)
