'use strict';
// fanout: R rooms x M members; S speakers per room emit `typing` open-loop at a fixed rate.
// Every other member of the room should get each accepted emit as `chat.typing`.
//
// Latency reference: chat.typing carries no client data besides isTyping, so each speaker keeps
// a table of its emit times and alternates isTyping (true on even emits, false on odd ones).
// Each receiver keeps, per speaker, the index of the emit it matched last; the next relay from
// that speaker is matched to the next emit of the same parity that the server did not refuse.
// Relays of one speaker reach one receiver in emit order, so this is exact unless two
// consecutive emits are refused before their acks return (the refusals are counted).
const { performance } = require('node:perf_hooks');
const { setupRooms } = require('../lib/setup');
const { connectAndJoin, closeAll } = require('../lib/clients');
const { Samples, LoadMeter, ServerCpuMeter, NoiseMeter, sleep } = require('../lib/stats');

const defaults = { rooms: 35, members: 50, speakers: 25, rate: 2, duration: 20, warmup: 2, drain: 10 };

const columns = [
  ['deliveredPerS', 'delivered/s', 0],
  ['deliveryPct', 'delivery %', 2],
  ['p50Ms', 'p50 ms', 1],
  ['p99Ms', 'p99 ms', 1],
  ['maxMs', 'max ms', 0],
  ['rejected', 'refused emits', 0],
  ['serverCpuPct', 'server CPU %', 0],
  ['genCpuPct', 'gen CPU %', 0],
  ['genLoopP99Ms', 'gen loop p99 ms', 1],
  ['emitLagP99Ms', 'emit lag p99 ms', 1],
];

async function run({ server, rest, opts, secret, log }) {
  const o = { ...defaults, ...opts };
  const { rooms, members, speakers, rate, duration, warmup } = o;
  if (speakers > members) throw new Error('--speakers must be <= --members');
  const period = 1000 / rate;
  const MIN_GAP_MS = period >= 300 ? 300 : 0; // no guard when the rate itself is over the server's limit
  const { rooms: roomList, ms: setupMs } = await setupRooms(rest, { secret, rooms, members, log });

  const perSpeaker = Math.ceil((duration + warmup) * rate) + 4;
  const speakerById = new Map();
  const latency = new Samples(1 << 20);
  const counters = { inWindow: 0, delivered: 0, deliveredAll: 0, unmatched: 0, selfEcho: 0, crossRoom: 0, rejected: 0, ackErrors: 0, acked: 0 };
  let measureFrom = Infinity;
  let stopAt = Infinity;

  const onTyping = (client, data) => {
    counters.deliveredAll++;
    const sp = data && speakerById.get(data.userId);
    if (!sp) return void counters.unmatched++;
    if (data.sessionId !== client.room.sessionId || sp.room !== client.room) return void counters.crossRoom++;
    if (sp.client === client) return void counters.selfEcho++;
    const parity = data.isTyping ? 0 : 1;
    let i = client.ptr[sp.slot] + 1;
    while (i < sp.count && ((i & 1) !== parity || sp.refused[i])) i++;
    if (i >= sp.count) return void counters.unmatched++;
    client.ptr[sp.slot] = i;
    const t = performance.now();
    if (t >= measureFrom && t < stopAt) counters.inWindow++;
    if (sp.times[i] >= measureFrom) {
      counters.delivered++;
      latency.add(performance.now() - sp.times[i]);
    }
  };

  const clients = [];
  const speakerList = [];
  for (const room of roomList) {
    room.clients = room.users.map((u) => server.client(u, room, { on: { 'chat.typing': onTyping } }));
    for (const c of room.clients) {
      c.ptr = new Int32Array(speakers).fill(-1);
      clients.push(c);
    }
    for (let s = 0; s < speakers; s++) {
      const sp = { client: room.clients[s], room, slot: s, count: 0, times: new Float64Array(perSpeaker), refused: new Uint8Array(perSpeaker), measuredAccepted: 0 };
      speakerById.set(room.users[s].id, sp);
      speakerList.push(sp);
    }
  }
  const conn = await connectAndJoin(clients, { log });
  await sleep(500); // let userJoined traffic settle

  const emitLag = new Samples();
  const t0 = performance.now();
  measureFrom = t0 + warmup * 1000;
  stopAt = t0 + (warmup + duration) * 1000;
  let meters = null;
  let meterTimer = setTimeout(() => {
    meters = { gen: new LoadMeter().start(), srv: new ServerCpuMeter(server).start(), noise: new NoiseMeter(server).start() };
  }, warmup * 1000);
  let running = true;
  const timers = new Set();

  for (const sp of speakerList) {
    const offset = Math.random() * period;
    const fire = () => {
      timers.delete(sp.timer);
      if (!running) return;
      const k = sp.count;
      const scheduled = t0 + offset + k * period;
      const now = performance.now();
      if (now >= stopAt || k >= perSpeaker) return;
      // A late timer (generator lag) must not bunch two emits under the server's 250 ms limit:
      // hold this one until MIN_GAP_MS after the previous one (counted in the emit lag).
      if (k > 0 && now - sp.times[k - 1] < MIN_GAP_MS) {
        sp.timer = setTimeout(fire, MIN_GAP_MS - (now - sp.times[k - 1]));
        timers.add(sp.timer);
        return;
      }
      if (now >= measureFrom) emitLag.add(now - scheduled);
      sp.times[k] = now;
      sp.count = k + 1;
      sp.client.socket.emit('typing', { sessionId: sp.room.sessionId, isTyping: (k & 1) === 0 }, (ack) => {
        counters.acked++;
        if (ack && ack.success === false) {
          if (ack.error && ack.error.code === 'RATE_LIMITED') {
            sp.refused[k] = 1;
            counters.rejected++;
          } else counters.ackErrors++;
        }
      });
      const next = t0 + offset + (k + 1) * period;
      sp.timer = setTimeout(fire, Math.max(0, next - performance.now()));
      timers.add(sp.timer);
    };
    sp.timer = setTimeout(fire, offset);
    timers.add(sp.timer);
  }

  await sleep(Math.max(0, stopAt - performance.now()));
  running = false;
  for (const t of timers) clearTimeout(t);
  clearTimeout(meterTimer);
  const gen = meters ? meters.gen.stop() : { cpuPct: NaN, loopP99Ms: NaN };
  const serverCpuPct = meters ? meters.srv.stop() : NaN;
  const otherCpuPct = meters ? meters.noise.stop() : NaN;
  const rssEndMiB = server.rssKiB() / 1024; // a server that queues what it cannot send grows here

  // Expected deliveries: every accepted emit in the window, to every other member of its room.
  let measuredEmits = 0;
  let expected = 0;
  const tallyExpected = () => {
    measuredEmits = 0;
    expected = 0;
    for (const sp of speakerList) {
      for (let i = 0; i < sp.count; i++) {
        if (sp.times[i] < measureFrom) continue;
        measuredEmits++;
        if (!sp.refused[i]) expected += members - 1;
      }
    }
  };
  // Drain: wait until everything expected arrived, or nothing arrived for 1 s, or `drain` s.
  const drainEnd = performance.now() + o.drain * 1000;
  let last = -1;
  let quietSince = performance.now();
  while (performance.now() < drainEnd) {
    tallyExpected();
    if (counters.delivered >= expected && counters.acked >= speakerList.reduce((s, sp) => s + sp.count, 0)) break;
    if (counters.delivered !== last) {
      last = counters.delivered;
      quietSince = performance.now();
    } else if (performance.now() - quietSince > 1000) break;
    await sleep(50);
  }
  tallyExpected();
  const rssAfterDrain = server.rssKiB();
  closeAll(clients);

  return {
    deliveredPerS: counters.inWindow / duration, // arrivals inside the window, whatever the emit time
    deliveryPct: expected ? (100 * counters.delivered) / expected : NaN,
    p50Ms: latency.p(50),
    p99Ms: latency.p(99),
    maxMs: latency.max(),
    rejected: counters.rejected,
    serverCpuPct,
    genCpuPct: gen.cpuPct,
    otherCpuPct,
    genLoopP99Ms: gen.loopP99Ms,
    emitLagP99Ms: emitLag.p(99),
    extra: {
      setupS: setupMs / 1000,
      connectS: conn.connectMs / 1000,
      joinP99Ms: conn.joinP99Ms,
      measuredEmits,
      expected,
      delivered: counters.delivered,
      ackErrors: counters.ackErrors,
      unacked: speakerList.reduce((s, sp) => s + sp.count, 0) - counters.acked,
      unmatched: counters.unmatched,
      selfEcho: counters.selfEcho,
      crossRoom: counters.crossRoom,
      rssEndMiB: Math.round(rssEndMiB),
      rssAfterDrainMiB: Math.round(rssAfterDrain / 1024),
    },
  };
}

function describe(o) {
  const x = { ...defaults, ...o };
  return `${x.rooms} rooms x ${x.members} members, ${x.speakers} speakers/room at ${x.rate}/s, ${x.duration} s (+${x.warmup} s warm-up); offered ${x.rooms * x.speakers * x.rate} emits/s -> ${x.rooms * x.speakers * x.rate * (x.members - 1)} deliveries/s`;
}

module.exports = { name: 'fanout', defaults, columns, run, describe };
