'use strict';
// recover: N clients (rooms of M) connected and joined; they all disconnect; E chat posts happen
// in every room; then they all reconnect at once and joinSession with their lastSeq. Measures the
// time from the start of the reconnect storm until every client has all E messages back from the
// ack's `missed` list, and counts what was lost (must be 0), duplicated or out of order.
const { performance } = require('node:perf_hooks');
const { setupRooms } = require('../lib/setup');
const { pool } = require('../lib/http');
const { connectAndJoin, closeAll } = require('../lib/clients');
const { Samples, LoadMeter, ServerCpuMeter, sleep } = require('../lib/stats');

const defaults = { clients: 200, members: 50, events: 50 };

const columns = [
  ['allRecoveredMs', 'all recovered ms', 1],
  ['p50Ms', 'per-client p50 ms', 1],
  ['p99Ms', 'per-client p99 ms', 1],
  ['lost', 'lost', 0],
  ['duplicates', 'dup', 0],
  ['failedClients', 'failed clients', 0],
  ['serverCpuPct', 'server CPU %', 0],
  ['genCpuPct', 'gen CPU %', 0],
];

const TAG = 'recover#';

async function run({ server, rest, opts, secret, log }) {
  const o = { ...defaults, ...opts };
  const members = Math.min(o.members, o.clients);
  const rooms = Math.ceil(o.clients / members);
  const { rooms: roomList, ms: setupMs } = await setupRooms(rest, { secret, rooms, members, log });
  const live = { chat: 0 };
  const countLive = () => void live.chat++;
  const first = [];
  for (const room of roomList) for (const u of room.users) if (first.length < o.clients) first.push(server.client(u, room, { on: { 'chat.message': countLive } }));
  await connectAndJoin(first, { log });
  const lastSeqs = first.map((c) => c.lastSeq);
  closeAll(first);
  await sleep(500); // let the server see them go

  // E posts per room while everybody is away (20 in flight over all rooms; order per room is the server's).
  const postsByRoom = new Map(roomList.map((r) => [r, []]));
  const jobs = [];
  for (const room of roomList) for (let e = 0; e < o.events; e++) jobs.push([room, e]);
  await pool(jobs, 20, async ([room, e]) => {
    const tag = `${TAG}${room.index}.${e}`;
    const user = room.users[e % members];
    await rest.call('POST', `/groups/${room.groupId}/sessions/${room.sessionId}/chat`, { token: user.token, body: { round_index: 1, message: tag }, ok: [201] });
    postsByRoom.get(room).push(tag);
  });

  // The storm: everyone reconnects at once and asks for what it missed.
  const perClient = new Samples();
  const counters = { lost: 0, duplicates: 0, outOfOrder: 0, resync: 0, failedClients: 0, liveAfterRejoin: 0, missedTotal: 0 };
  const errors = new Map();
  const second = first.map((c) => server.client(c.user, c.room, { on: { 'chat.message': () => void counters.liveAfterRejoin++ } }));
  const gen = new LoadMeter().start();
  const srv = new ServerCpuMeter(server).start();
  const t0 = performance.now();
  let lastDone = 0;
  await Promise.all(second.map(async (c, i) => {
    try {
      await c.connect(30_000);
      const ack = await c.join(lastSeqs[i], 30_000);
      const missed = Array.isArray(ack.missed) ? ack.missed : [];
      if (ack.resync) counters.resync++;
      counters.missedTotal += missed.length;
      let prev = lastSeqs[i];
      const got = new Set();
      for (const ev of missed) {
        if (!ev || typeof ev.seq !== 'number') continue;
        if (ev.seq <= prev) counters.outOfOrder++;
        prev = ev.seq;
        const text = ev.event === 'chat.message' && ev.data ? ev.data.message : null;
        if (typeof text !== 'string' || !text.startsWith(TAG)) continue;
        if (got.has(text)) counters.duplicates++;
        got.add(text);
      }
      const want = postsByRoom.get(c.room);
      const lost = want.filter((t) => !got.has(t)).length;
      counters.lost += lost;
      if (lost === 0) {
        const ms = performance.now() - t0;
        perClient.add(ms);
        lastDone = Math.max(lastDone, ms);
      }
    } catch (e) {
      counters.failedClients++;
      counters.lost += o.events;
      errors.set(e.message.slice(0, 80), (errors.get(e.message.slice(0, 80)) || 0) + 1);
    }
  }));
  const g = gen.stop();
  const serverCpuPct = srv.stop();
  closeAll(second);
  return {
    allRecoveredMs: counters.failedClients === 0 && perClient.n === second.length ? lastDone : NaN,
    p50Ms: perClient.p(50),
    p99Ms: perClient.p(99),
    lost: counters.lost,
    duplicates: counters.duplicates,
    failedClients: counters.failedClients,
    serverCpuPct,
    genCpuPct: g.cpuPct,
    extra: { setupS: setupMs / 1000, rooms, posts: jobs.length, recoveredClients: perClient.n, errors: Object.fromEntries(errors), liveBeforeDisconnect: live.chat, ...counters },
  };
}

function describe(o) {
  const x = { ...defaults, ...o };
  return `${x.clients} clients in rooms of ${x.members}; ${x.events} chat posts per room while away; all reconnect at once with lastSeq`;
}

module.exports = { name: 'recover', defaults, columns, run, describe };
