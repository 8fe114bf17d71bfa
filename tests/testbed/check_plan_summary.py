#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
"""check_plan_summary.py TESTBED_DIR: the short plan summary every run
prints first when stderr is a terminal (engine/job/dry_run.h; rank 0,
not -q), for stats and series:

- stderr a pseudo-terminal (pty.openpty): one line
  "floe: plan: C chunks, M MiB in R requests on 1 rank(s), ..., output
  about O MiB" before the progress line, whose chunks, MiB to fetch,
  requests and output size are those of `--dry-run --json` of the same
  request;
- with -q on the terminal, and with stderr a pipe: no such line.
Prints "N passed, N failed" last.
"""

import json
import os
import pty
import re
import select
import subprocess
import tempfile

from testlib import check, check_cf_output, floe_cmd, floe_np, run, summary

SUMMARY = re.compile(r"floe: plan: (\d+) chunks, ([\d.]+) MiB in (\d+) requests on (\d+) "
                     r"rank\(s\), about \d+ MiB memory per rank, output about ([\d.]+) MiB")


def on_terminal(args):
    """Run floe (no launcher) with stderr a pseudo-terminal: (exit status,
    what it wrote there)."""
    cmd, env = floe_cmd(0, *args)
    master, slave = pty.openpty()
    try:
        p = subprocess.Popen(cmd, env=env, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                             stderr=slave)
    finally:
        os.close(slave)
    text = b""
    try:
        while True:  # read until the terminal's last writer is gone (EIO)
            ready, _, _ = select.select([master], [], [], 300)
            if not ready:
                p.kill()
                break
            try:
                data = os.read(master, 65536)
            except OSError:
                break
            if not data:
                break
            text += data
    finally:
        os.close(master)
    return p.wait(timeout=300), text.decode(errors="replace")


def mib(n):
    return f"{n / 1048576:.1f}"


def main(tb):
    coll = os.path.join(tb, "collection.json")
    cases = [
        ("stats", ["stats", coll, "-v", "Tair", "--stat", "mean,max", "--bbox=-100,30,-80,45"]),
        ("series", ["series", coll, "-v", "Tair,Rainf", "--points",
                    os.path.join(tb, "stations.csv"), "--time", "2001-01-01/2001-02-20"]),
    ]
    with tempfile.TemporaryDirectory() as work:
        for what, args in cases:
            out = lambda name: ["-o", os.path.join(work, f"{what}-{name}.nc")]
            r = floe_np(0, *args, *out("dry"), "--dry-run", "--json", "-q")
            check(r.returncode == 0, f"{what}: dry run: {r.stderr.strip()[-300:]}")
            plan = json.loads(r.stdout) if r.returncode == 0 else {}
            rc, text = on_terminal([*args, *out("tty")])
            check(rc == 0, f"{what}: on a terminal: exit {rc}: {text[-300:]!r}")
            if rc == 0:
                check_cf_output([*args, *out("tty")])
            lines = [ln for ln in re.split(r"[\r\n]+", text) if ln.strip()]
            found = [SUMMARY.fullmatch(ln.strip()) for ln in lines]
            found = [m for m in found if m]
            check(len(found) == 1, f"{what}: one summary line on the terminal: {lines[:5]}")
            at = [i for i, ln in enumerate(lines) if SUMMARY.fullmatch(ln.strip())]
            progress = [i for i, ln in enumerate(lines) if ln.startswith(f"floe {what}: ")]
            check(at and progress and at[0] < progress[0],
                  f"{what}: the summary comes before the progress: {lines}")
            if found and plan:
                m = found[0]
                got = {"chunks": int(m.group(1)), "MiB": m.group(2), "requests": int(m.group(3)),
                       "ranks": int(m.group(4)), "output MiB": m.group(5)}
                want = {"chunks": plan["chunks"], "MiB": mib(plan["bytes"]),
                        "requests": plan["requests"], "ranks": plan["ranks"],
                        "output MiB": mib(plan["output_bytes"])}
                check(got == want, f"{what}: the summary says {got}, the dry run {want}")
            rc, text = on_terminal([*args, *out("quiet"), "-q"])
            check(rc == 0 and "floe: plan:" not in text,
                  f"{what}: -q on a terminal: exit {rc}, {text[:300]!r}")
            cmd, env = floe_cmd(0, *args, *out("pipe"))
            r = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=300)
            check(r.returncode == 0 and "floe: plan:" not in r.stderr,
                  f"{what}: stderr a pipe: exit {r.returncode}, {r.stderr[:300]!r}")
    return summary()


if __name__ == "__main__":
    run(main, __doc__)
