// SPDX-License-Identifier: Apache-2.0
// make_bounds_repo.mjs -- a tiny Icechunk repository, written by the real
// library, whose time coordinate carries CF bounds (`bounds: "time_bnds"`)
// that the stamps' spacing does not give: each stamp is the END of its
// interval, the intervals have unequal lengths and there is a gap. floe's
// tests (tests/testbed/check_time_bounds.py) use it to check that the
// source's own bounds drive selection, grouping, time_bnds and the Item.
//
// usage: scripts/node/run make_bounds_repo.mjs REPO_DIR [missing]
//
// With "missing", the time coordinate's bounds attribute names an array
// that the repository does not hold ("no_such_bnds"), and there is no
// time_bnds array.
//
// Arrays (native chunks, codecs [bytes], little-endian):
//   /time       float64 (8)     hours since 2001-01-01 00:00:00, chunks of 3
//                               (the last one partial), bounds "time_bnds"
//   /time_bnds  float64 (8, 2)  (time, nv), chunks of 3 x 2
//   /lat        float32 (3)     30, 31, 32
//   /lon        float32 (4)     -100, -99, -98, -97
//   /Tair       float32 (8, 3, 4) (time, lat, lon), chunks of 2 x 3 x 4:
//               100*t + 10*y + x + 0.5, NaN (missing) at t=2, y=0, x=0
// The intervals [lo, hi) in hours (stamp = hi):
//   0: Jan 1 00 .. Jan 3 00       0 ..   48
//   1: Jan 3 00 .. Jan 10 00     48 ..  216
//   2: Jan 12 00 .. Jan 20 00   264 ..  456   (a gap: Jan 10 .. Jan 12)
//   3: Jan 20 00 .. Feb 1 00    456 ..  744   (stamp in February)
//   4: Feb 1 00 .. Feb 2 12     744 ..  780
//   5: Feb 20 00 .. Mar 6 00   1200 .. 1536   (middle Feb 27, stamp in March)
//   6: Mar 6 00 .. Mar 31 00   1536 .. 2136
//   7: Mar 31 00 .. Apr 3 00   2136 .. 2208   (middle Apr 1 12:00)
// The test reads these numbers back from the repository's description
// printed on stdout (JSON), not from this comment.

import ic from '@earthmover/icechunk';

const { Repository, Storage } = ic;
const dir = process.argv[2];
if (!dir) {
  console.error('usage: make_bounds_repo.mjs REPO_DIR [missing]');
  process.exit(2);
}
const missing = process.argv[3] === 'missing';

const json = (o) => Buffer.from(JSON.stringify(o));
const bytes = (TypedArray, values) => Buffer.from(new TypedArray(values).buffer);
const meta = (shape, chunk, dtype, dims, attrs) => ({
  zarr_format: 3, node_type: 'array', shape, data_type: dtype,
  chunk_grid: { name: 'regular', configuration: { chunk_shape: chunk } },
  chunk_key_encoding: { name: 'default', configuration: { separator: '/' } },
  fill_value: 'NaN', codecs: [{ name: 'bytes', configuration: { endian: 'little' } }],
  attributes: attrs, dimension_names: dims,
});

const BOUNDS = [[0, 48], [48, 216], [264, 456], [456, 744], [744, 780], [1200, 1536],
  [1536, 2136], [2136, 2208]];
const NT = BOUNDS.length, NY = 3, NX = 4;
const TIME = BOUNDS.map(([, hi]) => hi);
const LAT = [30, 31, 32], LON = [-100, -99, -98, -97];
const value = (t, y, x) => (t === 2 && y === 0 && x === 0 ? NaN : 100 * t + 10 * y + x + 0.5);

const repo = await Repository.create(await Storage.newLocalFilesystem(dir), null, 2);
const session = await repo.writableSession('main');
const store = session.store;
await store.set('zarr.json', json({ zarr_format: 3, node_type: 'group',
  attributes: { title: 'floe test: time bounds not given by the stamps' } }));

const TC = 3; // time chunk length: 8 = 3 + 3 + 2, the last chunk cut
await store.set('time/zarr.json', json(meta([NT], [TC], 'float64', ['time'], {
  units: 'hours since 2001-01-01 00:00:00', calendar: 'standard', axis: 'T',
  standard_name: 'time', bounds: missing ? 'no_such_bnds' : 'time_bnds',
})));
if (!missing)
  await store.set('time_bnds/zarr.json', json(meta([NT, 2], [TC, 2], 'float64', ['time', 'nv'], {})));
for (let c = 0; c * TC < NT; c++) {
  const part = Array.from({ length: TC }, (_, k) => (c * TC + k < NT ? TIME[c * TC + k] : NaN));
  await store.set(`time/c/${c}`, bytes(Float64Array, part));
  if (missing) continue;
  const flat = [];
  for (let k = 0; k < TC; k++) flat.push(...(c * TC + k < NT ? BOUNDS[c * TC + k] : [NaN, NaN]));
  await store.set(`time_bnds/c/${c}/0`, bytes(Float64Array, flat));
}

await store.set('lat/zarr.json', json(meta([NY], [NY], 'float32', ['lat'],
  { units: 'degrees_north', standard_name: 'latitude', axis: 'Y' })));
await store.set('lat/c/0', bytes(Float32Array, LAT));
await store.set('lon/zarr.json', json(meta([NX], [NX], 'float32', ['lon'],
  { units: 'degrees_east', standard_name: 'longitude', axis: 'X' })));
await store.set('lon/c/0', bytes(Float32Array, LON));

const DC = 2; // data chunks of 2 steps x the whole grid
await store.set('Tair/zarr.json', json(meta([NT, NY, NX], [DC, NY, NX], 'float32',
  ['time', 'lat', 'lon'], { units: 'K', long_name: 'air temperature' })));
for (let c = 0; c * DC < NT; c++) {
  const v = [];
  for (let t = c * DC; t < c * DC + DC; t++)
    for (let y = 0; y < NY; y++)
      for (let x = 0; x < NX; x++) v.push(value(t, y, x));
  await store.set(`Tair/c/${c}/0/0`, bytes(Float32Array, v));
}
const snapshot = await session.commit(missing ? 'time bounds named but missing' : 'time bounds');

const tair = [];
for (let t = 0; t < NT; t++)
  for (let y = 0; y < NY; y++)
    for (let x = 0; x < NX; x++) tair.push(value(t, y, x));
// what was written, for the test to compute its answers from (NaN as null)
console.log(JSON.stringify({
  snapshot, units: 'hours since 2001-01-01 00:00:00', time: TIME,
  time_bnds: missing ? null : BOUNDS, lat: LAT, lon: LON, shape: [NT, NY, NX],
  Tair: tair.map((v) => (Number.isNaN(v) ? null : v)),
}));
