// SPDX-License-Identifier: Apache-2.0
// zarr_meta.mjs -- the Zarr v3 metadata and coordinate chunks of floe's
// synthetic NLDAS-3 repositories, shared by make_repo.mjs (the mini and bench
// test beds) and make_scale_repo.mjs (the real-size ones): the same
// zarr.json documents VirtualiZarr + xarray write for the real store, so
// every test bed reads the same way.

import Zstd from 'numcodecs/zstd';

// The container the real NLDAS-3 store declares (seed notebook:
// VirtualChunkContainer("s3://nasa-waterinsight/NLDAS3/forcing/daily/",
// s3_store(region="us-west-2"))). Readers override its store settings.
export const CONTAINER_PREFIX = 's3://nasa-waterinsight/NLDAS3/forcing/daily/';
export const FILL = -9999.0;

// The repository config's virtual chunk container for CONTAINER_PREFIX.
export const containers = () => ({
  [CONTAINER_PREFIX]: { urlPrefix: CONTAINER_PREFIX, store: { type: 'S3', field0: { region: 'us-west-2' } } },
});

export const json = (o) => Buffer.from(JSON.stringify(o));
const DEFAULT_KEYS = { name: 'default', configuration: { separator: '/' } };
const regular = (shape) => ({ name: 'regular', configuration: { chunk_shape: shape } });
// what zarr-python / xarray write for coordinates: bytes + zstd
const COORD_CODECS = [
  { name: 'bytes', configuration: { endian: 'little' } },
  { name: 'zstd', configuration: { level: 0, checksum: false } },
];
const zstd = Zstd.fromConfig({ level: 0 });

// tb: testbed.json (floe-testbed-gen)
export const groupMeta = (tb) => ({ zarr_format: 3, node_type: 'group', attributes: tb.global_attrs ?? {} });

// exactly the metadata VirtualiZarr writes for an HDF5 deflate+shuffle dataset
export const varMeta = (tb, v, ntime) => ({
  zarr_format: 3,
  node_type: 'array',
  shape: [ntime, tb.ny, tb.nx],
  data_type: 'float32',
  chunk_grid: regular(tb.chunks),
  chunk_key_encoding: DEFAULT_KEYS,
  fill_value: FILL,
  codecs: [
    { name: 'bytes', configuration: { endian: 'little' } },
    { name: 'numcodecs.shuffle', configuration: { elementsize: 4 } },
    { name: 'numcodecs.zlib', configuration: { level: tb.deflate_level } },
  ],
  attributes: v.attrs ?? {},
  dimension_names: ['time', 'lat', 'lon'],
});

export const coordMeta = (name, dtype, n, chunk, attrs) => ({
  zarr_format: 3,
  node_type: 'array',
  shape: [n],
  data_type: dtype,
  chunk_grid: regular([chunk]),
  chunk_key_encoding: DEFAULT_KEYS,
  fill_value: 'NaN',
  codecs: COORD_CODECS,
  attributes: attrs ?? {},
  dimension_names: [name],
});

// one encoded coordinate chunk; elements past the end of the array are padding
export async function coordChunk(TypedArray, values, from, chunk) {
  const a = new TypedArray(chunk).fill(NaN);
  for (let i = from; i < Math.min(values.length, from + chunk); i++) a[i - from] = values[i];
  // typed arrays are little-endian on every platform Node runs on here
  return Buffer.from(await zstd.encode(new Uint8Array(a.buffer)));
}

// What every commit of a test bed's repository writes before its refs: the
// root group and the lat/lon coordinates (first commit only), then the time
// coordinate's chunks from step t0 on and every variable's shape, grown to
// ntime steps (growing the time dimension keeps every existing chunk).
export async function writeLayout(store, tb, variables, { first, t0, ntime, timeChunk, timeValues }) {
  if (first) {
    await store.set('zarr.json', json(groupMeta(tb)));
    for (const [name, values, attrs] of [['lat', tb.lat_values, tb.lat_attrs], ['lon', tb.lon_values, tb.lon_attrs]]) {
      await store.set(`${name}/zarr.json`, json(coordMeta(name, 'float32', values.length, values.length, attrs)));
      await store.set(`${name}/c/0`, await coordChunk(Float32Array, values, 0, values.length));
    }
  }
  await store.set('time/zarr.json', json(coordMeta('time', 'float64', ntime, timeChunk, tb.time_attrs)));
  for (let k = Math.floor(t0 / timeChunk); k * timeChunk < ntime; k++)
    await store.set(`time/c/${k}`, await coordChunk(Float64Array, timeValues.slice(0, ntime), k * timeChunk, timeChunk));
  for (const v of variables) await store.set(`${v.name}/zarr.json`, json(varMeta(tb, v, ntime)));
}
