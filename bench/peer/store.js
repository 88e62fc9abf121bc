'use strict';
// Where the peer keeps groups, sessions, their event logs and presence.
//   MemoryStore: in the process (the single topology; what the peer always did).
//   RedisStore:  in Redis, so that every process of a cluster answers every route for every
//                group and session. Still nothing durable: no database, nothing the peer
//                writes to disk (Redis is the one the cluster shares for the adapter anyway).
// Both have the same async interface; the server code awaits every call. A MemoryStore call
// resolves without I/O, so a handler's steps still run in one turn of the event loop there.
//
// Shapes: group {id, name, scopeType, scopeId, createdBy}; member {role, status};
// session {id, groupId, status, mode, layer, rounds: [{id, index, status}], members: Map userId -> role};
// log entry {seq, event, data, created_at} with data.seq === seq.

class MemoryStore {
  constructor() {
    this.groups = new Map(); // id -> group
    this.members = new Map(); // groupId -> Map userId -> member
    this.sessions = new Map(); // id -> session
    this.logs = new Map(); // sessionId -> [entry] (entry seq n at index n-1)
    this.presence = new Map(); // sessionId -> Map userId -> {userName, sockets}
  }

  async createGroup(group, ownerId) {
    this.groups.set(group.id, group);
    this.members.set(group.id, new Map([[ownerId, { role: 'OWNER', status: 'ACTIVE' }]]));
  }
  async group(id) {
    return this.groups.get(id) || null;
  }
  async member(groupId, userId) {
    const m = this.members.get(groupId);
    return (m && m.get(userId)) || null;
  }
  async memberList(groupId) {
    return new Map(this.members.get(groupId) || []);
  }
  async setMember(groupId, userId, member) {
    this.members.get(groupId).set(userId, member);
  }

  async createSession(session) {
    this.sessions.set(session.id, session);
    this.logs.set(session.id, []);
  }
  async session(id) {
    return this.sessions.get(id) || null;
  }
  async saveSession() {
    /* the handlers changed the object itself */
  }
  /** The session's last seq. */
  async head(sessionId) {
    return this.logs.get(sessionId).length;
  }
  /** Append one durable event: -> data (payload + seq + timestamp). */
  async append(sessionId, event, payload, timestamp) {
    const log = this.logs.get(sessionId);
    const seq = log.length + 1;
    const data = { ...payload, seq, timestamp };
    log.push({ seq, event, data, created_at: timestamp });
    return data;
  }
  /** -> {head, events: entries with seq > after, at most `limit`} */
  async after(sessionId, after, limit) {
    const log = this.logs.get(sessionId);
    return { head: log.length, events: log.slice(Math.min(after, log.length), after + limit) };
  }

  /** One more socket of userId in the session -> {first: was it the user's first, list}. */
  async presenceJoin(sessionId, userId, userName) {
    if (!this.presence.has(sessionId)) this.presence.set(sessionId, new Map());
    const here = this.presence.get(sessionId);
    const p = here.get(userId);
    if (p) p.sockets += 1;
    else here.set(userId, { userName, sockets: 1 });
    return { first: !p, list: [...here].map(([id, q]) => ({ userId: id, userName: q.userName })) };
  }
  async presenceList(sessionId) {
    return [...(this.presence.get(sessionId) || [])].map(([id, q]) => ({ userId: id, userName: q.userName }));
  }
  /** One socket fewer -> was it the user's last. */
  async presenceLeave(sessionId, userId) {
    const here = this.presence.get(sessionId);
    const p = here && here.get(userId);
    if (!p) return false;
    p.sockets -= 1;
    if (p.sockets > 0) return false;
    here.delete(userId);
    if (here.size === 0) this.presence.delete(sessionId);
    return true;
  }
}

// INCR the session's seq and RPUSH the entry with that seq, atomically, so that list index
// n-1 holds seq n whichever process appends. The entry is JSON with "seq":0 as placeholder
// (twice: the entry's and its data's); no other unescaped `"seq":0` can occur in it.
const APPEND = `local s = redis.call('INCR', KEYS[1])
local e = string.gsub(ARGV[1], '"seq":0', '"seq":' .. s)
redis.call('RPUSH', KEYS[2], e)
return s`;
const JOIN = `local n = redis.call('HINCRBY', KEYS[1], ARGV[1], 1)
redis.call('HSET', KEYS[2], ARGV[1], ARGV[2])
return {n, redis.call('HGETALL', KEYS[2])}`;
const LEAVE = `local n = redis.call('HINCRBY', KEYS[1], ARGV[1], -1)
if n <= 0 then redis.call('HDEL', KEYS[1], ARGV[1]); redis.call('HDEL', KEYS[2], ARGV[1]) end
return n`;

class RedisStore {
  /** @param client a connected node-redis v4 client  @param prefix key prefix shared by the cluster */
  constructor(client, prefix) {
    this.r = client;
    this.p = prefix;
    this.sha = {};
  }

  async init() {
    for (const [name, src] of Object.entries({ APPEND, JOIN, LEAVE })) this.sha[name] = await this.r.scriptLoad(src);
  }
  script(name, keys, args) {
    return this.r.evalSha(this.sha[name], { keys, arguments: args });
  }

  async createGroup(group, ownerId) {
    await Promise.all([this.r.set(`${this.p}g:${group.id}`, JSON.stringify(group)), this.r.hSet(`${this.p}g:${group.id}:m`, ownerId, 'OWNER ACTIVE')]);
  }
  async group(id) {
    const v = await this.r.get(`${this.p}g:${id}`);
    return v ? JSON.parse(v) : null;
  }
  async member(groupId, userId) {
    const v = await this.r.hGet(`${this.p}g:${groupId}:m`, userId);
    if (!v) return null;
    const [role, status] = v.split(' ');
    return { role, status };
  }
  async memberList(groupId) {
    const all = await this.r.hGetAll(`${this.p}g:${groupId}:m`);
    return new Map(Object.entries(all).map(([id, v]) => {
      const [role, status] = v.split(' ');
      return [id, { role, status }];
    }));
  }
  async setMember(groupId, userId, m) {
    await this.r.hSet(`${this.p}g:${groupId}:m`, userId, `${m.role} ${m.status}`);
  }

  async createSession(s) {
    await this.saveSession(s);
  }
  async session(id) {
    const v = await this.r.get(`${this.p}s:${id}`);
    if (!v) return null;
    const s = JSON.parse(v);
    s.members = new Map(s.members);
    return s;
  }
  async saveSession(s) {
    await this.r.set(`${this.p}s:${s.id}`, JSON.stringify({ ...s, members: [...s.members] }));
  }
  async head(sessionId) {
    return Number((await this.r.get(`${this.p}s:${sessionId}:seq`)) || 0);
  }
  async append(sessionId, event, payload, timestamp) {
    const entry = JSON.stringify({ seq: 0, event, data: { ...payload, seq: 0, timestamp }, created_at: timestamp });
    const seq = Number(await this.script('APPEND', [`${this.p}s:${sessionId}:seq`, `${this.p}s:${sessionId}:log`], [entry]));
    return { ...payload, seq, timestamp };
  }
  async after(sessionId, after, limit) {
    const [head, raw] = await Promise.all([this.head(sessionId), limit > 0 ? this.r.lRange(`${this.p}s:${sessionId}:log`, after, after + limit - 1) : []]);
    return { head, events: raw.map((e) => JSON.parse(e)) };
  }

  async presenceJoin(sessionId, userId, userName) {
    const [n, flat] = await this.script('JOIN', [`${this.p}p:${sessionId}`, `${this.p}p:${sessionId}:n`], [userId, userName]);
    const list = [];
    for (let i = 0; i < flat.length; i += 2) list.push({ userId: flat[i], userName: flat[i + 1] });
    return { first: Number(n) === 1, list };
  }
  async presenceList(sessionId) {
    const all = await this.r.hGetAll(`${this.p}p:${sessionId}:n`);
    return Object.entries(all).map(([userId, userName]) => ({ userId, userName }));
  }
  async presenceLeave(sessionId, userId) {
    return Number(await this.script('LEAVE', [`${this.p}p:${sessionId}`, `${this.p}p:${sessionId}:n`], [userId])) === 0;
  }
}

module.exports = { MemoryStore, RedisStore };
