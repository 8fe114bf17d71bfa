#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
"""check_dry_run.py TESTBED_DIR: `--dry-run` of every data command
(extract, extract --resample, series at points and over a region, stats,
climatology) against the real run's --report, under mpirun at 1 and 2
ranks:

- chunks, bytes and requests (after coalescing) of the dry run equal the
  report's total exactly, and so do every rank's chunks and bytes (the
  dry run replays the job's own batches on the fetcher's own coalescing,
  so requests are exact, not within 5%, on this test bed);
- a dry run writes no file (the output folder stays empty) and fetches
  no chunk: with the data files remapped (--remap) to a folder that does
  not exist, the dry run still succeeds with the same plan while the
  real run fails on its first chunk;
- `--dry-run --json` parses and has every documented key (doc/floe.1,
  DRY RUN), of the documented types; the text form names the same
  numbers; max_pieces is the stats job's 32-step blocks (stats,
  climatology, extract --resample) or the time-chunk rows (extract,
  series);
- --json or --ranks without --dry-run is a one-line usage error;
  --ranks N plans N ranks.
Prints "N passed, N failed" last."""

import json
import os
import re
import tempfile

from testlib import check, floe_np, run, summary

KEYS = {"command": str, "variables": list, "box": dict, "cells": dict, "time": dict,
        "chunks": int, "manifests": int, "bytes": int, "requests": int, "ranks": int,
        "per_rank": list, "peak_memory_per_rank": int, "output_bytes": int, "max_pieces": int}
# steps of a block of the stats job's trees (engine/reduce/accum.h): its pieces cut there
BLOCK_STEPS = 32


def time_chunk(tb):
    """The test bed's time chunk length (floe inspect: "chunks TxYxX")."""
    r = floe_np(0, "inspect", os.path.join(tb, "collection.json"))
    m = re.search(r"^\s+Tair\s.*chunks (\d+)x", r.stdout, re.M)
    return int(m.group(1)) if m else None


def max_pieces(what, plan, ct):
    """The pieces --piece I/N can cut with work in each: 32-step blocks of
    the stats job (stats, climatology, extract --resample), whole time
    chunks of extract and series (the mini test bed's are one step: as
    many as the steps)."""
    steps = plan["time"]["steps"]
    if what.startswith(("stats", "climatology", "extract --resample")):
        return -(-steps // BLOCK_STEPS)
    return steps if ct == 1 else None


def requests(tb, name):
    """(args, what) of each command checked."""
    coll = os.path.join(tb, "collection.json")
    return [
        (["extract", coll, "-v", "Tair,Rainf", "--bbox=-75,38,-68,44",
          "--time", "2001-01-03/2001-02-10"], "extract"),
        (["extract", coll, "-v", "Tair", "--time", "2001-01-05/2001-01-09"], "extract whole grid"),
        (["extract", coll, "-v", "Tair", "--bbox=-75,38,-68,44", "--resample", "month"],
         "extract --resample"),
        (["series", coll, "-v", "Tair", "--points", os.path.join(tb, "stations.csv"),
          "--time", "2001-01-01/2001-02-20"], "series points"),
        (["series", coll, "-v", "Rainf", "--region", os.path.join(tb, "basin.geojson"),
          "--stat", "mean,max"], "series region"),
        (["stats", coll, "-v", "Tair", "--stat", "mean,max", "--bbox=-100,30,-80,45"], "stats"),
        (["stats", coll, "-v", "Tair", "--stat", "mean", "--bbox=-71,41,-70,42"],
         "stats time-split"),
        (["climatology", coll, "-v", "Tair,Rainf", "--by", "month"], "climatology"),
    ]


def main(tb):
    ct = time_chunk(tb)
    check(ct == 1, f"the mini test bed's time chunk is one step: {ct}")
    with tempfile.TemporaryDirectory() as work:
        for np_ in (1, 2):
            for k, (args, what) in enumerate(requests(tb, "x")):
                label = f"{what} at np {np_}"
                dry_dir = os.path.join(work, f"dry{np_}-{k}")
                os.mkdir(dry_dir)
                out = os.path.join(dry_dir, "out.nc")
                r = floe_np(np_, *args, "-o", out, "--dry-run", "--json", "-q")
                check(r.returncode == 0, f"{label}: dry run fails: {r.stderr.strip()[-300:]}")
                if r.returncode:
                    continue
                check(os.listdir(dry_dir) == [], f"{label}: dry run wrote {os.listdir(dry_dir)}")
                # no chunk fetched: the data files moved to where nothing is
                gone = os.path.join(work, "no-such-folder") + "/"
                moved = ["--remap", f"s3://nasa-waterinsight/NLDAS3/=file://{gone}",
                         "--allow", f"file://{gone}"]
                r2 = floe_np(np_, *args, "-o", out, "--dry-run", "--json", "-q", *moved)
                check(r2.returncode == 0, f"{label}: dry run with no data files fails: "
                      f"{r2.stderr.strip()[-300:]}")
                check(os.listdir(dry_dir) == [], f"{label}: dry run wrote {os.listdir(dry_dir)}")
                try:
                    plan = json.loads(r.stdout)
                except ValueError as e:
                    check(False, f"{label}: --json does not parse: {e}: {r.stdout[:200]}")
                    continue
                for key, typ in KEYS.items():
                    check(isinstance(plan.get(key), typ), f"{label}: key {key}: {plan.get(key)!r}")
                check(set(plan["box"]) == {"west", "south", "east", "north"}, f"{label}: box")
                check(set(plan["cells"]) == {"lat", "lon"}, f"{label}: cells")
                check(set(plan["time"]) == {"first", "last", "steps"}, f"{label}: time")
                check(plan["ranks"] == np_ and len(plan["per_rank"]) == np_, f"{label}: ranks")
                check(all(set(p) == {"rank", "chunks", "bytes"} for p in plan["per_rank"]),
                      f"{label}: per_rank keys")
                check(plan["peak_memory_per_rank"] > 0 and plan["output_bytes"] > 0,
                      f"{label}: estimates")
                want = max_pieces(what, plan, ct)
                check(plan.get("max_pieces") == want,
                      f"{label}: max_pieces {plan.get('max_pieces')}, want {want}")
                if r2.returncode == 0:
                    moved_plan = json.loads(r2.stdout)
                    check(moved_plan["chunks"] == plan["chunks"], f"{label}: remapped plan")
                    r3 = floe_np(np_, *args, "-o", out, "-q", *moved)
                    check(r3.returncode != 0, f"{label}: a real run with no data files succeeds")
                # the real run, with its report
                real_dir = os.path.join(work, f"real{np_}-{k}")
                os.mkdir(real_dir)
                rep = os.path.join(real_dir, "report.json")
                r = floe_np(np_, *args, "-o", os.path.join(real_dir, "out.nc"), "--report", rep, "-q")
                check(r.returncode == 0, f"{label}: run fails: {r.stderr.strip()[-300:]}")
                if r.returncode:
                    continue
                with open(rep) as f:
                    report = json.load(f)
                tot = report["total"]
                for key in ("chunks", "bytes", "requests"):
                    check(plan[key] == tot[key], f"{label}: {key}: dry run {plan[key]}, "
                          f"report {tot[key]}")
                for p, q in zip(plan["per_rank"], report["per_rank"]):
                    for key in ("chunks", "bytes"):
                        check(p[key] == q[key], f"{label}: rank {p['rank']} {key}: dry run "
                              f"{p[key]}, report {q[key]}")
        # the text form, --ranks, and the usage errors
        coll = os.path.join(tb, "collection.json")
        base = ["stats", coll, "-v", "Tair", "--stat", "mean", "-o", os.path.join(work, "t.nc")]
        r = floe_np(0, *base, "--dry-run", "--ranks", "3", "--json", "-q")
        plan = json.loads(r.stdout) if r.returncode == 0 else {}
        check(plan.get("ranks") == 3 and len(plan.get("per_rank", [])) == 3,
              f"--ranks 3: {r.stderr.strip()[-200:]}")
        r = floe_np(0, *base, "--dry-run", "-q")
        check(r.returncode == 0 and "dry run" in r.stdout and
              f"{plan.get('chunks')} chunks" in r.stdout, f"text form: {r.stdout[:300]}")
        check(f"at most {plan.get('max_pieces')} pieces" in r.stdout,
              f"text form: max_pieces {plan.get('max_pieces')}: {r.stdout[:600]}")
        for bad in (["--json"], ["--ranks", "2"], ["--dry-run", "--ranks", "0"]):
            r = floe_np(0, *base, *bad)
            check(r.returncode == 2 and len(r.stderr.strip().splitlines()) == 1,
                  f"{bad}: rc {r.returncode}: {r.stderr.strip()}")
        check(not os.path.exists(os.path.join(work, "t.nc")), "a dry run wrote t.nc")
    return summary()


if __name__ == "__main__":
    run(main, __doc__)
