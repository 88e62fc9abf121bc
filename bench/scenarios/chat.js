'use strict';
// chat: R rooms x M members; each room gets `rate` chat posts per second over REST (open loop,
// posters rotate through the room's members). Measures the POST latency, and end-to-end latency
// from the start of the POST to each member's receipt of `chat.message` (the poster's own socket
// included: durable events go to the whole room), and to the last member's receipt.
const { performance } = require('node:perf_hooks');
const { setupRooms } = require('../lib/setup');
const { connectAndJoin, closeAll } = require('../lib/clients');
const { Samples, LoadMeter, ServerCpuMeter, NoiseMeter, sleep } = require('../lib/stats');

const defaults = { rooms: 20, members: 10, rate: 10, duration: 20, warmup: 2, drain: 10 };

const columns = [
  ['postsPerS', 'posts/s done', 1],
  ['postP50Ms', 'POST p50 ms', 1],
  ['postP99Ms', 'POST p99 ms', 1],
  ['e2eP50Ms', 'e2e p50 ms', 1],
  ['e2eP99Ms', 'e2e p99 ms', 1],
  ['allP50Ms', 'all-members p50 ms', 1],
  ['allP99Ms', 'all-members p99 ms', 1],
  ['deliveryPct', 'delivery %', 2],
  ['failedPosts', 'failed POSTs', 0],
  ['serverCpuPct', 'server CPU %', 0],
  ['genCpuPct', 'gen CPU %', 0],
];

const TAG = 'bench#';

async function run({ server, rest, opts, secret, log }) {
  const o = { ...defaults, ...opts };
  const { rooms, members, rate, duration, warmup } = o;
  const { rooms: roomList, ms: setupMs } = await setupRooms(rest, { secret, rooms, members, log });

  const posts = []; // n -> {t0, room, measured, status, received, lastMs}
  const e2e = new Samples();
  const counters = { receipts: 0, foreign: 0, dup: 0, seqGaps: 0, seqBackwards: 0 };

  // Wire size: the Engine.IO message payloads every client receives after the joins settled
  // (WebSocket frame payloads, frame headers excluded) per chat.message received meanwhile.
  const rx = { on: false, bytes: 0, messages: 0 };
  const countFrame = (packet) => {
    if (!rx.on || packet.type !== 'message') return;
    const d = packet.data;
    rx.bytes += typeof d === 'string' ? 1 + Buffer.byteLength(d) : d.byteLength;
  };
  const onMessage = (client, data) => {
    if (rx.on) rx.messages++;
    if (data && typeof data.seq === 'number') {
      if (data.seq <= client.lastSeq) counters.seqBackwards++;
      else if (data.seq > client.lastSeq + 1) counters.seqGaps++;
      client.lastSeq = Math.max(client.lastSeq, data.seq);
    }
    const text = data && typeof data.message === 'string' ? data.message : '';
    const n = text.startsWith(TAG) ? Number(text.slice(TAG.length)) : NaN;
    const p = posts[n];
    if (!p || p.room !== client.room) return void counters.foreign++;
    if (client.seen.has(n)) return void counters.dup++;
    client.seen.add(n);
    const ms = performance.now() - p.t0;
    p.received++;
    p.lastMs = Math.max(p.lastMs, ms);
    if (p.measured) {
      counters.receipts++;
      e2e.add(ms);
    }
  };

  const clients = [];
  for (const room of roomList) {
    room.clients = room.users.map((u) => server.client(u, room, { on: { 'chat.message': onMessage } }));
    for (const c of room.clients) {
      c.seen = new Set();
      c.socket.io.on('open', () => c.socket.io.engine.on('packet', countFrame));
      clients.push(c);
    }
  }
  const conn = await connectAndJoin(clients, { log });
  await sleep(500);
  rx.on = true;

  // Posts go through their own keep-alive pool so that queueing there counts in the latency.
  const poster = server.rest({ maxSockets: 128 });
  const postLat = new Samples();
  const failures = new Map();
  let inFlight = 0;
  let completedInWindow = 0; // 201s that came back inside the window: the sustained rate
  const period = 1000 / rate;
  const t0 = performance.now();
  const measureFrom = t0 + warmup * 1000;
  const stopAt = measureFrom + duration * 1000;
  let meters = null;
  const meterTimer = setTimeout(() => {
    meters = { gen: new LoadMeter().start(), srv: new ServerCpuMeter(server).start(), noise: new NoiseMeter(server).start() };
  }, warmup * 1000);
  const timers = new Set();
  let running = true;

  for (const room of roomList) {
    const offset = Math.random() * period;
    let k = 0;
    const fire = () => {
      timers.delete(room.timer);
      const now = performance.now();
      if (!running || now >= stopAt) return;
      const n = posts.length;
      const user = room.users[k % members];
      const p = { t0: now, room, measured: now >= measureFrom, status: 0, received: 0, lastMs: 0 };
      posts.push(p);
      inFlight++;
      poster
        .request('POST', `/groups/${room.groupId}/sessions/${room.sessionId}/chat`, { token: user.token, body: { round_index: 1, message: `${TAG}${n}` } })
        .then((r) => {
          p.status = r.status;
          const done = performance.now();
          if (r.status === 201 && done >= measureFrom && done < stopAt) completedInWindow++;
          if (p.measured) postLat.add(r.ms);
          if (r.status !== 201) failures.set(r.status, (failures.get(r.status) || 0) + 1);
        })
        .catch((e) => {
          p.status = -1;
          failures.set(e.code || 'error', (failures.get(e.code || 'error') || 0) + 1);
        })
        .finally(() => inFlight--);
      k++;
      room.timer = setTimeout(fire, Math.max(0, t0 + offset + k * period - performance.now()));
      timers.add(room.timer);
    };
    room.timer = setTimeout(fire, offset);
    timers.add(room.timer);
  }

  await sleep(Math.max(0, stopAt - performance.now()));
  running = false;
  for (const t of timers) clearTimeout(t);
  clearTimeout(meterTimer);
  const gen = meters ? meters.gen.stop() : { cpuPct: NaN };
  const serverCpuPct = meters ? meters.srv.stop() : NaN;
  const otherCpuPct = meters ? meters.noise.stop() : NaN;

  const measured = () => posts.filter((p) => p.measured);
  const drainEnd = performance.now() + o.drain * 1000;
  while (performance.now() < drainEnd) {
    const m = measured();
    if (inFlight === 0 && m.every((p) => p.status !== 201 || p.received >= members)) break;
    await sleep(50);
  }
  closeAll(clients);
  poster.close();

  const m = measured();
  const ok = m.filter((p) => p.status === 201);
  const all = new Samples();
  for (const p of ok) if (p.received >= members) all.add(p.lastMs);
  const expectedReceipts = ok.length * members;
  return {
    postsPerS: completedInWindow / duration,
    postP50Ms: postLat.p(50),
    postP99Ms: postLat.p(99),
    e2eP50Ms: e2e.p(50),
    e2eP99Ms: e2e.p(99),
    allP50Ms: all.p(50),
    allP99Ms: all.p(99),
    deliveryPct: expectedReceipts ? (100 * counters.receipts) / expectedReceipts : NaN,
    failedPosts: m.length - ok.length,
    serverCpuPct,
    genCpuPct: gen.cpuPct,
    otherCpuPct,
    extra: {
      setupS: setupMs / 1000,
      connectS: conn.connectMs / 1000,
      offeredPosts: m.length,
      okPosts: ok.length,
      failures: Object.fromEntries(failures),
      incomplete: ok.length - all.n,
      stillInFlight: inFlight,
      wireBytesPerMessage: rx.messages ? rx.bytes / rx.messages : NaN,
      ...counters,
    },
  };
}

function describe(o) {
  const x = { ...defaults, ...o };
  return `${x.rooms} rooms x ${x.members} members, ${x.rate} REST posts/s per room (${x.rooms * x.rate}/s total), ${x.duration} s (+${x.warmup} s warm-up)`;
}

module.exports = { name: 'chat', defaults, columns, run, describe };
