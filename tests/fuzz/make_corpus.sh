#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# tests/fuzz/make_corpus.sh OUT: the seed corpus of each fuzzer, into
# OUT/<fuzzer>/ (emptied first), from real inputs: the committed text seeds
# (tests/fuzz/seeds/), the shared fixtures ($FLOE_SHARED_DIR/fixtures/
# icechunk and stac) and the test bed's repositories and documents
# ($FLOE_TESTBED_DIR, else `scripts/testbed dir mini`, when built).
# Binary seeds are made here, never committed. Needs zstd (the CLI) for the
# Icechunk payloads and python3 for the compressed Zarr chunks.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
out=${1:?usage: make_corpus.sh OUT}
shared=${FLOE_SHARED_DIR:?set FLOE_SHARED_DIR (the shared fixtures)}
tb=${FLOE_TESTBED_DIR:-$("$root/scripts/testbed" dir mini 2>/dev/null || true)}
# Larger seeds (the test bed's big manifests) only slow each run down:
# libFuzzer's input size limit follows the largest seed.
max_seed_bytes=$((64 << 10))

for f in icechunk zarr stac region points; do
  rm -rf "${out:?}/$f"; mkdir -p "$out/$f"
done
for f in zarr stac region points; do
  cp "$here/seeds/$f"/* "$out/$f/"
done

# ---- Icechunk: byte 0 = base repository | mode << 1 (fuzz_icechunk.c) ----
# The flatbuffer payload of a metadata file: past the 39-byte header,
# zstd-decompressed (compression byte 1) or as stored (0).
payload() {
  if [ "$(od -An -tu1 -j38 -N1 "$1" | tr -d ' ')" = 1 ]; then
    tail -c +40 "$1" | zstd -dcq
  else
    tail -c +40 "$1"
  fi
}
seed() { # seed NAME SELECTOR-BYTE: stdin after the byte (dropped when too large)
  local f="$out/icechunk/$1"
  { printf "\\x$(printf %02x "$2")"; cat; } >"$f"
  [ "$(stat -c %s "$f")" -le $max_seed_bytes ] || rm -f "$f"
}
repos=("$shared"/fixtures/icechunk/*/)
[ -n "$tb" ] && [ -d "$tb/s3" ] && repos+=("$tb"/s3/*/virtual-zarr-store/*/)
for repo in "${repos[@]}"; do
  [ -d "$repo/snapshots" ] || continue
  name=$(basename "$repo")
  if [ -f "$repo/repo" ]; then base=0; else base=1; fi
  for f in "$repo"/snapshots/* "$repo"/manifests/*; do
    [ -f "$f" ] || continue
    kind=$(basename "$(dirname "$f")")
    if [ "$kind" = snapshots ]; then mode=0; else mode=1; fi
    payload "$f" | seed "$name-$kind-$(basename "$f")" $((base | mode << 1)) || true
    [ $mode = 0 ] && seed "$name-raw-$(basename "$f")" $((base | 2 << 1)) <"$f"
  done
  if [ $base = 0 ]; then
    payload "$repo/repo" | seed "$name-repo" $((0 | 3 << 1)) || true
  elif [ -f "$repo/config.yaml" ]; then
    seed "$name-config" $((1 | 3 << 1)) <"$repo/config.yaml"
  fi
done

# ---- STAC: the fixture documents and the test bed's ----
cp "$shared"/fixtures/stac/*.json* "$out/stac/"
if [ -n "$tb" ] && [ -d "$tb" ]; then
  for f in "$tb"/*.json; do cp "$f" "$out/stac/testbed-$(basename "$f")"; done
fi

# ---- Zarr: zarr.json NUL chunk, chunks compressed as the chain says ----
python3 - "$out/zarr" <<'PY'
import gzip, struct, sys, zlib
out = sys.argv[1]
def meta(dtype, codecs, shape=(4, 6), chunks=(2, 3), fill="0"):
    return ('{"zarr_format":3,"node_type":"array","shape":%s,"data_type":"%s",'
            '"chunk_grid":{"name":"regular","configuration":{"chunk_shape":%s}},'
            '"chunk_key_encoding":{"name":"default","configuration":{"separator":"/"}},'
            '"fill_value":%s,"codecs":[%s],"attributes":{}}'
            % (list(shape), dtype, list(chunks), fill, ",".join(codecs))).encode()
raw = struct.pack("<6f", 1.5, -2.0, 3.25, 0.0, 1e30, -7.0)
def shuffle(b, n):
    return bytes(b[i * n + j] for j in range(n) for i in range(len(b) // n))
little = '{"name":"bytes","configuration":{"endian":"little"}}'
cases = {
    "bytes": ([little], raw),
    "gzip": ([little, '{"name":"gzip","configuration":{"level":5}}'], gzip.compress(raw)),
    "zlib-shuffle": ([little, '{"name":"numcodecs.shuffle","configuration":{"elementsize":4}}',
                      '{"name":"numcodecs.zlib","configuration":{"level":4}}'],
                     zlib.compress(shuffle(raw, 4))),
    "crc32c-big": (['{"name":"bytes","configuration":{"endian":"big"}}', '{"name":"crc32c"}'],
                   struct.pack(">6f", 1.5, -2.0, 3.25, 0.0, 1e30, -7.0) + b"\0\0\0\0"),
    "transpose": (['{"name":"transpose","configuration":{"order":[1,0]}}', little], raw),
}
for name, (codecs, chunk) in cases.items():
    with open("%s/%s" % (out, name), "wb") as f:
        f.write(meta("float32", codecs, fill='"NaN"') + b"\0" + chunk)
PY
if command -v zstd >/dev/null; then
  raw=$(printf '\x01\x00\x02\x00\x03\x00\x04\x00\x05\x00\x06\x00' | zstd -cq | od -An -tx1 | tr -d ' \n')
  { printf '%s' '{"zarr_format":3,"node_type":"array","shape":[6],"data_type":"int16","chunk_grid":{"name":"regular","configuration":{"chunk_shape":[6]}},"chunk_key_encoding":{"name":"v2","configuration":{"separator":"."}},"fill_value":-1,"codecs":[{"name":"bytes","configuration":{"endian":"little"}},{"name":"zstd","configuration":{"level":3,"checksum":false}}]}'
    printf '\x00'; printf '%s' "$raw" | sed 's/../\\x&/g' | xargs -0 printf; } >"$out/zarr/zstd"
fi
for f in icechunk zarr stac region points; do
  echo "corpus: $f $(ls "$out/$f" | wc -l) seeds"
done
