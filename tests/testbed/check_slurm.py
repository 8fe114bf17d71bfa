#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
"""check_slurm.py TESTBED_DIR: floe's batch jobs on a real Slurm (issue #14).

Starts a private single-node cluster (scripts/slurm-local: its own munge
key and socket, config, state, ports; stopped at the end, whatever
happened) and runs the README's Slurm examples as written, in a folder
holding the test bed folder's entries (symlinks), `floe` on PATH:
a. "Slurm batch scripts": `floe sbatch --ranks 8 -o clim.sh -- floe
   climatology ...` and `sbatch clim.sh` (srun --mpi=pmix -n 8): the output
   equals the same climatology under mpirun -np 2;
c. the same block's `floe sbatch --array-by month -o tair.sh -- floe stats
   ...` and `bash tair.sh` (an array, a task per month up to max_pieces, then the
   dependent `floe merge` job), and its `--array-by variable` array (one
   task per variable, `--piece-by variable`): each output equals the
   single run's;
b. "Running on Slurm": clim-ckpt.sbatch, submitted with --time=1 (the
   command line overrides the script's #SBATCH --time) while reading
   through a stand-in of the test's own with latency (the run needs
   minutes): Slurm's time limit SIGTERMs the ranks, the job ends TIMEOUT
   with floe's "checkpoint kept" line in its log; the same submit line
   again (now through the test bed's stand-in) completes, the checkpoint
   is gone and the output equals an uninterrupted run's. The whole log
   is printed (the issue asks to see it);
d. the same script again on a fresh output, one floe rank killed with
   SIGKILL once its first units are saved: the job fails, the script
   submitted again completes with the same output.
e. `floe sbatch --ranks 2` for a climatology read through a slow stand-in
   of the test's own, its script changed only in its `#SBATCH --time=`
   line (2 minutes; floe sbatch never asks for less than 10): Slurm's
   `--signal=USR1@60` reaches floe before the limit, floe keeps its
   checkpoint and exits 3, the script's `scontrol requeue` puts the job
   back (Restarts >= 1), and the requeued run (the stand-in made fast
   once the requeue is seen, so the test stays short) continues from the
   checkpoint (its last line counts only the chunks left) and the job ends
   COMPLETED. Its whole log is printed.
"Equals": the whole file, byte for byte. Every floe (the jobs' and the
mpirun references') runs through a `floe` on PATH that preloads the
fixed-time shim (FLOE_FIXED_TIME: the history attribute records the same
time), and each reference runs the job's own floe words (from its script:
a floe sbatch script adds `--snapshot ID`) in a folder with the same
relative names, less the execution controls that are not recorded
(--checkpoint, --resume, --piece, --piece-by, --progress-interval): the
recorded command (history, floe_command) is the same.
Jobs are polled with `squeue -h -j ID` (sbatch --wait checks only every
few seconds). Where Slurm cannot start here (not root, not installed):
"skipped: <why>", exit 77. Prints "N passed, N failed" last.
"""

import glob
import hashlib
import os
import re
import shlex
import shutil
import signal
import subprocess
import tempfile
import time

import reference
from standin import STANDIN, own_standin
from testlib import FLOE, MPIRUN, check, run, summary

README = os.path.join(reference.ROOT, "README.md")
SLURM_LOCAL = os.path.join(reference.ROOT, "scripts", "slurm-local")
CPUS = 8                 # the node's CPUs (config_overrides: more than the machine's)
JOB_WAIT_S = 400         # the longest a job may take here
LATENCY_MS = "500"       # the time-limit job's stand-in: the run takes minutes
KILL_AFTER_UNITS = 1     # d: SIGKILL a rank once this many units are saved
# e: the generated script's time limit, shortened (floe sbatch asks for 10
# minutes at least). Slurm checks limits and --signal every 30 s (its
# PERIODIC_TIMEOUT, compiled in: no slurm.conf setting shortens it) and
# sends the signal early rather than late: USR1@60 came 40 to 60 s after
# the start here, the limit's SIGTERM would come at 120 to 150 s. The
# requeued job waits AuthInfo's cred_expire (scripts/slurm-local: 15 s).
REQUEUE_TIME = "0:02:00"
REQUEUE_WAIT_S = 300     # e: from the submit to the requeue seen
# the options that are execution controls, not part of the recorded
# command (cli/run_controls.c): how many values each takes
RUN_CONTROLS = {"--checkpoint": 0, "--resume": 0, "--piece": 1, "--piece-by": 1,
                "--progress-interval": 1}


def section_blocks(title):
    """The ```sh blocks of the README section `title` (### or ##)."""
    with open(README, encoding="utf-8") as f:
        text = f.read()
    m = re.search(r"\n#{2,3} " + re.escape(title) + r"\n(.*?)(?=\n#{2,3} )", text, re.S)
    return re.findall(r"```sh\n(.*?)```", m.group(1), re.S) if m else []


def command_lines(block):
    """A block's command lines, continuations joined, comments dropped."""
    out, cur = [], ""
    for line in block.splitlines():
        if line.rstrip().endswith("\\"):
            cur += line.rstrip()[:-1] + " "
            continue
        cur += line
        words = shlex.split(cur, comments=True)
        if words:
            out.append(shlex.join(words))
        cur = ""
    return out


def digest(path):
    """The whole file's sha256 (None: no file)."""
    if not os.path.exists(path):
        return None
    with open(path, "rb") as f:
        return hashlib.sha256(f.read()).hexdigest()


def same_bytes(path, want, what):
    """Check that path is want's bytes; else say what the files record as
    their command (a differing history is the usual cause)."""
    a, b = digest(path), digest(want)
    why = ""
    if a != b and a and b:
        why = "; commands: " + " | ".join(
            subprocess.run(["ncdump", "-h", p], capture_output=True, text=True).stdout
            .partition(":history = ")[2].partition("\n")[0] for p in (path, want))
    check(a is not None and a == b, f"{what}: the whole file byte for byte{why}")


def floe_words(script):
    """The floe words (after `floe`) of a floe sbatch script's srun line,
    less the execution controls that an output does not record: the
    reference run's command, which records the same command."""
    with open(script) as f:
        line = next(x for x in f if x.startswith("srun "))
    words = shlex.split(line.split(" && ")[0])
    words = words[words.index("floe") + 1:]
    out, i = [], 0
    while i < len(words):
        if words[i] in RUN_CONTROLS:
            i += 1 + RUN_CONTROLS[words[i]]
            continue
        out.append(words[i])
        i += 1
    return out


class Cluster:
    def __init__(self, state, env):
        self.state, self.env = state, env

    def sh(self, cmd, cwd, env=None, timeout=120):
        return subprocess.run(["bash", "-c", cmd], cwd=cwd, env=env or self.env,
                              capture_output=True, text=True, timeout=timeout)

    def queued(self):
        r = subprocess.run(["squeue", "-h", "-o", "%i"], env=self.env, capture_output=True,
                           text=True, timeout=30)
        return r.stdout.split()

    def wait(self, jobid, timeout=JOB_WAIT_S):
        """Poll until job `jobid` (or every job, None) has left the queue."""
        end = time.time() + timeout
        while time.time() < end:
            if jobid is None:
                if not self.queued():
                    return True
            else:
                r = subprocess.run(["squeue", "-h", "-j", str(jobid)], env=self.env,
                                   capture_output=True, text=True, timeout=30)
                if r.returncode == 0 and not r.stdout.strip():
                    return True
                if r.returncode != 0 and "Invalid job id" in r.stderr:
                    return True
            time.sleep(0.5)
        return False

    def states(self):
        """{job id: final state} from the job completion file (sacct -c)."""
        out = {}
        path = os.path.join(self.state, "jobcomp.txt")
        if os.path.exists(path):
            for line in open(path):
                m = re.search(r"JobId=(\S+) .*JobState=(\S+)", line)
                if m:
                    out[m.group(1)] = m.group(2)
        return out


def submitted(stdout):
    return re.findall(r"Submitted batch job (\d+)", stdout)


def main(tbdir):
    if not os.path.exists(os.environ.get("FLOE_FIXED_TIME", "")):
        print("skipped: FLOE_FIXED_TIME (the fixed-time shim, built by CMake) not given")
        return 77
    tmp = tempfile.mkdtemp(prefix="floe-slurm-")
    os.chmod(tmp, 0o755)  # munged runs as munge: its socket's folder must be reachable
    state = os.path.join(tmp, "slurm")
    r = subprocess.run([SLURM_LOCAL, "start", state, str(CPUS)], capture_output=True, text=True,
                       timeout=120)
    if r.returncode == 77:
        print(r.stdout.strip() or "skipped: Slurm cannot start here")
        shutil.rmtree(tmp, ignore_errors=True)
        return 77
    try:
        check(r.returncode == 0, f"slurm-local start: {r.returncode} {r.stderr.strip()}")
        if r.returncode == 0:
            scenarios(tbdir, tmp, state)
    finally:
        subprocess.run([SLURM_LOCAL, "stop", state], capture_output=True, timeout=120)
    left = subprocess.run(["pgrep", "-f", state], capture_output=True, text=True).stdout.split()
    check(not left, f"no daemon of the test's cluster left: {left}")
    shutil.rmtree(tmp, ignore_errors=True)
    return summary()


def scenarios(tbdir, tmp, state):
    work = os.path.join(tmp, "testbed")
    os.mkdir(work)
    for name in os.listdir(tbdir):
        os.symlink(os.path.join(tbdir, name), os.path.join(work, name))
    bindir = os.path.join(tmp, "bin")
    os.mkdir(bindir)
    # `floe` with the fixed-time shim (only floe: not sbatch, srun or
    # scontrol), so that every output records the same time; exec keeps
    # the process floe's (d finds the ranks by name). Under AddressSanitizer
    # the shim comes first in the library list, which ASan refuses unless
    # told not to check (as every other fixed-time test does).
    with open(os.path.join(bindir, "floe"), "w") as f:
        f.write("#!/bin/sh\n"
                "ASAN_OPTIONS=\"${ASAN_OPTIONS:+$ASAN_OPTIONS:}verify_asan_link_order=0\" "
                f"LD_PRELOAD={shlex.quote(os.environ['FLOE_FIXED_TIME'])} exec "
                f"{shlex.quote(os.path.abspath(FLOE))} \"$@\"\n")
    os.chmod(os.path.join(bindir, "floe"), 0o755)
    fast = os.environ["FLOE_S3_ENDPOINT"]
    env = dict(os.environ, SLURM_CONF=os.path.join(state, "slurm.conf"),
               PATH=bindir + os.pathsep + os.environ.get("PATH", "/usr/bin:/bin"),
               AWS_ENDPOINT_URL=fast, OMPI_ALLOW_RUN_AS_ROOT="1",
               OMPI_ALLOW_RUN_AS_ROOT_CONFIRM="1", OMPI_MCA_rmaps_base_oversubscribe="1")
    cl = Cluster(state, env)
    scripts_and_arrays(cl, work, tmp, env)
    checkpointed(cl, tbdir, work, tmp, env)
    requeued(cl, tbdir, work, tmp, env)


def reference_run(work, tmp, name, args, env, np_=2, out=None):
    """The same command (the same relative output name, no other option:
    the command is recorded) under mpirun in a folder of its own, through
    the same `floe` on PATH (the fixed-time shim): the path of its output
    (its stderr into `out`, a dict, if given)."""
    ref = os.path.join(tmp, "ref-" + name)
    os.makedirs(ref)
    for e in os.listdir(work):
        if os.path.islink(os.path.join(work, e)):
            os.symlink(os.readlink(os.path.join(work, e)), os.path.join(ref, e))
    floe = shutil.which("floe", path=env["PATH"])
    r = subprocess.run([MPIRUN, "-np", str(np_), floe, *args], cwd=ref, env=env,
                       capture_output=True, text=True, timeout=600)
    said = "\n".join(x for x in r.stderr.splitlines() if x.startswith("floe"))
    check(r.returncode == 0, f"reference {name}: exit {r.returncode}: {said or r.stderr[-500:]}")
    if out is not None:
        out["stderr"] = r.stderr
    return os.path.join(ref, args[args.index("-o") + 1])


def scripts_and_arrays(cl, work, tmp, env):
    """a and c: the "Slurm batch scripts" block, as written."""
    blocks = section_blocks("Slurm batch scripts")
    lines = command_lines(blocks[0]) if blocks else []
    check(len(lines) == 6, f"README's Slurm batch scripts block: 6 lines: {lines}")
    if len(lines) != 6:
        return
    jobs = []
    for cmd in lines:
        r = cl.sh(cmd, work)
        check(r.returncode == 0, f"{cmd}: exit {r.returncode}: {r.stderr.strip()[-500:]}")
        jobs += submitted(r.stdout)
    check(len(jobs) >= 2, f"the block submitted its jobs: {jobs}")
    check(cl.wait(None), f"every job left the queue within {JOB_WAIT_S} s: {cl.queued()}")
    st = cl.states()
    for j in set(jobs) | {k for k in st if "_" in k}:
        check(st.get(j) == "COMPLETED", f"job {j}: {st.get(j)}")
    logs = sorted(glob.glob(os.path.join(work, "floe-*.log")))
    for log in logs:
        print(f"--- {os.path.basename(log)}\n{open(log).read().rstrip()}")
    for cmd in (lines[0], lines[2], lines[4]):
        words = shlex.split(cmd)
        script = os.path.join(work, words[words.index("-o") + 1])  # floe sbatch's -o
        out = words[words.index("-o", words.index("--")) + 1]      # floe's -o
        path = os.path.join(work, out)
        check(os.path.exists(path), f"{out} written by the Slurm job(s)")
        if not os.path.exists(path):
            continue
        want = reference_run(work, tmp, out, floe_words(script), env)
        same_bytes(path, want, f"{out} from Slurm equals the same request under mpirun -np 2")
    check(not glob.glob(os.path.join(work, "*.floe-parts")) and
          not glob.glob(os.path.join(work, "*.floe-ckpt")),
          "no pieces or checkpoint left after the merge and the commit")


def checkpoint_script(work):
    """b, d: "Running on Slurm": the script block (written to its file) and
    the submit line."""
    blocks = section_blocks("Running on Slurm")
    script = next((b for b in blocks if b.startswith("#!/bin/bash")), None)
    submit = [c for b in blocks if not b.startswith("#!") for c in command_lines(b)]
    check(script is not None and submit and all(c == submit[0] for c in submit),
          f"README's Running on Slurm: a script and one submit line: {submit}")
    if script is None or not submit:
        return None, None
    name = re.search(r"^# (\S+\.sbatch)", script, re.M).group(1)
    with open(os.path.join(work, name), "w") as f:
        f.write(script)
    return name, submit[0]


def checkpointed(cl, tbdir, work, tmp, env):
    name, submit = checkpoint_script(work)
    if not name:
        return
    text = open(os.path.join(work, name)).read()
    out = re.search(r"-o (\S+\.nc)", text).group(1)
    log = re.search(r"--output=(\S+)", text).group(1)
    args = shlex.split(re.search(r"floe (climatology .*?)--resume", text.replace("\\\n", " "),
                                 re.S).group(1))
    want = reference_run(work, tmp, "ckpt", args, env)
    words = shlex.split(submit)
    check(words[0] == "sbatch" and words[-1] == name, f"the submit line runs {name}: {submit}")
    # b: the time limit (1 minute: Slurm's least), a slow stand-in
    with own_standin(tbdir, os.path.join(tmp, "standin"), "--latency-ms", LATENCY_MS) as slow:
        r = cl.sh(shlex.join([*words[:-1], "--time=1", name]), work,
                  env=dict(env, AWS_ENDPOINT_URL=slow))
        first = submitted(r.stdout)
        check(r.returncode == 0 and first, f"{submit} --time=1: {r.stderr.strip()}")
        if not first:
            return
        check(cl.wait(first[0], timeout=240), f"job {first[0]} ended within 240 s")
    st = cl.states()
    check(st.get(first[0]) == "TIMEOUT", f"job {first[0]} hit its time limit: {st.get(first[0])}")
    ckpt = os.path.join(work, out + ".floe-ckpt")
    check(os.path.isdir(ckpt) and not os.path.exists(os.path.join(work, out)),
          "a checkpoint is kept, no output yet")
    r = cl.sh(submit, work)
    again = submitted(r.stdout)
    check(r.returncode == 0 and again, f"{submit} again: {r.stderr.strip()}")
    if again:
        check(cl.wait(again[0]), f"job {again[0]} ended")
        check(cl.states().get(again[0]) == "COMPLETED", f"job {again[0]}: "
                                                       f"{cl.states().get(again[0])}")
    text = open(os.path.join(work, log)).read() if os.path.exists(os.path.join(work, log)) else ""
    print(f"--- {log}: job {first[0]} (time limit), then job {again[0] if again else '?'}\n"
          f"{text.rstrip()}")
    check("checkpoint kept" in text and re.search(r": done \d+/\d+ chunks", text),
          "the log shows the checkpoint kept and the resumed run's last line")
    check(os.path.exists(os.path.join(work, out)) and not os.path.exists(ckpt),
          "the resumed job wrote the output and removed the checkpoint")
    if os.path.exists(os.path.join(work, out)):
        same_bytes(os.path.join(work, out), want,
                   "the checkpointed and resumed output equals an uninterrupted run's")
    killed_rank(cl, tbdir, work, tmp, name, submit, out, want, env)


def killed_rank(cl, tbdir, work, tmp, name, submit, out, want, env):
    """d: SIGKILL one rank once units are saved; the same script again."""
    d = os.path.join(tmp, "kill9")
    os.makedirs(d)
    for e in os.listdir(work):
        if os.path.islink(os.path.join(work, e)) or e == name:
            shutil.copy(os.path.join(work, e), d, follow_symlinks=False)
    ckpt = os.path.join(d, out + ".floe-ckpt")
    with own_standin(tbdir, os.path.join(tmp, "standin-kill"), "--latency-ms",
                     LATENCY_MS) as slow:
        r = cl.sh(submit, d, env=dict(env, AWS_ENDPOINT_URL=slow))
        first = submitted(r.stdout)
        check(r.returncode == 0 and first, f"d: {submit}: {r.stderr.strip()}")
        if not first:
            return
        end, victim = time.time() + 200, None
        while time.time() < end and victim is None:
            units = glob.glob(os.path.join(ckpt, "*.blob"))
            if len(units) >= KILL_AFTER_UNITS:
                # floe's ranks of this job: their cwd is d
                for pid in subprocess.run(["pgrep", "-x", "floe"], capture_output=True,
                                          text=True).stdout.split():
                    try:
                        if os.readlink(f"/proc/{pid}/cwd") == d:
                            victim = int(pid)
                            break
                    except OSError:
                        pass
            time.sleep(0.2)
        check(victim is not None, "d: a rank to kill once units were saved")
        if victim:
            os.kill(victim, signal.SIGKILL)
        check(cl.wait(first[0], timeout=240), f"d: job {first[0]} ended")
    check(cl.states().get(first[0]) not in (None, "COMPLETED"),
          f"d: the job with a killed rank did not complete: {cl.states().get(first[0])}")
    check(not os.path.exists(os.path.join(d, out)), "d: no output from the killed job")
    r = cl.sh(submit, d)
    again = submitted(r.stdout)
    check(r.returncode == 0 and again, f"d: {submit} again: {r.stderr.strip()}")
    if again:
        check(cl.wait(again[0]), f"d: job {again[0]} ended")
        check(cl.states().get(again[0]) == "COMPLETED",
              f"d: job {again[0]}: {cl.states().get(again[0])}")
    path = os.path.join(d, out)
    same_bytes(path, want, "d: resumed after kill -9: the uninterrupted run's output")
    check(not os.path.exists(ckpt), "d: no checkpoint left")



def job_info(cl, jobid):
    """`scontrol show job -o ID` as {key: value} ({}: not known any more)."""
    r = subprocess.run(["scontrol", "show", "job", "-o", str(jobid)], env=cl.env,
                       capture_output=True, text=True, timeout=30)
    return dict(re.findall(r"(\w+)=(\S*)", r.stdout)) if r.returncode == 0 else {}


def done_chunks(text):
    """The chunk total of the last "done N/M chunks" line of a log, or None."""
    m = re.findall(r": done \d+/(\d+) chunks", text)
    return int(m[-1]) if m else None


def requeued(cl, tbdir, work, tmp, env):
    """e: a floe sbatch script, its time limit short: --signal, exit 3,
    scontrol requeue, the requeued run resumes and completes."""
    d = os.path.join(tmp, "requeue")
    os.makedirs(d)
    for e in os.listdir(work):
        if os.path.islink(os.path.join(work, e)):
            os.symlink(os.readlink(os.path.join(work, e)), os.path.join(d, e))
    out, script = "clim-requeue.nc", "requeue.sh"
    state = os.path.join(tmp, "standin-requeue")
    with own_standin(tbdir, state, "--latency-ms", LATENCY_MS) as slow:
        senv = dict(env, AWS_ENDPOINT_URL=slow)
        r = cl.sh(f"floe sbatch --ranks 2 --job-name clim-requeue -o {script} -- floe "
                  f"climatology collection.json -v Tair --by month -o {out}", d, env=senv)
        check(r.returncode == 0, f"e: floe sbatch: exit {r.returncode}: {r.stderr.strip()}")
        if r.returncode != 0:
            return
        path = os.path.join(d, script)
        with open(path) as f:
            text = f.read()
        short = re.sub(r"^#SBATCH --time=\S+$", f"#SBATCH --time={REQUEUE_TIME}", text,
                       flags=re.M)
        changed = [(a, b) for a, b in zip(text.splitlines(), short.splitlines()) if a != b]
        check(len(changed) == 1 and "--signal=USR1@" in text and "scontrol requeue" in text,
              f"e: the script has --signal and scontrol requeue; one line changed: {changed}")
        with open(path, "w") as f:
            f.write(short)
        r = cl.sh(f"sbatch {script}", d, env=senv)
        t0 = time.time()
        job = (submitted(r.stdout) or [None])[0]
        check(r.returncode == 0 and job, f"e: sbatch {script}: {r.stderr.strip()}")
        if not job:
            return
        log = os.path.join(d, f"clim-requeue-{job}.log")
        # the reference while the job runs (the same words: --snapshot ID)
        ref = {}
        want = reference_run(d, tmp, "requeue", floe_words(path), env, out=ref)
        # the requeue: Restarts counts it (the job is then pending again)
        end, info = time.time() + REQUEUE_WAIT_S, {}
        while time.time() < end:
            info = job_info(cl, job)
            if not info or int(info.get("Restarts", "0")) >= 1 or \
               info.get("JobState") in ("COMPLETED", "FAILED", "TIMEOUT", "CANCELLED"):
                break
            time.sleep(0.5)
        check(int(info.get("Restarts", "0")) >= 1,
              f"e: the job was requeued within {REQUEUE_WAIT_S} s: {info.get('JobState')} "
              f"Restarts={info.get('Restarts')}")
        print(f"e: job {job} after {time.time() - t0:.0f} s: {info.get('JobState')} Restarts="
              f"{info.get('Restarts')} BeginTime={info.get('BeginTime')} "
              f"Reason={info.get('Reason')}")
        # the rest without latency (the same endpoint: the job's environment
        # names it): a restart on the same port and state
        port = slow.rsplit(":", 1)[1]
        r = subprocess.run([STANDIN, "start", os.path.join(tbdir, "s3"), "--port", port,
                            "--state", state, "--latency-ms", "0"], capture_output=True,
                           text=True, timeout=60)
        check(r.returncode == 0, f"e: the stand-in made fast: {r.stderr.strip()}")
        check(cl.wait(job), f"e: job {job} ended")
    info = job_info(cl, job)
    st = cl.states().get(job)
    text = open(log).read() if os.path.exists(log) else ""
    print(f"--- {os.path.basename(log)}: job {job}, requeued by its script\n{text.rstrip()}")
    print(f"e: job {job}: {st}, Restarts={info.get('Restarts')}, {time.time() - t0:.0f} s "
          "from its submit")
    check(st == "COMPLETED" and int(info.get("Restarts", "0")) >= 1,
          f"e: the requeued job ended COMPLETED: {st}, Restarts={info.get('Restarts')}")
    check("interrupted by SIGUSR1: checkpoint kept" in text and "TIME LIMIT" not in text,
          "e: floe got --signal's SIGUSR1 before the time limit and kept its checkpoint")
    check(re.search(r"srun: error: .*Exited with exit code 3", text),
          "e: floe exited 3 (checkpoint kept)")
    whole, rest = done_chunks(ref.get("stderr", "")), done_chunks(text)
    check(whole and rest and rest < whole,
          f"e: the requeued run resumed: {rest} chunks of the whole run's {whole}")
    check(not os.path.exists(os.path.join(d, out + ".floe-ckpt")), "e: no checkpoint left")
    same_bytes(os.path.join(d, out), want,
               "e: the requeued and resumed output equals an uninterrupted mpirun run's")


if __name__ == "__main__":
    run(main, __doc__)
