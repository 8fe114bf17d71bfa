# SPDX-License-Identifier: Apache-2.0
"""archive.py: direct netCDF reads of the test bed's daily files (no
Icechunk involved), and bit-exact comparison, shared by the checks."""

import os

import netCDF4
import numpy as np


class Archive:
    def __init__(self, tbdir, tb):
        self.root = os.path.join(tbdir, "s3", tb["bucket"])
        self.files = tb["files"]

    def path(self, t):
        return os.path.join(self.root, self.files[t]["key"])

    def read(self, var, t0, t1, i0, i1, j0, j1):
        """var[t0:t1, i0:i1, j0:j1] as stored (fill values kept), float32."""
        out = []
        for t in range(t0, t1):
            with netCDF4.Dataset(self.path(t)) as ds:
                v = ds[var]
                v.set_auto_maskandscale(False)
                out.append(v[0, i0:i1, j0:j1])
        return np.stack(out).astype(np.float32)


def same_bits(a, b):
    a = np.ascontiguousarray(a, dtype=np.float32)
    b = np.ascontiguousarray(b, dtype=np.float32)
    return a.shape == b.shape and np.array_equal(a.view(np.uint32), b.view(np.uint32))
