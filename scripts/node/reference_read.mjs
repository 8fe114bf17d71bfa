// SPDX-License-Identifier: Apache-2.0
// reference_read.mjs -- the oracle reader of floe's test bed: reads a
// selection of a virtual NLDAS-3 Icechunk repository with the real Icechunk
// library (native addon) and zarrita, independently of floe.
//
// usage:
//   scripts/node/run reference_read.mjs
//       (--endpoint URL --repo s3://BUCKET/PREFIX/ | --local REPO_DIR [--endpoint URL])
//       [--branch B | --tag T | --snapshot ID]          (default: --branch main)
//       --info
//   scripts/node/run reference_read.mjs ...repository and ref as above...
//       --var NAME
//       [--time-index t0:t1 | --time T0/T1]              (default: all)
//       [--lat-index i0:i1 --lon-index j0:j1 | --bbox W,S,E,N]  (default: all)
//       [--out FILE.f32]
//
// --endpoint is the loopback S3 stand-in (http://127.0.0.1:PORT, path-style
// URLs, no signatures). It serves the repository (unless --local) and the
// archive files that the virtual chunks point to.
//
// Index ranges are half-open. --bbox selects the cells whose centre lies in
// [S,N] x [W,E] (bounds included; the float32 coordinate, widened to double,
// is compared with the bounds as given). --time bounds are ISO 8601 dates or
// date-times (UTC) and are inclusive; a bound given as a bare date covers the
// whole day, as pandas/xarray do (2001-01-01/2001-01-31 is every time stamp
// from 2001-01-01T00 to 2001-01-31T24 exclusive). Times are decoded from the
// CF units of the time coordinate. Beware: the testbed stamps each daily file
// at the END of its day (file A20010101 has 2001-01-02T00).
//
// Output: a one-line JSON summary on stdout; with --out, also the selection as
// raw little-endian float32 in C order (time, lat, lon). Errors: one line on
// stderr, exit status 1 (2 for usage errors); FLOE_DEBUG=1 in the
// environment also prints the whole error object.

import fs from 'node:fs';
import crypto from 'node:crypto';
import ic from '@earthmover/icechunk';
import * as zarr from 'zarrita';
import { boundedQueue } from './bounded_queue.mjs';

const { Repository, Storage } = ic;

// The container under which the repository's virtual refs live; its stored
// store settings (real AWS, us-west-2) are overridden to point at --endpoint.
const CONTAINER_PREFIX = 's3://nasa-waterinsight/NLDAS3/forcing/daily/';
const REGION = 'us-west-2';
const MAX_CONCURRENT_CHUNKS = 64;

class UsageError extends Error {}

function parseArgs(argv) {
  const valued = new Set(['--endpoint', '--repo', '--local', '--branch', '--tag', '--snapshot', '--var',
    '--lat-index', '--lon-index', '--time-index', '--bbox', '--time', '--out']);
  const o = {};
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--info') o.info = true;
    else if (a === '-h' || a === '--help') throw new UsageError('help');
    else if (valued.has(a)) {
      if (i + 1 >= argv.length) throw new UsageError(`${a} needs a value`);
      o[a.slice(2)] = argv[++i];
    } else throw new UsageError(`unknown argument '${a}'`);
  }
  if (!o.local && !(o.repo && o.endpoint)) throw new UsageError('give --endpoint and --repo, or --local');
  if (o.local && o.repo) throw new UsageError('--repo and --local exclude each other');
  if (['branch', 'tag', 'snapshot'].filter((k) => o[k]).length > 1)
    throw new UsageError('give at most one of --branch, --tag, --snapshot');
  if (!o.info && !o.var) throw new UsageError('give --var NAME (or --info)');
  if (o.var && !o.endpoint) throw new UsageError('reading data needs --endpoint (the virtual chunks live there)');
  if (o['time-index'] && o.time) throw new UsageError('--time-index and --time exclude each other');
  if (o.bbox && (o['lat-index'] || o['lon-index'])) throw new UsageError('--bbox excludes --lat-index/--lon-index');
  return o;
}

const usage = () => fs.readFileSync(new URL(import.meta.url), 'utf8')
  .split('\n').slice(4, 14).map((l) => l.replace(/^\/\/ ?/, '')).join('\n');

// "i0:i1" -> [i0, i1], checked against the dimension length
function parseRange(s, n, what) {
  const m = /^(\d+):(\d+)$/.exec(s);
  if (!m) throw new Error(`${what}: expected i0:i1, got '${s}'`);
  const r = [Number(m[1]), Number(m[2])];
  if (!(r[0] < r[1] && r[1] <= n)) throw new Error(`${what} ${s} is empty or outside [0, ${n})`);
  return r;
}

// Half-open index range of the elements of `values` for which keep(v) holds;
// they must be contiguous (coordinates are monotonic).
function rangeWhere(values, keep, what) {
  let lo = -1, hi = -1;
  for (let i = 0; i < values.length; i++) {
    if (!keep(values[i])) continue;
    if (lo < 0) lo = i;
    else if (hi !== i) throw new Error(`${what}: selected cells are not contiguous`);
    hi = i + 1;
  }
  if (lo < 0) throw new Error(`${what} selects nothing`);
  return [lo, hi];
}

// CF "<unit> since <date>[ <time>][ <tz>]" -> { msPerUnit, epochMs }
function parseCfUnits(units, calendar) {
  if (calendar && !['standard', 'gregorian', 'proleptic_gregorian'].includes(String(calendar).toLowerCase()))
    throw new Error(`time calendar '${calendar}' is not supported`);
  const m = /^\s*(\w+)\s+since\s+(\d{1,4})-(\d{1,2})-(\d{1,2})(?:[ T](\d{1,2}):(\d{1,2})(?::(\d{1,2}(?:\.\d*)?))?)?\s*(?:Z|UTC|[+-]00:?00)?\s*$/i
    .exec(units ?? '');
  if (!m) throw new Error(`cannot decode time units '${units}'`);
  const scale = { second: 1e3, minute: 6e4, hour: 36e5, day: 864e5 };
  const unit = m[1].toLowerCase().replace(/s$/, '');
  if (!(unit in scale)) throw new Error(`unsupported time unit '${m[1]}'`);
  const sec = Number(m[7] ?? 0);
  const epochMs = Date.UTC(+m[2], +m[3] - 1, +m[4], +(m[5] ?? 0), +(m[6] ?? 0), Math.floor(sec)) + (sec % 1) * 1e3;
  return { msPerUnit: scale[unit], epochMs };
}

// an ISO bound of --time -> [startMs, endMs) covering the instant or the day
function parseTimeBound(s) {
  const day = /^(\d{4})-(\d{2})-(\d{2})$/.exec(s);
  if (day) {
    const t = Date.UTC(+day[1], +day[2] - 1, +day[3]);
    return [t, t + 864e5];
  }
  if (!/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?Z?$/.test(s)) throw new Error(`--time: bad bound '${s}'`);
  const t = Date.parse(s.endsWith('Z') ? s : s + 'Z');
  return [t, t + 1];
}


const iso = (ms) => new Date(ms).toISOString().replace('.000Z', 'Z');

async function openRepository(o) {
  // Virtual chunks are always fetched through the endpoint, even with
  // --local: the refs say s3://nasa-waterinsight/..., only the container's
  // store decides where that resolves.
  const config = {};
  const authorize = {};
  if (o.endpoint) {
    config.virtualChunkContainers = {
      [CONTAINER_PREFIX]: {
        urlPrefix: CONTAINER_PREFIX,
        store: {
          type: 'S3Compatible',
          field0: { region: REGION, endpointUrl: o.endpoint, allowHttp: true, forcePathStyle: true, anonymous: true },
        },
      },
    };
    authorize[CONTAINER_PREFIX] = { type: 'S3', field0: { type: 'Anonymous' } };
  }
  let storage;
  if (o.local) {
    if (!fs.existsSync(o.local)) throw new Error(`${o.local} does not exist`);
    storage = await Storage.newLocalFilesystem(o.local);
  } else {
    const m = /^s3:\/\/([^/]+)\/?(.*?)\/?$/.exec(o.repo);
    if (!m) throw new Error(`--repo must be s3://BUCKET/PREFIX/, got '${o.repo}'`);
    // aws-sdk based S3 storage; anonymous = unsigned requests, which is all a
    // loopback stand-in needs (and it has no credentials to check anyway)
    storage = Storage.newS3(m[1], m[2] || null, { type: 'Anonymous' }, {
      region: REGION, endpointUrl: o.endpoint, allowHttp: true, forcePathStyle: true, anonymous: true,
    });
  }
  return Repository.open(storage, config, authorize);
}

const refOptions = (o) => (o.snapshot ? { snapshotId: o.snapshot } : o.tag ? { tag: o.tag } : { branch: o.branch ?? 'main' });
const refName = (o) => (o.snapshot ? { snapshot: o.snapshot } : o.tag ? { tag: o.tag } : { branch: o.branch ?? 'main' });

async function info(o, repo, session) {
  const store = session.store;
  const arrays = [];
  const groups = [];
  // the hierarchy is flat ("/" and its arrays); walk one level of children
  for (const name of (await store.listDir('')).sort()) {
    if (name === 'zarr.json') continue;
    const raw = await store.get(`${name}/zarr.json`);
    if (!raw) continue;
    const meta = JSON.parse(Buffer.from(raw).toString('utf8'));
    if (meta.node_type === 'group') { groups.push(`/${name}`); continue; }
    arrays.push({
      path: `/${name}`,
      shape: meta.shape,
      chunks: meta.chunk_grid?.configuration?.chunk_shape,
      dtype: meta.data_type,
      fill_value: meta.fill_value,
      dimension_names: meta.dimension_names,
      codecs: meta.codecs.map((c) => c.name),
    });
  }
  const ancestry = (await repo.ancestry(refOptions(o))).map((s) => ({
    id: s.id, message: s.message, written_at: s.writtenAt,
  }));
  // every branch and (live) tag with the snapshot it names
  const branches = {};
  for (const b of (await repo.listBranches()).sort()) branches[b] = await repo.lookupBranch(b);
  const tags = {};
  for (const t of (await repo.listTags()).sort()) tags[t] = await repo.lookupTag(t);
  return {
    ref: refName(o), snapshot: session.snapshotId, spec_version: repo.specVersion,
    groups: ['/', ...groups], arrays, ancestry, branches, tags,
  };
}

async function readSelection(o, session) {
  const root = zarr.root(session.store);
  const openArray = async (name) => {
    try {
      return await zarr.open.v3(root.resolve(name), { kind: 'array' });
    } catch (e) {
      throw new Error(`array '${name}' not found in this snapshot (${e.message})`);
    }
  };
  const arr = await openArray(o.var);
  if (arr.dtype !== 'float32') throw new Error(`${o.var} is ${arr.dtype}, expected float32`);
  if (arr.shape.length !== 3) throw new Error(`${o.var} has rank ${arr.shape.length}, expected 3`);
  const [nt, ny, nx] = arr.shape;
  const [latArr, lonArr, timeArr] = await Promise.all(['lat', 'lon', 'time'].map(openArray));
  const [lat, lon, time] = (await Promise.all([latArr, lonArr, timeArr].map((a) => zarr.get(a)))).map((c) => c.data);
  if (lat.length !== ny || lon.length !== nx || time.length !== nt)
    throw new Error(`coordinate lengths ${time.length}/${lat.length}/${lon.length} do not match ${o.var} shape ${arr.shape}`);

  const cf = parseCfUnits(timeArr.attrs.units, timeArr.attrs.calendar);
  const timeMs = Array.from(time, (v) => cf.epochMs + v * cf.msPerUnit);

  let tr = [0, nt], yr = [0, ny], xr = [0, nx];
  if (o['time-index']) tr = parseRange(o['time-index'], nt, '--time-index');
  if (o.time) {
    const parts = o.time.split('/');
    if (parts.length !== 2) throw new Error(`--time: expected T0/T1, got '${o.time}'`);
    const lo = parseTimeBound(parts[0])[0], hi = parseTimeBound(parts[1])[1];
    tr = rangeWhere(timeMs, (t) => t >= lo && t < hi, `--time ${o.time}`);
  }
  if (o['lat-index']) yr = parseRange(o['lat-index'], ny, '--lat-index');
  if (o['lon-index']) xr = parseRange(o['lon-index'], nx, '--lon-index');
  if (o.bbox) {
    const b = o.bbox.split(',').map(Number);
    if (b.length !== 4 || b.some((v) => !Number.isFinite(v)) || b[0] > b[2] || b[1] > b[3])
      throw new Error(`--bbox: expected W,S,E,N with W<=E and S<=N, got '${o.bbox}'`);
    const [W, S, E, N] = b;
    yr = rangeWhere(lat, (v) => v >= S && v <= N, `--bbox ${o.bbox} (lat)`);
    xr = rangeWhere(lon, (v) => v >= W && v <= E, `--bbox ${o.bbox} (lon)`);
  }

  const t0 = performance.now();
  const chunk = await zarr.get(arr, [zarr.slice(...tr), zarr.slice(...yr), zarr.slice(...xr)],
    { createQueue: () => boundedQueue(MAX_CONCURRENT_CHUNKS) });
  const seconds = (performance.now() - t0) / 1000;
  const data = chunk.data;
  // zarr.get returns a fresh C-order array; make sure before dumping it raw
  const cOrder = chunk.stride.every((s, i) => s === chunk.shape.slice(i + 1).reduce((a, b) => a * b, 1));
  if (!cOrder) throw new Error(`unexpected strides ${chunk.stride} for shape ${chunk.shape}`);

  const fill = arr.fillValue;
  let nFill = 0, nNaN = 0, min = Infinity, max = -Infinity, sum = 0;
  for (const v of data) {
    if (v === fill) nFill++;
    else if (Number.isNaN(v)) nNaN++;
    else { if (v < min) min = v; if (v > max) max = v; sum += v; }
  }
  const nValid = data.length - nFill - nNaN;
  const bytes = Buffer.from(data.buffer, data.byteOffset, data.byteLength);
  if (o.out) fs.writeFileSync(o.out, bytes);

  return {
    ref: refName(o),
    snapshot: session.snapshotId,
    var: o.var,
    array_shape: arr.shape,
    index: { time: tr, lat: yr, lon: xr },
    coords: {
      time: [iso(timeMs[tr[0]]), iso(timeMs[tr[1] - 1])],
      time_values: [time[tr[0]], time[tr[1] - 1]],
      lat: [lat[yr[0]], lat[yr[1] - 1]],
      lon: [lon[xr[0]], lon[xr[1] - 1]],
    },
    shape: chunk.shape,
    count: data.length,
    fill_value: fill,
    count_fill: nFill,
    count_nan: nNaN,
    min: nValid ? min : null,
    max: nValid ? max : null,
    mean: nValid ? sum / nValid : null,
    first: Array.from(data.subarray(0, 8)),
    sha256: crypto.createHash('sha256').update(bytes).digest('hex'),
    out: o.out ?? null,
    seconds: Number(seconds.toFixed(3)),
  };
}

async function main() {
  let o;
  try {
    o = parseArgs(process.argv.slice(2));
  } catch (e) {
    if (e instanceof UsageError) {
      if (e.message === 'help') { console.log(usage()); process.exit(0); }
      console.error(`reference_read: ${e.message} (see --help)`);
      process.exit(2);
    }
    throw e;
  }
  const repo = await openRepository(o);
  const session = await repo.readonlySession(refOptions(o));
  const result = o.info ? await info(o, repo, session) : await readSelection(o, session);
  console.log(JSON.stringify(result));
}

main().catch((e) => {
  // one line, whatever the Rust side put into the message
  if (process.env.FLOE_DEBUG) console.error(e);
  const msg = String(e?.message ?? e).replace(/\s*context:\s*$/, '').replace(/\s+/g, ' ').trim();
  console.error(`reference_read: ${msg}`);
  process.exit(1);
});
