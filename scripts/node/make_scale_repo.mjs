// SPDX-License-Identifier: Apache-2.0
// make_scale_repo.mjs -- write a virtual Icechunk repository with the real
// NLDAS-3 shapes (e.g. 8399 days x 6500 x 11700, chunks 1 x 500 x 900) with
// the real Icechunk library, over a scale test bed's archive: a few real
// full-grid files spread over the time axis by hard links
// (tests/testbed/make_scale_links.py).
//
// usage:  scripts/node/run make_scale_repo.mjs TESTBED_DIR REPO_DIR LAYOUT [SPLIT_STEPS]
//
//   TESTBED_DIR   holds testbed.json as make_scale_links.py rewrote it:
//                 "files" (every day: key, time_value, mtime, real) and
//                 "real_files" (the generator's entries, with chunk ranges)
//   REPO_DIR      local folder for the spec-2 repository; absent or empty
//   LAYOUT        default  one commit, Icechunk's default config (one
//                          manifest per array)
//                 split    one commit, manifests split every SPLIT_STEPS
//                          (default 365) time steps (Icechunk's
//                          manifest splitting on dimension "time")
//                 history  a base commit of every day but the last 12
//                          calendar months, then one append commit per
//                          month growing the time axis (default config)
//
// Every data chunk of day t is a virtual reference into day t's own file
// (s3://nasa-waterinsight/<key>) with the byte ranges and last-modified time
// of real file t mod k, which that file is a hard link to. The coordinates
// lat, lon and time are native chunks, written as make_repo.mjs writes them
// (zarr_meta.mjs). Branch main; the commit that completes the first time
// range is tagged "base". A commit adds at most REFS_PER_COMMIT refs (a
// group of variables).
//
// Prints a JSON summary on stdout and writes the same to
// TESTBED_DIR/repo-v2.json (snapshots, refs, and the manifests of the
// branch head with their stored sizes).

import fs from 'node:fs';
import path from 'node:path';
import ic from '@earthmover/icechunk';
import { CONTAINER_PREFIX, containers, writeLayout } from './zarr_meta.mjs';

const { Repository, Storage } = ic;

const SPEC = 2;
// setVirtualRefs batch size: the per-call overhead vanishes, the JS-side
// arrays of ref objects stay modest (the repository holds millions).
const REF_BATCH = 50000;
const DEFAULT_SPLIT_STEPS = 365;
const HISTORY_APPENDS = 12; // monthly commits after the base one
// The most refs one commit adds: Icechunk holds a session's changes in
// memory (about 0.7 KB a ref), so the 14.2 million refs of ten variables go
// in commits of a few variables each; the branch head has the same
// manifests (one per array, or split) as one commit would write.
const REFS_PER_COMMIT = 3000000;

function die(msg) {
  console.error(`make_scale_repo: ${msg}`);
  process.exit(1);
}

// ------------------------------------------------------------------ arguments
const [testbedArg, repoArg, layout, splitArg] = process.argv.slice(2);
if (!testbedArg || !repoArg || !['default', 'split', 'history'].includes(layout) ||
    process.argv.length > 6) {
  console.error('usage: scripts/node/run make_scale_repo.mjs TESTBED_DIR REPO_DIR default|split|history [SPLIT_STEPS]');
  process.exit(2);
}
const splitSteps = splitArg === undefined ? DEFAULT_SPLIT_STEPS : Number(splitArg);
if (!Number.isInteger(splitSteps) || splitSteps < 1) die(`SPLIT_STEPS '${splitArg}' is not a positive integer`);
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
const { ny, nx, chunks: chunkShape, files, real_files: realFiles, variables } = tb;
for (const k of ['ny', 'nx', 'chunks', 'files', 'real_files', 'variables', 'lat_values', 'lon_values', 'bucket'])
  if (tb[k] === undefined) die(`testbed.json lacks "${k}" (run make_scale_links.py first)`);
const gy = Math.ceil(ny / chunkShape[1]);
const gx = Math.ceil(nx / chunkShape[2]);
for (const f of realFiles)
  for (const v of variables)
    if (f.chunks?.[v.name]?.length !== gy * gx) die(`${f.key}: ${v.name} needs ${gy * gx} chunk entries`);
for (const [t, f] of files.entries()) {
  if (!realFiles[f.real]) die(`day ${t}: no real file ${f.real}`);
  if (t && !(files[t - 1].date < f.date)) die(`files are not sorted by date at day ${t}`);
}
const refLocation = (key) => `s3://${tb.bucket}/${key}`;
if (!refLocation(files[0].key).startsWith(CONTAINER_PREFIX))
  die(`file keys must lie under ${CONTAINER_PREFIX} (got ${files[0].key})`);

// The commits: [t0, t1) day ranges, each over a group of variables.
const perDay = gy * gx;
const groupSize = (ndays) => Math.max(1, Math.floor(REFS_PER_COMMIT / (ndays * perDay)));
const commits = [];
function addCommits(t0, t1, what) {
  const n = groupSize(t1 - t0);
  for (let i = 0; i < variables.length; i += n) {
    const vars = variables.slice(i, i + n);
    const which = n >= variables.length ? '' : ` (${vars.map((v) => v.name).join(', ')})`;
    commits.push({ t0, t1, vars, message: `NLDAS-3 scale test bed: ${what}${which}` });
  }
}
if (layout === 'history') {
  const months = [];
  for (const [t, f] of files.entries()) {
    if (!months.length || months.at(-1).month !== f.month) months.push({ month: f.month, t0: t, t1: t + 1 });
    else months.at(-1).t1 = t + 1;
  }
  if (months.length <= HISTORY_APPENDS) die(`history needs more than ${HISTORY_APPENDS} months`);
  const appends = months.slice(-HISTORY_APPENDS);
  addCommits(0, appends[0].t0, `${files[0].date} to ${files[appends[0].t0 - 1].date}`);
  for (const m of appends) addCommits(m.t0, m.t1, `append ${m.month}`);
} else {
  addCommits(0, files.length, `${files[0].date} to ${files.at(-1).date}`);
}

// ------------------------------------------------------------------ repository
const started = performance.now();
fs.mkdirSync(repoDir, { recursive: true });
const storage = await Storage.newLocalFilesystem(repoDir);
const config = { virtualChunkContainers: containers() };
if (layout === 'split') {
  // every array with a "time" dimension: a manifest per splitSteps steps
  config.manifest = {
    splitting: {
      split_sizes: [[{ path_matches: { regex: '.*' } }, [{ condition: { DimensionName: 'time' }, num_chunks: splitSteps }]]],
    },
  };
}
const repo = await Repository.create(storage, config, SPEC);
await repo.saveConfig();

// xarray keeps the encoding of the first write when appending, so the time
// coordinate is chunked by the length of the first commit. The time axis
// and the shapes grow with a commit's last day; a group's commit adds the
// refs of its own variables only.
const timeChunk = commits[0].t1;
const timeValues = files.map((f) => f.time_value);
const snapshots = [];
let nRefs = 0;
let refSeconds = 0;
let commitSeconds = 0;
let tag = null;

for (const [ci, c] of commits.entries()) {
  const session = await repo.writableSession('main');
  const store = session.store;
  const ntime = c.t1;

  await writeLayout(store, tb, variables, { first: ci === 0, t0: c.t0, ntime, timeChunk, timeValues });

  let added = 0;
  const t0 = performance.now();
  for (const v of c.vars) {
    let batch = [];
    const flush = async () => {
      if (!batch.length) return;
      const failed = await store.setVirtualRefs(v.name, batch, true);
      if (failed && failed.length) die(`setVirtualRefs(${v.name}) rejected ${failed.length} refs, first ${JSON.stringify(failed[0])}`);
      added += batch.length;
      batch = [];
    };
    for (let t = c.t0; t < c.t1; t++) {
      const f = files[t];
      const location = refLocation(f.key);
      const lastModified = new Date(f.mtime * 1000); // Icechunk stores whole seconds
      const entries = realFiles[f.real].chunks[v.name];
      for (let i = 0; i < entries.length; i++) {
        const e = entries[i];
        if (e === null) continue; // never written in the file: reads as fill
        batch.push({ index: [t, Math.floor(i / gx), i % gx], location, offset: e[0], length: e[1], lastModified });
        if (batch.length >= REF_BATCH) await flush();
      }
    }
    await flush();
  }
  const t1 = performance.now();
  const id = await session.commit(c.message);
  commitSeconds += (performance.now() - t1) / 1000;
  refSeconds += (t1 - t0) / 1000;
  nRefs += added;
  snapshots.push({ id, message: c.message, ntime, n_refs_added: added });
  // the base: the first whole set of variables
  if (c.vars.at(-1) === variables.at(-1) && !tag) {
    tag = { name: 'base', snapshot: id };
    await repo.createTag(tag.name, id);
  }
  console.error(`make_scale_repo: commit ${ci + 1}/${commits.length}: ${added} refs, ` +
                `${((performance.now() - started) / 1000).toFixed(1)} s, rss ${(process.memoryUsage().rss / 2 ** 20).toFixed(0)} MiB`);
}

const branchMain = await repo.lookupBranch('main');
const manifests = await repo.lookupManifestFiles(branchMain);
const icechunkVersion = JSON.parse(fs.readFileSync(
  new URL('./node_modules/@earthmover/icechunk/package.json', import.meta.url), 'utf8')).version;
const summary = {
  spec_version: SPEC,
  written_by: `@earthmover/icechunk ${icechunkVersion}`,
  layout,
  split_steps: layout === 'split' ? splitSteps : null,
  repo_dir: repoDir,
  container: CONTAINER_PREFIX,
  variables: variables.map((v) => v.name),
  shape: [files.length, ny, nx],
  chunks: chunkShape,
  real_files: realFiles.length,
  snapshots,
  tag,
  branch_main: branchMain,
  n_virtual_refs: nRefs,
  manifests: manifests.map((m) => ({ id: m.id, size_bytes: m.sizeBytes, n_refs: m.numChunkRefs })),
  manifest_bytes: manifests.reduce((s, m) => s + m.sizeBytes, 0),
  seconds: Number(((performance.now() - started) / 1000).toFixed(3)),
  seconds_set_virtual_refs: Number(refSeconds.toFixed(3)),
  seconds_commit: Number(commitSeconds.toFixed(3)),
};
fs.writeFileSync(path.join(testbedDir, `repo-v${SPEC}.json`), JSON.stringify(summary, null, 2) + '\n');
console.log(JSON.stringify({ ...summary, manifests: manifests.length }));
