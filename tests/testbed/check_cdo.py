#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
"""check_cdo.py TESTBED_DIR: floe's statistics, climatologies and subsets
against CDO run on the same source files.

CDO reads the test bed's daily NetCDF files directly (sellonlatbox and
selname per file, mergetime), floe reads them through the collection over
the S3 stand-in, at 1 and 2 ranks under mpirun:

- floe stats --stat mean,std,min,max  vs  CDO timmean, timstd, timmin,
  timmax of seldate (CDO computes in double, written with -b F64; floe
  writes float32): mean and std within rtol 1e-5 (atol 1e-5 of the field's
  largest value, for std near 0), min and max exactly;
- floe climatology --by month --stat mean,std  vs  CDO ymonmean, ymonstd:
  the same months, the same tolerances;
- floe extract  vs  CDO sellonlatbox + seldate: the same lat, lon and time
  stamps, the data bytes identical;
- missing cells (ocean) are missing in both, exactly.

The time range is given to floe as dates (bare dates cover their whole
day) and to CDO as the same days from 00:00:00 to 23:59:59; both select by
the stored stamps, which are at the END of each file's day (the file of
2001-01-01 is stamped 2001-01-02T00:00). The box edges lie between cell
centres, so the two box conventions (floe: centres inside, edges inclusive;
CDO sellonlatbox: centres inside) cannot differ. CDO's timstd and ymonstd
divide by n, as floe's std does. Prints "N passed, N failed" last.
"""

import datetime
import json
import os
import shutil
import subprocess
import tempfile

import netCDF4
import numpy as np

from testlib import check, failures, floe_np, run, summary

RTOL = 1e-5
def cdo(*args):
    """Runs CDO; returns None or the end of its stderr (which also carries
    harmless HDF5 diagnostics, so only the status counts)."""
    r = subprocess.run(["cdo", "-s", "-O", *args], capture_output=True, text=True, timeout=600)
    return None if r.returncode == 0 else r.stderr.strip()[-500:]


class Var:
    """A variable's raw values (no masking or scaling), its missing mask and
    decoded time stamps when it has a time dimension."""

    def __init__(self, ds, name):
        v = ds[name]
        v.set_auto_maskandscale(False)
        self.data = np.asarray(v[:])
        fills = [getattr(v, a) for a in ("_FillValue", "missing_value") if hasattr(v, a)]
        self.missing = np.zeros(self.data.shape, bool)
        for f in fills:
            self.missing |= self.data == np.asarray(f, dtype=self.data.dtype)
        self.missing |= np.isnan(self.data) if self.data.dtype.kind == "f" else False


def read(path, names):
    with netCDF4.Dataset(path) as ds:
        out = {n: Var(ds, n) for n in names}
        t = ds["time"]
        stamps = netCDF4.num2date(t[:], t.units, getattr(t, "calendar", "standard"),
                                  only_use_cftime_datetimes=False)
        coords = {k: np.asarray(ds[k][:]) for k in ("lat", "lon")}
    return out, [datetime.datetime(s.year, s.month, s.day, s.hour, s.minute) for s in stamps], coords


def compare(what, got, want, exact):
    """got: floe's float32 field, want: CDO's field, same shape."""
    if got.data.shape != want.data.shape:
        check(False, f"{what}: shape {got.data.shape} vs CDO {want.data.shape}")
        return
    check(np.array_equal(got.missing, want.missing),
          f"{what}: missing cells as CDO's ({int(got.missing.sum())} vs {int(want.missing.sum())})")
    ok = ~(got.missing | want.missing)
    g, w = got.data[ok].astype(np.float64), want.data[ok].astype(np.float64)
    if not ok.any():
        check(False, f"{what}: no valid cell to compare")
        return
    if exact:
        bad = int(np.sum(g != w))
        check(bad == 0, f"{what}: equals CDO exactly ({bad} cells differ, "
                        f"largest {np.max(np.abs(g - w)):.3g})")
    else:
        atol = 1e-5 * np.max(np.abs(w))
        err = np.abs(g - w)
        bad = err > atol + RTOL * np.abs(w)
        check(not bad.any(), f"{what}: within rtol {RTOL} of CDO ({int(bad.sum())} cells "
                             f"outside, largest relative error "
                             f"{np.max(err / np.maximum(np.abs(w), atol)):.2e})")


def main(tbdir):
    if not shutil.which("cdo"):
        print("FAIL: cdo is not installed (scripts/setup installs it)")
        print("0 passed, 1 failed")
        return 1
    with open(os.path.join(tbdir, "testbed.json")) as f:
        tb = json.load(f)
    names = [v["name"] for v in tb["variables"]]
    vars_ = [v for v in ("Tair", "Rainf") if v in names] or names[:1]
    root = os.path.join(tbdir, "s3", tb["bucket"])
    coll = os.path.join(tbdir, "collection.json")
    tmp = tempfile.mkdtemp(prefix="floe-cdo-")
    W, S, E, N = -100.0, 30.0, -65.0, 45.0   # edges between the 0.1 degree centres
    box = f"{W},{S},{E},{N}"

    # ---- CDO: the box of every daily file, merged along time
    merged = os.path.join(tmp, "merged.nc")
    args = []
    for fl in tb["files"]:
        args += [f"-sellonlatbox,{W},{E},{S},{N}", f"-selname,{','.join(vars_)}",
                 os.path.join(root, fl["key"])]
    err = cdo("mergetime", *args, merged)
    check(err is None, f"cdo mergetime: {err}")
    if err:
        return summary()
    _, stamps, _ = read(merged, [])
    check(len(stamps) == len(tb["files"]), f"CDO sees {len(stamps)} steps, "
                                           f"want {len(tb['files'])}")
    check(stamps[0] == datetime.datetime.fromisoformat(tb["files"][0]["date"]) +
          datetime.timedelta(days=1), f"the first file is stamped at the end of its day: "
                                      f"{stamps[0]}")
    # A range inside the period, in whole days of the stamps.
    d0, d1 = stamps[4].date(), stamps[-10].date()
    trange = f"{d0}/{d1}"
    seldate = f"-seldate,{d0}T00:00:00,{d1}T23:59:59"

    want = {}
    for op in ("timmean", "timstd", "timmin", "timmax"):
        out = os.path.join(tmp, f"cdo-{op}.nc")
        err = cdo("-b", "F64", op, seldate, merged, out)
        check(err is None, f"cdo {op}: {err}")
        if err is None:
            want[op] = read(out, vars_)
    for op in ("ymonmean", "ymonstd"):
        out = os.path.join(tmp, f"cdo-{op}.nc")
        err = cdo("-b", "F64", op, merged, out)
        check(err is None, f"cdo {op}: {err}")
        if err is None:
            want[op] = read(out, vars_)
    out = os.path.join(tmp, "cdo-subset.nc")
    err = cdo(seldate, merged, out)
    check(err is None, f"cdo seldate: {err}")
    if err is None:
        want["subset"] = read(out, vars_)

    for np_ in (1, 2):
        # ---- stats
        out = os.path.join(tmp, f"stats-{np_}.nc")
        r = floe_np(np_, "stats", coll, "-v", ",".join(vars_), "--stat", "mean,std,min,max",
                    "--bbox", box, "--time", trange, "-o", out)
        check(r.returncode == 0, f"stats np {np_}: exit {r.returncode}: {r.stderr.strip()}")
        if r.returncode == 0:
            stats = {"timmean": "mean", "timstd": "std", "timmin": "min", "timmax": "max"}
            got, _, coords = read(out, [f"{v}_{s}" for v in vars_ for s in stats.values()])
            for op, st in stats.items():
                if op not in want:
                    continue
                wv, _, wc = want[op]
                if op == "timmean":
                    check(all(np.array_equal(coords[k], wc[k]) for k in coords),
                          f"stats np {np_}: the same lat and lon as CDO's sellonlatbox")
                for v in vars_:
                    compare(f"stats np {np_}: {v}_{st} vs CDO {op}", got[f"{v}_{st}"], wv[v],
                            exact=st in ("min", "max"))
        # ---- climatology by month
        out = os.path.join(tmp, f"clim-{np_}.nc")
        r = floe_np(np_, "climatology", coll, "-v", ",".join(vars_), "--by", "month",
                    "--stat", "mean,std", "--bbox", box, "-o", out)
        check(r.returncode == 0, f"climatology np {np_}: exit {r.returncode}: "
                                 f"{r.stderr.strip()}")
        if r.returncode == 0:
            got, gstamps, _ = read(out, [f"{v}_{s}" for v in vars_ for s in ("mean", "std")])
            for op, st in (("ymonmean", "mean"), ("ymonstd", "std")):
                if op not in want:
                    continue
                wv, wstamps, _ = want[op]
                check([s.month for s in gstamps] == [s.month for s in wstamps],
                      f"climatology np {np_}: months {[s.month for s in gstamps]}, "
                      f"CDO {op}: {[s.month for s in wstamps]}")
                for v in vars_:
                    compare(f"climatology np {np_}: {v}_{st} vs CDO {op}", got[f"{v}_{st}"],
                            wv[v], exact=False)
        # ---- extract
        out = os.path.join(tmp, f"extract-{np_}.nc")
        r = floe_np(np_, "extract", coll, "-v", ",".join(vars_), "--bbox", box,
                    "--time", trange, "-o", out)
        check(r.returncode == 0, f"extract np {np_}: exit {r.returncode}: {r.stderr.strip()}")
        if r.returncode == 0 and "subset" in want:
            got, gstamps, coords = read(out, vars_)
            wv, wstamps, wc = want["subset"]
            check(gstamps == wstamps, f"extract np {np_}: time stamps {gstamps[0]}..{gstamps[-1]}"
                                      f" ({len(gstamps)}), CDO {wstamps[0]}..{wstamps[-1]} "
                                      f"({len(wstamps)})")
            check(all(np.array_equal(coords[k], wc[k]) for k in coords),
                  f"extract np {np_}: the same lat and lon as CDO's sellonlatbox")
            for v in vars_:
                g, w = got[v], wv[v]
                same = g.data.dtype == w.data.dtype and g.data.shape == w.data.shape and \
                    np.array_equal(g.data.view(np.uint8), w.data.view(np.uint8))
                check(same, f"extract np {np_}: {v} has CDO's bytes")
                compare(f"extract np {np_}: {v}", g, w, exact=True)
    if failures() == 0:
        shutil.rmtree(tmp, ignore_errors=True)
    else:
        print(f"outputs are in {tmp}")
    return summary()


if __name__ == "__main__":
    run(main, __doc__)
