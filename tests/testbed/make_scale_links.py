#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
"""make_scale_links.py: spread a few real daily files over a real-length
time axis by hard links (the scale test beds, scripts/testbed build nldas-*).

Usage: make_scale_links.py TESTBED_DIR DAYS NAME

TESTBED_DIR holds what floe-testbed-gen wrote: k real full-grid files (days
0..k-1) and testbed.json with every chunk's byte range. For every day t of
DAYS, the file of day t (its real NLDAS-3 name, in its YYYYMM folder) becomes
a hard link to real file t mod k: the same inode, so the same bytes and the
same mtime, and a virtual ref into day t's file with real file (t mod k)'s
chunk ranges and last-modified time holds and decodes.

testbed.json is rewritten: "real_files" keeps the generator's k entries
(with their "chunks"); "files" lists all DAYS days, in order, with key, date,
month, time_value (hours since 2001-01-01, the end of the day as the
generator stamps it), mtime, size and "real" (the index into real_files), but
no "chunks" (8399 x 1690 ranges would be hundreds of MB); "scale" is NAME.
make_stac.py and the tests read it as they read the mini's.

Standard library only, so it runs with Debian's /usr/bin/python3.
"""

import datetime
import json
import os
import sys

EPOCH = datetime.date(2001, 1, 1)  # the generator's "hours since 2001-01-01"


def day_entry(tb, real, t, k):
    """testbed.json's entry of day t: the generator's naming and time stamp."""
    first = datetime.date.fromisoformat(tb["real_files"][0]["date"])
    d = first + datetime.timedelta(days=t)
    key = (f"{tb['archive_prefix']}{d:%Y%m}/NLDAS_FOR0010_D.A{d:%Y%m%d}.030.beta.nc")
    src = real[t % k]
    return {"key": key, "date": d.isoformat(), "month": f"{d:%Y-%m}",
            "time_value": float(((d - EPOCH).days + 1) * 24), "mtime": src["mtime"],
            "size": src["size"], "real": t % k}


def main(argv):
    if len(argv) != 4:
        print(__doc__.split("\n\n")[1], file=sys.stderr)
        return 2
    tbdir, days, name = argv[1], int(argv[2]), argv[3]
    path = os.path.join(tbdir, "testbed.json")
    with open(path) as f:
        tb = json.load(f)
    real = tb.pop("files")
    k = len(real)
    if k < 1 or days < k:
        raise SystemExit(f"make_scale_links: {k} real files for {days} days")
    tb["real_files"] = real
    tb["scale"] = name
    root = os.path.join(tbdir, "s3", tb["bucket"])
    files = []
    for t in range(days):
        e = day_entry(tb, real, t, k)
        src = os.path.join(root, real[t % k]["key"])
        dst = os.path.join(root, e["key"])
        if t < k:
            # the generator wrote it under this very name
            if e["key"] != real[t]["key"] or e["time_value"] != real[t]["time_value"]:
                raise SystemExit(f"make_scale_links: day {t} is {e['key']}, the generator "
                                 f"wrote {real[t]['key']}")
        else:
            os.makedirs(os.path.dirname(dst), exist_ok=True)
            os.link(src, dst)
        files.append(e)
    tb["files"] = files
    tmp = path + ".tmp"
    with open(tmp, "w") as f:
        json.dump(tb, f)
        f.write("\n")
    os.replace(tmp, path)
    print(f"make_scale_links: {days} days over {k} real files")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
