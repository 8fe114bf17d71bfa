// SPDX-License-Identifier: Apache-2.0
// bounded_queue.mjs - a queue for zarrita's `createQueue` option that keeps
// at most `limit` chunk fetches in flight.
//
// zarrita's default queue starts every chunk fetch at once, and the library
// opens one connection per request in flight: hundreds of them overflow a
// small nginx (worker_connections), which shows up only as an empty "error
// fetching virtual reference". The reference reader (scripts/node) and the
// benchmark's Icechunk peer (benchmarks/peers) share it, so both bound their
// requests the same way.
export function boundedQueue(limit) {
  const waiting = [];
  const all = [];
  let running = 0;
  const next = () => {
    if (running >= limit || !waiting.length) return;
    const { fn, resolve, reject } = waiting.shift();
    running++;
    fn().then(resolve, reject).finally(() => { running--; next(); });
  };
  return {
    add(fn) {
      all.push(new Promise((resolve, reject) => { waiting.push({ fn, resolve, reject }); next(); }));
    },
    onIdle: () => Promise.all(all),
  };
}
