# SPDX-License-Identifier: Apache-2.0
"""reference.py: run the reference reader (the real Icechunk + zarrita,
scripts/node/reference_read.mjs) from the test-bed checks."""

import json
import os
import subprocess
import tempfile

import numpy as np

ROOT = os.path.normpath(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".."))
RUN = os.path.join(ROOT, "scripts", "node", "run")
READER = os.path.join(ROOT, "scripts", "node", "reference_read.mjs")
REPOS = {2: "s3://nasa-waterinsight/virtual-zarr-store/NLDAS-3-icechunk/",
         1: "s3://nasa-waterinsight/virtual-zarr-store/NLDAS-3-icechunk-specv1/"}


class ReaderError(Exception):
    pass


def run(spec, *args, endpoint=None):
    """Run the reader on the spec-N repository (through endpoint, default
    $FLOE_S3_ENDPOINT); returns its JSON summary."""
    cmd = [RUN, READER, "--endpoint", endpoint or os.environ["FLOE_S3_ENDPOINT"],
           "--repo", REPOS[spec], *args]
    r = subprocess.run(cmd, capture_output=True, text=True, timeout=300)
    if r.returncode != 0:
        raise ReaderError(r.stderr.strip() or f"exit {r.returncode}")
    return json.loads(r.stdout.strip().splitlines()[-1])


def read(spec, *args, endpoint=None):
    """Read a selection; returns (summary, float32 array of its shape)."""
    with tempfile.TemporaryDirectory() as tmp:
        out = os.path.join(tmp, "sel.f32")
        summary = run(spec, *args, "--out", out, endpoint=endpoint)
        data = np.fromfile(out, dtype="<f4").reshape(summary["shape"])
    return summary, data
