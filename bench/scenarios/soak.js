'use strict';
// soak: N clients spread over S sessions for `minutes`, each doing what people do: it joins
// (lastSeq 0: the whole log), receives chat, sends `typing`, now and then leaves and rejoins
// its session, and a fraction of them ("flaky") drop their connection (half cleanly, half by
// killing the TCP connection) and reconnect with lastSeq, recovering from the ack's `missed`.
// Chat is posted over REST at a fixed overall rate by random members, joined or not.
// Every `sample` s the server process's VmRSS and open file descriptors are read from /proc;
// a least-squares slope over the samples after `warmup` s is reported per hour. At the end
// every client rejoins, and what it holds is compared with GET /feed of its session:
// lost and duplicated durable events must be 0, HTTP 5xx must be 0.
// Ours only: there is no ratio, so the Node peer is not run.
const fs = require('node:fs');
const { performance } = require('node:perf_hooks');
const { setupRooms } = require('../lib/setup');
const { Rest, pool } = require('../lib/http');
const { Client } = require('../lib/clients');
const { HeldLog, SessionBook, keyOf } = require('../lib/recovery');
const { Samples, LoadMeter, ServerCpuMeter, NoiseMeter, sleep, waitFor } = require('../lib/stats');

const defaults = {
  clients: 2000,
  minutes: 10,
  sessions: 40,
  chat: 75, // REST chat posts per second, all sessions together
  typing: 100, // typing emits per second, all clients together
  leaves: 10, // leave + rejoin per second
  reconnects: 5, // disconnect + reconnect per second, among the flaky clients
  flaky: 0.25, // fraction of the clients that disconnect and reconnect
  away: 10, // s: a leave or a disconnect lasts 1..away s
  sample: 10, // s between samples of the server's RSS and fds
  warmup: 60, // s of samples left out of the slopes
  settle: 30, // s allowed at the end for in-flight work and the final catch-up
};

const columns = [
  ['rssFirstMiB', 'RSS after warm-up MiB', 1],
  ['rssLastMiB', 'RSS end MiB', 1],
  ['rssSlopeMiBh', 'RSS slope MiB/h', 2],
  ['fdsFirst', 'fds after warm-up', 0],
  ['fdsLast', 'fds end', 0],
  ['fdsSlopeH', 'fds slope /h', 1],
  ['lost', 'lost', 0],
  ['duplicated', 'dup', 0],
  ['http5xx', '5xx', 0],
  ['otherErrors', 'other errors', 0],
  ['chatPerS', 'chat posts/s', 1],
  ['serverCpuPct', 'server CPU %', 0],
  ['genCpuPct', 'gen CPU %', 0],
];

const TAG = 'soak#';

/** Least squares y = a + b t -> {slope b, se (standard error of b), n}. */
function fit(points) {
  const n = points.length;
  if (n < 3) return { slope: NaN, se: NaN, n };
  const mt = points.reduce((s, p) => s + p[0], 0) / n;
  const my = points.reduce((s, p) => s + p[1], 0) / n;
  let stt = 0;
  let sty = 0;
  for (const [t, y] of points) {
    stt += (t - mt) ** 2;
    sty += (t - mt) * (y - my);
  }
  const slope = sty / stt;
  const rss = points.reduce((s, [t, y]) => s + (y - (my + slope * (t - mt))) ** 2, 0);
  return { slope, se: Math.sqrt(rss / (n - 2) / stt), n };
}

/** VmRSS (KiB), threads and open file descriptors of one process, from /proc. */
function procSample(pid) {
  const out = { rssKiB: NaN, threads: NaN, fds: NaN };
  try {
    const status = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
    out.rssKiB = Number((/VmRSS:\s+(\d+)/.exec(status) || [])[1]);
    out.threads = Number((/Threads:\s+(\d+)/.exec(status) || [])[1]);
    out.fds = fs.readdirSync(`/proc/${pid}/fd`).length;
  } catch { /* process gone: NaN */ }
  return out;
}

/** Keep-alive HTTP connections the generator holds to the server (each one is a server fd too). */
const agentConns = (agent) => [agent.sockets, agent.freeSockets].reduce((n, m) => n + Object.values(m).reduce((k, a) => k + a.length, 0), 0);

const bump = (map, key, n = 1) => map.set(key, (map.get(key) || 0) + n);
/** An error message as a counter key: ids replaced, so that one kind of failure is one key. */
const kind = (what, e) => `${what}${String((e && (e.code || e.message)) || e).replace(/[0-9a-f]{8}-[0-9a-f-]{27}/g, ':id')}`.slice(0, 100);
const rand = (lo, hi) => lo + Math.random() * (hi - lo);

async function run({ server, rest, opts, secret, log }) {
  const o = { ...defaults, ...opts };
  const sessions = Math.max(1, Math.min(o.sessions, Math.floor(o.clients / 2)));
  const members = Math.ceil(o.clients / sessions);
  const durationMs = o.minutes * 60_000;
  const warmupS = Math.min(o.warmup, (o.minutes * 60) / 4);
  if (warmupS !== o.warmup) log(`  warm-up shortened to ${warmupS} s (a quarter of the run)`);
  const { rooms, ms: setupMs } = await setupRooms(rest, { secret, rooms: sessions, members, log });

  const counters = {
    applied: 0, dupDropped: 0, gaps: 0, missedApplied: 0, missedOutOfOrder: 0, held: 0, heldDropped: 0, mismatch: 0,
    joins: 0, leaves: 0, reconnects: 0, abrupt: 0, resync: 0, liveWhileLeft: 0,
    chatOk: 0, chatSkipped: 0, typingOk: 0, typingRefused: 0, skipped: 0,
  };
  const http = new Map(); // status (or error code) -> count, for every non-2xx REST answer in the run
  const errors = new Map(); // generator-side failures: message -> count
  const signals = new Map(); // ephemeral events received: name -> count
  const disconnects = new Map(); // server-side or unexpected disconnect reasons
  let http5xx = 0;
  const noteHttp = (r) => {
    if (r.status >= 500) http5xx++;
    if (r.status >= 300) bump(http, r.status);
  };

  let running = true; // until the soak's time is up: a dropped client recovers by itself meanwhile
  let giveUpAt = Infinity; // set at the end: no retry starts after it
  const clients = [];
  for (const room of rooms) {
    room.book = new SessionBook(room.sessionId);
    room.posted = []; // ids of chat messages answered 201
    for (const user of room.users) {
      if (clients.length >= o.clients) break;
      clients.push({ user, room, log: new HeldLog(room.book, counters), conn: null, state: 'new', busy: false, failed: false, flaky: false, typingOn: false, lastTyping: 0 });
    }
  }
  for (let i = 0; i < clients.length; i++) clients[i].flaky = i % Math.max(1, Math.round(1 / o.flaky)) === 0 && o.flaky > 0;

  const onEvent = (sc, event, data) => {
    if (data && typeof data.seq === 'number') {
      if (data.sessionId !== undefined && data.sessionId !== sc.room.sessionId) return void bump(errors, 'durable event of another session');
      if (sc.state === 'left') counters.liveWhileLeft++;
      sc.log.onLive(event, data);
    } else bump(signals, event);
  };

  /** A new socket (a new Engine.IO session), connected; its events go to sc while it is sc's. */
  const open = async (sc) => {
    const c = new Client(server.base, sc.user, sc.room, { timeoutMs: 30_000 });
    c.socket.onAny((event, data) => sc.conn === c && onEvent(sc, event, data));
    c.socket.on('disconnect', (reason) => {
      if (sc.conn !== c) return;
      bump(disconnects, reason);
      sc.conn = null;
      sc.state = 'away';
      if (!sc.busy && running) void perform(sc, async () => {}); // recover like a real client
    });
    sc.conn = c;
    await c.connect(30_000);
  };

  /** joinSession with the lastSeq applied so far; `missed` (or the feed on resync) before held events. */
  const join = async (sc) => {
    sc.state = 'joining'; // no longer 'left': the server may put this socket back in the room before it answers
    sc.log.beginJoin();
    try {
      const ack = await sc.conn.request('joinSession', { sessionId: sc.room.sessionId, lastSeq: sc.log.lastSeq }, 30_000);
      if (!ack || ack.success !== true) throw new Error(`joinSession refused: ${ack && ack.error ? ack.error.code : JSON.stringify(ack)}`);
      if (ack.resync) {
        counters.resync++;
        sc.log.applyMissed(await readFeed(sc.room, sc.user.token, sc.log.lastSeq, ack.seq));
      } else sc.log.applyMissed(Array.isArray(ack.missed) ? ack.missed : []);
      counters.joins++;
      sc.state = 'joined';
    } finally {
      sc.log.endJoin();
    }
  };

  /** Make sure sc ends joined: a fresh socket when it has none, up to 4 tries (none after giveUpAt). */
  const ensureJoined = async (sc) => {
    for (let attempt = 0; attempt < 4 && performance.now() < giveUpAt; attempt++) {
      try {
        if (!sc.conn || !sc.conn.socket.connected) {
          if (sc.conn) drop(sc, false);
          await open(sc);
        }
        if (sc.state !== 'joined') await join(sc);
        sc.failed = false;
        return;
      } catch (e) {
        bump(errors, kind('', e));
        if (sc.conn) drop(sc, false);
        await sleep(1000 * 2 ** attempt);
      }
    }
    sc.failed = sc.state !== 'joined';
  };

  /** Let go of sc's socket: cleanly (disconnect packet) or abruptly (the TCP connection killed). */
  const drop = (sc, abrupt) => {
    const c = sc.conn;
    sc.conn = null;
    sc.state = 'away';
    if (!c) return;
    const engine = c.socket.io.engine;
    const ws = abrupt && engine && engine.transport && engine.transport.ws;
    if (ws && typeof ws.terminate === 'function') ws.terminate();
    else c.close();
  };

  /** Run op on sc as its one operation in flight; whatever happens, sc ends joined (or failed). */
  const perform = async (sc, op) => {
    sc.busy = true;
    try {
      await op();
    } catch (e) {
      bump(errors, kind('', e));
    }
    await ensureJoined(sc);
    sc.busy = false;
  };

  const readFeed = async (room, token, afterSeq, upTo = Infinity) => {
    const out = [];
    for (let after = afterSeq, pages = 0; pages < 1000; pages++) {
      const r = await rest.request('GET', `/group-sessions/${room.sessionId}/feed?after_seq=${after}&limit=1000`, { token });
      noteHttp(r);
      if (r.status !== 200) throw new Error(`GET feed -> ${r.status}`);
      for (const ev of r.body.events) if (ev.seq <= upTo) out.push(ev);
      const last = r.body.events.length ? r.body.events[r.body.events.length - 1].seq : after;
      if (!r.body.has_more || last >= upTo) break;
      after = last;
    }
    return out;
  };

  // Everybody connects (50 at a time) and joins with lastSeq 0.
  const c0 = performance.now();
  await pool(clients, 50, ensureJoined);
  const connectS = (performance.now() - c0) / 1000;
  log(`  ${clients.length} clients in ${sessions} sessions of ${members} connected and joined in ${connectS.toFixed(1)} s`);

  // The soak.
  const poster = new Rest(server.base, { maxSockets: 64 });
  const postLat = new Samples(); // POST latency, queueing in the 64-connection pool included
  // /metrics on a fresh connection each time (an idle keep-alive one may be closing), 2 s at most: samples stay on time
  const probe = new Rest(server.base, { maxSockets: 1, timeoutMs: 2000, keepAlive: false });
  const samples = [];
  let chatInFlight = 0;
  let posts = 0;
  const t0 = performance.now();
  const sampleNow = async () => {
    const t = (performance.now() - t0) / 1000;
    const s = { t: Math.round(t * 10) / 10, ...procSample(server.pid), connected: 0, joined: 0, busy: 0, serverSockets: NaN, httpConns: agentConns(poster.agent) + agentConns(rest.agent) + agentConns(probe.agent) };
    for (const sc of clients) {
      if (sc.conn && sc.conn.socket.connected) s.connected++;
      if (sc.state === 'joined') s.joined++;
      if (sc.busy) s.busy++;
    }
    try {
      const r = await probe.request('GET', '/metrics');
      noteHttp(r);
      const m = /^studygroups_socket_connections (\S+)$/m.exec(typeof r.body === 'string' ? r.body : '');
      if (m) s.serverSockets = Number(m[1]);
    } catch (e) {
      bump(errors, kind('GET /metrics: ', e));
    }
    samples.push(s);
    log(`  t=${String(Math.round(s.t)).padStart(4)} s  RSS ${(s.rssKiB / 1024).toFixed(1)} MiB  fds ${s.fds}  threads ${s.threads}  sockets ${s.serverSockets}  http ${s.httpConns} (gen: ${s.connected} connected, ${s.joined} joined, ${s.busy} away/busy)  posts ${posts}`);
    return s;
  };
  await sampleNow();
  const meters = { gen: new LoadMeter().start(), srv: new ServerCpuMeter(server).start(), noise: new NoiseMeter(server).start() };

  const pick = (pred) => {
    for (let i = 0; i < 20; i++) {
      const sc = clients[Math.floor(Math.random() * clients.length)];
      if (pred(sc)) return sc;
    }
    counters.skipped++;
    return null;
  };
  const idle = (sc) => !sc.busy && !sc.failed && sc.state === 'joined' && sc.conn;

  const actions = {
    chat: () => {
      if (chatInFlight >= 256) return void counters.chatSkipped++; // the server is behind: do not pile on
      const sc = clients[Math.floor(Math.random() * clients.length)];
      const n = posts++;
      chatInFlight++;
      poster
        .request('POST', `/groups/${sc.room.groupId}/sessions/${sc.room.sessionId}/chat`, { token: sc.user.token, body: { round_index: 1, message: `${TAG}${n}` } })
        .then((r) => {
          noteHttp(r);
          postLat.add(r.ms);
          if (r.status === 201) {
            counters.chatOk++;
            sc.room.posted.push(r.body && r.body.id !== undefined ? String(r.body.id) : null);
          }
        })
        .catch((e) => bump(errors, kind('POST chat: ', e)))
        .finally(() => chatInFlight--);
    },
    typing: () => {
      const now = performance.now();
      const sc = pick((x) => idle(x) && now - x.lastTyping > 1000); // well clear of the 250 ms throttle
      if (!sc) return;
      sc.lastTyping = now;
      sc.typingOn = !sc.typingOn;
      sc.conn
        .request('typing', { sessionId: sc.room.sessionId, isTyping: sc.typingOn }, 10_000)
        .then((ack) => {
          if (ack && ack.success) counters.typingOk++;
          else if (ack && ack.error && ack.error.code === 'RATE_LIMITED') counters.typingRefused++;
          else bump(errors, `typing: ${JSON.stringify(ack).slice(0, 60)}`);
        })
        .catch((e) => sc.state === 'joined' && bump(errors, kind('typing: ', e)));
    },
    leaves: () => {
      const sc = pick(idle);
      if (!sc) return;
      counters.leaves++;
      void perform(sc, async () => {
        const ack = await sc.conn.request('leaveSession', { sessionId: sc.room.sessionId }, 30_000);
        if (!ack || ack.success !== true) throw new Error(`leaveSession: ${JSON.stringify(ack).slice(0, 60)}`);
        sc.state = 'left';
        await sleep(rand(1000, o.away * 1000));
      });
    },
    reconnects: () => {
      const sc = pick((x) => x.flaky && idle(x));
      if (!sc) return;
      counters.reconnects++;
      const abrupt = counters.reconnects % 2 === 0;
      if (abrupt) counters.abrupt++;
      void perform(sc, async () => {
        drop(sc, abrupt);
        await sleep(rand(1000, o.away * 1000));
      });
    },
  };
  // Open loop: every 100 ms, fire what is due at each fixed rate (at most a second's worth at once).
  const fired = Object.fromEntries(Object.keys(actions).map((k) => [k, 0]));
  const ticker = setInterval(() => {
    const elapsedS = Math.min(durationMs, performance.now() - t0) / 1000;
    for (const [k, fn] of Object.entries(actions)) {
      const due = Math.floor(elapsedS * o[k]);
      let n = due - fired[k];
      if (n > o[k]) {
        counters.skipped += n - o[k];
        n = o[k];
      }
      fired[k] = due;
      for (let i = 0; i < n; i++) fn();
    }
  }, 100);
  let nextSample = o.sample * 1000;
  while (performance.now() - t0 < durationMs) {
    await sleep(Math.max(0, Math.min(nextSample, durationMs) - (performance.now() - t0)));
    if (performance.now() - t0 >= nextSample - 1) {
      await sampleNow();
      nextSample += o.sample * 1000;
    }
  }
  clearInterval(ticker);
  running = false;
  const gen = meters.gen.stop();
  const serverCpuPct = meters.srv.stop();
  const otherCpuPct = meters.noise.stop();
  const chatPerS = counters.chatOk / (durationMs / 1000);

  // The end: in-flight work finishes, everybody ends joined, then everybody has caught up.
  giveUpAt = performance.now() + o.settle * 1000;
  const drained = await waitFor(() => chatInFlight === 0 && clients.every((sc) => !sc.busy), o.settle * 1000, 100);
  if (!drained) bump(errors, 'work still in flight after settle');
  giveUpAt = performance.now() + o.settle * 1000;
  const rejoin = pool(clients.filter((sc) => !sc.busy && sc.state !== 'joined'), 20, (sc) => perform(sc, async () => {}));
  await Promise.race([rejoin, sleep(o.settle * 1000)]);
  const end = procSample(server.pid);
  const feeds = new Map();
  await pool(rooms, 4, async (room) => feeds.set(room, await readFeed(room, room.owner.token, 0)));
  const heads = new Map(rooms.map((room) => [room, feeds.get(room).reduce((m, ev) => Math.max(m, ev.seq), 0)]));
  const caughtUp = await waitFor(() => clients.every((sc) => sc.failed || sc.log.lastSeq >= heads.get(sc.room)), o.settle * 1000, 100);
  if (!caughtUp) bump(errors, 'clients not caught up with the feed after settle');

  // Compare every client with its session's feed.
  let lost = 0;
  let duplicated = 0;
  let lostClients = 0;
  let notInFeed = 0;
  let feedGaps = 0;
  let bookMismatch = 0;
  let postsMissing = 0;
  for (const room of rooms) {
    const feed = feeds.get(room);
    feed.forEach((ev, i) => {
      if (ev.seq !== i + 1) feedGaps++;
      const known = room.book.keys.get(ev.seq);
      if (known !== undefined && known !== keyOf(ev.event, ev.data)) bookMismatch++;
    });
    const ids = new Set(feed.filter((ev) => ev.event === 'chat.message' && ev.data).map((ev) => String(ev.data.id)));
    for (const id of room.posted) if (id === null || !ids.has(id)) postsMissing++;
  }
  for (const sc of clients) {
    const r = sc.log.compare(feeds.get(sc.room));
    lost += r.lost;
    duplicated += r.duplicated;
    notInFeed += r.extra;
    if (r.lost) lostClients++;
  }
  duplicated += counters.dupDropped;
  const failedClients = clients.filter((sc) => sc.failed || sc.state !== 'joined').length;
  for (const sc of clients) drop(sc, false);
  poster.close();
  probe.close();

  let serverLogErrors = 0;
  try {
    serverLogErrors = fs.readFileSync(server.logFile, 'utf8').split('\n').filter((l) => /Traceback|\bERROR\b|\bCRITICAL\b/.test(l)).length;
  } catch { /* no log */ }

  const after = samples.filter((s) => s.t >= warmupS - 0.5);
  const rssFit = fit(after.map((s) => [s.t / 3600, s.rssKiB / 1024]));
  const fdFit = fit(after.map((s) => [s.t / 3600, s.fds]));
  // fds follow the connections open at each instant (the churn's sockets, keep-alive HTTP): the rest should be flat
  const fdRestFit = fit(after.filter((s) => !Number.isNaN(s.serverSockets)).map((s) => [s.t / 3600, s.fds - s.serverSockets - s.httpConns]));
  const otherErrors = [...errors.values()].reduce((a, b) => a + b, 0) + [...http.entries()].filter(([k]) => !(k >= 500)).reduce((a, [, v]) => a + v, 0) + counters.gaps + counters.mismatch + counters.liveWhileLeft + bookMismatch + feedGaps + postsMissing + failedClients + notInFeed;
  return {
    rssFirstMiB: after.length ? after[0].rssKiB / 1024 : NaN,
    rssLastMiB: after.length ? after[after.length - 1].rssKiB / 1024 : NaN,
    rssSlopeMiBh: rssFit.slope,
    fdsFirst: after.length ? after[0].fds : NaN,
    fdsLast: after.length ? after[after.length - 1].fds : NaN,
    fdsSlopeH: fdFit.slope,
    lost,
    duplicated,
    http5xx,
    otherErrors,
    chatPerS,
    serverCpuPct,
    genCpuPct: gen.cpuPct,
    otherCpuPct,
    samples,
    extra: {
      setupS: setupMs / 1000,
      connectS,
      clients: clients.length,
      sessions,
      members,
      warmupS,
      slopeSamples: rssFit.n,
      rssSlopeSeMiBh: rssFit.se,
      fdsSlopeSeH: fdFit.se,
      fdsBesidesConnectionsSlopeH: fdRestFit.slope,
      fdsBesidesConnectionsSlopeSeH: fdRestFit.se,
      rssMinMaxMiB: after.length ? [Math.min(...after.map((s) => s.rssKiB)) / 1024, Math.max(...after.map((s) => s.rssKiB)) / 1024] : [],
      fdsMinMax: after.length ? [Math.min(...after.map((s) => s.fds)), Math.max(...after.map((s) => s.fds))] : [],
      threadsMinMax: after.length ? [Math.min(...after.map((s) => s.threads)), Math.max(...after.map((s) => s.threads))] : [],
      afterSettle: { rssMiB: end.rssKiB / 1024, fds: end.fds, threads: end.threads },
      feedEvents: [...heads.values()].reduce((a, b) => a + b, 0),
      lostClients,
      failedClients,
      feedGaps,
      bookMismatch,
      postsMissing,
      notInFeed,
      http: Object.fromEntries(http),
      errors: Object.fromEntries(errors),
      disconnects: Object.fromEntries(disconnects),
      signals: Object.fromEntries(signals),
      postP50Ms: postLat.p(50),
      postP99Ms: postLat.p(99),
      genLoopP99Ms: gen.loopP99Ms,
      serverLogErrors,
      ...counters,
    },
  };
}

function describe(o) {
  const x = { ...defaults, ...o };
  return `${x.clients} clients over ${x.sessions} sessions for ${x.minutes} min: ${x.chat} chat posts/s, ${x.typing} typing/s, ${x.leaves} leave+rejoin/s, ${x.reconnects} reconnects/s among ${Math.round(x.flaky * 100)} % flaky clients; RSS and fds every ${x.sample} s, slopes after ${x.warmup} s`;
}

module.exports = { name: 'soak', defaults, columns, run, describe, servers: ['ours'], rounds: 1, explicitOnly: true, topologies: ['single'] };
