#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""tests/mpi/check_collect_abort.py MPIEXEC NPFLAG PROGRAM MODE [PREFLAG...]:
run test_collect_abort MODE (send or recv) under MPIEXEC NPFLAG 2 and check
that the job ENDS: a non-zero exit status within the time limit (a hang is
what the test exists to catch), and exactly one floe error line, naming
the MPI call that failed. MPI's own lines about MPI_Abort may follow it."""
import os
import re
import signal
import subprocess
import sys

LIMIT_S = 60  # the job ends in about a second; a hang waits for ever
ERROR_LINE = re.compile(r"^floe\[\d+\] error: ", re.M)


def main():
    mpiexec, npflag, program, mode = sys.argv[1:5]
    cmd = [mpiexec, npflag, "2", *sys.argv[5:], program, mode]
    # Its own session, so that a hung job is killed with all its ranks.
    p = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                         start_new_session=True)
    try:
        out, err = p.communicate(timeout=LIMIT_S)
    except subprocess.TimeoutExpired:
        os.killpg(p.pid, signal.SIGKILL)
        out, err = p.communicate()
        print(f"FAILED: {mode}: the job hung (killed after {LIMIT_S} s)\n{out}{err}")
        return 1
    lines = ERROR_LINE.findall(err)
    want_call = "MPI_Send" if mode == "send" else "MPI_Recv"
    problems = []
    if p.returncode == 0:
        problems.append("exit status 0: the failure went unnoticed")
    if len(lines) != 1:
        problems.append(f"{len(lines)} floe error lines, expected 1")
    elif want_call not in err:
        problems.append(f"the error line does not name {want_call}")
    if problems:
        print(f"FAILED: {mode}: " + "; ".join(problems) + f"\n{out}{err}")
        return 1
    print(f"ok: {mode}: exit status {p.returncode}, one error line")
    return 0


if __name__ == "__main__":
    sys.exit(main())
