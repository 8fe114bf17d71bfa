#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
"""check_split_manifests.py TESTBED_DIR: an open that costs what the query
needs (issue 13), on two small repositories written by the real Icechunk
library (scripts/node/make_split_repo.mjs), served by a stand-in of the
test's own with its access log: one with a manifest per array (Icechunk's
default) and one whose /Tair is split by Icechunk's manifest splitting
into 4 manifests of 100 time steps, each with its extents.
- a one-day query on the split repository reads exactly one of /Tair's
  manifests (and the 3 coordinates'): 4 in --report's manifests_read, 4
  manifest GETs in the access log, the same count; another day in another
  manifest's extent reads another one; a whole-range query reads all 7;
  manifest_bytes is the bytes of the manifests the log shows;
- the answers (every variable's values) equal the unsplit repository's,
  for the day and the whole range, alone and at 2 ranks;
- `inspect` counts 400 refs of /Tair in 4 and in 1 manifest(s), the unsplit one
  from the snapshot's table of manifest files, without fetching it;
- --memory-budget: a budget smaller than the unsplit /Tair manifest
  unpacked (but not than the snapshot) refuses it with one line naming the
  manifest, saying how far it got and to raise --memory-budget; the
  default and a budget large enough open it; a malformed size is refused.
The test bed itself is not read: this runs with the test-bed tests because
it needs the node tools installed (scripts/node/install).
Prints "N passed, N failed" last."""

import json
import os
import re
import subprocess
import tempfile
import time

import numpy as np

import reference
from standin import own_standin
from testlib import check, floe_np, load, notes, run, summary

BUCKET = "splitbucket"
LOG_WAIT_S = 10  # the most to wait for the access log's last lines


def make_repo(path, *extra):
    """Write the repository; what it holds, as the script reports it."""
    r = subprocess.run([os.path.join(reference.ROOT, "scripts", "node", "run"),
                        "make_split_repo.mjs", path, *extra], capture_output=True, text=True)
    check(r.returncode == 0, f"make_split_repo {' '.join(extra)}: {r.stderr.strip()}")
    return json.loads(r.stdout.strip().splitlines()[-1]) if r.returncode == 0 else None


def manifest_gets(state, since, want):
    """The manifest keys GET from the access log after offset `since`
    (waiting, for a while, until `want` lines are there: a line is written
    once its answer is sent, maybe after the client ended), and the log's
    size."""
    path = os.path.join(state, "access.log")
    deadline = time.monotonic() + LOG_WAIT_S
    while True:
        with open(path, "rb") as f:
            f.seek(since)
            text = f.read().decode("utf-8", "replace")
        keys = re.findall(r'"GET (\S*/manifests/[0-9A-Z]+) HTTP', text)
        if len(keys) >= want or time.monotonic() > deadline:
            return keys, since + len(text.encode())
        time.sleep(0.1)


def log_size(state):
    try:
        return os.path.getsize(os.path.join(state, "access.log"))
    except FileNotFoundError:
        return 0


def main(tbdir):
    tmp = tempfile.mkdtemp(prefix="floe-split-manifests-")
    root = os.path.join(tmp, "root")
    repos = {"one": os.path.join(root, BUCKET, "one"), "split": os.path.join(root, BUCKET, "split")}
    one = make_repo(repos["one"])
    split = make_repo(repos["split"], "100")
    if one is None or split is None:
        return summary()
    check(len(one["manifests"]) == 4 and len(split["manifests"]) == 7,
          f"Icechunk wrote 4 and 7 manifests: {len(one['manifests'])}, {len(split['manifests'])}")
    state = os.path.join(tmp, "standin")
    with own_standin(tbdir, state, "--access-log", root=root) as endpoint:
        url = {k: f"s3://{BUCKET}/{k}/" for k in repos}
        outs = {}

        def query(name, label, np_, *sel):
            out = os.path.join(tmp, f"{name}-{label}-np{np_}.nc")
            report = os.path.join(tmp, f"{name}-{label}-np{np_}.report.json")
            since = log_size(state)
            r = floe_np(np_, "extract", url[name], "-v", "Tair", *sel, "-o", out,
                        "--report", report, "-q", endpoint=endpoint)
            check(r.returncode == 0, f"extract {name} {label} np {np_}: {r.stderr.strip()}")
            if r.returncode != 0:
                return None, None
            outs[(name, label, np_)] = load(out)
            with open(report) as f:
                return json.load(f)["total"], since

        # the split repository, one rank: a day, another day, everything
        sizes = {}
        for m in split["manifests"]:
            sizes[m] = os.path.getsize(os.path.join(repos["split"], "manifests", m))
        seen = {}
        for label, sel, want in (("day", ("--time", "2001-01-15"), 4),
                                 ("other-day", ("--time", "2001-06-01"), 4),
                                 ("all", (), 7)):
            total, since = query("split", label, 0, *sel)
            if total is None:
                continue
            keys, _ = manifest_gets(state, since, want)
            names = [k.rsplit("/", 1)[1] for k in keys]
            check(total.get("manifests_read") == want,
                  f"split {label}: --report manifests_read {total.get('manifests_read')}, want {want}")
            check(len(keys) == want and len(set(keys)) == want,
                  f"split {label}: {len(keys)} manifest GETs in the access log "
                  f"({len(set(keys))} distinct), want {want}: {names}")
            check(total.get("manifest_bytes") == sum(sizes.get(n, 0) for n in names),
                  f"split {label}: manifest_bytes {total.get('manifest_bytes')} is the bytes of "
                  f"the manifests fetched ({sum(sizes.get(n, 0) for n in names)})")
            seen[label] = set(names)
        if "day" in seen and "other-day" in seen:
            check(len(seen["day"] - seen["other-day"]) == 1
                  and len(seen["other-day"] - seen["day"]) == 1,
                  "two days in two manifests' extents read the same coordinates' manifests "
                  f"and one /Tair manifest each: {sorted(seen['day'])} / "
                  f"{sorted(seen['other-day'])}")
        if "all" in seen:
            check(seen["all"] == set(split["manifests"]),
                  "the whole range reads every manifest of the snapshot")

        # the unsplit repository: every query reads its 4 manifests
        for label, sel in (("day", ("--time", "2001-01-15")), ("all", ())):
            total, since = query("one", label, 0, *sel)
            if total is not None:
                keys, _ = manifest_gets(state, since, 4)
                check(total.get("manifests_read") == 4 and len(keys) == 4,
                      f"one {label}: 4 manifests read ({total.get('manifests_read')}, "
                      f"{len(keys)} GETs)")

        # the same answers: split against unsplit, 2 ranks against 1
        for label, sel in (("day", ("--time", "2001-01-15")), ("all", ())):
            query("split", label, 2, *sel)
            query("one", label, 2, *sel)
            base = outs.get(("one", label, 0))
            for key in (("split", label, 0), ("split", label, 2), ("one", label, 2)):
                got = outs.get(key)
                if base is None or got is None:
                    continue
                same = base.keys() == got.keys() and all(
                    np.array_equal(base[k], got[k], equal_nan=base[k].dtype.kind == "f")
                    for k in base)
                check(same, f"{'/'.join(map(str, key))}: the same values as the unsplit "
                            f"repository's at 1 rank")
        day = outs.get(("one", "day", 0))
        if day is not None:
            check(day["Tair"].shape[0] == 1 and float(day["Tair"].ravel()[0]) == 1400.5,
                  f"the day's first value is 100*14 + 0.5: {day['Tair'].ravel()[:1]}")

        # inspect's counts: the unsplit array's from the snapshot's table of
        # manifest files (it is the only array its manifest serves, over the
        # whole grid), without fetching the manifest; the split ones (each
        # an extent of the grid) read and counted
        big = {m for m in one["manifests"]
               if os.path.getsize(os.path.join(repos["one"], "manifests", m)) > 4096}
        for name, n in (("split", 4), ("one", 1)):
            since = log_size(state)
            r = floe_np(0, "inspect", url[name], endpoint=endpoint)
            check(r.returncode == 0 and f"400 chunk refs in {n} manifest(s)" in r.stdout,
                  f"inspect {name}: 400 chunk refs in {n} manifest(s): {r.stdout.strip()[-300:]}")
            keys, _ = manifest_gets(state, since, 1 << 30)  # all it logs within the wait
            names = {k.rsplit("/", 1)[1] for k in keys}
            if name == "one":
                check(len(big) == 1 and not names & big,
                      f"inspect one: /Tair's manifest {sorted(big)} not fetched: {sorted(names)}")

        # the memory budget
        tair = [m for m in one["manifests"]
                if os.path.getsize(os.path.join(repos["one"], "manifests", m)) > 4096]
        r = floe_np(0, "extract", url["one"], "-v", "Tair", "--time", "2001-01-15",
                    "--memory-budget", "12k", "-o", os.path.join(tmp, "budget.nc"),
                    endpoint=endpoint)
        err = notes(r.stderr)
        check(r.returncode != 0 and len(err) == 1 and len(tair) == 1
              and f"/manifests/{tair[0]}: unpacks to more than the memory budget of 12288 "
                  "bytes (12288 bytes so far, from " in err[0]
              and "raise --memory-budget" in err[0],
              f"--memory-budget 12k: one line naming the /Tair manifest {tair}: {err}")
        check(not os.path.exists(os.path.join(tmp, "budget.nc")), "--memory-budget 12k: no output")
        r = floe_np(0, "extract", url["one"], "-v", "Tair", "--time", "2001-01-15",
                    "--memory-budget", "64M", "-o", os.path.join(tmp, "budget64.nc"), "-q",
                    endpoint=endpoint)
        check(r.returncode == 0, f"--memory-budget 64M opens it: {r.stderr.strip()}")
        r = floe_np(0, "inspect", url["split"], "--memory-budget", "12X", endpoint=endpoint)
        check(r.returncode != 0 and "--memory-budget '12X'" in r.stderr,
              f"--memory-budget 12X is refused: {r.stderr.strip()}")
    return summary()


if __name__ == "__main__":
    run(main, __doc__)
