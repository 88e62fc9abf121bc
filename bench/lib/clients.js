'use strict';
// Many socket.io-client connections from one process, WebSocket transport only.
const { io } = require('socket.io-client');
const { performance } = require('node:perf_hooks');
const { pool } = require('./http');

const NAMESPACE = '/study-groups';

/**
 * A client: one user, one socket, one session. `on` handlers are attached before connecting so
 * nothing that arrives right after the join is missed. `io` adds or overrides options of io():
 * the parser and its path (--parser msgpack), or `reconnection: true` (the storm).
 */
class Client {
  constructor(base, user, room, { on = {}, timeoutMs = 20_000, io: more = {} } = {}) {
    this.user = user;
    this.room = room;
    this.base = base;
    this.lastSeq = 0;
    this.socket = io(base + NAMESPACE, {
      transports: ['websocket'],
      forceNew: true,
      multiplex: false,
      reconnection: false,
      autoConnect: false,
      timeout: timeoutMs,
      auth: { token: user.token },
      ...more,
    });
    for (const [event, fn] of Object.entries(on)) this.socket.on(event, (data) => fn(this, data));
  }

  connect(timeoutMs = 20_000) {
    return new Promise((resolve, reject) => {
      const s = this.socket;
      const timer = setTimeout(() => done(new Error(`connect timeout after ${timeoutMs} ms`)), timeoutMs);
      const onConnect = () => done(null);
      const onError = (err) => done(new Error(`connect_error: ${err && err.message}`));
      function done(err) {
        clearTimeout(timer);
        s.off('connect', onConnect);
        s.off('connect_error', onError);
        if (err) reject(err);
        else resolve();
      }
      s.on('connect', onConnect);
      s.on('connect_error', onError);
      s.connect();
    });
  }

  /** emit with an acknowledgement and a timeout -> the ack payload. */
  request(event, payload, timeoutMs = 20_000) {
    return new Promise((resolve, reject) => {
      this.socket.timeout(timeoutMs).emit(event, payload, (err, ack) => {
        if (err) reject(new Error(`${event}: no ack within ${timeoutMs} ms`));
        else resolve(ack);
      });
    });
  }

  /** joinSession; throws unless the ack says success. Updates lastSeq from the ack. */
  async join(lastSeq, timeoutMs = 20_000) {
    const payload = { sessionId: this.room.sessionId };
    if (lastSeq !== undefined) payload.lastSeq = lastSeq;
    const ack = await this.request('joinSession', payload, timeoutMs);
    if (!ack || ack.success !== true) throw new Error(`joinSession refused: ${JSON.stringify(ack).slice(0, 300)}`);
    if (typeof ack.seq === 'number') this.lastSeq = Math.max(this.lastSeq, ack.seq);
    return ack;
  }

  close() {
    this.socket.disconnect();
  }
}

/**
 * Connect and join every client with at most `concurrency` handshakes in flight.
 * -> {connectMs, joinP99Ms} ; throws on the first failure.
 */
async function connectAndJoin(clients, { concurrency = 50, log = () => {} } = {}) {
  const t0 = performance.now();
  const joinTimes = [];
  let n = 0;
  await pool(clients, concurrency, async (c) => {
    await c.connect();
    const j0 = performance.now();
    await c.join();
    joinTimes.push(performance.now() - j0);
    n++;
    if (n % 2000 === 0) log(`  connected and joined ${n}/${clients.length}`);
  });
  joinTimes.sort((a, b) => a - b);
  const connectMs = performance.now() - t0;
  log(`  ${clients.length} clients connected and joined in ${(connectMs / 1000).toFixed(1)} s`);
  return { connectMs, joinP99Ms: joinTimes[Math.max(0, Math.ceil(joinTimes.length * 0.99) - 1)] };
}

function closeAll(clients) {
  for (const c of clients) c.close();
}

module.exports = { Client, connectAndJoin, closeAll };
