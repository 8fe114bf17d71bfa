// SPDX-License-Identifier: Apache-2.0
// make_virtual_repo.mjs -- an Icechunk repository, written by the real
// library, whose data chunks are virtual references into local NetCDF-4 /
// HDF5 files, as VirtualiZarr writes them for a legacy archive. A test
// writes the source files, finds where HDF5 put each chunk, and lists the
// zarr.json of each array with its references; this tool declares the
// file:// virtual chunk container and writes the references.
//
// usage: scripts/node/run make_virtual_repo.mjs REPO_DIR PLAN.json
//
// PLAN.json: {"container": "file:///DIR/",
//   "arrays": {"NAME": {"meta": "zarr.json TEXT",
//     "refs": [{"key": "c/0/1/2", "location": "file:///DIR/x.nc",
//               "offset": N, "length": N}, ...],
//     "chunks": {"c/0": "BASE64 of a native chunk (coordinates)", ...}}}}
// Chunks in neither list are missing (they read as the fill value). The
// zarr.json is stored as the text given: JavaScript numbers would round
// 64-bit integer fill values.

import fs from 'node:fs';
import ic from '@earthmover/icechunk';

const { Repository, Storage } = ic;
const [dir, planPath] = process.argv.slice(2);
if (!dir || !planPath) {
  console.error('usage: make_virtual_repo.mjs REPO_DIR PLAN.json');
  process.exit(2);
}
const plan = JSON.parse(fs.readFileSync(planPath, 'utf8'));
const prefix = plan.container;
if (!prefix || !prefix.startsWith('file:///') || !prefix.endsWith('/')) {
  console.error('make_virtual_repo: "container" must be a file:///DIR/ prefix');
  process.exit(2);
}
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
await store.set('zarr.json', json({ zarr_format: 3, node_type: 'group', attributes: {} }));
for (const [name, arr] of Object.entries(plan.arrays)) {
  await store.set(`${name}/zarr.json`, Buffer.from(arr.meta));
  for (const [key, b64] of Object.entries(arr.chunks ?? {}))
    await store.set(`${name}/${key}`, Buffer.from(b64, 'base64'));
  for (const r of arr.refs ?? []) {
    if (!r.location.startsWith(prefix)) {
      console.error(`make_virtual_repo: ${r.location} lies outside ${prefix}`);
      process.exit(1);
    }
    await store.setVirtualRef(`${name}/${r.key}`, r.location, r.offset, r.length, null, null, true);
  }
}
console.log(await session.commit('virtual references into NetCDF-4 files'));
