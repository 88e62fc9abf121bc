'use strict';
// Percentiles, medians, and the generator's own load (CPU and event-loop delay).
const { monitorEventLoopDelay, performance } = require('node:perf_hooks');

/** Nearest-rank percentile of an array of numbers (sorted copy); NaN when empty. */
function percentile(values, p) {
  if (values.length === 0) return NaN;
  const a = Float64Array.from(values).sort();
  const rank = Math.min(a.length - 1, Math.max(0, Math.ceil((p / 100) * a.length) - 1));
  return a[rank];
}

/** Percentiles from a preallocated growable sample buffer (avoids giant JS arrays of boxed numbers). */
class Samples {
  constructor(initial = 1 << 16) {
    this.buf = new Float64Array(initial);
    this.n = 0;
  }
  add(v) {
    if (this.n === this.buf.length) {
      const b = new Float64Array(this.buf.length * 2);
      b.set(this.buf);
      this.buf = b;
    }
    this.buf[this.n++] = v;
  }
  sorted() {
    if (this._sortedN !== this.n) {
      this._sorted = this.buf.slice(0, this.n).sort();
      this._sortedN = this.n;
    }
    return this._sorted;
  }
  p(q) {
    const a = this.sorted();
    if (a.length === 0) return NaN;
    return a[Math.min(a.length - 1, Math.max(0, Math.ceil((q / 100) * a.length) - 1))];
  }
  max() {
    const a = this.sorted();
    return a.length ? a[a.length - 1] : NaN;
  }
}

function median(values) {
  const a = values.filter((v) => typeof v === 'number' && !Number.isNaN(v)).sort((x, y) => x - y);
  if (a.length === 0) return NaN;
  const m = a.length >> 1;
  return a.length % 2 ? a[m] : (a[m - 1] + a[m]) / 2;
}

const LOOP_RESOLUTION_MS = 10;

/** Measures this process's CPU share and event-loop delay over a window. */
class LoadMeter {
  start() {
    this.cpu0 = process.cpuUsage();
    this.t0 = performance.now();
    this.loop = monitorEventLoopDelay({ resolution: LOOP_RESOLUTION_MS });
    this.loop.enable();
    return this;
  }
  /** -> {cpuPct (of one core), loopP99Ms, loopMaxMs, wallS} */
  stop() {
    const cpu = process.cpuUsage(this.cpu0);
    const wall = (performance.now() - this.t0) / 1000;
    this.loop.disable();
    return {
      cpuPct: (100 * (cpu.user + cpu.system)) / 1e6 / wall,
      // the histogram holds whole timer intervals: subtract the sampling resolution
      loopP99Ms: Math.max(0, this.loop.percentile(99) / 1e6 - LOOP_RESOLUTION_MS),
      loopMaxMs: Math.max(0, this.loop.max / 1e6 - LOOP_RESOLUTION_MS),
      wallS: wall,
    };
  }
}

/** Server CPU share (of one core) over a window, from /proc. */
class ServerCpuMeter {
  constructor(server) {
    this.server = server;
  }
  start() {
    this.c0 = this.server.cpuSeconds();
    this.t0 = performance.now();
    return this;
  }
  stop() {
    return (100 * (this.server.cpuSeconds() - this.c0)) / ((performance.now() - this.t0) / 1000);
  }
}

/** Busy CPU seconds of the whole machine (all cores), from /proc/stat; NaN when unreadable. */
function machineBusySeconds(clkTck = 100) {
  try {
    const f = require('node:fs').readFileSync('/proc/stat', 'utf8').split('\n')[0].trim().split(/\s+/).slice(1).map(Number);
    const [user, nice, system, , , irq, softirq, steal] = f;
    return (user + nice + system + irq + softirq + (steal || 0)) / clkTck;
  } catch {
    return NaN;
  }
}

/**
 * CPU used on this machine by anything other than the generator and the server under test
 * (other people's tests, say), as % of one core: a noise indicator for the figures.
 */
class NoiseMeter {
  constructor(server) {
    this.server = server;
  }
  start() {
    this.m0 = machineBusySeconds();
    this.s0 = this.server.cpuSeconds();
    this.g0 = process.cpuUsage();
    this.t0 = performance.now();
    return this;
  }
  stop() {
    const g = process.cpuUsage(this.g0);
    const other = machineBusySeconds() - this.m0 - (this.server.cpuSeconds() - this.s0) - (g.user + g.system) / 1e6;
    return Math.max(0, (100 * other) / ((performance.now() - this.t0) / 1000));
  }
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** Resolve when pred() is true (polled), or after timeoutMs; returns pred()'s final value. */
async function waitFor(pred, timeoutMs, everyMs = 20) {
  const end = Date.now() + timeoutMs;
  while (!pred()) {
    if (Date.now() >= end) return false;
    await sleep(everyMs);
  }
  return true;
}

module.exports = { percentile, Samples, median, LoadMeter, ServerCpuMeter, NoiseMeter, sleep, waitFor };
