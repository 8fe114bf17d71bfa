# SPDX-License-Identifier: Apache-2.0
"""standin.py: a test's own S3 stand-in (scripts/s3-standin) over the test
bed's bucket folder, with its own state folder and settings (e.g. a
latency that makes a run last long enough to watch), stopped at the end.

    with own_standin(tbdir, state, "--latency-ms", "20") as endpoint: ...
"""

import contextlib
import os
import subprocess

import reference

STANDIN = os.path.join(reference.ROOT, "scripts", "s3-standin")


@contextlib.contextmanager
def own_standin(tbdir, state, *opts):
    """Start a stand-in serving tbdir/s3 on a free port; yield its endpoint;
    stop it (whatever happened)."""
    r = subprocess.run([STANDIN, "start", os.path.join(tbdir, "s3"), "--port", "0",
                        "--state", state, *opts], capture_output=True, text=True, timeout=60)
    if r.returncode != 0:
        raise RuntimeError(f"s3-standin start {' '.join(opts)}: {r.stderr.strip()}")
    try:
        with open(os.path.join(state, "endpoint")) as f:
            yield f.read().strip()
    finally:
        subprocess.run([STANDIN, "stop", "--state", state], capture_output=True, timeout=60)
