#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# check_determinism.sh GENERATOR: the test bed is a pure function of its
# options and seed. The same options with 1 and 2 worker processes give
# byte-identical files and the same chunk index; another seed gives other
# data (so the comparison can fail).
set -euo pipefail
gen=$1
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
opts=(--ny 60 --nx 90 --chunks 20,30 --days 3 --vars Tair,Rainf --quiet)
"$gen" --out "$tmp/a" "${opts[@]}" --jobs 1
"$gen" --out "$tmp/b" "${opts[@]}" --jobs 2
"$gen" --out "$tmp/c" "${opts[@]}" --jobs 2 --seed 7
pass=0; fail=0
ok() { pass=$((pass + 1)); }
bad() { fail=$((fail + 1)); echo "FAIL: $*"; }
n=0
while IFS= read -r f; do
  n=$((n + 1))
  if cmp -s "$tmp/a/$f" "$tmp/b/$f"; then ok; else bad "$f differs between --jobs 1 and 2"; fi
  if cmp -s "$tmp/a/$f" "$tmp/c/$f"; then bad "$f is the same for another seed"; else ok; fi
done < <(cd "$tmp/a" && find s3 -name '*.nc' | sort)
[ "$n" = 3 ] && ok || bad "expected 3 files, found $n"
# The index too, apart from the timing it records.
strip() { /usr/bin/python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); d.pop("generate_seconds"); print(json.dumps(d, sort_keys=True))' "$1"; }
if [ "$(strip "$tmp/a/testbed.json")" = "$(strip "$tmp/b/testbed.json")" ]; then ok; else bad "testbed.json differs"; fi
echo "$pass passed, $fail failed"
[ "$fail" = 0 ]
