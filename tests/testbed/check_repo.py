#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
"""check_repo.py TESTBED_DIR: the real Icechunk library sees the repositories
the testbed issue specifies, in spec 2 and spec 1, through the loopback S3.

For each: the arrays (ten variables + time/lat/lon coordinates) with their
shapes, chunks, dtypes, fill values, dimension names and VirtualiZarr
codecs; the history (one commit per month, messages, ids recorded by the
writer); the tag on the first month and snapshot selection (the time axis
grows with each commit). Expectations come from the generator's description
(testbed.json), not from floe. Prints "N passed, N failed" last.
"""

import json
import os

import reference
from testlib import check, run, summary


def main(tbdir):
    with open(os.path.join(tbdir, "testbed.json")) as f:
        tb = json.load(f)
    ntime, ny, nx = len(tb["files"]), tb["ny"], tb["nx"]
    names = [v["name"] for v in tb["variables"]]
    months = sorted({f["month"] for f in tb["files"]})
    first_month_len = sum(1 for f in tb["files"] if f["month"] == months[0])

    for spec in (2, 1):
        with open(os.path.join(tbdir, f"repo-v{spec}.json")) as f:
            written = json.load(f)
        info = reference.run(spec, "--info")
        check(info["spec_version"] == spec, f"spec {spec}: library reports spec {info['spec_version']}")
        arrays = {a["path"].strip("/"): a for a in info["arrays"]}
        check(set(arrays) == set(names) | {"time", "lat", "lon"},
              f"spec {spec}: arrays {sorted(arrays)}")
        for n in names:
            a = arrays.get(n, {})
            check(a.get("shape") == [ntime, ny, nx] and a.get("chunks") == tb["chunks"],
                  f"spec {spec} {n}: shape {a.get('shape')} chunks {a.get('chunks')}")
            check(a.get("dtype") == "float32" and a.get("fill_value") == -9999
                  and a.get("dimension_names") == ["time", "lat", "lon"],
                  f"spec {spec} {n}: dtype/fill/dims {a.get('dtype')} {a.get('fill_value')}")
            codecs = a.get("codecs")
            check(codecs == ["bytes", "numcodecs.shuffle", "numcodecs.zlib"],
                  f"spec {spec} {n}: codecs {codecs}")
        check(arrays["time"]["shape"] == [ntime] and arrays["lat"]["shape"] == [ny]
              and arrays["lon"]["shape"] == [nx], f"spec {spec}: coordinate shapes")

        # History: root + one commit per month, newest first.
        anc = info["ancestry"]
        check(len(anc) == len(months) + 1, f"spec {spec}: {len(anc)} snapshots in main's ancestry")
        check(anc[-1]["message"] == "Repository initialized", f"spec {spec}: root snapshot")
        want_msgs = [f"NLDAS-3 testbed: {months[0]}"] + \
                    [f"NLDAS-3 testbed: append {m}" for m in months[1:]]
        check([s["message"] for s in reversed(anc[:-1])] == want_msgs,
              f"spec {spec}: commit messages {[s['message'] for s in anc]}")
        check([s["id"] for s in reversed(anc[:-1])] == [s["id"] for s in written["snapshots"]]
              and info["snapshot"] == written["branch_main"],
              f"spec {spec}: snapshot ids agree with the writer's record")

        # The tag pins the first month; each snapshot has its own time axis.
        tag = reference.run(spec, "--info", "--tag", written["tag"]["name"])
        check(tag["snapshot"] == anc[-2]["id"], f"spec {spec}: tag is the first commit")
        tarr = {a["path"].strip("/"): a for a in tag["arrays"]}
        check(tarr["Tair"]["shape"][0] == first_month_len and
              tarr["time"]["shape"] == [first_month_len],
              f"spec {spec}: at the tag, time has {first_month_len} steps")
        mid = reference.run(spec, "--info", "--snapshot", anc[1]["id"])
        check({a["path"].strip("/"): a for a in mid["arrays"]}["Rainf"]["shape"][0] ==
              written["snapshots"][-2]["ntime"], f"spec {spec}: second-to-last snapshot")
        try:
            reference.run(spec, "--info", "--tag", "no-such-tag")
            check(False, f"spec {spec}: a missing tag must fail")
        except reference.ReaderError:
            check(True, "")
    return summary()


if __name__ == "__main__":
    run(main, __doc__)
