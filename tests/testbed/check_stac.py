#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
"""check_stac.py TESTBED_DIR: the test bed's STAC collections are valid.

Runs the offline validator (shared/tools/stac-validate, with --lint) on
collection.json and collection-specv1.json, and checks what a reader of the
seed notebook's collection relies on: one latest-version Icechunk asset whose
snapshot id is the branch tip the repository reports (repo-v*.json from the
real Icechunk library), storage:refs and vrt:hrefs that resolve, a datacube
matching the files. Prints "N passed, N failed" last.
"""

import json
import os
import subprocess

from testlib import check, run, summary


def shared_dir():
    here = os.path.dirname(os.path.abspath(__file__))
    return os.environ.get("FLOE_SHARED_DIR") or os.path.normpath(
        os.path.join(here, "..", "..", "..", "shared"))


def main(tbdir):
    validator = os.path.join(shared_dir(), "tools", "stac-validate")
    check(os.path.exists(validator), f"validator at {validator}")
    with open(os.path.join(tbdir, "testbed.json")) as f:
        tb = json.load(f)
    for spec, name in ((2, "collection.json"), (1, "collection-specv1.json")):
        path = os.path.join(tbdir, name)
        r = subprocess.run(["/usr/bin/python3", validator, "--lint", path],
                           capture_output=True, text=True)
        out = r.stdout + r.stderr
        check(r.returncode == 0, f"{name}: stac-validate exit {r.returncode}:\n{out}")
        check("LINT" not in out, f"{name}: lint warnings:\n{out}")
        with open(path) as f:
            col = json.load(f)
        with open(os.path.join(tbdir, f"repo-v{spec}.json")) as f:
            repo = json.load(f)
        ic = {k: a for k, a in col["assets"].items()
              if a["type"] == "application/vnd.zarr+icechunk"
              and "latest-version" in a.get("roles", [])}
        check(len(ic) == 1, f"{name}: one latest-version Icechunk asset")
        key, asset = next(iter(ic.items()))
        check(asset["icechunk:snapshot_id"] == repo["branch_main"],
              f"{name}: snapshot id is the main branch tip")
        check(key == f"nldas-3@{repo['branch_main']}", f"{name}: asset key {key}")
        check(asset["zarr:zarr_format"] == 3 and asset["zarr:consolidated"] is False,
              f"{name}: zarr fields")
        scheme = col["storage:schemes"][asset["storage:refs"][0]]
        check(scheme["type"] == "aws-s3" and scheme["bucket"] == "nasa-waterinsight"
              and scheme["anonymous"] is True and scheme["region"] == "us-west-2",
              f"{name}: storage scheme")
        check(asset["href"].startswith(f"s3://{scheme['bucket']}/"), f"{name}: repo href")
        legacy = col["assets"][asset["vrt:hrefs"][0]["key"]]
        check(legacy["href"] == "s3://nasa-waterinsight/NLDAS3/forcing/daily/",
              f"{name}: legacy bucket href")
        dims = col["cube:dimensions"]
        check(dims["lat"]["extent"] == [tb["lat_values"][0], tb["lat_values"][-1]]
              and dims["lon"]["extent"] == [tb["lon_values"][0], tb["lon_values"][-1]],
              f"{name}: lat/lon extents are the first and last cell centres")
        check(set(col["cube:variables"]) == {v["name"] for v in tb["variables"]},
              f"{name}: one datacube variable per array")
        check(all(v["shape"] == [len(tb["files"]), tb["ny"], tb["nx"]]
                  for v in col["cube:variables"].values()), f"{name}: variable shapes")
    return summary()


if __name__ == "__main__":
    run(main, __doc__)
