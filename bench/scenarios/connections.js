'use strict';
// connections: N idle clients connected and joined (rooms of M members). Server resident memory
// (VmRSS of the server's process group) after setup and before connecting, versus after every
// client has joined and things settled; the difference per connection. Also the connect+join rate.
const { setupRooms } = require('../lib/setup');
const { connectAndJoin, closeAll } = require('../lib/clients');
const { LoadMeter, sleep } = require('../lib/stats');

const defaults = { clients: 2000, members: 50, settle: 3, concurrency: 50, idle: 25 };

const columns = [
  ['rssBeforeMiB', 'RSS before MiB', 1],
  ['rssAfterMiB', 'RSS after MiB', 1],
  ['kibPerConn', 'KiB/connection', 1],
  ['connectPerS', 'connect+join/s', 0],
  ['joinP99Ms', 'join p99 ms', 1],
  ['idleCpuPct', 'server idle CPU %', 1],
  ['genCpuPct', 'gen CPU %', 0],
];

async function run({ server, rest, opts, secret, log }) {
  const o = { ...defaults, ...opts };
  const members = Math.min(o.members, o.clients);
  const rooms = Math.ceil(o.clients / members);
  const { rooms: roomList, ms: setupMs } = await setupRooms(rest, { secret, rooms, members, log });
  const clients = [];
  for (const room of roomList) for (const u of room.users) if (clients.length < o.clients) clients.push(server.client(u, room));
  await sleep(o.settle * 1000);
  const before = server.rssKiB();

  const gen = new LoadMeter().start();
  const conn = await connectAndJoin(clients, { concurrency: o.concurrency, log });
  const g = gen.stop();
  await sleep(o.settle * 1000);
  const cpu0 = server.cpuSeconds();
  const t0 = Date.now();
  await sleep(o.idle * 1000); // 25 s = one Socket.IO ping interval: every socket pinged once
  const idleCpuPct = (100 * (server.cpuSeconds() - cpu0)) / ((Date.now() - t0) / 1000);
  const after = server.rssKiB();
  const connected = clients.filter((c) => c.socket.connected).length;
  closeAll(clients);
  await sleep(300);
  return {
    rssBeforeMiB: before / 1024,
    rssAfterMiB: after / 1024,
    kibPerConn: (after - before) / clients.length,
    connectPerS: clients.length / (conn.connectMs / 1000),
    joinP99Ms: conn.joinP99Ms,
    idleCpuPct,
    genCpuPct: g.cpuPct,
    extra: { setupS: setupMs / 1000, rooms, clients: clients.length, stillConnected: connected },
  };
}

function describe(o) {
  const x = { ...defaults, ...o };
  return `${x.clients} idle clients in rooms of ${x.members}, connected ${x.concurrency} at a time`;
}

module.exports = { name: 'connections', defaults, columns, run, describe };
