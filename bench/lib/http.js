'use strict';
// JSON-over-HTTP client with keep-alive, timeouts, and a concurrency-limited pool for setup.
const http = require('node:http');
const { performance } = require('node:perf_hooks');

class HttpError extends Error {
  constructor(method, path, status, body) {
    super(`${method} ${path} -> ${status}: ${typeof body === 'string' ? body : JSON.stringify(body)}`.slice(0, 600));
    this.status = status;
    this.body = body;
  }
}

class Rest {
  /** @param {string} base e.g. http://127.0.0.1:8000  @param {number} maxSockets */
  constructor(base, { maxSockets = 64, timeoutMs = 30_000, keepAlive = true } = {}) {
    const u = new URL(base);
    this.host = u.hostname;
    this.port = Number(u.port);
    this.timeoutMs = timeoutMs;
    this.agent = new http.Agent({ keepAlive, maxSockets, maxFreeSockets: maxSockets });
  }

  /** request(method, path, {token, body}) -> {status, body, ms}; never throws on HTTP status. */
  request(method, path, { token, body, headers = {} } = {}) {
    return new Promise((resolve, reject) => {
      const payload = body === undefined ? undefined : Buffer.from(JSON.stringify(body));
      const h = { accept: 'application/json', ...headers };
      if (token) h.authorization = `Bearer ${token}`;
      if (payload) {
        h['content-type'] = 'application/json';
        h['content-length'] = payload.length;
      }
      const t0 = performance.now();
      const req = http.request({ host: this.host, port: this.port, method, path, headers: h, agent: this.agent }, (res) => {
        const chunks = [];
        res.on('data', (c) => chunks.push(c));
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          let parsed = text;
          try {
            parsed = text ? JSON.parse(text) : null;
          } catch { /* keep the text */ }
          resolve({ status: res.statusCode, body: parsed, headers: res.headers, ms: performance.now() - t0 });
        });
        res.on('error', reject);
      });
      req.setTimeout(this.timeoutMs, () => req.destroy(new Error(`${method} ${path}: timeout after ${this.timeoutMs} ms`)));
      req.on('error', reject);
      if (payload) req.write(payload);
      req.end();
    });
  }

  /**
   * Like request, but throws HttpError unless the status is one of `ok`; returns the body.
   * Setup calls use this: a 429 or 503 is retried (Retry-After if given, else a backoff from
   * 100 ms doubling to 2 s) for up to `retryForMs`; `this.retries` counts the retries.
   */
  async call(method, path, { token, body, ok = [200, 201], retryForMs = 60_000 } = {}) {
    const end = Date.now() + retryForMs;
    for (let attempt = 0; ; attempt++) {
      const r = await this.request(method, path, { token, body });
      if (ok.includes(r.status)) return r.body;
      if ((r.status === 429 || r.status === 503) && Date.now() < end) {
        this.retries = (this.retries || 0) + 1;
        const after = Number(r.headers && r.headers['retry-after']);
        const wait = after > 0 ? after * 1000 : Math.min(2000, 100 * 2 ** attempt);
        await new Promise((res) => setTimeout(res, wait * (0.75 + Math.random() / 2)));
        continue;
      }
      throw new HttpError(method, path, r.status, r.body);
    }
  }

  close() {
    this.agent.destroy();
  }
}

/**
 * Rest's interface over several processes of one server: each request goes to the next process
 * in turn (what a round-robin load balancer does). `retries` sums the retries of all.
 */
class MultiRest {
  constructor(bases, opts) {
    this.all = bases.map((b) => new Rest(b, opts));
    this.next = 0;
  }
  pick() {
    this.next = (this.next + 1) % this.all.length;
    return this.all[this.next];
  }
  request(method, path, opts) {
    return this.pick().request(method, path, opts);
  }
  call(method, path, opts) {
    return this.pick().call(method, path, opts);
  }
  get retries() {
    return this.all.reduce((s, r) => s + (r.retries || 0), 0);
  }
  /** The keep-alive agents (the soak counts their connections). */
  get agents() {
    return this.all.map((r) => r.agent);
  }
  close() {
    for (const r of this.all) r.close();
  }
}

/** Run fn over items with at most `limit` in flight; returns results in order; rejects on first error. */
async function pool(items, limit, fn) {
  const results = new Array(items.length);
  let next = 0;
  let failed = null;
  async function worker() {
    while (failed === null && next < items.length) {
      const i = next++;
      try {
        results[i] = await fn(items[i], i);
      } catch (e) {
        failed = failed || e;
      }
    }
  }
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  if (failed) throw failed;
  return results;
}

/** GET url until it answers 200 or the deadline passes. */
async function waitHealthy(base, path, deadlineMs, isAlive = () => true, requestTimeoutMs = 2000) {
  const rest = new Rest(base, { maxSockets: 1, timeoutMs: requestTimeoutMs });
  const end = Date.now() + deadlineMs;
  try {
    while (Date.now() < end) {
      if (!isAlive()) throw new Error('server process exited before becoming healthy');
      try {
        const r = await rest.request('GET', path);
        if (r.status === 200) return;
      } catch { /* not listening yet */ }
      await new Promise((r) => setTimeout(r, 200));
    }
    throw new Error(`${base}${path} not healthy after ${deadlineMs} ms`);
  } finally {
    rest.close();
  }
}

module.exports = { Rest, MultiRest, HttpError, pool, waitHealthy };
