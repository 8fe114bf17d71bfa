// SPDX-License-Identifier: Apache-2.0
// make_types_repo.mjs -- an Icechunk repository, written by the real
// library, from a plan a test made: the zarr.json documents of its arrays
// and the bytes of each chunk after the array->bytes codec. This tool
// applies the bytes->bytes codecs (gzip, zstd, blosc: numcodecs, the
// compressors zarrita reads with) and stores the chunks natively, so the
// test decides every data type, byte order, fill value, transpose and
// missing chunk, and the compression is done by an independent library.
//
// usage: scripts/node/run make_types_repo.mjs REPO_DIR PLAN.json
//
// PLAN.json: {"arrays": {"NAME": {"meta": "zarr.json TEXT", "chunks":
//   {"c/0/1/2": "BASE64 of the chunk after the bytes codec", ...}}}}
// Chunks not listed are left missing (they read as the fill value). The
// zarr.json is stored as the text given: JavaScript numbers would round
// 64-bit integer fill values.

import fs from 'node:fs';
import ic from '@earthmover/icechunk';
import { GZip, Zstd, Blosc } from 'numcodecs';

const { Repository, Storage } = ic;
const [dir, planPath] = process.argv.slice(2);
if (!dir || !planPath) {
  console.error('usage: make_types_repo.mjs REPO_DIR PLAN.json');
  process.exit(2);
}
const plan = JSON.parse(fs.readFileSync(planPath, 'utf8'));
const json = (o) => Buffer.from(JSON.stringify(o));
const SHUFFLE = { noshuffle: 0, shuffle: 1, bitshuffle: 2 };

// The bytes->bytes codecs of a chain, in encoding order.
function compressors(codecs) {
  const out = [];
  for (const c of codecs) {
    const cfg = c.configuration || {};
    if (c.name === 'gzip') out.push(GZip.fromConfig({ level: cfg.level ?? 5 }));
    else if (c.name === 'zstd') out.push(Zstd.fromConfig({ level: cfg.level ?? 3 }));
    else if (c.name === 'blosc') {
      out.push(Blosc.fromConfig({ cname: cfg.cname ?? 'lz4', clevel: cfg.clevel ?? 5,
        shuffle: SHUFFLE[cfg.shuffle ?? 'shuffle'], blocksize: cfg.blocksize ?? 0 }));
    } else if (c.name !== 'bytes' && c.name !== 'transpose') {
      throw new Error(`make_types_repo: codec ${c.name} is not supported here`);
    }
  }
  return out;
}

const repo = await Repository.create(await Storage.newLocalFilesystem(dir), null, 2);
const session = await repo.writableSession('main');
const store = session.store;
await store.set('zarr.json', json({ zarr_format: 3, node_type: 'group', attributes: {} }));
for (const [name, arr] of Object.entries(plan.arrays)) {
  await store.set(`${name}/zarr.json`, Buffer.from(arr.meta));
  const chain = compressors(JSON.parse(arr.meta).codecs);
  for (const [key, b64] of Object.entries(arr.chunks)) {
    let bytes = new Uint8Array(Buffer.from(b64, 'base64'));
    for (const codec of chain) bytes = await codec.encode(bytes);
    await store.set(`${name}/${key}`, Buffer.from(bytes));
  }
}
console.log(await session.commit('every data type'));
