# SPDX-License-Identifier: Apache-2.0
"""standin.py: a test's own S3 stand-in (scripts/s3-standin) over the test
bed's bucket folder, with its own state folder and settings (e.g. a
latency that makes a run last long enough to watch), stopped at the end;
and a private root for one, where a test may change a source file.

    with own_standin(tbdir, state, "--latency-ms", "20") as endpoint: ...
    copy, = private_root(tbdir, folder, ["BUCKET/KEY"])
    with own_standin(tbdir, state, root=folder) as endpoint: ...
"""

import contextlib
import os
import shutil
import subprocess

import reference

STANDIN = os.path.join(reference.ROOT, "scripts", "s3-standin")


def private_root(tbdir, folder, copied):
    """A root for a stand-in (folder, made here) that serves what tbdir/s3
    does, through symbolic links to the test bed's files, except the keys in
    `copied` (paths under s3/, e.g. "BUCKET/KEY"): own copies, with the same
    modification times, returned as their paths. A test changes those, never
    the test bed's own files: every other test reads them, at the same time
    under ctest -j, and a source changed for a moment fails their reads
    (HTTP 412, "changed since the snapshot")."""
    src = os.path.join(tbdir, "s3")
    copies = {os.path.normpath(k): None for k in copied}
    for d, _, files in os.walk(src):
        rel = os.path.relpath(d, src)
        os.makedirs(os.path.join(folder, rel), exist_ok=True)
        for f in files:
            key = os.path.normpath(os.path.join(rel, f))
            if key in copies:
                copies[key] = shutil.copy2(os.path.join(d, f), os.path.join(folder, key))
            else:
                os.symlink(os.path.join(d, f), os.path.join(folder, key))
    missing = [k for k, p in copies.items() if p is None]
    if missing:
        raise FileNotFoundError(f"not in the test bed: {missing}")
    return [copies[os.path.normpath(k)] for k in copied]


@contextlib.contextmanager
def own_standin(tbdir, state, *opts, root=None):
    """Start a stand-in serving root (default tbdir/s3) on a free port; yield
    its endpoint; stop it (whatever happened)."""
    r = subprocess.run([STANDIN, "start", root or os.path.join(tbdir, "s3"), "--port", "0",
                        "--state", state, *opts], capture_output=True, text=True, timeout=60)
    if r.returncode != 0:
        raise RuntimeError(f"s3-standin start {' '.join(opts)}: {r.stderr.strip()}")
    try:
        with open(os.path.join(state, "endpoint")) as f:
            yield f.read().strip()
    finally:
        subprocess.run([STANDIN, "stop", "--state", state], capture_output=True, timeout=60)
