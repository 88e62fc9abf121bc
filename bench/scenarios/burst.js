'use strict';
// burst: one room of M members; the group owner advances a round (`round.advanced` goes to all
// M sockets at once). Measures the time from the start of the POST until the last member has the
// event; repeated `repeats` times, median. A session has up to 10 rounds; each round gives four
// advances that need no votes: CREATED->VOTING, VOTING->DISCUSSING (force), DISCUSSING->REVOTING,
// REVOTING->EXPLAINING (force).
const { performance } = require('node:perf_hooks');
const { setupRooms } = require('../lib/setup');
const { connectAndJoin, closeAll } = require('../lib/clients');
const { median, LoadMeter, sleep, waitFor } = require('../lib/stats');

const defaults = { members: 300, repeats: 10, pause: 500, timeout: 15 };
const STEPS = [['VOTING', false], ['DISCUSSING', true], ['REVOTING', false], ['EXPLAINING', true]];

const columns = [
  ['lastMs', 'last member ms', 1],
  ['firstMs', 'first member ms', 1],
  ['postMs', 'POST ms', 1],
  ['worstLastMs', 'worst last ms', 1],
  ['missing', 'missing', 0],
  ['serverCpuMsPer', 'server CPU ms/advance', 1],
  ['genCpuPct', 'gen CPU %', 0],
];

async function run({ server, rest, opts, secret, log }) {
  const o = { ...defaults, ...opts };
  const members = o.members;
  const rounds = Math.min(10, Math.ceil(o.repeats / STEPS.length) + 1);
  const { rooms: [room], ms: setupMs } = await setupRooms(rest, { secret, rooms: 1, members, roundsCount: rounds, log });

  let current = null; // {roundIndex, status, t0, got: Set, first, last}
  const counters = { seqGaps: 0, seqBackwards: 0, stray: 0 };
  const onAdvanced = (client, data) => {
    if (data && typeof data.seq === 'number') {
      if (data.seq <= client.lastSeq) counters.seqBackwards++;
      else if (data.seq > client.lastSeq + 1) counters.seqGaps++;
      client.lastSeq = Math.max(client.lastSeq, data.seq);
    }
    const c = current;
    if (!c || !data || data.roundIndex !== c.roundIndex || data.status !== c.status || c.got.has(client)) return void counters.stray++;
    const ms = performance.now() - c.t0;
    c.got.add(client);
    if (c.first === null) c.first = ms;
    c.last = ms;
  };
  const clients = room.users.map((u) => server.client(u, room, { on: { 'round.advanced': onAdvanced } }));
  const conn = await connectAndJoin(clients, { log });
  await sleep(500);

  const gen = new LoadMeter().start();
  const cpu0 = server.cpuSeconds();
  const lasts = [];
  const firsts = [];
  const postMs = [];
  let missing = 0;
  let roundIndex = 1;
  let step = 0;
  let refused = 0;
  for (let i = 0; i < o.repeats && roundIndex <= rounds; ) {
    const [status, force] = STEPS[step];
    current = { roundIndex, status, t0: performance.now(), got: new Set(), first: null, last: null };
    const body = force ? { to_status: status, force: true } : { to_status: status };
    const r = await rest.request('POST', `/group-sessions/${room.sessionId}/rounds/${roundIndex}/advance`, { token: room.owner.token, body });
    if (r.status !== 200 && r.status !== 201) {
      // e.g. the server wants the earlier round finished first: move on to the next round.
      refused++;
      log(`  advance round ${roundIndex} -> ${status}: ${r.status} ${JSON.stringify(r.body).slice(0, 200)}`);
      if (refused > 3) throw new Error('advance refused repeatedly; see the log above');
      roundIndex++;
      step = 0;
      continue;
    }
    const all = await waitFor(() => current.got.size >= members, o.timeout * 1000, 2);
    if (!all) missing += members - current.got.size;
    lasts.push(all ? current.last : NaN);
    firsts.push(current.first);
    postMs.push(r.ms);
    i++;
    step++;
    if (step === STEPS.length) {
      step = 0;
      roundIndex++;
    }
    await sleep(o.pause);
  }
  const g = gen.stop();
  const serverCpuS = server.cpuSeconds() - cpu0;
  closeAll(clients);
  const okLasts = lasts.filter((x) => !Number.isNaN(x));
  return {
    lastMs: median(okLasts),
    firstMs: median(firsts),
    postMs: median(postMs),
    worstLastMs: okLasts.length ? Math.max(...okLasts) : NaN,
    missing,
    serverCpuMsPer: lasts.length ? (1000 * serverCpuS) / lasts.length : NaN,
    genCpuPct: g.cpuPct,
    extra: { setupS: setupMs / 1000, connectS: conn.connectMs / 1000, repeats: lasts.length, lasts: lasts.map((x) => Math.round(x * 10) / 10), ...counters },
  };
}

function describe(o) {
  const x = { ...defaults, ...o };
  return `one room of ${x.members} members; ${x.repeats} round advances, ${x.pause} ms apart`;
}

module.exports = { name: 'burst', defaults, columns, run, describe };
