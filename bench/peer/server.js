'use strict';
// The peer: a small, in-memory Node.js Socket.IO 4.8 server with the same paths as studygroups,
// used as the yardstick in bench/. It keeps nothing on disk (ours writes every durable event to
// its database before broadcasting it), and it enforces only the rules the benchmark exercises:
// identity, membership, facilitator rights, the round state order, chat cleaning, the typing
// throttle, and seq-numbered replay on joinSession {lastSeq}.
//
//   JWT_SECRET=... node bench/peer/server.js --host 127.0.0.1 --port 8100
//     [--redis redis://127.0.0.1:6379/9 --redis-prefix P]   a cluster process: the official
//         @socket.io/redis-adapter for broadcasts, and groups, sessions, logs and presence in
//         Redis (peer/store.js) so that every process answers for every session
//     [--parser msgpack]   socket.io-msgpack-parser at /socket.io-msgpack/ instead of JSON
const http = require('node:http');
const crypto = require('node:crypto');
const { Server } = require('socket.io');
const jwt = require('../lib/jwt');
const { MemoryStore, RedisStore } = require('./store');

const args = process.argv.slice(2);
const argValue = (name, dflt) => {
  const i = args.indexOf(name);
  return i >= 0 && i + 1 < args.length ? args[i + 1] : dflt;
};
const HOST = argValue('--host', process.env.HOST || '127.0.0.1');
const PORT = Number(argValue('--port', process.env.PORT || 8100));
const REDIS_URL = argValue('--redis', process.env.REDIS_URL || '');
const REDIS_PREFIX = argValue('--redis-prefix', 'peer:');
const PARSER = argValue('--parser', 'json');
const SECRET = process.env.JWT_SECRET;
if (!SECRET) {
  console.error('peer: JWT_SECRET is required');
  process.exit(2);
}

const TYPING_INTERVAL_MS = 250;
const MAX_MISSED = 1000;
const MAX_BODY = 64 * 1024;
const ROUND_ORDER = ['CREATED', 'VOTING', 'DISCUSSING', 'REVOTING', 'EXPLAINING', 'DONE'];
const ROLES = ['FACILITATOR', 'SCRIBE', 'TIMEKEEPER', 'CLARIFIER', 'CONNECTOR'];

// ---------------------------------------------------------------- state
let store = new MemoryStore(); // a RedisStore in a cluster (see start())
const typingLast = new Map(); // `${userId}|${sessionId}` -> ms of the last relayed typing (per process: a socket lives on one)

const now = () => new Date().toISOString();
const newId = () => crypto.randomUUID();
const room = (sessionId) => `session:${sessionId}`;

function identify(token) {
  if (typeof token !== 'string' || token === '') return null;
  const raw = token.startsWith('Bearer ') ? token.slice(7) : token;
  const claims = jwt.verify(raw, SECRET);
  return claims ? { id: claims.sub, email: claims.email, name: claims.name } : null;
}

// ---------------------------------------------------------------- domain errors
class Failure extends Error {
  constructor(status, code, message, extra) {
    super(message);
    this.status = status;
    this.code = code;
    this.extra = extra || {};
  }
}
const HTTP_NAMES = { 400: 'Bad Request', 401: 'Unauthorized', 403: 'Forbidden', 404: 'Not Found', 409: 'Conflict', 413: 'Payload Too Large' };
const bad = (m) => new Failure(400, 'BAD_REQUEST', m);
const forbidden = (m) => new Failure(403, 'FORBIDDEN', m);
const notFound = (m) => new Failure(404, 'NOT_FOUND', m);
const conflict = (m) => new Failure(409, 'CONFLICT', m);

async function getGroup(id) {
  const g = await store.group(id);
  if (!g) throw notFound('group not found');
  return g;
}
async function getSession(id) {
  const s = await store.session(id);
  if (!s) throw notFound('session not found');
  return s;
}
async function requireActiveMember(groupId, userId) {
  const m = await store.member(groupId, userId);
  if (!m || m.status !== 'ACTIVE') throw forbidden('not an active member of this group');
  return m;
}
async function requireFacilitator(session, userId) {
  const m = await requireActiveMember(session.groupId, userId);
  if (session.members.get(userId) === 'FACILITATOR' || m.role === 'OWNER' || m.role === 'MOD') return;
  throw forbidden('only the facilitator may do this');
}
function requireNotFinished(session) {
  if (session.status === 'FINISHED') throw conflict('session is finished');
}

// ---------------------------------------------------------------- durable events
let io;
async function publish(session, event, payload) {
  const data = await store.append(session.id, event, payload, now());
  io.of('/study-groups').to(room(session.id)).emit(event, data);
  return data;
}

// ---------------------------------------------------------------- views
function groupView(g, members) {
  return {
    id: g.id,
    name: g.name,
    scope_type: g.scopeType,
    scope_id: g.scopeId,
    created_by: g.createdBy,
    members: [...members].map(([userId, m]) => ({ user_id: userId, role: m.role, status: m.status })),
  };
}
function sessionView(s, seq) {
  return {
    id: s.id,
    group_id: s.groupId,
    status: s.status,
    mode: s.mode,
    layer: s.layer,
    seq,
    rounds: s.rounds.map((r) => ({ id: r.id, round_index: r.index, status: r.status })),
    members: [...s.members].map(([userId, role]) => ({ user_id: userId, role })),
  };
}

// ---------------------------------------------------------------- REST handlers
function stripTags(text) {
  return text.replace(/<[^>]*>/g, '');
}

const routes = [
  ['GET', /^\/healthz$/, false, async () => [200, { status: 'ok' }]],
  ['GET', /^\/readyz$/, false, async () => [200, { status: 'ok' }]],
  ['POST', /^\/groups$/, true, async (user, body) => {
    if (typeof body.name !== 'string' || !body.name.trim()) throw bad('name is required');
    const g = { id: newId(), name: body.name.trim(), scopeType: body.scope_type ?? null, scopeId: body.scope_id ?? null, createdBy: user.id };
    await store.createGroup(g, user.id);
    return [201, groupView(g, new Map([[user.id, { role: 'OWNER', status: 'ACTIVE' }]]))];
  }],
  ['GET', /^\/groups\/([^/]+)$/, true, async (user, body, [gid]) => {
    const g = await getGroup(gid);
    await requireActiveMember(g.id, user.id);
    return [200, groupView(g, await store.memberList(g.id))];
  }],
  ['POST', /^\/groups\/([^/]+)\/members\/invite$/, true, async (user, body, [gid]) => {
    const g = await getGroup(gid);
    const me = await requireActiveMember(g.id, user.id);
    if (me.role !== 'OWNER' && me.role !== 'MOD') throw forbidden('only OWNER or MOD may invite');
    if (typeof body.user_id !== 'string' || !body.user_id) throw bad('user_id is required');
    const role = body.role ?? 'MEMBER';
    if (!['OWNER', 'MOD', 'MEMBER'].includes(role)) throw bad('bad role');
    const existing = await store.member(g.id, body.user_id);
    if (existing && existing.status === 'ACTIVE') throw conflict('already a member');
    await store.setMember(g.id, body.user_id, { role, status: 'INVITED' });
    return [201, { group_id: g.id, user_id: body.user_id, role, status: 'INVITED' }];
  }],
  ['POST', /^\/groups\/([^/]+)\/members\/accept$/, true, async (user, body, [gid]) => {
    const g = await getGroup(gid);
    const m = await store.member(g.id, user.id);
    if (!m) throw forbidden('not invited');
    if (m.status !== 'INVITED') throw conflict(`membership is ${m.status}`);
    m.status = 'ACTIVE';
    await store.setMember(g.id, user.id, m);
    return [200, { group_id: g.id, user_id: user.id, role: m.role, status: m.status }];
  }],
  ['POST', /^\/group-sessions$/, true, async (user, body, params, query) => {
    const g = await getGroup(query.get('groupId') || '');
    await requireActiveMember(g.id, user.id);
    const n = body.rounds_count;
    if (!Number.isInteger(n) || n < 1 || n > 10) throw bad('rounds_count must be 1..10');
    const active = [...(await store.memberList(g.id))].filter(([, m]) => m.status === 'ACTIVE').map(([id]) => id).sort();
    if (active.length < 2) throw conflict('a session needs at least 2 active members');
    const s = {
      id: newId(), groupId: g.id, status: 'CREATED', mode: body.mode ?? 'PI', layer: body.layer ?? 'L1',
      rounds: Array.from({ length: n }, (_, i) => ({ id: newId(), index: i + 1, status: 'CREATED' })),
      members: new Map(active.map((id, i) => [id, ROLES[i] ?? 'PARTICIPANT'])),
    };
    await store.createSession(s);
    return [201, sessionView(s, 0)];
  }],
  ['GET', /^\/group-sessions\/([^/]+)$/, true, async (user, body, [sid]) => {
    const s = await getSession(sid);
    await requireActiveMember(s.groupId, user.id);
    return [200, sessionView(s, await store.head(s.id))];
  }],
  ['PUT', /^\/group-sessions\/([^/]+)\/start$/, true, async (user, body, [sid]) => {
    const s = await getSession(sid);
    await requireFacilitator(s, user.id);
    if (s.status !== 'CREATED') throw conflict(`session is ${s.status}`);
    s.status = 'RUNNING';
    await store.saveSession(s);
    await publish(s, 'session.started', { sessionId: s.id, status: 'RUNNING', startedBy: user.id });
    return [200, sessionView(s, await store.head(s.id))];
  }],
  ['POST', /^\/group-sessions\/([^/]+)\/rounds\/(\d+)\/advance$/, true, async (user, body, [sid, ri]) => {
    const s = await getSession(sid);
    await requireFacilitator(s, user.id);
    if (s.status !== 'RUNNING') throw conflict('session is not running');
    const r = s.rounds[Number(ri) - 1];
    if (!r) throw notFound('round not found');
    const next = ROUND_ORDER[ROUND_ORDER.indexOf(r.status) + 1];
    if (!next || body.to_status !== next) throw conflict(`illegal transition ${r.status} -> ${body.to_status}`);
    // The peer keeps no votes, so the vote/revote/explanation gates are not modelled.
    r.status = next;
    await store.saveSession(s);
    await publish(s, 'round.advanced', { sessionId: s.id, roundId: r.id, roundIndex: r.index, status: r.status });
    return [200, { id: r.id, round_index: r.index, status: r.status }];
  }],
  ['GET', /^\/group-sessions\/([^/]+)\/feed$/, true, async (user, body, [sid], query) => {
    const s = await getSession(sid);
    await requireActiveMember(s.groupId, user.id);
    const after = Math.max(0, Number(query.get('after_seq') || 0));
    const limit = Math.min(Number(query.get('limit') || 500), 1000);
    const { events } = await store.after(s.id, after, limit + 1);
    return [200, { events: events.slice(0, limit), has_more: events.length > limit }];
  }],
  ['POST', /^\/groups\/([^/]+)\/sessions\/([^/]+)\/chat$/, true, async (user, body, [gid, sid]) => {
    const [s, m] = await Promise.all([getSession(sid), store.member(gid, user.id)]);
    if (s.groupId !== gid) throw notFound('session not found in this group');
    if (!m || m.status !== 'ACTIVE') throw forbidden('not an active member of this group');
    if (!s.members.has(user.id)) throw forbidden('not a member of this session');
    requireNotFinished(s);
    const ri = body.round_index;
    if (!Number.isInteger(ri) || !s.rounds[ri - 1]) throw bad('bad round_index');
    if (typeof body.message !== 'string') throw bad('message is required');
    const message = stripTags(body.message).trim();
    if (message.length < 1 || message.length > 500) throw bad('message must be 1..500 characters');
    const id = newId();
    const data = await publish(s, 'chat.message', { id, sessionId: s.id, roundIndex: ri, message, userId: user.id, userName: user.name });
    return [201, { id, session_id: s.id, round_index: ri, message, user_id: user.id, user_name: user.name, created_at: data.timestamp, seq: data.seq }];
  }],
];

function send(res, status, body) {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
  res.end(text);
}
function sendError(res, status, message, extra) {
  send(res, status, { statusCode: status, error: HTTP_NAMES[status] || 'Error', message, ...(extra || {}) });
}

function handle(req, res) {
  const url = new URL(req.url, 'http://peer');
  const matches = routes.filter(([, re]) => re.test(url.pathname));
  if (matches.length === 0) return sendError(res, 404, 'no such route');
  const route = matches.find(([method]) => method === req.method);
  if (!route) return sendError(res, 405, 'method not allowed');
  const [, re, needsAuth, fn] = route;
  const params = re.exec(url.pathname).slice(1).map(decodeURIComponent);
  const chunks = [];
  let size = 0;
  let tooLarge = false;
  req.on('data', (c) => {
    size += c.length;
    if (size > MAX_BODY) tooLarge = true;
    else chunks.push(c);
  });
  req.on('end', () => {
    if (tooLarge) return sendError(res, 413, 'body too large');
    let user = null;
    if (needsAuth) {
      const header = req.headers.authorization || '';
      user = header.startsWith('Bearer ') ? identify(header.slice(7)) : null;
      if (!user) return sendError(res, 401, 'Invalid or expired token');
    }
    let body = {};
    if (chunks.length) {
      try {
        body = JSON.parse(Buffer.concat(chunks).toString('utf8'));
      } catch {
        return sendError(res, 400, 'invalid JSON');
      }
      if (!body || typeof body !== 'object') body = {};
    }
    fn(user, body, params, url.searchParams).then(
      ([status, out]) => send(res, status, out),
      (e) => {
        if (e instanceof Failure) return sendError(res, e.status, e.message, e.extra);
        console.error('peer: unexpected error', e);
        sendError(res, 500, 'internal error');
      },
    );
  });
}

// ---------------------------------------------------------------- Socket.IO
const httpServer = http.createServer(handle);
httpServer.keepAliveTimeout = 65_000;
const ioOptions = { cors: { origin: (process.env.FRONTEND_URL || '*').split(',') }, serveClient: false };
if (PARSER === 'msgpack') Object.assign(ioOptions, { parser: require('socket.io-msgpack-parser'), path: '/socket.io-msgpack/' });
else if (PARSER !== 'json') throw new Error(`--parser json|msgpack, not ${PARSER}`);
io = new Server(httpServer, ioOptions);
const nsp = io.of('/study-groups');

nsp.use((socket, next) => {
  const hs = socket.handshake;
  const token = (hs.auth && hs.auth.token) || hs.query.token;
  if (!token) return next(new Error('No token provided'));
  const user = identify(String(token));
  if (!user) return next(new Error('Invalid or expired token'));
  socket.data.user = user;
  socket.data.sessions = new Set();
  return next();
});

const ackOk = (ack, body) => typeof ack === 'function' && ack({ success: true, ...body });
const ackErr = (ack, code, message) => typeof ack === 'function' && ack({ success: false, error: { code, message } });

async function leave(socket, sessionId) {
  if (!socket.data.sessions.delete(sessionId)) return;
  socket.leave(room(sessionId));
  const user = socket.data.user;
  if (await store.presenceLeave(sessionId, user.id)) {
    nsp.to(room(sessionId)).emit('userLeft', { userId: user.id, userName: user.name, timestamp: now() });
  }
}

function wrap(handler) {
  const fail = (ack, e) => {
    if (e instanceof Failure) return ackErr(ack, e.code, e.message);
    console.error('peer: unexpected error', e);
    return ackErr(ack, 'BAD_REQUEST', 'internal error');
  };
  return (payload, ack) => {
    if (typeof payload === 'function' && ack === undefined) [payload, ack] = [undefined, payload];
    try {
      if (!payload || typeof payload !== 'object' || typeof payload.sessionId !== 'string') throw bad('sessionId is required');
      const r = handler(payload, ack);
      if (r && typeof r.catch === 'function') r.catch((e) => fail(ack, e));
    } catch (e) {
      fail(ack, e);
    }
  };
}

nsp.on('connection', (socket) => {
  const user = socket.data.user;

  socket.on('joinSession', wrap(async ({ sessionId, lastSeq }, ack) => {
    const s = await getSession(sessionId);
    await requireActiveMember(s.groupId, user.id);
    if (!s.members.has(user.id)) throw forbidden('not a member of this session');
    if (lastSeq !== undefined && lastSeq !== null && !(Number.isInteger(lastSeq) && lastSeq >= 0)) throw bad('lastSeq must be an integer >= 0');
    if (!socket.connected) return;
    // Into the room first, then read the log: an event appended in between arrives live and in
    // `missed` (a client drops the second copy by its seq), never in neither. In one process
    // (MemoryStore) nothing can come in between anyway.
    const joined = !socket.data.sessions.has(sessionId);
    if (joined) {
      socket.data.sessions.add(sessionId);
      socket.join(room(sessionId));
    }
    const [{ head, events }, here] = await Promise.all([
      store.after(sessionId, Number.isInteger(lastSeq) ? lastSeq : 0, Number.isInteger(lastSeq) ? MAX_MISSED + 1 : 0),
      joined ? store.presenceJoin(sessionId, user.id, user.name) : store.presenceList(sessionId).then((list) => ({ first: false, list })),
    ]);
    const reply = { sessionId, seq: head };
    if (Number.isInteger(lastSeq)) {
      if (events.length > MAX_MISSED) reply.resync = true;
      else reply.missed = events;
    }
    if (here.first) socket.to(room(sessionId)).emit('userJoined', { userId: user.id, userName: user.name, timestamp: now() });
    ackOk(ack, { ...reply, presence: here.list });
  }));

  socket.on('leaveSession', wrap(async ({ sessionId }, ack) => {
    await leave(socket, sessionId);
    ackOk(ack, {});
  }));

  socket.on('typing', wrap(({ sessionId, isTyping }, ack) => {
    if (!socket.data.sessions.has(sessionId)) throw forbidden('join the session first');
    const key = `${user.id}|${sessionId}`;
    const t = Date.now();
    const last = typingLast.get(key);
    if (last !== undefined && t - last < TYPING_INTERVAL_MS) {
      return ackErr(ack, 'RATE_LIMITED', 'typing at most every 250 ms');
    }
    typingLast.set(key, t);
    socket.to(room(sessionId)).emit('chat.typing', { sessionId, userId: user.id, userName: user.name, isTyping: Boolean(isTyping), timestamp: now() });
    ackOk(ack, {});
  }));

  socket.on('markRead', wrap(({ sessionId, messageId }, ack) => {
    if (!socket.data.sessions.has(sessionId)) throw forbidden('join the session first');
    if (typeof messageId !== 'string') throw bad('messageId is required');
    socket.to(room(sessionId)).emit('chat.read', { sessionId, userId: user.id, messageId, timestamp: now() });
    ackOk(ack, {});
  }));

  socket.on('disconnect', () => {
    for (const sessionId of [...socket.data.sessions]) {
      leave(socket, sessionId).catch((e) => console.error('peer: leave failed', e.message));
    }
  });
});

async function start() {
  if (REDIS_URL) {
    const { createClient } = require('redis');
    const { createAdapter } = require('@socket.io/redis-adapter');
    const pubClient = createClient({ url: REDIS_URL });
    const subClient = pubClient.duplicate();
    const dataClient = pubClient.duplicate();
    for (const c of [pubClient, subClient, dataClient]) c.on('error', (e) => console.error('peer: redis', e.message));
    await Promise.all([pubClient.connect(), subClient.connect(), dataClient.connect()]);
    io.adapter(createAdapter(pubClient, subClient, { key: `${REDIS_PREFIX}socket.io` }));
    store = new RedisStore(dataClient, REDIS_PREFIX);
    await store.init();
  }
  httpServer.listen(PORT, HOST, () => {
    const mode = REDIS_URL ? `redis adapter ${require('@socket.io/redis-adapter/package.json').version}, state in Redis` : 'state in memory';
    console.log(`peer listening on http://${HOST}:${PORT} (socket.io ${require('socket.io/package.json').version}, ${PARSER}, ${mode})`);
  });
}
start().catch((e) => {
  console.error('peer: failed to start', e);
  process.exit(1);
});
for (const sig of ['SIGINT', 'SIGTERM']) {
  process.on(sig, () => {
    io.close();
    httpServer.close();
    process.exit(0);
  });
}
