#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
"""check_inspect.py TESTBED_DIR: `floe inspect` tells the truth.

Compares `floe inspect --json` on both collections and on a bare repository
URL with the real Icechunk library's view (reference reader --info) and the
generator's description (testbed.json): snapshot, arrays, shapes, chunks,
dtypes, codecs, coordinate ranges; checks the version precedence
(--tag beats the document); and that `--stac-only` resolves the real
NLDAS-3 collection without the network. Prints "N passed, N failed" last.
"""

import datetime
import json
import os
import subprocess

import reference
from testlib import check, run, summary

FLOE = os.environ.get("FLOE_BIN", os.path.join(reference.ROOT, "build", "floe"))


def floe(*args, env_extra=None):
    env = dict(os.environ, AWS_ENDPOINT_URL=os.environ["FLOE_S3_ENDPOINT"])
    env.update(env_extra or {})
    return subprocess.run([FLOE, *args], capture_output=True, text=True, env=env, timeout=300)


def main(tbdir):
    with open(os.path.join(tbdir, "testbed.json")) as f:
        tb = json.load(f)
    names = [v["name"] for v in tb["variables"]]
    first_day = datetime.date.fromisoformat(tb["files"][0]["date"]) + datetime.timedelta(days=1)
    last_day = datetime.date.fromisoformat(tb["files"][-1]["date"]) + datetime.timedelta(days=1)
    for spec, doc in ((2, "collection.json"), (1, "collection-specv1.json")):
        r = floe("inspect", os.path.join(tbdir, doc), "--json")
        check(r.returncode == 0, f"spec {spec} inspect: {r.stderr.strip()}")
        if r.returncode:
            continue
        got = json.loads(r.stdout)
        info = reference.run(spec, "--info")
        check(got["snapshot"]["id"] == info["snapshot"], f"spec {spec}: snapshot id")
        check(got["snapshot"]["message"] == info["ancestry"][0]["message"],
              f"spec {spec}: snapshot message")
        check(got["spec_version"] == spec, f"spec {spec}: spec version")
        check(got["virtual_chunk_containers"] == ["s3://nasa-waterinsight/NLDAS3/forcing/daily/"],
              f"spec {spec}: containers {got['virtual_chunk_containers']}")
        ref_arrays = {a["path"].strip("/"): a for a in info["arrays"]}
        mine = {**got["variables"], **got["coordinates"]}
        check(set(mine) == set(ref_arrays), f"spec {spec}: arrays {sorted(mine)}")
        for n, a in ref_arrays.items():
            m = mine.get(n, {})
            check(m.get("shape") == a["shape"] and m.get("chunks") == a["chunks"]
                  and m.get("dtype") == a["dtype"]
                  and m.get("codecs", "").split(", ") == a["codecs"],
                  f"spec {spec} {n}: shape/chunks/dtype/codecs {m} vs {a}")
        check(set(got["variables"]) == set(names), f"spec {spec}: data variables")
        check(got["dimensions"] == {"time": len(tb["files"]), "lat": tb["ny"], "lon": tb["nx"]},
              f"spec {spec}: dimensions {got['dimensions']}")
        t = got["coordinates"]["time"]
        check(t["first"].startswith(first_day.isoformat()) and
              t["last"].startswith(last_day.isoformat()) and t.get("step") == "1 day",
              f"spec {spec}: time range {t['first']} .. {t['last']} step {t.get('step')}")
        lat = got["coordinates"]["lat"]
        check(abs(float(lat["first"]) - tb["lat_values"][0]) < 1e-5 and
              abs(float(lat["last"]) - tb["lat_values"][-1]) < 1e-5 and
              abs(float(lat["step"]) - tb["step"]) < 1e-6, f"spec {spec}: lat range {lat}")
        refs = sum(v["chunk_refs"] for v in got["variables"].values())
        want = sum(1 for f in tb["files"] for v in names for c in f["chunks"][v] if c)
        check(refs == want, f"spec {spec}: {refs} chunk refs, testbed.json has {want}")

    # --tag beats the document's snapshot id.
    with open(os.path.join(tbdir, "repo-v2.json")) as f:
        tag = json.load(f)["tag"]
    r = floe("inspect", os.path.join(tbdir, "collection.json"), "--json", "--tag", tag["name"])
    got = json.loads(r.stdout) if r.returncode == 0 else {}
    check(got.get("snapshot", {}).get("id") == tag["snapshot"], f"--tag: {r.stderr.strip()}")
    # A bare repository URL: branch main by default.
    r = floe("inspect", "s3://nasa-waterinsight/virtual-zarr-store/NLDAS-3-icechunk-specv1/",
             "--json")
    got = json.loads(r.stdout) if r.returncode == 0 else {}
    info = reference.run(1, "--info")
    check(got.get("snapshot", {}).get("id") == info["snapshot"], f"repository URL: {r.stderr}")

    # --stac-only on the real NLDAS-3 collection: no network, right parameters.
    shared = os.environ.get("FLOE_SHARED_DIR") or os.path.join(reference.ROOT, "..", "shared")
    real = os.path.join(shared, "fixtures", "stac", "nldas-3_xpystac_virtual-icechunk-collection.json")
    r = floe("inspect", real, "--stac-only", "--json",
             env_extra={"AWS_ENDPOINT_URL": "http://127.0.0.1:1"})
    check(r.returncode == 0, f"--stac-only: {r.stderr.strip()}")
    text = r.stdout
    check("YTNGFY4WY9189GEH1FNG" in text and "virtual-zarr-store/NLDAS-3-icechunk/" in text
          and "s3://nasa-waterinsight/NLDAS3/forcing/daily/" in text and "us-west-2" in text,
          "--stac-only: snapshot, repository, container and region of the real collection")
    return summary()


if __name__ == "__main__":
    run(main, __doc__)
