#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
"""check_ref_tables.py TESTBED_DIR: every rank of a data command gets the
table of exactly its chunk refs from rank 0 (engine/mpi/ref_share.h), not
whole manifests (issue #13). extract, series at points and over a box,
stats and climatology, alone (no launcher) and under mpirun at 2 and 4
ranks, each with --report:

- every rank's refs_received equals the chunks it read (the report's
  "chunks": on the mini test bed each chunk is read once, by one rank: its
  time chunk is one step) and the chunks its `--dry-run --json --ranks N`
  plan gives it;
- refs_outside_table is 0 on every rank (no lookup went to a manifest);
- the ranks' refs add up to the chunks the query needs: for a box, the
  variables x steps x the chunk rows and columns the box covers, counted
  here from the chunk grid; and fewer than the archive holds when the
  query is not the whole archive;
- the outputs' data are the same at every rank count.
Prints "N passed, N failed" last."""

import json
import math
import os
import tempfile

from testlib import check, floe_np, load, run, summary

NPS = (0, 2, 4)  # 0: alone, no launcher (one rank)


def grid(tb):
    """(chunk_refs of every variable, chunk shape, lat and lon: first,
    step) from floe inspect --json."""
    r = floe_np(0, "inspect", os.path.join(tb, "collection.json"), "--json")
    d = json.loads(r.stdout)
    refs = {k: v["chunk_refs"] for k, v in d["variables"].items()}
    chunks = d["variables"]["Tair"]["chunks"]
    axes = {k: (float(d["coordinates"][k]["first"]), float(d["coordinates"][k]["step"]))
            for k in ("lat", "lon")}
    return refs, chunks, axes


def box_chunks(plan, chunks, axes):
    """The chunks a box query needs, from the plan's box (the selected
    cells' centres), steps and variables, counted on the chunk grid."""
    def span(lo, hi, axis, c):
        first, step = axes[axis]
        i0, i1 = round((lo - first) / step), round((hi - first) / step)
        return i1 // c - i0 // c + 1
    b = plan["box"]
    ny = span(b["south"], b["north"], "lat", chunks[1])
    nx = span(b["west"], b["east"], "lon", chunks[2])
    nt = math.ceil(plan["time"]["steps"] / chunks[0])
    return len(plan["variables"]) * nt * ny * nx


def requests(tb, work):
    """(args, what, is a box query) of each command checked."""
    coll = os.path.join(tb, "collection.json")
    pts = os.path.join(work, "pts.csv")
    with open(pts, "w") as f:
        f.write("lon,lat,id\n-70.3,41.7,a\n-100.2,40.1,b\n-120.5,45.5,c\n")
    return [
        (["extract", coll, "-v", "Tair,Rainf", "--bbox=-75,38,-68,44",
          "--time", "2001-01-03/2001-01-20"], "extract", True),
        (["series", coll, "-v", "Tair", "--points", pts], "series points", False),
        (["series", coll, "-v", "Rainf", "--bbox=-100,30,-90,40", "--stat", "mean,max,count"],
         "series box", True),
        (["stats", coll, "-v", "Tair,Rainf", "--stat", "mean,max", "--bbox=-100,30,-80,45"],
         "stats", True),
        (["stats", coll, "-v", "Tair", "--stat", "mean", "--bbox=-71,41,-70,42"],
         "stats time-split", True),
        (["climatology", coll, "-v", "Tair", "--by", "month"], "climatology", True),
    ]


def main(tb):
    refs, chunks, axes = grid(tb)
    check(chunks[0] == 1, f"the mini test bed's time chunk is one step: {chunks}")
    archive = sum(refs.values())
    with tempfile.TemporaryDirectory() as work:
        for k, (args, what, is_box) in enumerate(requests(tb, work)):
            data = {}
            for np_ in NPS:
                n = max(np_, 1)
                label = f"{what} at np {n}{'' if np_ else ' (alone)'}"
                d = floe_np(0, *args, "-o", os.path.join(work, f"dry{k}-{np_}.nc"), "--dry-run",
                            "--json", "--ranks", str(n), "-q")
                check(d.returncode == 0, f"{label}: dry run fails: {d.stderr.strip()[-300:]}")
                if d.returncode:
                    continue
                plan = json.loads(d.stdout)
                out = os.path.join(work, f"out{k}-{np_}.nc")
                rep = os.path.join(work, f"report{k}-{np_}.json")
                r = floe_np(np_, *args, "-o", out, "--report", rep, "-q")
                check(r.returncode == 0, f"{label}: run fails: {r.stderr.strip()[-300:]}")
                if r.returncode:
                    continue
                with open(rep) as f:
                    report = json.load(f)
                per = report["per_rank"]
                check(len(per) == n and len(plan["per_rank"]) == n, f"{label}: ranks")
                for p, q in zip(plan["per_rank"], per):
                    got, outside = q.get("refs_received"), q.get("refs_outside_table")
                    check(got is not None and outside is not None,
                          f"{label}: rank {q['rank']}: no refs_received/refs_outside_table in "
                          f"the report")
                    check(got == q["chunks"], f"{label}: rank {q['rank']} received {got} refs, "
                          f"read {q['chunks']} chunks")
                    check(got == p["chunks"], f"{label}: rank {q['rank']} received {got} refs, "
                          f"its plan reads {p['chunks']} chunks")
                    check(outside == 0, f"{label}: rank {q['rank']}: {outside} lookups outside "
                          f"its table")
                tot = report["total"]
                total = sum(q.get("refs_received") or 0 for q in per)
                check(tot.get("refs_received") == total,
                      f"{label}: total refs_received {tot.get('refs_received')}, ranks {total}")
                check(tot.get("refs_outside_table") == 0,
                      f"{label}: total refs_outside_table {tot.get('refs_outside_table')}")
                check(total == plan["chunks"], f"{label}: {total} refs, the query reads "
                      f"{plan['chunks']} chunks")
                if is_box:
                    want = box_chunks(plan, chunks, axes)
                    check(total == want, f"{label}: {total} refs, the box needs {want} chunks")
                check(0 < total < archive, f"{label}: {total} refs of the archive's {archive}")
                data[np_] = load(out)
            # the same data at every rank count
            base = data.get(0)
            for np_, got in data.items():
                if base is None or np_ == 0:
                    continue
                same = got.keys() == base.keys() and all(
                    got[v].dtype == base[v].dtype and got[v].shape == base[v].shape and
                    got[v].tobytes() == base[v].tobytes() for v in base)
                check(same, f"{what}: the data at np {np_} differ from one rank's")
    return summary()


if __name__ == "__main__":
    run(main, __doc__)
