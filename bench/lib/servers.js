'use strict';
// Start/stop the servers under test (ours: studygroups; peer: bench/peer/server.js), in one of
// two topologies:
//   single:  one process; ours on a fresh SQLite file, the peer keeping its state in memory.
//   cluster: two processes; ours on a fresh PostgreSQL database and Redis, the peer with the
//            official @socket.io/redis-adapter and its state in Redis (peer/store.js).
// Every server process is pinned to the server core(s) with taskset and runs in its own process
// group, so that stopping kills everything it started. start() returns a deployment: the
// processes, their CPU and memory, how clients connect (which process, which parser), and
// restart() for the storm.
const { spawn, execFileSync } = require('node:child_process');
const crypto = require('node:crypto');
const fs = require('node:fs');
const net = require('node:net');
const os = require('node:os');
const path = require('node:path');
const { waitHealthy, Rest, MultiRest } = require('./http');
const { Client } = require('./clients');
const pg = require('./postgres');

const BENCH_DIR = path.resolve(__dirname, '..');
const live = new Set(); // processes not yet stopped
const tmpDirs = new Set(); // working directories of deployments not yet stopped
const MSGPACK_PATH = '/socket.io-msgpack/';

let clkTck = 100;
try {
  clkTck = Number(execFileSync('getconf', ['CLK_TCK']).toString().trim()) || 100;
} catch { /* keep 100 */ }

function freePort() {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.unref();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address();
      srv.close(() => resolve(port));
    });
  });
}

let tasksetOk = null;
function hasTaskset() {
  if (tasksetOk === null) {
    try {
      execFileSync('taskset', ['-p', String(process.pid)], { stdio: 'ignore' });
      tasksetOk = true;
    } catch {
      tasksetOk = false;
    }
  }
  return tasksetOk;
}

/** Processes whose process group is pgid: [{pid, utime, stime}] read from /proc. */
function groupProcs(pgid) {
  const out = [];
  for (const d of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue;
    let stat;
    try {
      stat = fs.readFileSync(`/proc/${d}/stat`, 'utf8');
    } catch {
      continue;
    }
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    // f[0] is field 3 (state); field 5 (pgrp) is f[2]; utime (14) f[11]; stime (15) f[12]
    if (Number(f[2]) === pgid) out.push({ pid: Number(d), utime: Number(f[11]), stime: Number(f[12]) });
  }
  return out;
}

function rssKiB(pid) {
  try {
    const m = /VmRSS:\s+(\d+)\s+kB/.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) : 0;
  } catch {
    return 0;
  }
}

function writePidfile() {
  const f = process.env.BENCH_PIDFILE;
  if (!f) return;
  try {
    fs.writeFileSync(f, [...live].filter((p) => p.pid).map((p) => `${p.pid}\n`).join(''));
  } catch { /* best effort */ }
}

/**
 * One server process: spawned detached (its own process group) with its log appended to
 * logFile. kill() and respawn() keep the port, the log and the CPU it used in earlier lives.
 */
class Proc {
  constructor({ name, argv, env, cwd, port, logFile, health = '/healthz' }) {
    Object.assign(this, { name, argv, env, cwd, port, logFile, health });
    this.base = `http://127.0.0.1:${port}`;
    this.cpuBefore = 0; // CPU seconds of earlier lives (restarts)
    this.lives = 0;
    this.child = null;
    this.exitInfo = null;
  }

  spawn() {
    const log = fs.openSync(this.logFile, 'a');
    fs.writeSync(log, `\n=== bench: start ${this.name} (life ${this.lives + 1}) at ${new Date().toISOString()}\n`);
    const child = spawn(this.argv[0], this.argv.slice(1), { env: this.env, cwd: this.cwd, detached: true, stdio: ['ignore', log, log] });
    fs.closeSync(log);
    this.child = child;
    this.pid = child.pid;
    this.exitInfo = null;
    this.lives++;
    child.on('exit', (code, signal) => {
      if (this.child === child) this.exitInfo = { code, signal };
    });
    live.add(this);
    writePidfile();
  }

  exited() {
    return this.exitInfo;
  }

  async waitHealthy(timeoutMs, requestTimeoutMs = 2000) {
    await waitHealthy(this.base, this.health, timeoutMs, () => this.exitInfo === null, requestTimeoutMs);
  }

  cpuNow() {
    return this.child && this.exitInfo === null ? groupProcs(this.pid).reduce((s, p) => s + p.utime + p.stime, 0) / clkTck : 0;
  }
  /** CPU seconds (user+system) of this process group over all its lives. */
  cpuSeconds() {
    return this.cpuBefore + this.cpuNow();
  }
  rssKiB() {
    return this.child && this.exitInfo === null ? groupProcs(this.pid).reduce((s, p) => s + rssKiB(p.pid), 0) : 0;
  }

  signal(sig) {
    try {
      process.kill(-this.pid, sig);
    } catch { /* already gone */ }
  }

  /** Send sig to the process group; wait up to graceMs for it to exit, then SIGKILL. -> ms to exit */
  async kill(sig = 'SIGTERM', graceMs = 10_000) {
    if (!this.child) return 0;
    this.cpuBefore += this.cpuNow(); // the last reading before it dies (a KILL loses the last few ms)
    const t0 = Date.now();
    this.signal(sig);
    while (this.exitInfo === null && Date.now() - t0 < graceMs) await new Promise((r) => setTimeout(r, 20));
    if (this.exitInfo === null) {
      this.signal('SIGKILL');
      while (this.exitInfo === null && Date.now() - t0 < graceMs + 5000) await new Promise((r) => setTimeout(r, 20));
    }
    this.signal('SIGKILL'); // anything else left in its group
    live.delete(this);
    writePidfile();
    return Date.now() - t0;
  }
}

/** A private redis-server (no persistence) on a free port, unpinned: the cluster's shared Redis. */
async function startRedis(logDir, tmp) {
  const port = await freePort();
  const proc = new Proc({
    name: 'redis',
    argv: ['redis-server', '--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--loglevel', 'warning'],
    env: process.env,
    cwd: tmp,
    port,
    logFile: path.join(logDir, `redis-${port}.log`),
  });
  proc.spawn();
  const end = Date.now() + 10_000;
  for (;;) {
    if (proc.exited()) throw new Error(`redis-server exited: see ${proc.logFile}`);
    const ok = await new Promise((resolve) => {
      const s = net.connect(port, '127.0.0.1', () => {
        s.end();
        resolve(true);
      });
      s.on('error', () => resolve(false));
    });
    if (ok) break;
    if (Date.now() > end) throw new Error('redis-server did not start within 10 s');
    await new Promise((r) => setTimeout(r, 50));
  }
  proc.url = `redis://127.0.0.1:${port}/0`;
  return proc;
}

/**
 * start(kind, {secret, core, logDir, oursCmd, topology, parser, redisUrl, peerRedis}) -> deployment
 * deployment: {kind, topology, parser, base, bases, port, pid, logFile, procs, ioOptions,
 *   rssKiB(), rssPerProcKiB(), cpuSeconds(), redisCpuSeconds(), client(), rest(), restart(), stop()}
 */
async function start(kind, { secret, core = 1, logDir, oursCmd, topology = 'single', parser = 'json', redisUrl = null, peerRedis = false, startTimeoutMs = 60_000 }) {
  if (!['ours', 'peer'].includes(kind)) throw new Error(`unknown server kind ${kind}`);
  if (!['single', 'cluster'].includes(topology)) throw new Error('--topology takes single or cluster');
  if (!['json', 'msgpack'].includes(parser)) throw new Error('--parser takes json or msgpack');
  const n = topology === 'cluster' ? 2 : 1;
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), `bench-${kind}-`));
  tmpDirs.add(tmp);
  fs.mkdirSync(logDir, { recursive: true });
  const dep = { kind, topology, parser, procs: [], redis: null, database: null, tmp };
  const stopped = { done: false };
  dep.stop = async () => {
    if (stopped.done) return;
    stopped.done = true;
    await Promise.all(dep.procs.map((p) => p.kill('SIGTERM', 5000)));
    if (dep.redis) await dep.redis.kill('SIGTERM', 2000);
    if (dep.database) pg.dropDatabase(dep.database);
    fs.rmSync(tmp, { recursive: true, force: true });
    tmpDirs.delete(tmp);
  };
  try {
    const env = { ...process.env, JWT_SECRET: secret, LOG_LEVEL: process.env.BENCH_SERVER_LOG_LEVEL || 'warning' };
    const cluster = {};
    // A cluster shares Redis; a single peer uses it too when it must keep its state across a
    // restart (the storm): it has no other place to keep it.
    if (n > 1 || (kind === 'peer' && peerRedis)) {
      if (!redisUrl) dep.redis = await startRedis(logDir, tmp);
      cluster.redis = redisUrl || dep.redis.url;
    }
    const ports = [];
    for (let i = 0; i < n; i++) ports.push(await freePort());
    let argvOf;
    if (kind === 'ours') {
      if (n > 1) {
        dep.database = pg.createDatabase(`bench_${process.pid}_${crypto.randomBytes(4).toString('hex')}`);
        env.DATABASE_URL = pg.sqlalchemyUrl(dep.database);
        env.REDIS_URL = cluster.redis;
        execFileSync(oursCmd, ['migrate'], { env, cwd: tmp, stdio: ['ignore', 'ignore', 'pipe'] });
        argvOf = (port) => [oursCmd, 'serve', '--no-migrate', '--host', '127.0.0.1', '--port', String(port)];
      } else {
        env.DATABASE_URL = `sqlite+aiosqlite:///${tmp}/bench.db`;
        argvOf = (port) => [oursCmd, 'serve', '--host', '127.0.0.1', '--port', String(port)];
      }
    } else {
      const extra = [];
      if (cluster.redis) extra.push('--redis', cluster.redis, '--redis-prefix', `peer${crypto.randomBytes(4).toString('hex')}:`);
      if (parser === 'msgpack') extra.push('--parser', 'msgpack');
      argvOf = (port) => [process.execPath, path.join(BENCH_DIR, 'peer', 'server.js'), '--host', '127.0.0.1', '--port', String(port), ...extra];
    }
    for (const port of ports) {
      let argv = argvOf(port);
      if (core !== null && hasTaskset()) argv = ['taskset', '-c', String(core), ...argv];
      const p = new Proc({ name: kind, argv, env, cwd: tmp, port, logFile: path.join(logDir, `${kind}-${port}.log`) });
      p.spawn();
      dep.procs.push(p);
    }
    await Promise.all(dep.procs.map((p) => p.waitHealthy(startTimeoutMs)));
  } catch (e) {
    await dep.stop();
    let tail = '';
    for (const p of dep.procs) {
      try {
        tail += `\n--- ${p.logFile} (tail) ---\n${fs.readFileSync(p.logFile, 'utf8').split('\n').slice(-30).join('\n')}`;
      } catch { /* no log */ }
    }
    throw new Error(`${kind} server failed to start: ${e.message}${tail}`);
  }
  const first = dep.procs[0];
  Object.assign(dep, {
    base: first.base,
    bases: dep.procs.map((p) => p.base),
    port: first.port,
    pid: first.pid,
    logFile: first.logFile,
    logFiles: dep.procs.map((p) => p.logFile),
    ioOptions: parser === 'msgpack' ? { path: MSGPACK_PATH, parser: require('socket.io-msgpack-parser') } : {},
    /** Resident memory of every server process (process groups summed), KiB. */
    rssKiB: () => dep.procs.reduce((s, p) => s + p.rssKiB(), 0),
    rssPerProcKiB: () => dep.procs.map((p) => p.rssKiB()),
    /** CPU seconds of every server process (all lives), summed. */
    cpuSeconds: () => dep.procs.reduce((s, p) => s + p.cpuSeconds(), 0),
    redisCpuSeconds: () => (dep.redis ? dep.redis.cpuSeconds() : NaN),
    /** A Client on the next process in turn (clients alternate), with the deployment's parser. */
    client(user, room, opts = {}) {
      dep.nextClient = ((dep.nextClient || 0) + 1) % dep.bases.length;
      return new Client(dep.bases[dep.nextClient], user, room, { ...opts, io: { ...dep.ioOptions, ...(opts.io || {}) } });
    },
    /** REST calls spread over the processes in turn. */
    rest(opts) {
      return dep.bases.length === 1 ? new Rest(dep.base, opts) : new MultiRest(dep.bases, opts);
    },
    /**
     * Stop process i with `signal` and start it again on the same port -> {downMs, upMs}. Its
     * clients are already knocking while it starts: /healthz gets 10 s per try and `upTimeoutMs`
     * in all (the storm passes its --settle).
     */
    async restart(i, signal = 'SIGTERM', upTimeoutMs = startTimeoutMs) {
      const p = dep.procs[i];
      const t0 = Date.now();
      await p.kill(signal);
      const downMs = Date.now() - t0;
      p.spawn();
      await p.waitHealthy(upTimeoutMs, 10_000);
      return { downMs, upMs: Date.now() - t0 };
    },
  });
  return dep;
}

/** Kill every server still running and drop the databases (synchronously: usable from 'exit'). */
function killAll() {
  for (const p of live) p.signal('SIGKILL');
  live.clear();
  writePidfile();
  pg.dropAll();
  for (const d of tmpDirs) fs.rmSync(d, { recursive: true, force: true });
  tmpDirs.clear();
}

module.exports = { start, killAll, freePort };
