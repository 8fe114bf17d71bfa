#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
"""check_faults.py TESTBED_DIR: floe against a faulty S3 server.

A second S3 stand-in (scripts/s3-standin, own state dir, same root) serves
the test bed with server-side faults (--faults); floe is not told anything.

- Survivable faults ("503:7,drop:11,short:13": every 7th ranged GET answers
  503 SlowDown, every 11th connection is dropped, every 13th answer is cut
  short; a range gets at most 2 faults): `floe stats` and `floe extract` at
  1 and 2 ranks under mpirun give the same bytes in every variable as on the
  normal stand-in ($FLOE_S3_ENDPOINT). Faults of every kind were injected,
  the stand-in's access log shows every faulted range fetched again, whole,
  afterwards (the client really retried; nothing was patched up; "after" by
  the number the stand-in gave each request as it came in, not the log's
  order: a line is written when its answer is done, and a 503's retry can be
  answered and logged by another worker first; and the log read again until
  every request the stand-in counted is in it, as floe may end before the
  worker that answered its last request logged it), and
  floe's --report counts the retries.
- Every range fails once ("503:1", 1 per range), coordinate and data reads
  alike: still the same bytes.
- Unsurvivable: every ranged GET of the data files answers 503: floe exits
  non-zero, with one line on stderr naming the object and the range (under
  mpirun too: rank 0 speaks for the job), and leaves no file behind. The same when
  the store's own chunks (coordinates) are the ones that fail.

The stand-in is stopped however the test ends. Prints "N passed, N failed"
last.
"""

import json
import os
import re
import shutil
import subprocess
import tempfile
import time
import urllib.request

import numpy as np

import reference
import testlib
from testlib import check, failures, load, run, summary

STANDIN = os.path.join(reference.ROOT, "scripts", "s3-standin")
LOG_WAIT_S = 30  # the most to wait for the access log's last lines
def floe_np(endpoint, np_, *args):
    """floe under mpirun -np np_, or alone for np_ 0, through endpoint."""
    return testlib.floe_np(np_, *args, endpoint=endpoint)


class Standin:
    """The faulty stand-in: one state dir, restarted with other settings."""

    def __init__(self, root, state):
        self.root, self.state, self.endpoint = root, state, None

    def start(self, *opts):
        r = subprocess.run([STANDIN, "start", self.root, "--port", "0", "--state", self.state,
                            "--access-log", *opts], capture_output=True, text=True, timeout=60)
        if r.returncode != 0:
            raise RuntimeError(f"s3-standin start {' '.join(opts)}: {r.stderr.strip()}")
        with open(os.path.join(self.state, "endpoint")) as f:
            self.endpoint = f.read().strip()
        return self.endpoint

    def stop(self):
        subprocess.run([STANDIN, "stop", "--state", self.state], capture_output=True, timeout=60)

    def counts(self):
        """The fault counters: {"ranged": N, KIND: N, ...}."""
        with urllib.request.urlopen(self.endpoint + "/__s3-standin/faults", timeout=10) as r:
            return {k: int(v) for k, v in (ln.split() for ln in r.read().decode().splitlines())}

    def log_size(self, name="access.log"):
        try:
            return os.path.getsize(os.path.join(self.state, name))
        except FileNotFoundError:
            return 0

    def faults_logged(self, since):
        """(kind, uri) of the faults the error log records after offset `since`."""
        with open(os.path.join(self.state, "error.log"), "rb") as f:
            f.seek(since)
            text = f.read().decode("utf-8", "replace")
        return re.findall(r"s3-standin fault=(\S+) n=\d+ uri=(\S+) range=", text)

    def ranged_gets(self, since, counted):
        """(uri, first, last, status, body bytes) of the ranged GETs logged after offset
        `since`, in the order they came in (the n=N the stand-in counts them by, not
        the log's order), the ranged lines that did not parse, and the numbers in
        `counted` missing from the log. A line is written once its answer is sent, so
        the client may have had the answer (and ended) before: the log is read again
        until every request the stand-in counted is in it (for a while)."""
        pat = re.compile(r'"GET (\S+) HTTP/[\d.]+" (\d+) (\d+) range="bytes=(\d+)-(\d+)" '
                         r'\S+ n=(\d+)$')
        deadline = time.monotonic() + LOG_WAIT_S
        while True:
            with open(os.path.join(self.state, "access.log"), "rb") as f:
                f.seek(since)
                text = f.read().decode("utf-8", "replace")
            got, odd = [], []
            for ln in text.splitlines():
                if 'range="-"' in ln:
                    continue
                m = pat.search(ln)
                if not m:
                    odd.append(ln)
                    continue
                got.append((int(m[6]), (m[1], int(m[4]), int(m[5]), int(m[2]), int(m[3]))))
            missing = set(counted) - {n for n, _ in got}
            if not missing or time.monotonic() > deadline:
                return [g for _, g in sorted(got)], odd, sorted(missing)
            time.sleep(0.1)


def covered(a, b, spans):
    """True when [a, b] lies inside the union of the (first, last) spans."""
    for s, e in sorted(spans):
        if s > a:
            return False
        if e >= a:
            a = e + 1
            if a > b:
                return True
    return False


def check_retried(what, gets):
    """Every faulted ranged GET (an error status, a dropped connection (444) or a
    206 with fewer bytes than its range) has its bytes fetched whole later."""
    faulted = 0
    for i, (uri, a, b, status, nbytes) in enumerate(gets):
        if status == 206 and nbytes == b - a + 1:
            continue
        faulted += 1
        later = [(s, e) for (u, s, e, st, n) in gets[i + 1:]
                 if u == uri and st == 206 and n == e - s + 1]
        if not covered(a, b, later):
            check(False, f"{what}: {uri} bytes={a}-{b} ({status}, {nbytes} bytes) "
                         "was not fetched again afterwards")
            return
    check(faulted > 0, f"{what}: the access log shows faulted requests")
    check(True, f"{what}: every faulted range was fetched again, whole ({faulted} faults)")


def same_bytes(got, want):
    if sorted(got) != sorted(want):
        return f"variables {sorted(got)} vs {sorted(want)}"
    for k in want:
        if got[k].dtype != want[k].dtype or got[k].shape != want[k].shape or \
                not np.array_equal(got[k].view(np.uint8), want[k].view(np.uint8)):
            return f"variable {k} differs"
    return None


def main(tbdir):
    with open(os.path.join(tbdir, "testbed.json")) as f:
        tb = json.load(f)
    coll = os.path.join(tbdir, "collection.json")
    normal = os.environ["FLOE_S3_ENDPOINT"]
    tmp = tempfile.mkdtemp(prefix="floe-faults-")
    si = Standin(os.path.join(tbdir, "s3"), os.path.join(tmp, "standin"))
    names = [v["name"] for v in tb["variables"]]
    var = "Tair" if "Tair" in names else names[0]
    var2 = "Rainf" if "Rainf" in names else names[-1]
    data_prefix = f"{tb['bucket']}/{tb['archive_prefix']}"   # the legacy files
    first = tb["files"][0]["date"]
    mid = tb["files"][len(tb["files"]) // 2]["date"]
    # Whole period (62 files at mini: over a thousand ranged GETs) for stats;
    # half of it and two variables for extract.
    jobs = {
        "stats": ["stats", coll, "-v", var, "--stat", "mean,min,max,std,count",
                  "--bbox", "-100,30,-65,45"],
        # the files' own dates: each file's stamp is the end of its day
        "extract": ["extract", coll, "-v", f"{var},{var2}", "--bbox", "-90,32,-70,44",
                    "--time", f"{first}/{mid}", "--time-label", "end"],
    }
    try:
        # ---- the answers on the normal stand-in
        want = {}
        for job, args in jobs.items():
            for np_ in (1, 2):
                out = os.path.join(tmp, f"normal-{job}-{np_}.nc")
                r = floe_np(normal, np_, *args, "-o", out)
                check(r.returncode == 0, f"normal {job} np {np_}: exit {r.returncode}: "
                                         f"{r.stderr.strip()[-500:]}")
                if r.returncode == 0:
                    want[job, np_] = load(out)

        # ---- survivable faults, then every range failing once
        for li, (label, opts) in enumerate((
                ("503:7,drop:11,short:13", ["--faults", "503:7,drop:11,short:13"]),
                ("every range fails once", ["--faults", "503:1", "--faults-per-range", "1"]))):
            for job, args in jobs.items():
                for np_ in (1, 2):
                    what = f"{label}: {job} np {np_}"
                    si.stop()  # fresh counts, per range too
                    ep = si.start(*opts)
                    c0, off, eoff = si.counts(), si.log_size(), si.log_size("error.log")
                    out = os.path.join(tmp, f"faulty{li}-{job}-{np_}.nc")
                    report = os.path.join(tmp, f"faulty{li}-{job}-{np_}-report.json")
                    r = floe_np(ep, np_, *args, "-o", out, "--report", report)
                    check(r.returncode == 0, f"{what}: exit {r.returncode}: "
                                             f"{r.stderr.strip()[-500:]}")
                    c1 = si.counts()
                    kinds = [k for k in c1 if k != "ranged"]
                    delta = {k: c1[k] - c0.get(k, 0) for k in c1}
                    check(all(delta[k] > 0 for k in kinds),
                          f"{what}: faults of every kind were injected: {delta}")
                    gets, odd, missing = si.ranged_gets(off, range(c0.get("ranged", 0) + 1,
                                                                   c1["ranged"] + 1))
                    check(not odd, f"{what}: unparsed access log lines: {odd[:3]}")
                    check(not missing, f"{what}: requests the stand-in counted are not in its "
                                       f"access log after {LOG_WAIT_S} s: n={missing[:5]}")
                    check(sum(1 for g in gets if g[3] != 206 or g[4] != g[2] - g[1] + 1) ==
                          sum(delta[k] for k in kinds),
                          f"{what}: the access log shows the faults the stand-in counted")
                    check_retried(what, gets)
                    # floe's own count: every 503 and short read of a data file
                    # is one retry of floe's fetcher (libcurl itself may resend
                    # a request whose kept-alive connection was dropped, so
                    # drops only bound it from above); store chunks
                    # (coordinates) are read another way, so are left out.
                    logged = si.faults_logged(eoff)
                    check(len(logged) == sum(delta[k] for k in kinds),
                          f"{what}: the error log records every fault")
                    data = "/" + data_prefix
                    hard = sum(1 for k, u in logged if u.startswith(data) and k != "drop")
                    try:
                        with open(report) as f:
                            tot = json.load(f)["total"]
                        check(hard <= tot["retries"] <= len(logged) and tot["failures"] == 0,
                              f"{what}: --report: {tot['retries']} retries, {tot['failures']} "
                              f"failures; {hard} 503s and short reads of data files, "
                              f"{len(logged)} faults in all")
                    except (OSError, ValueError, KeyError) as e:
                        check(False, f"{what}: --report {report}: {e}")
                    if r.returncode == 0 and (job, np_) in want:
                        bad = same_bytes(load(out), want[job, np_])
                        check(bad is None, f"{what}: same bytes as without faults: {bad}")

        # ---- unsurvivable: every ranged GET of the data files fails, always
        ep = si.start("--faults", "503:1", "--faults-per-range", "0",
                      "--faults-prefix", data_prefix)
        obj = re.compile(r"s3://" + re.escape(data_prefix) + r"\S+\.nc bytes=\d+-\d+")
        for job, np_ in (("stats", 0), ("extract", 2)):
            what = f"every data read fails: {job} " + (f"np {np_}" if np_ else "alone")
            odir = os.path.join(tmp, f"dead-{job}")
            os.mkdir(odir)
            r = floe_np(ep, np_, *jobs[job], "-o", os.path.join(odir, "out.nc"))
            check(r.returncode != 0, f"{what}: exit status {r.returncode}")
            lines = [ln for ln in r.stderr.splitlines() if ln.strip()]
            mine = [ln for ln in lines if ln.startswith("floe")]
            if np_ == 0:
                check(len(lines) == 1, f"{what}: one line on stderr, got {len(lines)}: "
                                       f"{r.stderr.strip()[:1000]}")
            else:
                check(len(mine) == 1, f"{what}: one error line for the job (rank 0's), "
                                      f"got {len(mine)}: {r.stderr.strip()[:1000]}")
            check(mine and all(obj.search(ln) and "503" in ln for ln in mine),
                  f"{what}: the error names the object, the range and the 503: {mine}")
            check(os.listdir(odir) == [], f"{what}: no file left: {os.listdir(odir)}")

        # the store's own chunks fail (the coordinates, read before any data)
        ep = si.start("--faults", "503:1", "--faults-per-range", "0")
        odir = os.path.join(tmp, "dead-coords")
        os.mkdir(odir)
        r = floe_np(ep, 0, *jobs["stats"], "-o", os.path.join(odir, "out.nc"))
        what = "every ranged read fails: stats alone"
        check(r.returncode != 0, f"{what}: exit status {r.returncode}")
        lines = [ln for ln in r.stderr.splitlines() if ln.strip()]
        check(len(lines) == 1 and re.search(r"s3://\S+ bytes=\d+-\d+", lines[0]) and
              "503" in lines[0],
              f"{what}: one line naming the object, the range and the 503: {r.stderr.strip()}")
        check(os.listdir(odir) == [], f"{what}: no file left: {os.listdir(odir)}")
    finally:
        si.stop()
    if failures() == 0:
        shutil.rmtree(tmp, ignore_errors=True)
    else:
        print(f"outputs and the stand-in's logs are in {tmp}")
    return summary()


if __name__ == "__main__":
    run(main, __doc__)
