// SPDX-License-Identifier: Apache-2.0
// make_repo.mjs -- write the virtual Icechunk repository of a synthetic
// NLDAS-3 testbed with the real Icechunk library (@earthmover/icechunk, native
// addon), the way VirtualiZarr + xarray would write the real store.
//
// usage:  scripts/node/run make_repo.mjs TESTBED_DIR SPEC_VERSION REPO_DIR
//
//   TESTBED_DIR   holds testbed.json (written by floe's C testbed generator)
//   SPEC_VERSION  1 or 2 (Icechunk on-disk format)
//   REPO_DIR      local folder for the repository; must be absent or empty
//
// History: one commit on branch main per calendar month of testbed.json
// ("NLDAS-3 testbed: 2001-01", then "NLDAS-3 testbed: append 2001-02", ...),
// the first one tagged "v2001-01". Every data chunk is a virtual reference
// into s3://nasa-waterinsight/<file key>; the coordinates lat, lon and time
// are ordinary (native or inline) chunks.
//
// Prints a JSON summary on stdout and writes the same to
// TESTBED_DIR/repo-v<SPEC>.json.

import fs from 'node:fs';
import path from 'node:path';
import ic from '@earthmover/icechunk';
import { CONTAINER_PREFIX, containers, writeLayout } from './zarr_meta.mjs';

const { Repository, Storage } = ic;

// setVirtualRefs batch size: large enough that the per-call overhead vanishes,
// small enough to keep the JS-side arrays of ref objects modest.
const REF_BATCH = 50000;

function die(msg) {
  console.error(`make_repo: ${msg}`);
  process.exit(1);
}

// ------------------------------------------------------------------ arguments
const [testbedArg, specArg, repoArg] = process.argv.slice(2);
const spec = Number(specArg);
if (!testbedArg || !repoArg || ![1, 2].includes(spec) || process.argv.length !== 5) {
  console.error('usage: scripts/node/run make_repo.mjs TESTBED_DIR SPEC_VERSION(1|2) REPO_DIR');
  process.exit(2);
}
const testbedDir = path.resolve(testbedArg);
const repoDir = path.resolve(repoArg);
if (fs.existsSync(repoDir) && fs.readdirSync(repoDir).length > 0) die(`${repoDir} exists and is not empty`);

let tb;
try {
  tb = JSON.parse(fs.readFileSync(path.join(testbedDir, 'testbed.json'), 'utf8'));
} catch (e) {
  die(`cannot read ${path.join(testbedDir, 'testbed.json')}: ${e.message}`);
}

// ------------------------------------------------------------------ checks
const { ny, nx, chunks: chunkShape, files, variables } = tb;
for (const k of ['ny', 'nx', 'chunks', 'files', 'variables', 'lat_values', 'lon_values', 'deflate_level', 'bucket'])
  if (tb[k] === undefined) die(`testbed.json lacks "${k}"`);
if (chunkShape.length !== 3 || chunkShape[0] !== 1) die('testbed.json "chunks" must be [1, cy, cx]');
if (tb.lat_values.length !== ny || tb.lon_values.length !== nx) die('lat_values/lon_values do not match ny/nx');
if (files.length === 0) die('testbed.json lists no files');
const gy = Math.ceil(ny / chunkShape[1]);
const gx = Math.ceil(nx / chunkShape[2]);
for (let i = 1; i < files.length; i++)
  if (!(files[i - 1].date < files[i].date)) die(`files are not sorted by date (${files[i - 1].date}, ${files[i].date})`);
for (const f of files) {
  if (!Number.isInteger(f.mtime)) die(`${f.key}: mtime must be integer seconds`);
  for (const v of variables) {
    const c = f.chunks?.[v.name];
    if (!Array.isArray(c) || c.length !== gy * gx) die(`${f.key}: ${v.name} needs ${gy * gx} chunk entries`);
  }
}
const refLocation = (key) => `s3://${tb.bucket}/${key}`;
if (!refLocation(files[0].key).startsWith(CONTAINER_PREFIX))
  die(`file keys must lie under ${CONTAINER_PREFIX} (got ${files[0].key})`);

// calendar months in order of appearance; files are sorted, so contiguous
const months = [];
for (const [t, f] of files.entries()) {
  if (!months.length || months.at(-1).month !== f.month) months.push({ month: f.month, t0: t, t1: t + 1 });
  else months.at(-1).t1 = t + 1;
}

// ------------------------------------------------------------------ repository
const started = performance.now();
fs.mkdirSync(repoDir, { recursive: true });
const storage = await Storage.newLocalFilesystem(repoDir);
const config = {
  virtualChunkContainers: containers(),
};
const repo = await Repository.create(storage, config, spec);
// spec 1 keeps the containers in config.yaml, spec 2 in the repo object:
// either way only saveConfig persists them for later readers.
await repo.saveConfig();

// xarray keeps the encoding of the first write when appending, so the time
// coordinate is chunked by the length of the first month.
const timeChunk = months[0].t1 - months[0].t0;
const timeValues = files.map((f) => f.time_value);
const snapshots = [];
let nRefs = 0;
let refSeconds = 0;
let tag = null;

for (const [mi, m] of months.entries()) {
  const session = await repo.writableSession('main');
  const store = session.store;
  const ntime = m.t1;

  await writeLayout(store, tb, variables, { first: mi === 0, t0: m.t0, ntime, timeChunk, timeValues });

  let added = 0;
  const t0 = performance.now();
  for (const v of variables) {
    let batch = [];
    const flush = async () => {
      if (!batch.length) return;
      const failed = await store.setVirtualRefs(v.name, batch, true);
      if (failed && failed.length) die(`setVirtualRefs(${v.name}) rejected ${failed.length} refs, first ${JSON.stringify(failed[0])}`);
      added += batch.length;
      batch = [];
    };
    for (let t = m.t0; t < m.t1; t++) {
      const f = files[t];
      const location = refLocation(f.key);
      // the API takes a JS Date; Icechunk stores whole seconds
      const lastModified = new Date(f.mtime * 1000);
      const entries = f.chunks[v.name];
      for (let i = 0; i < entries.length; i++) {
        const e = entries[i];
        if (e === null) continue; // chunk never written in the file: reads as fill
        batch.push({ index: [t, Math.floor(i / gx), i % gx], location, offset: e[0], length: e[1], lastModified });
        if (batch.length >= REF_BATCH) await flush();
      }
    }
    await flush();
  }
  refSeconds += (performance.now() - t0) / 1000;
  nRefs += added;

  const message = mi === 0 ? `NLDAS-3 testbed: ${m.month}` : `NLDAS-3 testbed: append ${m.month}`;
  const id = await session.commit(message);
  snapshots.push({
    id, message, month: m.month, months: months.slice(0, mi + 1).map((x) => x.month), ntime, n_refs_added: added,
  });
  if (mi === 0) {
    tag = { name: `v${m.month}`, snapshot: id };
    await repo.createTag(tag.name, id);
  }
}

const branchMain = await repo.lookupBranch('main');
const icechunkVersion = JSON.parse(fs.readFileSync(
  new URL('./node_modules/@earthmover/icechunk/package.json', import.meta.url), 'utf8')).version;
const summary = {
  spec_version: spec,
  written_by: `@earthmover/icechunk ${icechunkVersion}`,
  repo_dir: repoDir,
  container: CONTAINER_PREFIX,
  variables: variables.map((v) => v.name),
  shape: [files.length, ny, nx],
  chunks: chunkShape,
  snapshots,
  tag,
  branch_main: branchMain,
  n_virtual_refs: nRefs,
  seconds: Number(((performance.now() - started) / 1000).toFixed(3)),
  seconds_set_virtual_refs: Number(refSeconds.toFixed(3)),
};
fs.writeFileSync(path.join(testbedDir, `repo-v${spec}.json`), JSON.stringify(summary, null, 2) + '\n');
console.log(JSON.stringify(summary));
