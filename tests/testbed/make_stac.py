#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
"""make_stac.py: the STAC Collection that describes a testbed repository.

Usage: make_stac.py TESTBED_DIR SPEC_VERSION REPO_HREF OUT.json

Builds the collection exactly the way the seed notebook
(shared/seeds/stac-virtual-icechunk-notebook.txt) builds the NLDAS-3 one:
storage:schemes with one anonymous aws-s3 scheme, a collection-level
Icechunk asset keyed "<name>@<snapshot>" (media type
application/vnd.zarr+icechunk, roles incl. latest-version,
icechunk:snapshot_id, zarr:*, storage:refs, vrt:hrefs -> the legacy-bucket
asset), datacube dimensions and variables, and renders. The values come
from testbed.json (written by floe-testbed-gen) and repo-v<SPEC>.json
(written by scripts/node/make_repo.mjs), never from floe.

Standard library only, so it runs with Debian's /usr/bin/python3.
"""

import json
import os
import sys

BUCKET = "nasa-waterinsight"
SCHEME = "aws-s3-nasa-waterinsight"
LEGACY_KEY = "nldas-3-legacy-bucket"

# The notebook's colour maps, by variable-name prefix.
COLORMAPS = [("LW", "inferno"), ("PS", "viridis"), ("Q", "plasma"), ("Rain", "cfastie"),
             ("SW", "magma"), ("T", "RdYlBu_r"), ("Wind", "PuOr")]


def iso_from_hours(hours, units):
    """CF 'hours since YYYY-MM-DD hh:mm:ss' -> ISO 8601 UTC (standard calendar)."""
    import datetime
    prefix = "hours since "
    if not units.startswith(prefix):
        raise SystemExit(f"make_stac: time units '{units}' are not 'hours since ...'")
    ref = datetime.datetime.fromisoformat(units[len(prefix):].strip())
    t = ref + datetime.timedelta(hours=hours)
    return t.strftime("%Y-%m-%dT%H:%M:%SZ")


def build(tb, repo, href, self_name):
    lat, lon = tb["lat_values"], tb["lon_values"]
    step = tb["step"]
    files = tb["files"]
    ntime = len(files)
    t0 = iso_from_hours(files[0]["time_value"], tb["time_attrs"]["units"])
    t1 = iso_from_hours(files[-1]["time_value"], tb["time_attrs"]["units"])
    snapshot = repo["branch_main"]
    shape = [ntime, tb["ny"], tb["nx"]]

    variables = {}
    renders = {}
    for v in tb["variables"]:
        a = v["attrs"]
        variables[v["name"]] = {
            "type": "data",
            "description": a["long_name"],
            "dimensions": ["time", "lat", "lon"],
            "unit": a["units"],
            "attrs": {k: a[k] for k in ("units", "standard_name", "long_name",
                                        "cell_methods", "vmin", "vmax")},
            "shape": shape,
            "chunks": tb["chunks"],
        }
        cmap = next(c for p, c in COLORMAPS if v["name"].startswith(p))
        renders[v["name"]] = {
            "title": a["long_name"],
            # The notebook names the asset "nldas-3" although its key is
            # "nldas-3@<snapshot>": a real defect (stac-validate --lint sees
            # it). We name the key that exists.
            "assets": [f"nldas-3@{snapshot}"],
            "resampling": "average",
            "colormap_name": cmap,
            "rescale": [[a["vmin"], a["vmax"]]],
            "backend": "xarray",
        }

    legacy_href = f"s3://{BUCKET}/{tb['archive_prefix']}"
    return {
        "type": "Collection",
        "id": "nldas-3-floe-testbed" + ("" if repo["spec_version"] == 2 else "-specv1"),
        "stac_version": "1.1.0",
        "description": (
            "Synthetic stand-in for NLDAS-3 daily forcing, written by floe's testbed "
            f"generator (scale {tb['scale']}, seed {tb['seed']}): the same file layout, "
            "variables, attributes, chunking and codecs as the real archive, served "
            "from a loopback S3 stand-in. Not real data."),
        "links": [],
        "stac_extensions": [
            "https://stac-extensions.github.io/zarr/v1.1.0/schema.json",
            "https://stac-extensions.github.io/datacube/v2.2.0/schema.json",
            "https://stac-extensions.github.io/version/v1.2.0/schema.json",
            "https://stac-extensions.github.io/storage/v2.0.0/schema.json",
            "https://stac-extensions.github.io/render/v2.0.0/schema.json",
            "https://stac-extensions.github.io/virtual-assets/v1.0.0/schema.json",
        ],
        "storage:schemes": {
            SCHEME: {
                "type": "aws-s3",
                "platform": "https://{bucket}.s3.{region}.amazonaws.com",
                "bucket": BUCKET,
                "region": "us-west-2",
                "anonymous": True,
            }
        },
        "item_assets": {},
        "cube:dimensions": {
            "time": {"extent": [t0, t1], "description": "time", "type": "temporal",
                     "step": "P1D"},
            "lon": {"axis": "x", "extent": [lon[0], lon[-1]], "step": step,
                    "description": "longitude", "reference_system": 4326, "type": "spatial"},
            "lat": {"axis": "y", "extent": [lat[0], lat[-1]], "step": step,
                    "description": "latitude", "reference_system": 4326, "type": "spatial"},
        },
        "cube:variables": variables,
        "renders": renders,
        "title": tb["global_attrs"]["title"],
        "extent": {
            # Cell edges, like rio.bounds() in the notebook.
            "spatial": {"bbox": [[tb["west"], tb["south"],
                                  tb["west"] + tb["nx"] * step,
                                  tb["south"] + tb["ny"] * step]]},
            "temporal": {"interval": [[t0, t1]]},
        },
        "license": "other",
        "providers": [{"name": "floe testbed", "roles": ["producer", "processor"],
                       "url": "https://ldas.gsfc.nasa.gov/nldas"}],
        "assets": {
            f"nldas-3@{snapshot}": {
                "href": href,
                "type": "application/vnd.zarr+icechunk",
                "title": "NLDAS-3 Virtual Zarr Store (floe testbed, Icechunk spec "
                         f"v{repo['spec_version']})",
                "zarr:consolidated": False,
                "zarr:zarr_format": 3,
                "icechunk:snapshot_id": snapshot,
                "storage:refs": [SCHEME],
                # Like the notebook: a link to the legacy asset in this very
                # document. Not a bare "#/assets/..." fragment: the
                # virtual-assets v1.0.0 schema's oneOf matches that twice
                # (iri-reference and the "#" pattern) and rejects it.
                "vrt:hrefs": [{"key": LEGACY_KEY,
                               "href": f"./{self_name}#/assets/{LEGACY_KEY}"}],
                "roles": ["data", "references", "virtual", "latest-version"],
            },
            LEGACY_KEY: {
                "href": legacy_href,
                "type": "application/x-netcdf",
                "title": "NLDAS-3 Legacy Bucket (floe testbed)",
                "storage:refs": [SCHEME],
                "roles": ["data"],
            },
        },
    }


def main(argv):
    if len(argv) != 5:
        print(__doc__.split("\n\n")[1], file=sys.stderr)
        return 2
    tbdir, spec, href, out = argv[1], int(argv[2]), argv[3], argv[4]
    with open(os.path.join(tbdir, "testbed.json")) as f:
        tb = json.load(f)
    with open(os.path.join(tbdir, f"repo-v{spec}.json")) as f:
        repo = json.load(f)
    doc = build(tb, repo, href, os.path.basename(out))
    tmp = out + ".tmp"
    with open(tmp, "w") as f:
        json.dump(doc, f, indent=2)
        f.write("\n")
    os.replace(tmp, out)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
