#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
"""check_sbatch.py TESTBED_DIR: `floe sbatch` scripts (their content; a
real Slurm runs them elsewhere):

- one MPI job: #SBATCH --ntasks, --nodes, --partition, --account,
  --signal=USR1@60, --requeue, --open-mode=append; --mem and --time as
  documented from the request's own dry run (--dry-run --json --ranks N:
  peak memory per rank x 1.5 x ranks per node, at least 1024M; (120 s +
  bytes / (ranks x 50 MB/s)) x time factor, at least 10 minutes); the
  srun line `srun --mpi=pmix -n N floe ... --checkpoint --resume`, whose
  words, read back by bash, are exactly the request's, for an output
  path with spaces, single and double quotes and a dollar sign, then
  `--snapshot ID` pinning the snapshot the dry run read (so a requeued or
  late task reads the same one), not added when the request names its
  version (--branch, --tag, --snapshot);
- a job array by month: --array=1-MONTHS, each task `--piece
  $SLURM_ARRAY_TASK_ID/MONTHS --resume`, a merge job submitted with
  --dependency=afterok on the array running `floe merge OUT`; the script
  is valid bash (bash -n); by N tasks; never more tasks than the dry
  run's max_pieces (a 62-day stats request: two 32-step blocks, so 2
  tasks, not 3 months or 5), with a comment line saying so; by variable:
  one task per variable, each `--piece $SLURM_ARRAY_TASK_ID/VARS
  --piece-by variable --resume`; the merge job's --mem (one rank's) and
  --time ((120 s + output_bytes / 50 MB/s) x time factor, at least 10
  minutes) from the dry run;
- --threads N in the request: #SBATCH --cpus-per-task=N and srun
  --cpus-per-task=N (neither without it); --threads 0 refused by the dry
  run, no script;
- errors: no request, a command that is not a data command, a bad
  --array-by, a failing dry run: one line, exit 2 or 1; no script written.
Prints "N passed, N failed" last."""

import json
import math
import os
import re
import subprocess
import tempfile

from testlib import check, floe_np, run, summary


def directive(text, name):
    m = re.findall(rf"^#SBATCH --{name}=(.*)$", text, re.M)
    return m[0] if m else None


def words(line):
    """The words bash reads from a command line (printed NUL-separated)."""
    r = subprocess.run(["bash", "-c", "set -f; w() { printf '%s\\0' \"$@\"; }; " + line],
                       capture_output=True, text=True)
    return r.stdout.split("\0")[:-1]


def main(tb):
    coll = os.path.join(tb, "collection.json")
    with tempfile.TemporaryDirectory() as work:
        odd = os.path.join(work, "a folder with space")
        os.mkdir(odd)
        out = os.path.join(odd, "it's \"x\" $HOME.nc")
        req = ["floe", "climatology", coll, "-v", "Tair", "--by", "month", "-o", out]
        script = os.path.join(work, "job.sh")
        r = floe_np(0, "sbatch", "--ranks", "4", "--nodes", "2", "--partition", "p1",
                    "--account", "a1", "--time-factor", "3", "-o", script, "--", *req)
        check(r.returncode == 0, f"sbatch: {r.stderr.strip()}")
        d = floe_np(0, *req[1:], "--dry-run", "--json", "--ranks", "4", "-q")
        plan = json.loads(d.stdout) if d.returncode == 0 else {}
        text = open(script).read() if os.path.exists(script) else ""
        check(text.startswith("#!/bin/bash\n"), "shebang")
        for name, want in (("ntasks", "4"), ("nodes", "2"), ("partition", "p1"),
                           ("account", "a1"), ("signal", "USR1@60"), ("open-mode", "append")):
            check(directive(text, name) == want, f"--{name}: {directive(text, name)}")
        check(re.search(r"^#SBATCH --requeue$", text, re.M), "--requeue")
        mem = max(1024, math.ceil(plan.get("peak_memory_per_rank", 0) * 1.5 * 2 / 2**20))
        check(directive(text, "mem") == f"{mem}M", f"--mem {directive(text, 'mem')}, want {mem}M")
        minutes = max(10, math.ceil((120 + plan.get("bytes", 0) / (4 * 50e6)) * 3 / 60))
        check(directive(text, "time") == f"{minutes // 60}:{minutes % 60:02d}:00",
              f"--time {directive(text, 'time')}, want {minutes} minutes")
        srun = [l for l in text.splitlines() if l.startswith("srun ")]
        check(len(srun) == 1, f"one srun line: {srun}")
        snap = plan.get("snapshot", "")
        if srun:
            line = srun[0].split(" && ")[0]
            check(line.startswith("srun --mpi=pmix -n 4 "), line)
            got = words("w " + line[len("srun --mpi=pmix -n 4 "):])
            check(re.fullmatch(r"[0-9A-Z]{20}", snap or ""), f"the dry run's snapshot: {snap!r}")
            check(got == req + ["--snapshot", snap, "--checkpoint", "--resume"], f"words: {got}")
        check(subprocess.run(["bash", "-n", script]).returncode == 0, "bash -n job.sh")

        # arrays by month (mini: 62 days, January to March) and by 5 tasks: an extract
        # (62 time chunks: 62 pieces can hold work) gets them all; a stats request (62
        # steps: two 32-step blocks) at most 2, the script saying why
        sreq = ["floe", "stats", coll, "-v", "Tair", "-o", out]
        xreq = ["floe", "extract", coll, "-v", "Tair", "--bbox=-75,38,-68,44", "-o", out]
        for areq, by, n, asked in ((xreq, "month", 3, 3), (xreq, "5", 5, 5), (sreq, "month", 2, 3),
                                   (sreq, "5", 2, 5), (sreq, "year", 1, 1)):
            what = f"{areq[1]} array by {by}"
            d = floe_np(0, *areq[1:], "--dry-run", "--json", "-q")
            plan = json.loads(d.stdout) if d.returncode == 0 else {}
            check(plan.get("max_pieces") == (62 if areq is xreq else 2),
                  f"{what}: max_pieces {plan.get('max_pieces')}")
            r = floe_np(0, "sbatch", "--array-by", by, "--", *areq)
            text = r.stdout
            check(r.returncode == 0, f"{what}: {r.stderr.strip()}")
            check(directive(text, "array") == f"1-{n}",
                  f"{what}: --array {directive(text, 'array')}, want 1-{n}")
            capped = [l for l in text.splitlines() if l.startswith("# ") and "max_pieces" in l]
            if asked > n:
                check(len(capped) == 1 and f"{asked} tasks" in capped[0] and
                      f"at most {n} pieces" in capped[0],
                      f"{what}: a comment line says {asked} tasks became {n}: {capped}")
            else:
                check(capped == [], f"{what}: a cap comment without a cap: {capped}")
            check(f'--piece "$SLURM_ARRAY_TASK_ID/{n}" --resume' in text, f"piece by {by}")
            check("sbatch --parsable <<'FLOE_ARRAY_TASK'" in text, "array submitted")
            check('sbatch --dependency=afterok:"$array_id"' in text, "merge depends on the array")
            merge = [l for l in text.splitlines() if " merge " in l and not l.startswith("#")]
            check(len(merge) == 1 and words("w " + merge[0]) == ["floe", "merge", out],
                  f"merge line: {merge}")
            p = os.path.join(work, f"array-{by}.sh")
            with open(p, "w") as f:
                f.write(text)
            check(subprocess.run(["bash", "-n", p]).returncode == 0, f"bash -n array by {by}")
            check("--piece-by" not in text, f"array by {by}: pieces by time, the default")

        # a request naming its version is left as it is
        for pin in (["--branch", "main"], ["--snapshot=" + snap]):
            r = floe_np(0, "sbatch", "--", *req, *pin)
            srun = [l for l in r.stdout.splitlines() if l.startswith("srun ")]
            check(r.returncode == 0 and len(srun) == 1 and
                  words("w " + srun[0].split(" && ")[0][len("srun --mpi=pmix -n 1 "):]) ==
                  req + pin + ["--checkpoint", "--resume"],
                  f"{pin}: no --snapshot added: {srun} {r.stderr.strip()}")

        # --threads N asks N CPUs a task, in #SBATCH and on srun's line (which
        # does not inherit it in every Slurm); without it neither is written
        check(directive(open(script).read(), "cpus-per-task") is None,
              "no --threads, no --cpus-per-task")
        for form in (["--threads", "8"], ["--threads=8"]):
            r = floe_np(0, "sbatch", "--", *req, *form)
            srun = [l for l in r.stdout.splitlines() if l.startswith("srun ")]
            check(r.returncode == 0 and directive(r.stdout, "cpus-per-task") == "8",
                  f"{form}: #SBATCH --cpus-per-task {directive(r.stdout, 'cpus-per-task')}, "
                  f"want 8 {r.stderr.strip()}")
            head = "srun --mpi=pmix -n 1 --cpus-per-task=8 "
            check(len(srun) == 1 and srun[0].startswith(head) and
                  words("w " + srun[0].split(" && ")[0][len(head):]) ==
                  req + form + ["--snapshot", snap, "--checkpoint", "--resume"],
                  f"{form}: srun line {srun}")
        r = floe_np(0, "sbatch", "-o", os.path.join(work, "t.sh"), "--", *req, "--threads", "0")
        check(r.returncode != 0 and len(r.stderr.strip().splitlines()) <= 2 and
              "--threads" in r.stderr and not os.path.exists(os.path.join(work, "t.sh")),
              f"--threads 0: rc {r.returncode} {r.stderr.strip()}")

        # an array by variable: one task per variable, each every step of its own
        vreq = ["floe", "stats", coll, "-v", "Tair,Rainf,Qair", "-o", out]
        r = floe_np(0, "sbatch", "--array-by", "variable", "--", *vreq)
        text = r.stdout
        check(r.returncode == 0, f"array by variable: {r.stderr.strip()}")
        check(directive(text, "array") == "1-3", f"by variable: --array {directive(text, 'array')}")
        task = [l for l in text.splitlines() if l.startswith("srun ")]
        check(len(task) == 1 and words("SLURM_ARRAY_TASK_ID=2; w " + task[0].split(" && ")[0][
            len("srun --mpi=pmix -n 1 "):]) == vreq + ["--snapshot", snap, "--piece", "2/3",
                                                       "--piece-by", "variable", "--resume"],
              f"by variable: task 2's words: {task}")
        merge = [l for l in text.splitlines() if " merge " in l and not l.startswith("#")]
        check(len(merge) == 1 and words("w " + merge[0]) == ["floe", "merge", out],
              f"by variable: merge line: {merge}")
        # the merge job, sized from the dry run: one rank's memory, time from the output
        d = floe_np(0, *vreq[1:], "--dry-run", "--json", "-q")
        plan = json.loads(d.stdout) if d.returncode == 0 else {}
        mjob = text.split("<<'FLOE_MERGE_JOB'", 1)[-1]
        mem = max(1024, math.ceil(plan.get("peak_memory_per_rank", 0) * 1.5 / 2**20))
        check(directive(mjob, "mem") == f"{mem}M", f"merge job --mem {directive(mjob, 'mem')}, "
              f"want {mem}M")
        minutes = max(10, math.ceil((120 + plan.get("output_bytes", 0) / 50e6) * 2 / 60))
        check(directive(mjob, "time") == f"{minutes // 60}:{minutes % 60:02d}:00",
              f"merge job --time {directive(mjob, 'time')}, want {minutes} minutes")

        # errors: one line, nothing written
        bad = os.path.join(work, "bad.sh")
        for args, rc in (([], 2), (["--", "floe", "inspect", coll], 2),
                         (["--array-by", "week", "--"] + areq, 2),
                         (["--bogus", "--"] + areq, 2),
                         (["--"] + areq[:-1] + [os.path.join(work, "nofolder", "x.nc")], 2)):
            r = floe_np(0, "sbatch", "-o", bad, *args)
            check(r.returncode == rc and r.stderr.strip(), f"{args}: rc {r.returncode} "
                  f"{r.stderr.strip()}")
            check(not os.path.exists(bad), f"{args}: a script was written")
    return summary()


if __name__ == "__main__":
    run(main, __doc__)
