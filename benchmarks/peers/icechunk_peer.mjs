// SPDX-License-Identifier: Apache-2.0
// icechunk_peer.mjs -- the benchmark workloads with the real Icechunk
// (npm @earthmover/icechunk, Rust core, native addon) + zarrita in Node,
// reading the virtual repository a STAC collection names through the same
// S3 endpoint floe uses. The answers are computed here, in JS loops over the
// decoded chunks; nothing here knows floe's answer.
//
// usage (the addon needs scripts/node's glibc shim, so go through its runner):
//   scripts/node/run benchmarks/peers/icechunk_peer.mjs --collection C.json
//       --endpoint URL --workload W1..W5 --vars V[,V] [--bbox W,S,E,N]
//       [--points FILE.csv] [--time T0/T1] [--concurrency N] --out DIR
//
// --time bounds are ISO instants, both inclusive. The answer goes to DIR in
// the harness's exchange format: answer.json + little-endian float64 (small
// arrays) or float32 (whole-domain fields) files, missing values as NaN.

import fs from 'node:fs';
import path from 'node:path';
import { createRequire } from 'node:module';
import { pathToFileURL } from 'node:url';
// zarr.get's queue: the same bound as floe's requests in flight, so they stay comparable.
import { boundedQueue } from '../../scripts/node/bounded_queue.mjs';

// The packages live in scripts/node/node_modules (installed and pinned
// there); this file sits outside that tree, so resolve them from it.
const nodeDir = path.resolve(path.dirname(new URL(import.meta.url).pathname), '../../scripts/node');
const ic = createRequire(path.join(nodeDir, 'package.json'))('@earthmover/icechunk');
const zarr = await import(pathToFileURL(path.join(nodeDir, 'node_modules/zarrita/dist/src/index.js')).href);
const { Repository, Storage } = ic;

function die(msg) {
  console.error(`icechunk_peer: ${msg}`);
  process.exit(1);
}

function parseArgs(argv) {
  const o = { concurrency: '32' };
  for (let i = 0; i < argv.length; i++) {
    const eq = /^--([\w-]+)=(.*)$/.exec(argv[i]);
    if (eq) { o[eq[1]] = eq[2]; continue; }
    if (!argv[i].startsWith('--') || i + 1 >= argv.length) die(`bad argument '${argv[i]}'`);
    o[argv[i].slice(2)] = argv[++i];
  }
  for (const k of ['collection', 'endpoint', 'workload', 'vars', 'out']) if (!o[k]) die(`--${k} is required`);
  o.concurrency = Number(o.concurrency);
  return o;
}

// What a user of the seed notebook does: the collection names the
// repository, the version and the legacy bucket the virtual chunks live in.
function fromCollection(file) {
  const c = JSON.parse(fs.readFileSync(file, 'utf8'));
  const assets = Object.entries(c.assets ?? {});
  const ice = assets.find(([, a]) => /icechunk/.test(a.type ?? '') && (a.roles ?? []).includes('latest-version'))
    ?? assets.find(([, a]) => /icechunk/.test(a.type ?? ''));
  if (!ice) die(`${file}: no Icechunk asset`);
  const [, asset] = ice;
  const legacyKey = asset['vrt:hrefs']?.[0]?.key;
  const legacy = legacyKey ? c.assets[legacyKey]?.href : null;
  if (!legacy) die(`${file}: the Icechunk asset names no legacy bucket (vrt:hrefs)`);
  const scheme = c['storage:schemes']?.[asset['storage:refs']?.[0]] ?? {};
  return {
    repo: asset.href, snapshot: asset['icechunk:snapshot_id'] ?? null,
    container: legacy.endsWith('/') ? legacy : legacy + '/', region: scheme.region ?? 'us-east-1',
  };
}

async function openSession(o) {
  const src = fromCollection(o.collection);
  const s3 = { region: src.region, endpointUrl: o.endpoint, allowHttp: true, forcePathStyle: true, anonymous: true };
  const m = /^s3:\/\/([^/]+)\/?(.*?)\/?$/.exec(src.repo);
  if (!m) die(`repository href '${src.repo}' is not s3://`);
  const storage = Storage.newS3(m[1], m[2] || null, { type: 'Anonymous' }, s3);
  const config = { virtualChunkContainers: { [src.container]: { urlPrefix: src.container, store: { type: 'S3Compatible', field0: s3 } } } };
  const authorize = { [src.container]: { type: 'S3', field0: { type: 'Anonymous' } } };
  const repo = await Repository.open(storage, config, authorize);
  return repo.readonlySession(src.snapshot ? { snapshotId: src.snapshot } : { branch: 'main' });
}

// CF "<unit> since <date>[ <time>]" -> ms since the Unix epoch
function cfTimesMs(values, units) {
  const m = /^\s*(\w+?)s?\s+since\s+(\d{4})-(\d{1,2})-(\d{1,2})(?:[ T](\d{1,2}):(\d{1,2})(?::(\d{1,2}))?)?/.exec(units ?? '');
  if (!m) die(`cannot decode time units '${units}'`);
  const scale = { second: 1e3, minute: 6e4, hour: 36e5, day: 864e5 }[m[1].toLowerCase()];
  if (!scale) die(`unsupported time unit '${m[1]}'`);
  const epoch = Date.UTC(+m[2], +m[3] - 1, +m[4], +(m[5] ?? 0), +(m[6] ?? 0), +(m[7] ?? 0));
  return Array.from(values, (v) => epoch + v * scale);
}

function rangeWhere(values, keep, what) {
  let lo = -1, hi = -1;
  for (let i = 0; i < values.length; i++) {
    if (!keep(values[i])) continue;
    if (lo < 0) lo = i;
    hi = i + 1;
  }
  if (lo < 0) die(`${what} selects nothing`);
  return [lo, hi];
}

// At most `limit` promises from `tasks` (functions) at once; resolves when all have.
async function pool(tasks, limit) {
  let next = 0;
  const worker = async () => {
    while (next < tasks.length) await tasks[next++]();
  };
  await Promise.all(Array.from({ length: Math.min(limit, tasks.length) }, worker));
}


function writeAnswer(dir, arrays) {
  fs.mkdirSync(dir, { recursive: true });
  const index = {};
  for (const [name, { data, shape }] of Object.entries(arrays)) {
    const dtype = data instanceof Float32Array ? '<f4' : '<f8';
    const file = `${name}.${dtype === '<f4' ? 'f32' : 'f64'}`;
    fs.writeFileSync(path.join(dir, file), Buffer.from(data.buffer, data.byteOffset, data.byteLength));
    index[name] = { file, shape, dtype };
  }
  fs.writeFileSync(path.join(dir, 'answer.json'), JSON.stringify({ arrays: index }));
}

const toF64 = (src, fill) => Float64Array.from(src, (v) => (v === fill || Number.isNaN(v) ? NaN : v));

async function main() {
  const o = parseArgs(process.argv.slice(2));
  const session = await openSession(o);
  const root = zarr.root(session.store);
  const open = (name) => zarr.open.v3(root.resolve(name), { kind: 'array' });
  const names = o.vars.split(',');
  const arrs = await Promise.all(names.map(open));
  const [latA, lonA, timeA] = await Promise.all(['lat', 'lon', 'time'].map(open));
  const [lat, lon, time] = (await Promise.all([latA, lonA, timeA].map((a) => zarr.get(a)))).map((c) => c.data);
  const timeMs = cfTimesMs(time, timeA.attrs.units);
  const hours = (i) => (timeMs[i] - Date.UTC(2001, 0, 1)) / 36e5;
  const [nt, ny, nx] = arrs[0].shape;
  const [, cy, cx] = arrs[0].chunks;

  let tr = [0, nt], yr = [0, ny], xr = [0, nx];
  if (o.time) {
    const [a, b] = o.time.split('/').map((s) => Date.parse(s.endsWith('Z') ? s : s + 'Z'));
    tr = rangeWhere(timeMs, (t) => t >= a && t <= b, `--time ${o.time}`);
  }
  if (o.bbox) {
    const [W, S, E, N] = o.bbox.split(',').map(Number);
    yr = rangeWhere(lat, (v) => v >= S && v <= N, '--bbox (lat)');
    xr = rangeWhere(lon, (v) => v >= W && v <= E, '--bbox (lon)');
  }
  const queue = () => boundedQueue(o.concurrency);
  const ntSel = tr[1] - tr[0];
  const timeOut = { data: Float64Array.from({ length: ntSel }, (_, k) => hours(tr[0] + k)), shape: [ntSel] };
  const arr = arrs[0], fill = arr.fillValue;
  const out = {};

  if (o.workload === 'W1') {
    const c = await zarr.get(arr, [zarr.slice(...tr), zarr.slice(...yr), zarr.slice(...xr)], { createQueue: queue });
    out[names[0]] = { data: toF64(c.data, fill), shape: c.shape };
  } else if (o.workload === 'W2') {
    const pts = fs.readFileSync(o.points, 'utf8').split('\n').map((l) => l.split(',')).filter((f) => f.length >= 2)
      .map((f) => [Number(f[0]), Number(f[1])]);
    const nearest = (vals, x) => { let b = 0; for (let i = 1; i < vals.length; i++) if (Math.abs(vals[i] - x) < Math.abs(vals[b] - x)) b = i; return b; };
    const res = new Float64Array(ntSel * pts.length);
    for (let p = 0; p < pts.length; p++) {
      const i = nearest(lat, pts[p][1]), j = nearest(lon, pts[p][0]);
      const c = await zarr.get(arr, [zarr.slice(...tr), i, j], { createQueue: queue });
      for (let k = 0; k < ntSel; k++) res[k * pts.length + p] = c.data[k] === fill ? NaN : c.data[k];
    }
    out[names[0]] = { data: res, shape: [ntSel, pts.length] };
    out.time = timeOut;
  } else if (o.workload === 'W3') {
    const c = await zarr.get(arr, [zarr.slice(...tr), zarr.slice(...yr), zarr.slice(...xr)], { createQueue: queue });
    const h = yr[1] - yr[0], w = xr[1] - xr[0];
    const step = (lat[lat.length - 1] - lat[0]) / (lat.length - 1);
    const rad = Math.PI / 180;
    const wt = Float64Array.from({ length: h }, (_, i) => Math.sin((lat[yr[0] + i] + step / 2) * rad) - Math.sin((lat[yr[0] + i] - step / 2) * rad));
    const res = new Float64Array(ntSel);
    for (let k = 0; k < ntSel; k++) {
      let s = 0, sw = 0;
      for (let i = 0; i < h; i++) {
        const base = (k * h + i) * w;
        for (let j = 0; j < w; j++) {
          const v = c.data[base + j];
          if (v !== fill && !Number.isNaN(v)) { s += wt[i] * v; sw += wt[i]; }
        }
      }
      res[k] = sw > 0 ? s / sw : NaN;
    }
    out[names[0] + '_mean'] = { data: res, shape: [ntSel] };
    out.time = timeOut;
  } else if (o.workload === 'W4' || o.workload === 'W5') {
    // Whole chunks, JS accumulators: one task per (variable, step, chunk).
    const n = ny * nx, gy = Math.ceil(ny / cy), gx = Math.ceil(nx / cx);
    const accumulate = async (a, t, acc) => {
      const tasks = [];
      for (let r = 0; r < gy; r++) for (let q = 0; q < gx; q++) tasks.push([r, q]);
      return tasks.map(([r, q]) => async () => {
        const { data, shape } = await a.getChunk([t, r, q]);
        const h = Math.min(cy, ny - r * cy), w = Math.min(cx, nx - q * cx), f = a.fillValue;
        for (let i = 0; i < h; i++) {
          const src = i * shape[2], dst = (r * cy + i) * nx + q * cx;
          for (let j = 0; j < w; j++) {
            const v = data[src + j];
            if (v === f || Number.isNaN(v)) continue;
            const d = dst + j;
            acc.sum[d] += v;
            acc.cnt[d]++;
            if (acc.min) { if (v < acc.min[d]) acc.min[d] = v; if (v > acc.max[d]) acc.max[d] = v; }
          }
        }
      });
    };
    const newAcc = (minmax) => ({
      sum: new Float64Array(n), cnt: new Int32Array(n),
      min: minmax ? new Float32Array(n).fill(Infinity) : null, max: minmax ? new Float32Array(n).fill(-Infinity) : null,
    });
    const meanOf = (acc) => Float32Array.from(acc.sum, (s, d) => (acc.cnt[d] ? s / acc.cnt[d] : NaN));
    if (o.workload === 'W4') {
      const acc = newAcc(true);
      let tasks = [];
      for (let t = tr[0]; t < tr[1]; t++) tasks = tasks.concat(await accumulate(arr, t, acc));
      await pool(tasks, o.concurrency);
      for (let d = 0; d < n; d++) if (!acc.cnt[d]) { acc.min[d] = NaN; acc.max[d] = NaN; }
      out[names[0] + '_mean'] = { data: meanOf(acc), shape: [ny, nx] };
      out[names[0] + '_min'] = { data: acc.min, shape: [ny, nx] };
      out[names[0] + '_max'] = { data: acc.max, shape: [ny, nx] };
    } else {
      // Month of each time stamp (UTC), groups in calendar order; one group
      // at a time keeps the accumulators to one month's worth.
      const months = new Map();
      for (let t = tr[0]; t < tr[1]; t++) {
        const mo = new Date(timeMs[t]).getUTCMonth() + 1;
        if (!months.has(mo)) months.set(mo, []);
        months.get(mo).push(t);
      }
      const order = [...months.keys()].sort((a, b) => a - b);
      const res = Object.fromEntries(names.map((v) => [v, new Float32Array(order.length * n)]));
      for (let g = 0; g < order.length; g++) {
        const accs = names.map(() => newAcc(false));
        let tasks = [];
        for (const t of months.get(order[g]))
          for (let v = 0; v < names.length; v++) tasks = tasks.concat(await accumulate(arrs[v], t, accs[v]));
        await pool(tasks, o.concurrency);
        names.forEach((v, k) => res[v].set(meanOf(accs[k]), g * n));
      }
      for (const v of names) out[v + '_mean'] = { data: res[v], shape: [order.length, ny, nx] };
      out.month = { data: Float64Array.from(order), shape: [order.length] };
    }
  } else die(`unknown workload '${o.workload}'`);
  writeAnswer(o.out, out);
}

main().catch((e) => die(String(e?.message ?? e).replace(/\s+/g, ' ').trim()));
