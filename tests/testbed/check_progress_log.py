#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
"""check_progress_log.py TESTBED_DIR: progress lines in a log (issue #14).

stats, climatology, series and extract, alone and under mpirun -np 2, with
stderr a pipe (as under mpirun, srun or sbatch), reading through stand-ins
of the test's own with latency, so that a run lasts long enough for lines
at a short --progress-interval (stats, climatology: 20 ms a request and
0.2 s; extract and series, which coalesce their reads: 150 ms and 0.05 s):
- every stderr line is a progress line or the last line, in their format
  (engine/job/progress.h), and there are progress lines (rank 0 looks at
  the clock when it has read a batch: extract at np 2 has one batch);
- the chunk counts never fall, all lines name the same total, the last
  line's count is the total; MB/s is above 0 once chunks are done (stats
  and climatology said "0.0 MB/s" while reading ocean tiles: they count
  the data read, not the few compressed bytes of fill-only chunks), and
  under mpirun a line names the least and most advanced rank;
- the output file is byte for byte the one of the same command with
  --progress-interval 0 (no lines) read through the test bed's stand-in
  (FLOE_FIXED_TIME: the history attribute's time; the option is left out
  of the recorded command);
- --progress-interval 0 writes nothing; a negative one is a usage error.
Prints "N passed, N failed" last.
"""

import os
import re
import shutil
import subprocess
import tempfile

from testlib import FLOE, check, floe_cmd, run, summary
from standin import own_standin

PROGRESS = re.compile(r"^floe (\w+): progress (\d+)/(\d+) chunks \((\d+)%\), ([\d.]+) MB/s, "
                      r"ETA (\d+:\d\d|--)(?:, ranks (\d+)%\.\.(\d+)% done)?$")
DONE = re.compile(r"^floe (\w+): done (\d+)/(\d+) chunks, ([\d.]+) MB read "
                  r"\(([\d.]+) MB fetched\) in ([\d.]+) s, ([\d.]+) MB/s$")
# (latency ms, interval s) per command
SLOW = {"stats": ("20", "0.2"), "climatology": ("20", "0.2"),
        "series": ("150", "0.05"), "extract": ("150", "0.05")}
BOX = "-100,30,-80,42"


def run_in(folder, np_, args, endpoint, shim):
    """floe args (output out.nc) in folder, stderr a pipe: (result, bytes of out.nc)."""
    os.makedirs(folder)
    cmd, env = floe_cmd(np_, *args, "-o", "out.nc", endpoint=endpoint)
    at = cmd.index(FLOE)  # the shim in floe only, not in mpirun
    cmd[at:at] = ["env", f"LD_PRELOAD={shim}",
                  "ASAN_OPTIONS=" + ":".join(filter(None, [os.environ.get("ASAN_OPTIONS"),
                                                           "verify_asan_link_order=0"]))]
    r = subprocess.run(cmd, capture_output=True, text=True, env=env, cwd=folder, timeout=600)
    path = os.path.join(folder, "out.nc")
    data = open(path, "rb").read() if os.path.exists(path) else None
    return r, data


def check_lines(what, stderr, np_):
    lines = [ln for ln in stderr.splitlines() if ln.strip()]
    prog = [PROGRESS.match(ln) for ln in lines[:-1]]
    done = DONE.match(lines[-1]) if lines else None
    check(all(prog) and done, f"{what}: every line a progress line, the last the totals: "
                              f"{lines}")
    if not (all(prog) and done):
        return
    check(len(prog) >= 1, f"{what}: progress lines: {lines}")
    counts = [int(m.group(2)) for m in prog] + [int(done.group(2))]
    totals = {int(m.group(3)) for m in prog} | {int(done.group(3))}
    check(len(totals) == 1 and min(totals) > 0, f"{what}: one total: {totals}")
    check(counts == sorted(counts), f"{what}: counts never fall: {counts}")
    check(counts[-1] == max(totals), f"{what}: the last count is the total: {lines[-1]}")
    check(all(float(m.group(5)) > 0 for m in prog if int(m.group(2)) > 0),
          f"{what}: MB/s above 0 once chunks are done: {lines}")
    check(float(done.group(7)) > 0 and float(done.group(4)) > 0 and float(done.group(5)) > 0,
          f"{what}: the totals line's MB and MB/s above 0: {lines[-1]}")
    ranks = [m for m in prog if m.group(7) is not None]
    if np_ >= 2:
        check(len(ranks) == len(prog) and all(int(m.group(7)) <= int(m.group(8)) <= 100
                                              for m in ranks),
              f"{what}: every line names the ranks' least..most done: {lines}")
    else:
        check(not ranks, f"{what}: no ranks part alone: {lines}")


def main(tbdir):
    shim = os.environ.get("FLOE_FIXED_TIME")
    if not shim or not os.path.exists(shim):
        print("skipped: FLOE_FIXED_TIME (the fixed-time shim, built by CMake) not given")
        return 77
    coll = os.path.join(tbdir, "collection.json")
    commands = {
        "stats": ["stats", coll, "-v", "Tair,Rainf", "--stat", "mean,max", "--bbox", BOX],
        "climatology": ["climatology", coll, "-v", "Tair", "--by", "month", "--bbox", BOX],
        "series": ["series", coll, "-v", "Rainf", "--bbox", BOX, "--stat", "mean,max"],
        "extract": ["extract", coll, "-v", "Tair", "--bbox", BOX],
    }
    tmp = tempfile.mkdtemp(prefix="floe-progress-")
    try:
        for name, args in commands.items():
            latency, interval = SLOW[name]
            with own_standin(tbdir, os.path.join(tmp, "standin-" + name), "--latency-ms",
                             latency) as slow:
                for np_ in (0, 2):
                    what = f"{name} {'alone' if np_ == 0 else f'np {np_}'}"
                    base = os.path.join(tmp, f"{name}-{np_}")
                    r, got = run_in(base + "-log", np_, [*args, "--progress-interval", interval],
                                    slow, shim)
                    check(r.returncode == 0, f"{what}: exit {r.returncode}: {r.stderr[-500:]}")
                    if r.returncode != 0:
                        continue
                    check_lines(what, r.stderr, np_)
                    q, want = run_in(base + "-quiet", np_, [*args, "--progress-interval", "0"],
                                     os.environ["FLOE_S3_ENDPOINT"], shim)
                    check(q.returncode == 0 and q.stderr.strip() == "",
                          f"{what} --progress-interval 0: exit {q.returncode}, nothing on "
                          f"stderr: {q.stderr[-500:]}")
                    check(got is not None and got == want,
                          f"{what}: the same output bytes with and without progress lines")
        r = subprocess.run([FLOE, "stats", coll, "-v", "Tair", "--progress-interval", "-1",
                            "-o", os.path.join(tmp, "never.nc")],
                           capture_output=True, text=True, timeout=60)
        check(r.returncode == 2 and "--progress-interval" in r.stderr,
              f"--progress-interval -1: usage error (2): {r.returncode} {r.stderr.strip()}")
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return summary()


if __name__ == "__main__":
    run(main, __doc__)
