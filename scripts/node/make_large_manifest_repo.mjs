// SPDX-License-Identifier: Apache-2.0
// make_large_manifest_repo.mjs -- an Icechunk repository, written by the
// real library, whose one data array has N virtual chunk references in a
// single manifest, large enough (about 12 bytes stored per ref: 7 MB for
// 600000) that floe fetches it in parallel ranges. `v` (uint32, dimensions
// time, lat, lon, shape [N, 1, 1], chunks [1, 1, 1]): chunk t is the 4 bytes
// at slot perm(t) of SOURCE_DIR/source.bin, which hold the value t (the
// refs are shuffled so that the manifest does not compress to nothing, and
// every ref decodes to a known value); time t is t hours since
// 2001-01-01 (native chunks), lat and lon one cell each.
//
// usage: scripts/node/run make_large_manifest_repo.mjs REPO_DIR SOURCE_DIR N

import fs from 'node:fs';
import path from 'node:path';
import ic from '@earthmover/icechunk';

const { Repository, Storage } = ic;
const [dir, srcDir, nText] = process.argv.slice(2);
const n = Number(nText);
if (!dir || !srcDir || !Number.isInteger(n) || n < 1) {
  console.error('usage: make_large_manifest_repo.mjs REPO_DIR SOURCE_DIR N');
  process.exit(2);
}
// A fixed permutation (a linear congruential shuffle), so a build is repeatable.
const perm = new Uint32Array(n);
for (let i = 0; i < n; i++) perm[i] = i;
let seed = 12345;
for (let i = n - 1; i > 0; i--) {
  seed = (seed * 1103515245 + 12345) % 2147483648;
  const j = seed % (i + 1);
  const t = perm[i]; perm[i] = perm[j]; perm[j] = t;
}
const source = Buffer.alloc(4 * n);
for (let i = 0; i < n; i++) source.writeUInt32LE(i, 4 * perm[i]);
fs.mkdirSync(srcDir, { recursive: true });
const srcPath = path.resolve(srcDir, 'source.bin');
fs.writeFileSync(srcPath, source);

const prefix = `file://${path.resolve(srcDir)}/`;
const config = {
  virtualChunkContainers: {
    [prefix]: { urlPrefix: prefix, store: { type: 'LocalFileSystem', field0: prefix.slice('file://'.length) } },
  },
};
const json = (o) => Buffer.from(JSON.stringify(o));
const repo = await Repository.create(await Storage.newLocalFilesystem(dir), config, 2);
await repo.saveConfig();
const session = await repo.writableSession('main');
const store = session.store;
const meta = (shape, chunk, dtype, fill, dims, attrs) => ({
  zarr_format: 3, node_type: 'array', shape, data_type: dtype,
  chunk_grid: { name: 'regular', configuration: { chunk_shape: chunk } },
  chunk_key_encoding: { name: 'default', configuration: { separator: '/' } },
  fill_value: fill, codecs: [{ name: 'bytes', configuration: { endian: 'little' } }],
  attributes: attrs, dimension_names: dims,
});
const bytes = (TypedArray, values) => Buffer.from(new TypedArray(values).buffer);
await store.set('zarr.json', json({ zarr_format: 3, node_type: 'group',
  attributes: { title: 'floe test: one large manifest' } }));
const TC = 100000; // time chunk length of the coordinate
await store.set('time/zarr.json', json(meta([n], [TC], 'float64', 'NaN', ['time'], {
  units: 'hours since 2001-01-01 00:00:00', calendar: 'standard', axis: 'T', standard_name: 'time',
})));
for (let c = 0; c * TC < n; c++)
  await store.set(`time/c/${c}`, bytes(Float64Array,
    Array.from({ length: TC }, (_, k) => (c * TC + k < n ? c * TC + k : NaN))));
await store.set('lat/zarr.json', json(meta([1], [1], 'float32', 'NaN', ['lat'],
  { units: 'degrees_north', standard_name: 'latitude', axis: 'Y' })));
await store.set('lat/c/0', bytes(Float32Array, [40]));
await store.set('lon/zarr.json', json(meta([1], [1], 'float32', 'NaN', ['lon'],
  { units: 'degrees_east', standard_name: 'longitude', axis: 'X' })));
await store.set('lon/c/0', bytes(Float32Array, [-105]));
await store.set('v/zarr.json', json(meta([n, 1, 1], [1, 1, 1], 'uint32', 0, ['time', 'lat', 'lon'],
  { long_name: 'the chunk index' })));
const location = `${prefix}source.bin`;
const batch = 100000;
for (let start = 0; start < n; start += batch) {
  const specs = [];
  for (let i = start; i < Math.min(n, start + batch); i++)
    specs.push({ index: [i, 0, 0], location, offset: 4 * perm[i], length: 4 });
  const failed = await session.store.setVirtualRefs('v', specs, true);
  if (failed && failed.length) {
    console.error(`make_large_manifest_repo: ${failed.length} refs refused`);
    process.exit(1);
  }
}
console.log(await session.commit(`${n} shuffled virtual references in one manifest`));
