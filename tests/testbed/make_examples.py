#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
"""make_examples.py TESTBED_DIR: the inputs the README's "Using floe"
examples name, written into the test bed folder beside collection.json:

  stations.csv     five weather stations (lon,lat,id), inside the grid
  basin.geojson    one basin (a concave polygon, "name": "upper-basin")

Cheap and idempotent: a file is (re)written, atomically, only when its
content differs, so scripts/testbed calls it on an up-to-date test bed too
without rebuilding anything. Standard library only (Debian's python3).
"""

import json
import os
import sys

# lon, lat, id: well inside the test bed's grid (lat 7..72, lon -169..-52)
STATIONS = [(-71.06, 42.36, "boston"), (-87.63, 41.88, "chicago"),
            (-104.99, 39.74, "denver"), (-122.33, 47.61, "seattle"),
            (-90.07, 29.95, "new-orleans")]

# A concave basin (an L shape) of about 4 x 3 degrees, in lon,lat order.
BASIN = [[-94.0, 41.0], [-89.0, 41.0], [-89.0, 42.5], [-92.0, 42.5], [-92.0, 44.0],
         [-94.0, 44.0], [-94.0, 41.0]]


def stations_text():
    lines = ["lon,lat,id"] + [f"{lon},{lat},{sid}" for lon, lat, sid in STATIONS]
    return "\n".join(lines) + "\n"


def basin_text():
    doc = {"type": "FeatureCollection", "features": [{
        "type": "Feature", "properties": {"name": "upper-basin"},
        "geometry": {"type": "Polygon", "coordinates": [BASIN]}}]}
    return json.dumps(doc, indent=1) + "\n"


def write_if_changed(path, text):
    try:
        with open(path, encoding="utf-8") as f:
            if f.read() == text:
                return False
    except FileNotFoundError:
        pass
    tmp = path + ".tmp"
    with open(tmp, "w", encoding="utf-8") as f:
        f.write(text)
    os.replace(tmp, path)
    return True


def main(tbdir):
    for name, text in (("stations.csv", stations_text()), ("basin.geojson", basin_text())):
        if write_if_changed(os.path.join(tbdir, name), text):
            print(f"testbed: wrote {name}")
    return 0


if __name__ == "__main__":
    if len(sys.argv) != 2:
        print(__doc__, file=sys.stderr)
        sys.exit(2)
    sys.exit(main(sys.argv[1]))
