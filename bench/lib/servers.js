'use strict';
// Start/stop the two servers under test (ours: studygroups; peer: bench/peer/server.js), pinned
// to one core with taskset, each in its own process group so that stopping kills everything.
const { spawn, execFileSync } = require('node:child_process');
const fs = require('node:fs');
const net = require('node:net');
const os = require('node:os');
const path = require('node:path');
const { waitHealthy } = require('./http');

const BENCH_DIR = path.resolve(__dirname, '..');
const live = new Set(); // handles of servers not yet stopped

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

function hasTaskset() {
  try {
    execFileSync('taskset', ['-p', String(process.pid)], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
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
    fs.writeFileSync(f, [...live].map((h) => `${h.pid}\n`).join(''));
  } catch { /* best effort */ }
}

/**
 * start(kind, {secret, core, logDir, oursCmd}) -> handle
 * handle: {kind, base, pid, rssKiB(), cpuSeconds(), stop()}
 */
async function start(kind, { secret, core = 1, logDir, oursCmd, startTimeoutMs = 60_000 }) {
  const port = await freePort();
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), `bench-${kind}-`));
  let argv;
  const env = { ...process.env, JWT_SECRET: secret, LOG_LEVEL: process.env.BENCH_SERVER_LOG_LEVEL || 'warning' };
  if (kind === 'ours') {
    argv = [oursCmd, 'serve', '--host', '127.0.0.1', '--port', String(port)];
    env.DATABASE_URL = `sqlite+aiosqlite:///${tmp}/bench.db`;
  } else if (kind === 'peer') {
    argv = [process.execPath, path.join(BENCH_DIR, 'peer', 'server.js'), '--host', '127.0.0.1', '--port', String(port)];
  } else {
    throw new Error(`unknown server kind ${kind}`);
  }
  if (core !== null && hasTaskset()) argv = ['taskset', '-c', String(core), ...argv];
  fs.mkdirSync(logDir, { recursive: true });
  const logFile = path.join(logDir, `${kind}-${port}.log`);
  const log = fs.openSync(logFile, 'a');
  const child = spawn(argv[0], argv.slice(1), { env, cwd: tmp, detached: true, stdio: ['ignore', log, log] });
  fs.closeSync(log);
  let exited = null;
  child.on('exit', (code, signal) => {
    exited = { code, signal };
  });
  const handle = {
    kind,
    port,
    base: `http://127.0.0.1:${port}`,
    pid: child.pid,
    logFile,
    tmp,
    exited: () => exited,
    /** Resident memory of the whole process group, KiB. */
    rssKiB: () => groupProcs(child.pid).reduce((s, p) => s + rssKiB(p.pid), 0),
    /** CPU time (user+system) of the whole process group so far, seconds. */
    cpuSeconds: () => groupProcs(child.pid).reduce((s, p) => s + p.utime + p.stime, 0) / clkTck,
    async stop() {
      if (!live.has(handle)) return;
      live.delete(handle);
      writePidfile();
      const kill = (sig) => {
        try {
          process.kill(-child.pid, sig);
        } catch { /* already gone */ }
      };
      kill('SIGTERM');
      const end = Date.now() + 5000;
      while (exited === null && Date.now() < end) await new Promise((r) => setTimeout(r, 50));
      kill('SIGKILL');
      fs.rmSync(tmp, { recursive: true, force: true });
    },
  };
  live.add(handle);
  writePidfile();
  try {
    await waitHealthy(handle.base, '/healthz', startTimeoutMs, () => exited === null);
  } catch (e) {
    await handle.stop();
    let tail = '';
    try {
      tail = fs.readFileSync(logFile, 'utf8').split('\n').slice(-30).join('\n');
    } catch { /* no log */ }
    throw new Error(`${kind} server failed to start: ${e.message}\n--- ${logFile} (tail) ---\n${tail}`);
  }
  return handle;
}

/** Kill every server still running (synchronously: usable from 'exit'). */
function killAll() {
  for (const h of live) {
    try {
      process.kill(-h.pid, 'SIGKILL');
    } catch { /* gone */ }
    fs.rmSync(h.tmp, { recursive: true, force: true });
  }
  live.clear();
  writePidfile();
}

module.exports = { start, killAll, freePort };
