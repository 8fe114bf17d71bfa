# SPDX-License-Identifier: Apache-2.0
"""cf_output_rules.py: the CF rules every NetCDF output of floe must keep,
whatever its source (issue #12 section 3), checked on every output the
test-bed tests write through testlib (floe_np / checked_output): a
reader's and a checker's view, with netCDF4, independent of floe.

- global Conventions "CF-1.8", a title, floe's history line first
  ("YYYY-MM-DDThh:mm:ssZ: floe ...");
- every standard_name spelled as a CF standard name (lower case, digits,
  underscores, an optional Appendix C modifier): free text never;
- every cell_methods parses by the CF 7.3 grammar with Appendix E methods;
- a count (VAR_count) is an integer with units "1", no _FillValue, no
  standard_name and no cell_methods;
- a timeSeries file has exactly one cf_role = timeseries_id variable;
- time_bnds / climatology_bounds named by the time coordinate exist with
  shape (time, 2).
The test-bed-specific rules (which methods each statistic claims, the
source's carried-over attributes) stay in check_cf_rules.py.
"""

import re

import netCDF4

# CF Appendix E cell methods.
METHODS = {"point", "sum", "maximum", "maximum_absolute_value", "median", "mid_range",
           "minimum", "minimum_absolute_value", "mean", "mean_absolute_value",
           "mean_of_upper_decile", "mode", "range", "root_mean_square", "standard_deviation",
           "sum_of_squares", "variance"}
# CF Appendix C standard name modifiers.
MODIFIERS = {"detection_minimum", "number_of_observations", "standard_error", "status_flag"}
HISTORY = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ: floe ")
ENTRY = re.compile(r"((?:[A-Za-z_][A-Za-z0-9_]*:\s+)+)([a-z_]+)"
                   r"((?:\s+(?:where|over|within)\s+[A-Za-z_][A-Za-z0-9_]*)*)"
                   r"(?:\s+\(([^()]*)\))?\s*")


def cell_methods_ok(text):
    rest = text.strip()
    if not rest:
        return False
    while rest:
        m = ENTRY.match(rest)
        if not m or m.end() == 0 or m.group(2) not in METHODS:
            return False
        rest = rest[m.end():]
    return True


def problems(path):
    """The rules path breaks, as short strings (empty: none)."""
    out = []
    with netCDF4.Dataset(path) as ds:
        g = {a: ds.getncattr(a) for a in ds.ncattrs()}
        if g.get("Conventions") != "CF-1.8":
            out.append(f"Conventions {g.get('Conventions')!r}")
        if not g.get("title"):
            out.append("no title")
        if not HISTORY.match(str(g.get("history", ""))):
            out.append(f"history {str(g.get('history', ''))[:40]!r}")
        for name, v in ds.variables.items():
            attrs = v.ncattrs()
            sn = getattr(v, "standard_name", None)
            if sn is not None:
                base, _, mod = str(sn).partition(" ")
                if not re.fullmatch(r"[a-z][a-z0-9_]*", base) or (mod and mod not in MODIFIERS):
                    out.append(f"{name}: standard_name {sn!r}")
            cm = getattr(v, "cell_methods", None)
            if cm is not None and not cell_methods_ok(str(cm)):
                out.append(f"{name}: cell_methods {cm!r}")
            if name.endswith("_count") and str(getattr(v, "long_name", "")).startswith("number"):
                if v.dtype.kind not in "iu":
                    out.append(f"{name}: a count of type {v.dtype}")
                if getattr(v, "units", None) != "1" or "_FillValue" in attrs or \
                        "standard_name" in attrs or "cell_methods" in attrs:
                    out.append(f"{name}: a count with {attrs}")
        if g.get("featureType") == "timeSeries":
            roles = [n for n, v in ds.variables.items()
                     if getattr(v, "cf_role", None) == "timeseries_id"]
            if len(roles) != 1:
                out.append(f"timeSeries with cf_role variables {roles}")
        if "time" in ds.variables:
            t = ds["time"]
            for a in ("bounds", "climatology"):
                b = getattr(t, a, None)
                if b is not None and (b not in ds.variables or
                                      ds[b].shape != (len(ds.dimensions["time"]), 2)):
                    out.append(f"time {a} {b!r} missing or not (time, 2)")
    return out
