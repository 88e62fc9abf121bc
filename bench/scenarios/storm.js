'use strict';
// storm: N clients joined over S sessions while chat posts keep coming (REST, open loop, spread
// over the sessions and the processes). The servers are restarted twice: first ONE process
// (signal, wait for it to exit, start it again on the same port), and once every client is back,
// ALL processes at once. Clients reconnect on their own: socket.io-client's reconnection with
// its default backoff (1 s doubling to 5 s, +-50 %); on every `connect` a client joins with the
// lastSeq it holds, holds live events while the join is answered, applies `missed` (or pages
// GET /feed on `resync`) then the held events (lib/recovery.js), as docs/realtime.md tells.
// Per phase: time from the kill until every client that lost its connection has rejoined and
// holds every event whose POST was answered 201 before its rejoin; join (ack) p50/p99;
// reconnect attempts. At the end every client's events are compared with the feed: lost and
// duplicated must be 0. The peer's clients join without lastSeq (they recover nothing): its
// time to reconnect and join is the bar. `--peer-recovers` makes them recover like ours.
const { performance } = require('node:perf_hooks');
const { setupRooms } = require('../lib/setup');
const { pool } = require('../lib/http');
const { closeAll } = require('../lib/clients');
const { HeldLog, SessionBook, readFeed } = require('../lib/recovery');
const { Samples, LoadMeter, ServerCpuMeter, sleep, waitFor } = require('../lib/stats');

const defaults = { clients: 5000, sessions: 100, chat: 50, signal: 'TERM', settle: 60, warmup: 3, pause: 3, 'peer-recovers': false };

// Every durable event (docs/realtime.md): a client listens to all so that lastSeq follows every seq.
const DURABLE = [
  'session.started', 'session.statusChanged', 'session.ended', 'round.advanced', 'round.results',
  'round.timerChanged', 'round.timeUp', 'session.settingsChanged', 'prompt.updated', 'vote.submitted',
  'revote.submitted', 'sharedCard.created', 'chat.message',
];
const JOIN_TIMEOUT_MS = 20_000;

const columns = [
  ['oneRestartMs', 'one: restart ms', 0],
  ['oneRecoveredMs', 'one: all recovered ms', 0],
  ['oneJoinP50Ms', 'one: join p50 ms', 1],
  ['oneJoinP99Ms', 'one: join p99 ms', 1],
  ['oneAttempts', 'one: reconnect attempts', 0],
  ['allRestartMs', 'all: restart ms', 0],
  ['allRecoveredMs', 'all: all recovered ms', 0],
  ['allJoinP50Ms', 'all: join p50 ms', 1],
  ['allJoinP99Ms', 'all: join p99 ms', 1],
  ['allAttempts', 'all: reconnect attempts', 0],
  ['lost', 'lost', 0],
  ['duplicated', 'dup', 0],
  ['unrecovered', 'unrecovered', 0],
  ['genCpuPct', 'gen CPU %', 0],
];

async function run({ server, rest, opts, secret, log }) {
  const o = { ...defaults, ...opts };
  const signal = `SIG${String(o.signal).toUpperCase().replace(/^SIG/, '')}`;
  if (!['SIGTERM', 'SIGKILL', 'SIGINT'].includes(signal)) throw new Error('--signal takes TERM, KILL or INT');
  const members = Math.ceil(o.clients / o.sessions);
  const recovers = server.kind === 'ours' || o['peer-recovers'] === true;
  const { rooms, ms: setupMs } = await setupRooms(rest, { secret, rooms: o.sessions, members, log });

  const counters = {
    applied: 0, dupDropped: 0, gaps: 0, missedApplied: 0, missedOutOfOrder: 0, held: 0, heldDropped: 0, mismatch: 0,
    joins: 0, joinRefused: 0, joinTimeouts: 0, connectRefused: 0, resync: 0, feedErrors: 0, attempts: 0, disconnects: 0,
  };
  const reasons = new Map();
  const bump = (m, k) => m.set(k, (m.get(k) || 0) + 1);
  const knownHead = new Map(); // room -> highest seq answered 201 (or seen in the setup)
  for (const room of rooms) {
    room.book = new SessionBook(room.sessionId);
    knownHead.set(room, 0);
  }
  let phase = null; // {name, t0, down: Set, joinMs: Samples, attempts}
  const firstJoins = new Samples();

  const clients = [];
  for (const room of rooms) {
    for (const user of room.users) {
      if (clients.length >= o.clients) break;
      // Reconnection on, socket.io-client's default backoff; autoConnect off: connected in batches.
      const c = server.client(user, room, { io: { reconnection: true } });
      c.log = new HeldLog(room.book, counters);
      c.conn = 0;
      c.state = 'new'; // 'joining' | 'joined' | 'down'
      c.recoveredAt = null;
      c.target = 0;
      c.firstJoin = null;
      clients.push(c);
    }
  }

  const check = (c) => {
    if (c.state === 'joined' && c.recoveredAt === null && c.log.lastSeq >= c.target) c.recoveredAt = performance.now();
  };

  const join = (c) => {
    const mine = ++c.conn;
    c.state = 'joining';
    const payload = { sessionId: c.room.sessionId };
    if (recovers) {
      payload.lastSeq = c.log.lastSeq;
      c.log.beginJoin();
    }
    const t = performance.now();
    const inPhase = phase;
    c.socket.timeout(JOIN_TIMEOUT_MS).emit('joinSession', payload, async (err, ack) => {
      if (mine !== c.conn) return; // that connection is gone; the next join starts over
      const ms = performance.now() - t;
      if (err) {
        counters.joinTimeouts++;
        c.log.abortJoin();
        c.socket.disconnect().connect(); // as docs/realtime.md: no answer, reconnect and join again
        return;
      }
      if (!ack || ack.success !== true) {
        counters.joinRefused++;
        bump(reasons, `join refused: ${ack && ack.error ? ack.error.code : 'no ack'}`);
        c.log.abortJoin();
        setTimeout(() => mine === c.conn && join(c), 1000);
        return;
      }
      if (inPhase && inPhase === phase) inPhase.joinMs.add(ms);
      if (recovers) {
        if (ack.resync) {
          counters.resync++;
          try {
            c.log.applyMissed(await readFeed(rest, c.room.sessionId, c.user.token, c.log.lastSeq, ack.seq));
          } catch (e) {
            counters.feedErrors++;
            bump(reasons, `feed: ${e.message}`);
            if (mine === c.conn) c.socket.disconnect().connect();
            return;
          }
          if (mine !== c.conn) return;
        } else c.log.applyMissed(Array.isArray(ack.missed) ? ack.missed : []);
        c.log.endJoin();
      }
      counters.joins++;
      c.state = 'joined';
      if (c.firstJoin === null) {
        c.firstJoin = ms;
        firstJoins.add(ms);
      }
      c.target = recovers ? knownHead.get(c.room) : 0;
      check(c);
      if (c.resolveJoined) c.resolveJoined();
    });
  };

  for (const c of clients) {
    for (const event of DURABLE) {
      c.socket.on(event, (data) => {
        if (!data || typeof data.seq !== 'number') return;
        c.log.onLive(event, data);
        check(c);
      });
    }
    c.socket.on('connect', () => join(c));
    c.socket.on('disconnect', (reason) => {
      c.conn++; // an answer still on its way belongs to the old connection
      c.log.abortJoin();
      c.state = 'down';
      c.recoveredAt = null;
      counters.disconnects++;
      bump(reasons, `disconnect: ${reason}`);
      if (phase) phase.down.add(c);
    });
    c.socket.on('connect_error', (err) => {
      bump(reasons, `connect_error: ${err && err.message}`);
      // A refusal by the server (not a network error) is not retried by socket.io-client
      // (`active` is false then); an application tries again, as docs/realtime.md does for tokens.
      if (!c.socket.active) {
        counters.connectRefused++;
        setTimeout(() => c.socket.connect(), 1000 + Math.random() * 1000);
      }
    });
        c.socket.io.on('reconnect_attempt', () => {
      counters.attempts++;
      if (phase) phase.attempts++;
    });
  }

  // Everybody connects and joins, 50 handshakes at a time.
  const c0 = performance.now();
  await pool(clients, 50, (c) => new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('first connect+join took over 60 s')), 60_000);
    c.resolveJoined = () => {
      clearTimeout(timer);
      c.resolveJoined = null;
      resolve();
    };
    c.socket.connect();
  }));
  const connectS = (performance.now() - c0) / 1000;
  log(`  ${clients.length} clients in ${rooms.length} sessions connected and joined in ${connectS.toFixed(1)} s`);

  // Chat, open loop: `chat` posts/s over all sessions in turn, posters rotating; no retries (a
  // post refused while its process is down records nothing).
  const poster = server.rest({ maxSockets: 64 });
  const posts = { ok: 0, failed: 0, inFlight: 0 };
  const postFailures = new Map();
  let chatOn = true;
  let k = 0;
  const period = 1000 / o.chat;
  const ct0 = performance.now();
  const chatLoop = (async () => {
    while (chatOn) {
      const room = rooms[k % rooms.length];
      const user = room.users[Math.floor(k / rooms.length) % room.users.length];
      k++;
      if (posts.inFlight < 256) {
        posts.inFlight++;
        poster
          .request('POST', `/groups/${room.groupId}/sessions/${room.sessionId}/chat`, { token: user.token, body: { round_index: 1, message: `storm#${k}` } })
          .then((r) => {
            if (r.status === 201) {
              posts.ok++;
              if (r.body && typeof r.body.seq === 'number' && r.body.seq > knownHead.get(room)) knownHead.set(room, r.body.seq);
            } else {
              posts.failed++;
              bump(postFailures, r.status);
            }
          })
          .catch((e) => {
            posts.failed++;
            bump(postFailures, e.code || 'error');
          })
          .finally(() => posts.inFlight--);
      } else bump(postFailures, 'skipped');
      await sleep(Math.max(0, ct0 + k * period - performance.now()));
    }
  })();
  await sleep(o.warmup * 1000);

  // A phase: restart processes `which`, wait until every client that lost its connection is back.
  const gen = new LoadMeter().start();
  const runPhase = async (name, which) => {
    const srv = new ServerCpuMeter(server).start();
    phase = { name, t0: performance.now(), down: new Set(), joinMs: new Samples(), attempts: 0 };
    const p = phase;
    log(`  ${name}: ${signal} to process${which.length > 1 ? 'es' : ''} ${which.join(', ')} (of ${server.procs.length})`);
    const restarts = await Promise.all(which.map((i) => server.restart(i, signal, Math.max(60, o.settle) * 1000)));
    const restartMs = performance.now() - p.t0;
    const done = () => p.down.size > 0 && clients.every((c) => c.state === 'joined' && c.recoveredAt !== null);
    const ok = await waitFor(done, o.settle * 1000, 20);
    const back = [...p.down].filter((c) => c.state === 'joined' && c.recoveredAt !== null);
    const recoveredMs = ok ? Math.max(...back.map((c) => c.recoveredAt - p.t0)) : NaN;
    const r = {
      restartMs,
      downMs: Math.max(...restarts.map((x) => x.downMs)),
      recoveredMs,
      joinP50Ms: p.joinMs.p(50),
      joinP99Ms: p.joinMs.p(99),
      joins: p.joinMs.n,
      attempts: p.attempts,
      disconnected: p.down.size,
      unrecovered: clients.filter((c) => !(c.state === 'joined' && c.recoveredAt !== null)).length,
      serverCpuPct: srv.stop(),
    };
    log(`  ${name}: ${r.disconnected} clients lost their connection; restarted in ${Math.round(restartMs)} ms (exit ${r.downMs} ms); ${ok ? `all recovered in ${Math.round(recoveredMs)} ms` : `${r.unrecovered} not recovered after ${o.settle} s`}; join p99 ${r.joinP99Ms.toFixed(1)} ms; ${r.attempts} reconnect attempts`);
    phase = null;
    return r;
  };
  const one = await runPhase('one', [0]);
  await sleep(o.pause * 1000);
  const all = await runPhase('all', server.procs.map((_, i) => i));
  await sleep(o.pause * 1000);
  const g = gen.stop();

  // The end: chat stops, every client catches up with the heads, then the feed decides.
  chatOn = false;
  await chatLoop;
  await waitFor(() => posts.inFlight === 0, 30_000);
  let lost = 0;
  let holes = 0;
  let duplicated = counters.dupDropped;
  let behind = 0;
  let feedPosts = 0;
  let notBack = 0;
  if (recovers) {
    await waitFor(() => clients.every((c) => c.state === 'joined' && c.log.lastSeq >= knownHead.get(c.room)), o.settle * 1000);
    notBack = clients.filter((c) => c.state !== 'joined').length;
    for (const room of rooms) {
      let feed;
      try {
        feed = await readFeed(rest, room.sessionId, room.owner.token, 0);
      } catch (e) {
        counters.feedErrors++;
        bump(reasons, `final feed: ${e.message}`);
        continue;
      }
      feedPosts += feed.filter((ev) => ev.event === 'chat.message').length;
      for (const c of clients) {
        if (c.room !== room) continue;
        const cmp = c.log.compare(feed);
        lost += cmp.lost;
        holes += cmp.holes;
        duplicated += cmp.duplicated;
        if (cmp.lost) behind++;
      }
    }
  }
  closeAll(clients);
  poster.close();
  return {
    oneRestartMs: one.restartMs,
    oneRecoveredMs: one.recoveredMs,
    oneJoinP50Ms: one.joinP50Ms,
    oneJoinP99Ms: one.joinP99Ms,
    oneAttempts: one.attempts,
    allRestartMs: all.restartMs,
    allRecoveredMs: all.recoveredMs,
    allJoinP50Ms: all.joinP50Ms,
    allJoinP99Ms: all.joinP99Ms,
    allAttempts: all.attempts,
    lost: recovers ? lost : NaN,
    duplicated: recovers ? duplicated : NaN,
    unrecovered: one.unrecovered + all.unrecovered,
    genCpuPct: g.cpuPct,
    extra: {
      setupS: setupMs / 1000,
      connectS,
      firstJoinP99Ms: firstJoins.p(99),
      recovers,
      signal,
      one,
      all,
      postsOk: posts.ok,
      postsFailed: posts.failed,
      postFailures: Object.fromEntries(postFailures),
      chatInFeed: recovers ? feedPosts : undefined,
      clientsMissingEvents: behind,
      holes, // lost events below a client's last applied seq: skipped for good (the rest is a tail not caught up)
      clientsNotJoinedAtEnd: notBack,
      reasons: Object.fromEntries(reasons),
      ...counters,
    },
  };
}

function describe(o) {
  const x = { ...defaults, ...o };
  return `${x.clients} clients over ${x.sessions} sessions, ${x.chat} chat posts/s; restart one process, then all (SIG${String(x.signal).toUpperCase().replace(/^SIG/, '')}); clients reconnect with socket.io-client's backoff and rejoin with lastSeq`;
}

module.exports = { name: 'storm', defaults, columns, run, describe, explicitOnly: true, topology: 'cluster', peerRedis: true };
