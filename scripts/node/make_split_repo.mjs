// SPDX-License-Identifier: Apache-2.0
// make_split_repo.mjs -- a small Icechunk repository, written by the real
// library, whose data array is stored in one manifest, or split into
// several by Icechunk's manifest splitting (each manifest with its extents),
// for floe's test that a query reads only the manifests its chunks overlap
// (tests/testbed/check_split_manifests.py).
//
// usage: scripts/node/run make_split_repo.mjs REPO_DIR [SPLIT]
//
// SPLIT: time steps per manifest of /Tair (default: no splitting, one
// manifest per array as Icechunk's default configuration writes).
// Arrays (native chunks: the inline threshold is 0; codecs [bytes]):
//   /time  float64 (400)       days since 2001-01-01 00:00:00, one chunk
//   /lat   float32 (3)         30, 31, 32
//   /lon   float32 (4)         -100, -99, -98, -97
//   /Tair  float32 (400, 3, 4) (time, lat, lon), chunks of 1 x 3 x 4:
//          100*t + 10*y + x + 0.5
// Prints what it wrote as one JSON line (snapshot, the number of steps,
// the manifests of the snapshot).

import ic from '@earthmover/icechunk';

const { Repository, Storage } = ic;
const dir = process.argv[2];
const split = process.argv[3] ? Number(process.argv[3]) : 0;
if (!dir || Number.isNaN(split)) {
  console.error('usage: make_split_repo.mjs REPO_DIR [SPLIT]');
  process.exit(2);
}

const json = (o) => Buffer.from(JSON.stringify(o));
const bytes = (TypedArray, values) => Buffer.from(new TypedArray(values).buffer);
const meta = (shape, chunk, dtype, dims, attrs) => ({
  zarr_format: 3, node_type: 'array', shape, data_type: dtype,
  chunk_grid: { name: 'regular', configuration: { chunk_shape: chunk } },
  chunk_key_encoding: { name: 'default', configuration: { separator: '/' } },
  fill_value: 'NaN', codecs: [{ name: 'bytes', configuration: { endian: 'little' } }],
  attributes: attrs, dimension_names: dims,
});

const NT = 400, NY = 3, NX = 4;
const config = { inlineChunkThresholdBytes: 0 };
if (split > 0) {
  // Only /Tair is split: along time (its one chunk of lat and lon stays one).
  config.manifest = {
    splitting: {
      split_sizes: [[{ path_matches: { regex: '^/?Tair$' } }, [{ condition: 'Any', num_chunks: split }]]],
    },
  };
}
const repo = await Repository.create(await Storage.newLocalFilesystem(dir), config, 2);
const session = await repo.writableSession('main');
const store = session.store;
await store.set('zarr.json', json({ zarr_format: 3, node_type: 'group',
  attributes: { title: 'floe test: manifest splitting' } }));
await store.set('time/zarr.json', json(meta([NT], [NT], 'float64', ['time'], {
  units: 'days since 2001-01-01 00:00:00', calendar: 'standard', axis: 'T', standard_name: 'time',
})));
await store.set('time/c/0', bytes(Float64Array, Array.from({ length: NT }, (_, t) => t)));
await store.set('lat/zarr.json', json(meta([NY], [NY], 'float32', ['lat'],
  { units: 'degrees_north', standard_name: 'latitude', axis: 'Y' })));
await store.set('lat/c/0', bytes(Float32Array, [30, 31, 32]));
await store.set('lon/zarr.json', json(meta([NX], [NX], 'float32', ['lon'],
  { units: 'degrees_east', standard_name: 'longitude', axis: 'X' })));
await store.set('lon/c/0', bytes(Float32Array, [-100, -99, -98, -97]));
await store.set('Tair/zarr.json', json(meta([NT, NY, NX], [1, NY, NX], 'float32',
  ['time', 'lat', 'lon'], { units: 'K', long_name: 'air temperature' })));
for (let t = 0; t < NT; t++) {
  const v = [];
  for (let y = 0; y < NY; y++)
    for (let x = 0; x < NX; x++) v.push(100 * t + 10 * y + x + 0.5);
  await store.set(`Tair/c/${t}/0/0`, bytes(Float32Array, v));
}
const snapshot = await session.commit(split > 0 ? `Tair split every ${split} steps` : 'one manifest per array');
const fs = await import('node:fs');
const manifests = fs.readdirSync(`${dir}/manifests`).sort();
console.log(JSON.stringify({ snapshot, steps: NT, split, manifests }));
