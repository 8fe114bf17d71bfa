// SPDX-License-Identifier: Apache-2.0
// make_versions_repo.mjs -- a tiny Icechunk repository, written by the real
// library, with several branches, tags (one deleted) and commits, for
// floe's `inspect --versions` and unknown --branch/--tag checks.
//
// usage: scripts/node/run make_versions_repo.mjs REPO_DIR SPEC(1|2)
//
// History (each commit rewrites /x, a 2-element float32 array):
//   main:       init -> "first" -> "second" -> "third"
//   dev:        from "first" -> "dev work"
//   feature x:  at "second"
//   tags:       v1 = "second", "release 2" = "third", old = "first" (deleted)
// Prints the snapshot ids as one JSON line.

import ic from '@earthmover/icechunk';

const { Repository, Storage } = ic;
const [dir, spec] = process.argv.slice(2);
if (!dir || !['1', '2'].includes(spec)) {
  console.error('usage: make_versions_repo.mjs REPO_DIR SPEC(1|2)');
  process.exit(2);
}

const json = (o) => Buffer.from(JSON.stringify(o));
const meta = {
  zarr_format: 3, node_type: 'array', shape: [2], data_type: 'float32',
  chunk_grid: { name: 'regular', configuration: { chunk_shape: [2] } },
  chunk_key_encoding: { name: 'default', configuration: { separator: '/' } },
  fill_value: 'NaN', codecs: [{ name: 'bytes', configuration: { endian: 'little' } }],
  attributes: {}, dimension_names: ['x'],
};

const repo = await Repository.create(await Storage.newLocalFilesystem(dir), null, Number(spec));
async function commit(branch, message, value) {
  const session = await repo.writableSession(branch);
  await session.store.set('zarr.json', json({ zarr_format: 3, node_type: 'group', attributes: {} }));
  await session.store.set('x/zarr.json', json(meta));
  await session.store.set('x/c/0', Buffer.from(new Float32Array([value, value]).buffer));
  return session.commit(message);
}
const ids = {};
ids.first = await commit('main', 'first', 1);
ids.second = await commit('main', 'second', 2);
await repo.createBranch('dev', ids.first);
ids.dev = await commit('dev', 'dev work', 10);
ids.third = await commit('main', 'third', 3);
await repo.createBranch('feature x', ids.second);
await repo.createTag('v1', ids.second);
await repo.createTag('release 2', ids.third);
await repo.createTag('old', ids.first);
await repo.deleteTag('old');
console.log(JSON.stringify(ids));
