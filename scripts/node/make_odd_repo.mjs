// SPDX-License-Identifier: Apache-2.0
// make_odd_repo.mjs -- a tiny Icechunk repository, written by the real
// library, holding an array whose codec chain no reader knows, beside a
// well-formed one. floe's tests use it to check that an unknown codec is
// refused with a clear error (and that the rest of the repository reads).
//
// usage: scripts/node/run make_odd_repo.mjs REPO_DIR [hostile]
//
// With "hostile", the repository instead declares the virtual chunk
// container s3://bkt/data/ and holds virtual references that try to leave
// it (as a tampered manifest would; written without the library's own
// container check), for floe's container checks:
//   /Good    s3://bkt/data/ok.bin                    bytes 0-31 (values 1..8)
//   /Dots    s3://bkt/data/../secret/x
//   /Escape  s3://bkt/data/../../../../etc/passwd
//   /Frag    s3://bkt/data/ok.bin#/../../secret/x
//   /Encoded s3://bkt/data/%2e%2e/secret/x
//   /Link    s3://bkt/data/link                      (a symlink in the test's mirror)
//
// Arrays (all 2 x 2 x 2 float32 over time, lat, lon, one native chunk):
//   /Good  codecs [bytes]                         values 1..8
//   /Odd   codecs [bytes, floe.test.no-such-codec] (the bytes of /Good)
//   /time, /lat, /lon  coordinates, codecs [bytes]

import ic from '@earthmover/icechunk';

const { Repository, Storage } = ic;
const dir = process.argv[2];
if (!dir) {
  console.error('usage: make_odd_repo.mjs REPO_DIR');
  process.exit(2);
}

const json = (o) => Buffer.from(JSON.stringify(o));
const bytes = (TypedArray, values) => Buffer.from(new TypedArray(values).buffer);
const meta = (shape, dtype, dims, codecs, attrs) => ({
  zarr_format: 3, node_type: 'array', shape, data_type: dtype,
  chunk_grid: { name: 'regular', configuration: { chunk_shape: shape } },
  chunk_key_encoding: { name: 'default', configuration: { separator: '/' } },
  fill_value: 'NaN', codecs, attributes: attrs, dimension_names: dims,
});
const BYTES = [{ name: 'bytes', configuration: { endian: 'little' } }];

const hostile = process.argv[3] === 'hostile';
const CONTAINER = 's3://bkt/data/';
const config = hostile ? {
  virtualChunkContainers: {
    [CONTAINER]: { urlPrefix: CONTAINER, store: { type: 'S3', field0: { region: 'us-west-2' } } },
  },
} : null;
const repo = await Repository.create(await Storage.newLocalFilesystem(dir), config, 2);
if (hostile) await repo.saveConfig();
const session = await repo.writableSession('main');
const store = session.store;
await store.set('zarr.json', json({ zarr_format: 3, node_type: 'group', attributes: {} }));
await store.set('time/zarr.json', json(meta([2], 'float64', ['time'], BYTES,
  { units: 'days since 2001-01-01', calendar: 'standard', axis: 'T' })));
await store.set('time/c/0', bytes(Float64Array, [0, 1]));
await store.set('lat/zarr.json', json(meta([2], 'float32', ['lat'], BYTES, { units: 'degrees_north' })));
await store.set('lat/c/0', bytes(Float32Array, [10, 11]));
await store.set('lon/zarr.json', json(meta([2], 'float32', ['lon'], BYTES, { units: 'degrees_east' })));
await store.set('lon/c/0', bytes(Float32Array, [20, 21]));
const data = bytes(Float32Array, [1, 2, 3, 4, 5, 6, 7, 8]);
if (hostile) {
  const refs = {
    Good: 'ok.bin', Dots: '../secret/x', Escape: '../../../../etc/passwd',
    Frag: 'ok.bin#/../../secret/x', Encoded: '%2e%2e/secret/x', Link: 'link',
  };
  for (const [name, rest] of Object.entries(refs)) {
    await store.set(`${name}/zarr.json`, json(meta([2, 2, 2], 'float32', ['time', 'lat', 'lon'], BYTES, { units: 'K' })));
    await store.setVirtualRef(`${name}/c/0/0/0`, CONTAINER + rest, 0, data.length, null, null, false);
  }
  console.log(await session.commit('hostile virtual references'));
  process.exit(0);
}
await store.set('Good/zarr.json', json(meta([2, 2, 2], 'float32', ['time', 'lat', 'lon'], BYTES, { units: 'K' })));
await store.set('Good/c/0/0/0', data);
await store.set('Odd/zarr.json', json(meta([2, 2, 2], 'float32', ['time', 'lat', 'lon'],
  [...BYTES, { name: 'floe.test.no-such-codec', configuration: {} }], { units: 'K' })));
await store.set('Odd/c/0/0/0', data);
console.log(await session.commit('odd codecs'));
