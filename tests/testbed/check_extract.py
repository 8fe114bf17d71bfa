#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
"""check_extract.py TESTBED_DIR: `floe extract` on the test bed, through the
loopback S3 stand-in, in both Icechunk spec versions.

Values are compared bit for bit with two independent sources: the reference
reader (the real Icechunk + zarrita) and direct netCDF reads of the source
files. Cases: the seed's Cape Cod query, boxes across chunk edges, one cell
wide, the whole domain, time ranges across monthly commits, a tag. The
output must be CF NetCDF-4 with the source coordinates and attributes.
Then every refusal: unauthorised location, changed source file, corrupt and
truncated manifest and snapshot, missing snapshot id, bad STAC, unknown
codec, virtual references that leave their container (dot segments, plain,
encoded or after '#', and a symlink out of a --remap/--allow local mirror):
each gives a one-line error, a non-zero exit and no output file.
Secrets in URLs (user:PASS@, pre-signed queries) appear in no output byte
(the .nc file read raw, the Item, --report), no error line and nothing
floe inspect prints. `-o ""` is refused before anything is fetched.
Prints "N passed, N failed" last.
"""

import json
import os
import shutil
import subprocess
import tempfile

import netCDF4
import numpy as np

import reference
import testlib
from archive import Archive, same_bits
from check_item import check_item
from standin import own_standin, private_root
from testlib import check, run, summary

ROOT = reference.ROOT
FLOE = os.environ.get("FLOE_BIN", os.path.join(ROOT, "build", "floe"))
CONTAINER = "s3://nasa-waterinsight/NLDAS3/forcing/daily/"
def floe(*args, endpoint=None):
    env = dict(os.environ, AWS_ENDPOINT_URL=endpoint or os.environ["FLOE_S3_ENDPOINT"])
    r = subprocess.run([FLOE, *args], capture_output=True, text=True, env=env, timeout=600)
    if r.returncode == 0:
        testlib.check_cf_output(args)
    return r


def expect_refusal(what, args, out, needles, endpoint=None):
    """A refusal: non-zero exit, one line on stderr naming the problem, no output."""
    r = floe(*args, endpoint=endpoint)
    lines = [ln for ln in r.stderr.splitlines() if ln.strip()]
    check(r.returncode != 0, f"{what}: exit status {r.returncode}")
    check(len(lines) == 1, f"{what}: one-line error, got {len(lines)}: {r.stderr!r}")
    text = r.stderr.lower()
    check(all(n.lower() in text for n in needles), f"{what}: error names {needles}: {r.stderr!r}")
    leftovers = [f for f in os.listdir(os.path.dirname(out) or ".")
                 if f.startswith(os.path.basename(out))]
    check(not leftovers, f"{what}: no output or temporary file left: {leftovers}")


def main(tbdir):
    with open(os.path.join(tbdir, "testbed.json")) as f:
        tb = json.load(f)
    arc = Archive(tbdir, tb)
    ntime, ny, nx = len(tb["files"]), tb["ny"], tb["nx"]
    _, cy, cx = tb["chunks"]
    names = [v["name"] for v in tb["variables"]]
    lat = np.array(tb["lat_values"], dtype=np.float32)
    lon = np.array(tb["lon_values"], dtype=np.float32)
    first_month = tb["files"][0]["month"]
    first_month_len = sum(1 for f in tb["files"] if f["month"] == first_month)
    tmp = tempfile.mkdtemp(prefix="floe-extract-")
    collections = {2: os.path.join(tbdir, "collection.json"),
                   1: os.path.join(tbdir, "collection-specv1.json")}

    def day(t):  # the ISO date of time step t's stamp (end of file t's day)
        import datetime
        d = datetime.date.fromisoformat(tb["files"][t]["date"]) + datetime.timedelta(days=1)
        return d.isoformat()

    def bbox_of(i0, i1, j0, j1):
        """A bbox whose edges are exactly the outer selected cell centres."""
        return (f"{float(lon[j0])!r},{float(lat[i0])!r},"
                f"{float(lon[j1 - 1])!r},{float(lat[i1 - 1])!r}")

    cases = []
    shapes = {}  # expected (time, lat, lon) sizes, worked out independently
    if "Rainf" in names:  # the seed's query, on the mini test bed
        cases.append(("cape-cod", ["-v", "Rainf", "--bbox", "-70.84,41.48,-69.77,42.10",
                                   "--time", "2001-01-16"]))
        lat64, lon64 = lat.astype(np.float64), lon.astype(np.float64)
        shapes["cape-cod"] = (1, int(((lat64 >= 41.48) & (lat64 <= 42.10)).sum()),
                              int(((lon64 >= -70.84) & (lon64 <= -69.77)).sum()))
    t0, t1 = first_month_len - 2, min(first_month_len + 2, ntime)
    i0, i1, j0, j1 = cy - 3, min(cy + 4, ny), cx - 2, min(2 * cx + 1, nx)
    shapes["across-chunks-and-commits"] = (t1 - t0, i1 - i0, j1 - j0)
    shapes["one-cell-all-days"] = (ntime, 1, 1)
    shapes["whole-domain-one-day"] = (1, ny, nx)
    cases.append(("across-chunks-and-commits",
                   ["-v", ",".join(names[:2]), "--bbox", bbox_of(i0, i1, j0, j1),
                    "--time", f"{day(t0)}/{day(t1 - 1)}"]))
    cases.append(("one-cell-all-days", ["-v", names[-1], "--bbox", bbox_of(ny // 2, ny // 2 + 1,
                                                                          nx // 3, nx // 3 + 1)]))
    cases.append(("whole-domain-one-day", ["-v", names[0], "--time", day(ntime - 1)]))

    for spec in (2, 1):
        for label, args in cases:
            out = os.path.join(tmp, f"{label}-v{spec}.nc")
            r = floe("extract", collections[spec], *args, "-o", out)
            check(r.returncode == 0, f"spec {spec} {label}: exit {r.returncode}: {r.stderr.strip()}")
            if r.returncode != 0:
                continue
            # The derived STAC Item beside it (OUT.json) describes it.
            item = out[:-3] + ".json"
            problems = check_item(item) if os.path.exists(item) else ["no Item written"]
            check(not problems, f"spec {spec} {label}: derived Item: {problems}")
            with netCDF4.Dataset(out) as ds:
                check(ds.data_model == "NETCDF4", f"{label}: NetCDF-4")
                check(getattr(ds, "Conventions", "").startswith("CF-1."), f"{label}: Conventions")
                vars_ = args[args.index("-v") + 1].split(",")
                t = ds["time"]
                la, lo = ds["lat"][:], ds["lon"][:]
                # Where the selection sits in the source grid, from the output
                # coordinates; the values must then be exactly the source's.
                ri = np.searchsorted(lat, la[0])
                rj = np.searchsorted(lon, lo[0])
                check(np.array_equal(la, lat[ri:ri + len(la)]) and
                      np.array_equal(lo, lon[rj:rj + len(lo)]),
                      f"{label}: output lat/lon are the source's float32 cell centres")
                tv = t[:]
                tsrc = np.array([f["time_value"] for f in tb["files"]])
                ti = int(np.searchsorted(tsrc, tv[0]))
                check(np.array_equal(tv, tsrc[ti:ti + len(tv)]) and
                      t.units == tb["time_attrs"]["units"] and
                      getattr(t, "calendar", "standard") in ("standard", "gregorian"),
                      f"{label}: time values and units")
                for c, axis in (("lat", "Y"), ("lon", "X"), ("time", "T")):
                    check(getattr(ds[c], "axis", None) == axis and
                          "_FillValue" not in ds[c].ncattrs(),
                          f"{label}: {c} has axis {axis} and no _FillValue")
                check("bounds" in ds["lat"].ncattrs() and "bounds" in ds["lon"].ncattrs(),
                      f"{label}: lat/lon bounds")
                for v in vars_:
                    var = ds[v]
                    var.set_auto_maskandscale(False)
                    got = var[:]
                    want = arc.read(v, ti, ti + len(tv), ri, ri + len(la), rj, rj + len(lo))
                    check(same_bits(got, want), f"spec {spec} {label} {v}: equals netCDF reads")
                    s, ref = reference.read(spec, "--var", v, "--time-index", f"{ti}:{ti + len(tv)}",
                                            "--lat-index", f"{ri}:{ri + len(la)}",
                                            "--lon-index", f"{rj}:{rj + len(lo)}")
                    check(same_bits(got, ref), f"spec {spec} {label} {v}: equals the reference reader")
                    attrs = next(x["attrs"] for x in tb["variables"] if x["name"] == v)
                    check(var.units == attrs["units"] and var.long_name == attrs["long_name"]
                          and float(var._FillValue) == -9999.0,
                          f"{label} {v}: units, long_name, _FillValue")
                check((len(tv), len(la), len(lo)) == shapes[label],
                      f"spec {spec} {label}: shape {(len(tv), len(la), len(lo))}, "
                      f"expected {shapes[label]}")

    # The tag pins the first month: its days read, later ones are not there.
    out = os.path.join(tmp, "tag.nc")
    r = floe("extract", collections[2], "--tag", f"v{first_month}", "-v", names[0],
             "--bbox", bbox_of(0, 3, 0, 3), "-o", out)
    check(r.returncode == 0, f"--tag: {r.stderr.strip()}")
    if r.returncode == 0:
        with netCDF4.Dataset(out) as ds:
            check(len(ds["time"]) == first_month_len, "--tag: only the first month")

    # ---- refusals -----------------------------------------------------------
    out = os.path.join(tmp, "refused.nc")
    repo_url = "s3://nasa-waterinsight/virtual-zarr-store/NLDAS-3-icechunk/"
    small = ["-v", names[0], "--bbox", bbox_of(0, 2, 0, 2), "--time", day(0), "-o", out]
    # A repository opened without a STAC document authorises nothing.
    expect_refusal("unauthorised location", ["extract", repo_url, *small],
                   out, ["not authorised", CONTAINER])
    r = floe("extract", repo_url, "--allow", CONTAINER, *small)
    check(r.returncode == 0 and os.path.exists(out), f"--allow authorises: {r.stderr.strip()}")
    for written in (out, os.path.splitext(out)[0] + ".json"):  # the data and its Item
        if os.path.exists(written):
            os.unlink(written)
    # A source file changed after the snapshot: a copy of it, in a root of
    # the test's own stand-in (the test bed's files are read by other tests).
    root = os.path.join(tmp, "changed-root")
    path, = private_root(tbdir, root, [os.path.relpath(arc.path(0), os.path.join(tbdir, "s3"))])
    st = os.stat(path)
    os.utime(path, (st.st_atime, st.st_mtime + 3600))
    with own_standin(tbdir, os.path.join(tmp, "changed-standin"), root=root) as endpoint:
        expect_refusal("changed source file", ["extract", collections[2], *small], out,
                       [tb["files"][0]["key"].rsplit("/", 1)[1], "changed since the snapshot"],
                       endpoint=endpoint)
    expect_refusal("missing snapshot id",
                   ["extract", collections[2], "--snapshot", "0000000000000000000G", *small], out,
                   ["0000000000000000000G"])
    bad = os.path.join(tmp, "bad.json")
    with open(bad, "w") as f:
        f.write('{"type": "Collection", "assets": {')
    expect_refusal("bad STAC", ["extract", bad, *small], out, ["bad.json"])
    # Corrupt and truncated repository objects, in a local copy of the repo.
    src = os.path.join(tbdir, "s3", "nasa-waterinsight", "virtual-zarr-store", "NLDAS-3-icechunk")
    for kind in ("manifests", "snapshots"):
        for damage in ("truncated", "corrupt"):
            copy = os.path.join(tmp, f"repo-{kind}-{damage}")
            shutil.copytree(src, copy)
            for name in os.listdir(os.path.join(copy, kind)):
                p = os.path.join(copy, kind, name)
                data = open(p, "rb").read()
                if damage == "truncated":
                    data = data[: len(data) // 2]
                else:
                    mid = len(data) // 2
                    data = data[:mid] + bytes(b ^ 0x5A for b in data[mid:mid + 64]) + data[mid + 64:]
                open(p, "wb").write(data)
            expect_refusal(f"{damage} {kind}", ["extract", copy, "--allow", CONTAINER, *small],
                           out, [kind])
            shutil.rmtree(copy)
    # An unknown codec: a repository written by the real library with one
    # array floe cannot decode. That array is refused by name; the others
    # still read (values as written: 1..8, chunks spanning two time steps).
    odd = os.path.join(tmp, "odd-repo")
    r = subprocess.run([os.path.join(ROOT, "scripts", "node", "run"), "make_odd_repo.mjs", odd],
                       capture_output=True, text=True)
    check(r.returncode == 0, f"make_odd_repo: {r.stderr.strip()}")
    expect_refusal("unknown codec", ["extract", odd, "-v", "Odd", "-o", out], out,
                   ["unknown codec", "floe.test.no-such-codec", "Odd"])
    good = os.path.join(tmp, "good.nc")
    r = floe("extract", odd, "-v", "Good", "-o", good)
    check(r.returncode == 0, f"the readable array of the odd repository: {r.stderr.strip()}")
    if r.returncode == 0:
        with netCDF4.Dataset(good) as ds:
            check(np.array_equal(ds["Good"][:].ravel(), np.arange(1, 9, dtype=np.float32)),
                  "odd repository: Good reads 1..8")
    check_secrets(tmp, collections[2], small[:-2])
    check_empty_output(tmp, collections[2], names[0])
    # Virtual references that try to leave their container (a tampered
    # manifest), read through the README's local-mirror recipe: only the
    # honest one is read; the others are refused by name, nothing written.
    hostile = os.path.join(tmp, "hostile-repo")
    r = subprocess.run([os.path.join(ROOT, "scripts", "node", "run"), "make_odd_repo.mjs",
                        hostile, "hostile"], capture_output=True, text=True)
    check(r.returncode == 0, f"make_odd_repo hostile: {r.stderr.strip()}")
    mirror, secret = os.path.join(tmp, "mirror"), os.path.join(tmp, "secret")
    os.makedirs(mirror)
    os.makedirs(secret)
    np.arange(1, 9, dtype="<f4").tofile(os.path.join(mirror, "ok.bin"))
    np.arange(101, 109, dtype="<f4").tofile(os.path.join(secret, "x"))
    os.symlink(os.path.join(secret, "x"), os.path.join(mirror, "link"))
    recipe = ["--remap", f"s3://bkt/data/=file://{mirror}/", "--allow", f"file://{mirror}/"]
    good = os.path.join(tmp, "good-mirror.nc")
    r = floe("extract", hostile, "-v", "Good", *recipe, "-o", good)
    check(r.returncode == 0, f"hostile repository: the honest reference reads: {r.stderr.strip()}")
    if r.returncode == 0:
        with netCDF4.Dataset(good) as ds:
            check(np.array_equal(ds["Good"][:].ravel(), np.arange(1, 9, dtype=np.float32)),
                  "hostile repository: Good reads 1..8 from the mirror")
    for var, loc, reason in (("Dots", "s3://bkt/data/../secret/x", "'..' segment"),
                             ("Escape", "s3://bkt/data/../../../../etc/passwd", "'..' segment"),
                             ("Frag", "s3://bkt/data/ok.bin#/../../secret/x", "'..' segment"),
                             ("Encoded", "s3://bkt/data/%2e%2e/secret/x", "'..' segment"),
                             ("Link", "s3://bkt/data/link", "outside the folder")):
        expect_refusal(f"hostile reference {var}", ["extract", hostile, "-v", var, *recipe,
                                                    "-o", out], out, [loc, reason])
    shutil.rmtree(tmp)
    return summary()


def check_secrets(tmp, collection, query):
    """Passwords and signatures in URLs (on the command line, in a STAC
    document's hrefs, in a failing source URL) are in no byte floe writes
    or prints: the .nc file read raw, the Item, --report, stderr, and what
    floe inspect prints."""
    host = os.environ["FLOE_S3_ENDPOINT"].split("://", 1)[1].rstrip("/")
    repo = f"http://user:PASS@{host}/nasa-waterinsight/virtual-zarr-store/NLDAS-3-icechunk/"
    presigned = "?X-Amz-Signature=SECRET&X-Amz-Credential=SECRET&x-amz-security-token=SECRET"
    # A local STAC document whose repository href carries user:PASS@.
    with open(collection) as f:
        doc = json.load(f)
    for a in doc["assets"].values():
        if "latest-version" in a.get("roles", []):
            a["href"] = repo
            a.pop("storage:refs", None)  # the stand-in is not the document's platform
            for h in a.get("vrt:hrefs", []):
                h["href"] = collection + h["href"][len("./collection.json"):]
    doc_path = os.path.join(tmp, "secret-collection.json")
    with open(doc_path, "w") as f:
        json.dump(doc, f)
    # A pre-signed --allow prefix is accepted (and never recorded); one with
    # a user name or password is refused, by a line that does not repeat it.
    unused = "https://elsewhere.example/x/" + presigned
    r = floe("extract", doc_path, "--allow", "https://k:PASS@elsewhere.example/x/", *query,
             "-o", os.path.join(tmp, "secret.nc"))
    check(r.returncode != 0 and "PASS" not in r.stderr and "password" in r.stderr,
          f"secrets, --allow with a password: refused without repeating it: {r.stderr!r}")
    runs = {
        "document hrefs": [doc_path, "--allow", unused],
        "repository URL": [repo, "--allow", CONTAINER, "--allow", unused],
    }
    for label, args in runs.items():
        out = os.path.join(tmp, "secret.nc")
        report = os.path.join(tmp, "secret-report.json")
        r = floe("extract", *args, *query, "-o", out, "--report", report)
        check(r.returncode == 0, f"secrets, {label}: exit {r.returncode}: {r.stderr.strip()}")
        for path in (out, os.path.join(tmp, "secret.json"), report):
            if os.path.exists(path):
                data = open(path, "rb").read()
                check(b"PASS" not in data and b"SECRET" not in data,
                      f"secrets, {label}: {os.path.basename(path)} holds no secret")
                os.unlink(path)
        check("PASS" not in r.stderr and "SECRET" not in r.stderr,
              f"secrets, {label}: stderr holds no secret: {r.stderr!r}")
    # floe inspect prints the source, repository and containers: no secret
    # on stdout or stderr, as text and as JSON, read through the network
    # and from the document alone (--stac-only).
    for label, args in (("inspect", [doc_path, "--allow", unused]),
                        ("inspect --json", [doc_path, "--allow", unused, "--json"]),
                        ("inspect --stac-only", [doc_path, "--stac-only"]),
                        ("inspect of the repository URL", [repo, "--allow", CONTAINER])):
        r = floe("inspect", *args)
        check(r.returncode == 0 and "PASS" not in r.stdout + r.stderr
              and "SECRET" not in r.stdout + r.stderr,
              f"secrets, {label}: exit {r.returncode}, no secret in what it prints: "
              f"{(r.stdout + r.stderr)[:400]!r}")
    # A failing pre-signed source: the error line names it, without secrets.
    bad = f"http://user:PASS@{host}/nasa-waterinsight/nope/collection.json{presigned}"
    out = os.path.join(tmp, "secret.nc")
    r = floe("extract", bad, *query, "-o", out)
    check(r.returncode != 0 and "nope/collection.json" in r.stderr,
          f"secrets, failing source: the error names it: {r.stderr!r}")
    check("PASS" not in r.stderr and "SECRET" not in r.stderr,
          f"secrets, failing source: stderr holds no secret: {r.stderr!r}")
    check(not os.path.exists(out), "secrets, failing source: no output")


def check_empty_output(tmp, collection, var):
    """-o "": refused at once, before anything is fetched or written."""
    before = set(os.listdir(tmp))
    r = subprocess.run([FLOE, "extract", collection, "-v", var, "-o", "", "--verbose"],
                       capture_output=True, text=True, cwd=tmp, timeout=600,
                       env=dict(os.environ, AWS_ENDPOINT_URL="http://127.0.0.1:9"))
    lines = [ln for ln in r.stderr.splitlines() if ln.strip()]
    check(r.returncode == 2 and len(lines) == 1 and "-o" in lines[0],
          f'-o "": one usage error naming -o: exit {r.returncode}: {r.stderr!r}')
    check(set(os.listdir(tmp)) == before, f'-o "": nothing written: {set(os.listdir(tmp)) - before}')


if __name__ == "__main__":
    run(main, __doc__)
