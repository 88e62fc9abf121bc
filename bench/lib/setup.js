'use strict';
// Data setup through the public REST API, identical on both servers:
// users (tokens only) -> groups (owner) -> invite + accept -> session -> start.
const { performance } = require('node:perf_hooks');
const jwt = require('./jwt');
const { pool } = require('./http');

let runCounter = 0;

/** n users for room r; ids are unique per process run so a reused database never collides. */
function makeUsers(secret, prefix, room, n) {
  return Array.from({ length: n }, (_, m) => {
    const id = `${prefix}-r${room}-m${String(m).padStart(4, '0')}`;
    const claims = { sub: id, email: `${id}@bench.example`, name: `Bench ${room}.${m}` };
    return { id, name: claims.name, email: claims.email, token: jwt.sign(claims, secret) };
  });
}

const idOf = (body, what) => {
  const id = body && (body.id ?? (body[what] && body[what].id));
  if (typeof id !== 'string' && typeof id !== 'number') throw new Error(`no id in ${what} response: ${JSON.stringify(body).slice(0, 300)}`);
  return String(id);
};

/**
 * rooms x members, each a group with one started session.
 * -> {rooms: [{index, groupId, sessionId, users: [...], owner}], ms, calls}
 */
async function setupRooms(rest, { secret, rooms, members, roundsCount = 1, concurrency = 20, start = true, log = () => {} }) {
  if (members < 2) throw new Error('a session needs at least 2 members');
  const t0 = performance.now();
  const prefix = `b${process.pid.toString(36)}${Date.now().toString(36)}${(runCounter++).toString(36)}`;
  const out = Array.from({ length: rooms }, (_, r) => ({ index: r, users: makeUsers(secret, prefix, r, members) }));
  for (const room of out) room.owner = room.users[0];
  let calls = 0;

  await pool(out, concurrency, async (room) => {
    const body = await rest.call('POST', '/groups', { token: room.owner.token, body: { name: `bench ${prefix} ${room.index}` }, ok: [201, 200] });
    calls++;
    room.groupId = idOf(body, 'group');
  });
  log(`  setup: ${rooms} groups`);

  const joins = out.flatMap((room) => room.users.slice(1).map((u) => [room, u]));
  let done = 0;
  await pool(joins, concurrency, async ([room, u]) => {
    await rest.call('POST', `/groups/${room.groupId}/members/invite`, { token: room.owner.token, body: { user_id: u.id, role: 'MEMBER' }, ok: [201, 200] });
    await rest.call('POST', `/groups/${room.groupId}/members/accept`, { token: u.token, body: {}, ok: [200, 201] });
    calls += 2;
    done++;
    if (done % 2000 === 0) log(`  setup: ${done}/${joins.length} members`);
  });
  log(`  setup: ${joins.length} members invited and accepted`);

  await pool(out, concurrency, async (room) => {
    const body = await rest.call('POST', `/group-sessions?groupId=${encodeURIComponent(room.groupId)}`, { token: room.owner.token, body: { rounds_count: roundsCount }, ok: [201, 200] });
    room.sessionId = idOf(body, 'session');
    calls++;
    if (start) {
      await rest.call('PUT', `/group-sessions/${room.sessionId}/start`, { token: room.owner.token, body: {}, ok: [200, 201] });
      calls++;
    }
  });
  const ms = performance.now() - t0;
  const retried = rest.retries || 0;
  log(`  setup: ${rooms} sessions${start ? ' started' : ''}; ${calls} REST calls in ${(ms / 1000).toFixed(1)} s (${Math.round(calls / (ms / 1000))}/s)${retried ? `, ${retried} retries after 429/503` : ''}`);
  return { rooms: out, ms, calls };
}

module.exports = { setupRooms, makeUsers };
