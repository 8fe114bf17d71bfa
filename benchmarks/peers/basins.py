#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
"""basins.py: a generated basin set for benchmark W7 (many regions at once).

    basins.py --testbed DIR --rows R --cols C --out DIR [--seed S]

Tiles the test bed's domain with R x C irregular, concave basins: a grid of
quadrilaterals whose inner corners are moved at random, with a moved vertex
in the middle of every edge (shared by both neighbours, so the basins tile
the domain without gaps or overlaps, as real catchments do). Writes:

  basins.geojson   a FeatureCollection, property "id" = "basin-0001" ...
  cdo/NNNN.txt     the same polygons as CDO `maskregion` files ("lon lat")
  labels.npy       int32 (ny, nx): the basin each cell centre lies in (-1:
                   none), by an even-odd test here (regionmask-style
                   rasterising, for the xarray peer)

Nothing here knows floe's answer.
"""

import argparse
import json
import os

import numpy as np


# How far corners move (JITTER) and edge midpoints bulge (BULGE), as
# fractions of the grid spacing. A basin's two opposite midpoints can come
# at most 2 * (JITTER + BULGE) closer, so keeping that under 1 keeps every
# basin simple (not self-intersecting) and the set a true tiling.
JITTER, BULGE = 0.2, 0.25


def ring_of(V, M_h, M_v, i, j):
    """The closed ring of basin (i, j), counter-clockwise: corners and edge
    midpoints."""
    return [V[i][j], M_h[i][j], V[i][j + 1], M_v[i][j + 1], V[i + 1][j + 1], M_h[i + 1][j],
            V[i + 1][j], M_v[i][j], V[i][j]]


def inside(ring, lon, lat):
    """Even-odd test of centres (lon[None, :], lat[:, None]) against ring."""
    xs = np.asarray([p[0] for p in ring])
    ys = np.asarray([p[1] for p in ring])
    X, Y = np.meshgrid(lon, lat)
    res = np.zeros(X.shape, dtype=bool)
    for k in range(len(ring) - 1):
        x0, y0, x1, y1 = xs[k], ys[k], xs[k + 1], ys[k + 1]
        if y0 == y1:
            continue
        cross = (y0 > Y) != (y1 > Y)
        xint = x0 + (Y - y0) * (x1 - x0) / (y1 - y0)
        res ^= cross & (X < xint)
    return res


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--testbed", required=True)
    ap.add_argument("--rows", type=int, default=25)
    ap.add_argument("--cols", type=int, default=40)
    ap.add_argument("--seed", type=int, default=16)
    ap.add_argument("--out", required=True)
    a = ap.parse_args()
    tb = json.load(open(os.path.join(a.testbed, "testbed.json")))
    lat = np.array(tb["lat_values"], dtype=np.float64)
    lon = np.array(tb["lon_values"], dtype=np.float64)
    rng = np.random.default_rng(a.seed)
    # Inside the outermost centres, so every basin holds whole cells.
    s, n = lat.min() + 0.005, lat.max() - 0.005
    w, e = lon.min() + 0.005, lon.max() - 0.005
    R, C = a.rows, a.cols
    dy, dx = (n - s) / R, (e - w) / C
    V = [[None] * (C + 1) for _ in range(R + 1)]
    for i in range(R + 1):
        for j in range(C + 1):
            y, x = s + i * dy, w + j * dx
            if 0 < i < R:
                y += rng.uniform(-JITTER, JITTER) * dy
            if 0 < j < C:
                x += rng.uniform(-JITTER, JITTER) * dx
            V[i][j] = (x, y)
    # Edge midpoints, moved across the edge (concave basins); border edges stay straight.
    M_h = [[None] * C for _ in range(R + 1)]  # edge V[i][j] - V[i][j+1]
    for i in range(R + 1):
        for j in range(C):
            (x0, y0), (x1, y1) = V[i][j], V[i][j + 1]
            off = rng.uniform(-BULGE, BULGE) * dy if 0 < i < R else 0.0
            M_h[i][j] = ((x0 + x1) / 2, (y0 + y1) / 2 + off)
    M_v = [[None] * (C + 1) for _ in range(R)]  # edge V[i][j] - V[i+1][j]
    for i in range(R):
        for j in range(C + 1):
            (x0, y0), (x1, y1) = V[i][j], V[i + 1][j]
            off = rng.uniform(-BULGE, BULGE) * dx if 0 < j < C else 0.0
            M_v[i][j] = ((x0 + x1) / 2 + off, (y0 + y1) / 2)
    os.makedirs(os.path.join(a.out, "cdo"), exist_ok=True)
    feats = []
    labels = np.full((len(lat), len(lon)), -1, dtype=np.int32)
    k = 0
    for i in range(R):
        for j in range(C):
            ring = ring_of(V, M_h, M_v, i, j)
            bid = f"basin-{k + 1:04d}"
            feats.append({"type": "Feature", "properties": {"id": bid},
                          "geometry": {"type": "Polygon", "coordinates": [[list(p) for p in ring]]}})
            with open(os.path.join(a.out, "cdo", f"{k:04d}.txt"), "w") as fh:
                fh.write("".join(f"{p[0]:.10f} {p[1]:.10f}\n" for p in ring[:-1]))
            xs, ys = [p[0] for p in ring], [p[1] for p in ring]
            iy = np.nonzero((lat >= min(ys)) & (lat <= max(ys)))[0]
            ix = np.nonzero((lon >= min(xs)) & (lon <= max(xs)))[0]
            if len(iy) and len(ix):
                m = inside(ring, lon[ix], lat[iy])
                sub = labels[iy[0]:iy[-1] + 1, ix[0]:ix[-1] + 1]
                sub[m] = k
            k += 1
    with open(os.path.join(a.out, "basins.geojson"), "w") as fh:
        json.dump({"type": "FeatureCollection", "features": feats}, fh)
    np.save(os.path.join(a.out, "labels.npy"), labels)
    print(f"{k} basins, {int((labels >= 0).sum())} of {labels.size} cells labelled")


if __name__ == "__main__":
    main()
