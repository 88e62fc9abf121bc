'use strict';
// The peer: a small, in-memory Node.js Socket.IO 4.8 server with the same paths as studygroups,
// used as the yardstick in bench/. It keeps nothing on disk (ours writes every durable event to
// its database before broadcasting it), and it enforces only the rules the benchmark exercises:
// identity, membership, facilitator rights, the round state order, chat cleaning, the typing
// throttle, and seq-numbered replay on joinSession {lastSeq}.
//
//   JWT_SECRET=... node bench/peer/server.js --host 127.0.0.1 --port 8100
const http = require('node:http');
const crypto = require('node:crypto');
const { Server } = require('socket.io');
const jwt = require('../lib/jwt');

const args = process.argv.slice(2);
const argValue = (name, dflt) => {
  const i = args.indexOf(name);
  return i >= 0 && i + 1 < args.length ? args[i + 1] : dflt;
};
const HOST = argValue('--host', process.env.HOST || '127.0.0.1');
const PORT = Number(argValue('--port', process.env.PORT || 8100));
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

// ---------------------------------------------------------------- state (memory only)
const users = new Map(); // id -> {id, email, name}
const groups = new Map(); // id -> {id, name, createdBy, members: Map userId -> {role, status}}
const sessions = new Map(); // id -> {id, groupId, status, rounds, members: Map userId -> role, log, seq}
const typingLast = new Map(); // `${userId}|${sessionId}` -> ms of the last relayed typing
const presence = new Map(); // sessionId -> Map userId -> {userName, sockets}

const now = () => new Date().toISOString();
const newId = () => crypto.randomUUID();
const room = (sessionId) => `session:${sessionId}`;

function learnUser(claims) {
  const user = { id: claims.sub, email: claims.email, name: claims.name };
  users.set(user.id, user);
  return user;
}

function identify(token) {
  if (typeof token !== 'string' || token === '') return null;
  const raw = token.startsWith('Bearer ') ? token.slice(7) : token;
  const claims = jwt.verify(raw, SECRET);
  return claims ? learnUser(claims) : null;
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

function getGroup(id) {
  const g = groups.get(id);
  if (!g) throw notFound('group not found');
  return g;
}
function getSession(id) {
  const s = sessions.get(id);
  if (!s) throw notFound('session not found');
  return s;
}
function requireActiveMember(group, userId) {
  const m = group.members.get(userId);
  if (!m || m.status !== 'ACTIVE') throw forbidden('not an active member of this group');
  return m;
}
function requireFacilitator(session, userId) {
  const group = getGroup(session.groupId);
  const m = requireActiveMember(group, userId);
  if (session.members.get(userId) === 'FACILITATOR' || m.role === 'OWNER' || m.role === 'MOD') return;
  throw forbidden('only the facilitator may do this');
}
function requireNotFinished(session) {
  if (session.status === 'FINISHED') throw conflict('session is finished');
}

// ---------------------------------------------------------------- durable events
let io;
function publish(session, event, payload) {
  session.seq += 1;
  const data = { ...payload, seq: session.seq, timestamp: now() };
  session.log.push({ seq: session.seq, event, data, created_at: data.timestamp });
  io.of('/study-groups').to(room(session.id)).emit(event, data);
}

// ---------------------------------------------------------------- views
function groupView(g) {
  return {
    id: g.id,
    name: g.name,
    scope_type: g.scopeType,
    scope_id: g.scopeId,
    created_by: g.createdBy,
    members: [...g.members].map(([userId, m]) => ({ user_id: userId, role: m.role, status: m.status })),
  };
}
function sessionView(s) {
  return {
    id: s.id,
    group_id: s.groupId,
    status: s.status,
    mode: s.mode,
    layer: s.layer,
    seq: s.seq,
    rounds: s.rounds.map((r) => ({ id: r.id, round_index: r.index, status: r.status })),
    members: [...s.members].map(([userId, role]) => ({ user_id: userId, role })),
  };
}

// ---------------------------------------------------------------- REST handlers
function stripTags(text) {
  return text.replace(/<[^>]*>/g, '');
}

const routes = [
  ['GET', /^\/healthz$/, false, () => [200, { status: 'ok' }]],
  ['GET', /^\/readyz$/, false, () => [200, { status: 'ok' }]],
  ['POST', /^\/groups$/, true, (user, body) => {
    if (typeof body.name !== 'string' || !body.name.trim()) throw bad('name is required');
    const g = { id: newId(), name: body.name.trim(), scopeType: body.scope_type ?? null, scopeId: body.scope_id ?? null, createdBy: user.id, members: new Map() };
    g.members.set(user.id, { role: 'OWNER', status: 'ACTIVE' });
    groups.set(g.id, g);
    return [201, groupView(g)];
  }],
  ['GET', /^\/groups\/([^/]+)$/, true, (user, body, [gid]) => {
    const g = getGroup(gid);
    requireActiveMember(g, user.id);
    return [200, groupView(g)];
  }],
  ['POST', /^\/groups\/([^/]+)\/members\/invite$/, true, (user, body, [gid]) => {
    const g = getGroup(gid);
    const me = requireActiveMember(g, user.id);
    if (me.role !== 'OWNER' && me.role !== 'MOD') throw forbidden('only OWNER or MOD may invite');
    if (typeof body.user_id !== 'string' || !body.user_id) throw bad('user_id is required');
    const role = body.role ?? 'MEMBER';
    if (!['OWNER', 'MOD', 'MEMBER'].includes(role)) throw bad('bad role');
    const existing = g.members.get(body.user_id);
    if (existing && existing.status === 'ACTIVE') throw conflict('already a member');
    g.members.set(body.user_id, { role, status: 'INVITED' });
    return [201, { group_id: g.id, user_id: body.user_id, role, status: 'INVITED' }];
  }],
  ['POST', /^\/groups\/([^/]+)\/members\/accept$/, true, (user, body, [gid]) => {
    const g = getGroup(gid);
    const m = g.members.get(user.id);
    if (!m) throw forbidden('not invited');
    if (m.status !== 'INVITED') throw conflict(`membership is ${m.status}`);
    m.status = 'ACTIVE';
    return [200, { group_id: g.id, user_id: user.id, role: m.role, status: m.status }];
  }],
  ['POST', /^\/group-sessions$/, true, (user, body, params, query) => {
    const g = getGroup(query.get('groupId') || '');
    requireActiveMember(g, user.id);
    const n = body.rounds_count;
    if (!Number.isInteger(n) || n < 1 || n > 10) throw bad('rounds_count must be 1..10');
    const active = [...g.members].filter(([, m]) => m.status === 'ACTIVE').map(([id]) => id).sort();
    if (active.length < 2) throw conflict('a session needs at least 2 active members');
    const s = {
      id: newId(), groupId: g.id, status: 'CREATED', mode: body.mode ?? 'PI', layer: body.layer ?? 'L1',
      rounds: Array.from({ length: n }, (_, i) => ({ id: newId(), index: i + 1, status: 'CREATED' })),
      members: new Map(active.map((id, i) => [id, ROLES[i] ?? 'PARTICIPANT'])),
      log: [], seq: 0,
    };
    sessions.set(s.id, s);
    return [201, sessionView(s)];
  }],
  ['GET', /^\/group-sessions\/([^/]+)$/, true, (user, body, [sid]) => {
    const s = getSession(sid);
    requireActiveMember(getGroup(s.groupId), user.id);
    return [200, sessionView(s)];
  }],
  ['PUT', /^\/group-sessions\/([^/]+)\/start$/, true, (user, body, [sid]) => {
    const s = getSession(sid);
    requireFacilitator(s, user.id);
    if (s.status !== 'CREATED') throw conflict(`session is ${s.status}`);
    s.status = 'RUNNING';
    publish(s, 'session.started', { sessionId: s.id, status: 'RUNNING', startedBy: user.id });
    return [200, sessionView(s)];
  }],
  ['POST', /^\/group-sessions\/([^/]+)\/rounds\/(\d+)\/advance$/, true, (user, body, [sid, ri]) => {
    const s = getSession(sid);
    requireFacilitator(s, user.id);
    if (s.status !== 'RUNNING') throw conflict('session is not running');
    const r = s.rounds[Number(ri) - 1];
    if (!r) throw notFound('round not found');
    const next = ROUND_ORDER[ROUND_ORDER.indexOf(r.status) + 1];
    if (!next || body.to_status !== next) throw conflict(`illegal transition ${r.status} -> ${body.to_status}`);
    // The peer keeps no votes, so the vote/revote/explanation gates are not modelled.
    r.status = next;
    publish(s, 'round.advanced', { sessionId: s.id, roundId: r.id, roundIndex: r.index, status: r.status });
    return [200, { id: r.id, round_index: r.index, status: r.status }];
  }],
  ['GET', /^\/group-sessions\/([^/]+)\/feed$/, true, (user, body, [sid], query) => {
    const s = getSession(sid);
    requireActiveMember(getGroup(s.groupId), user.id);
    const after = Number(query.get('after_seq') || 0);
    const limit = Math.min(Number(query.get('limit') || 500), 1000);
    const events = s.log.filter((e) => e.seq > after);
    return [200, { events: events.slice(0, limit), has_more: events.length > limit }];
  }],
  ['POST', /^\/groups\/([^/]+)\/sessions\/([^/]+)\/chat$/, true, (user, body, [gid, sid]) => {
    const g = getGroup(gid);
    const s = getSession(sid);
    if (s.groupId !== g.id) throw notFound('session not found in this group');
    requireActiveMember(g, user.id);
    if (!s.members.has(user.id)) throw forbidden('not a member of this session');
    requireNotFinished(s);
    const ri = body.round_index;
    if (!Number.isInteger(ri) || !s.rounds[ri - 1]) throw bad('bad round_index');
    if (typeof body.message !== 'string') throw bad('message is required');
    const message = stripTags(body.message).trim();
    if (message.length < 1 || message.length > 500) throw bad('message must be 1..500 characters');
    const id = newId();
    publish(s, 'chat.message', { id, sessionId: s.id, roundIndex: ri, message, userId: user.id, userName: user.name });
    return [201, { id, session_id: s.id, round_index: ri, message, user_id: user.id, user_name: user.name, created_at: now() }];
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
    try {
      const [status, out] = fn(user, body, params, url.searchParams);
      send(res, status, out);
    } catch (e) {
      if (e instanceof Failure) return sendError(res, e.status, e.message, e.extra);
      console.error('peer: unexpected error', e);
      sendError(res, 500, 'internal error');
    }
  });
}

// ---------------------------------------------------------------- Socket.IO
const httpServer = http.createServer(handle);
httpServer.keepAliveTimeout = 65_000;
io = new Server(httpServer, { cors: { origin: (process.env.FRONTEND_URL || '*').split(',') }, serveClient: false });
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
const presenceList = (sessionId) => [...(presence.get(sessionId) || new Map())].map(([userId, p]) => ({ userId, userName: p.userName }));

function leave(socket, sessionId) {
  if (!socket.data.sessions.delete(sessionId)) return;
  socket.leave(room(sessionId));
  const here = presence.get(sessionId);
  const p = here && here.get(socket.data.user.id);
  if (!p) return;
  p.sockets -= 1;
  if (p.sockets === 0) {
    here.delete(socket.data.user.id);
    if (here.size === 0) presence.delete(sessionId);
    socket.to(room(sessionId)).emit('userLeft', { userId: socket.data.user.id, userName: socket.data.user.name, timestamp: now() });
  }
}

function wrap(handler) {
  return (payload, ack) => {
    if (typeof payload === 'function' && ack === undefined) [payload, ack] = [undefined, payload];
    try {
      if (!payload || typeof payload !== 'object' || typeof payload.sessionId !== 'string') throw bad('sessionId is required');
      handler(payload, ack);
    } catch (e) {
      if (e instanceof Failure) return ackErr(ack, e.code, e.message);
      console.error('peer: unexpected error', e);
      return ackErr(ack, 'BAD_REQUEST', 'internal error');
    }
  };
}

nsp.on('connection', (socket) => {
  const user = socket.data.user;

  socket.on('joinSession', wrap(({ sessionId, lastSeq }, ack) => {
    const s = getSession(sessionId);
    requireActiveMember(getGroup(s.groupId), user.id);
    if (!s.members.has(user.id)) throw forbidden('not a member of this session');
    if (lastSeq !== undefined && lastSeq !== null && !(Number.isInteger(lastSeq) && lastSeq >= 0)) throw bad('lastSeq must be an integer >= 0');
    const reply = { sessionId, seq: s.seq };
    if (Number.isInteger(lastSeq)) {
      // Events 1..seq are in s.log[0..seq-1]; replay and join happen in one tick, so no gap.
      const missed = s.log.slice(Math.min(lastSeq, s.log.length));
      if (missed.length > MAX_MISSED) reply.resync = true;
      else reply.missed = missed;
    }
    if (!socket.data.sessions.has(sessionId)) {
      socket.data.sessions.add(sessionId);
      socket.join(room(sessionId));
      if (!presence.has(sessionId)) presence.set(sessionId, new Map());
      const here = presence.get(sessionId);
      const p = here.get(user.id);
      if (p) p.sockets += 1;
      else {
        here.set(user.id, { userName: user.name, sockets: 1 });
        socket.to(room(sessionId)).emit('userJoined', { userId: user.id, userName: user.name, timestamp: now() });
      }
    }
    ackOk(ack, { ...reply, presence: presenceList(sessionId) });
  }));

  socket.on('leaveSession', wrap(({ sessionId }, ack) => {
    leave(socket, sessionId);
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
    for (const sessionId of [...socket.data.sessions]) leave(socket, sessionId);
  });
});

httpServer.listen(PORT, HOST, () => {
  console.log(`peer listening on http://${HOST}:${PORT} (socket.io ${require('socket.io/package.json').version})`);
});
for (const sig of ['SIGINT', 'SIGTERM']) {
  process.on(sig, () => {
    io.close();
    httpServer.close();
    process.exit(0);
  });
}
