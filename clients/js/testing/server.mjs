// Test support for the node:test suites in ../test: a real `studygroups serve` on an ephemeral
// port (SQLite in a temp dir, a 32+ byte JWT_SECRET), tokens minted for it, and REST helpers
// that build a running session the way a front end would. Not a test file itself (node --test
// runs every .mjs under test/, so this lives beside it).

import { spawn } from "node:child_process";
import { createHmac } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

import { createRest } from "../dist/rest.js";

const REPO = resolve(dirname(fileURLToPath(import.meta.url)), "../../..");
export const SECRET = "clients-js-test-secret-that-is-long-enough-for-hs256";

/** The `studygroups` executable: STUDYGROUPS_BIN, or the repository's .venv. */
function binary() {
  return process.env.STUDYGROUPS_BIN ?? join(REPO, ".venv", "bin", "studygroups");
}

function freePort() {
  return new Promise((done, fail) => {
    const probe = createServer();
    probe.once("error", fail);
    probe.listen(0, "127.0.0.1", () => {
      const { port } = probe.address();
      probe.close(() => done(port));
    });
  });
}

export const sleep = (ms) => new Promise((done) => setTimeout(done, ms));

/** Resolves once `check()` is truthy; rejects after `ms` with `what` in the message. */
export async function waitFor(check, what, ms = 30_000) {
  const deadline = Date.now() + ms;
  for (;;) {
    const value = await check();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(25);
  }
}

/**
 * Start `studygroups serve` and wait until /healthz answers. `stop()` ends it (SIGTERM),
 * `kill()` ends it with SIGKILL at once, `start()` runs it again on the same port and database.
 */
export async function startServer(extraEnv = {}) {
  const dir = mkdtempSync(join(tmpdir(), "studygroups-clientjs-"));
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const env = {
    PATH: process.env.PATH ?? "",
    JWT_SECRET: SECRET,
    DATA_DIR: dir,
    DATABASE_URL: `sqlite+aiosqlite:///${join(dir, "studygroups.db")}`,
    LOG_LEVEL: "WARNING",
    // One facilitator drives every test of a file against one server: its writes and reads
    // must not meet the per-user limits (those are the server's own tests' business).
    REST_WRITES_PER_SECOND: "10000",
    REST_WRITE_BURST: "10000",
    REST_READS_PER_SECOND: "10000",
    REST_READ_BURST: "10000",
    ...(process.env.UVICORN_WS ? { UVICORN_WS: process.env.UVICORN_WS } : {}),
    ...extraEnv,
  };
  let child = null;
  let output = "";

  async function start() {
    child = spawn(binary(), ["serve", "--port", String(port)], { env, stdio: ["ignore", "pipe", "pipe"] });
    child.stdout.on("data", (chunk) => (output += chunk));
    child.stderr.on("data", (chunk) => (output += chunk));
    const running = child;
    await waitFor(async () => {
      if (running.exitCode !== null) throw new Error(`studygroups serve exited:\n${output}`);
      try {
        return (await fetch(`${url}/healthz`)).ok;
      } catch {
        return false;
      }
    }, "the server to answer /healthz", 60_000);
  }

  function ended(signal) {
    const running = child;
    child = null;
    if (running === null || running.exitCode !== null) return Promise.resolve();
    return new Promise((done) => {
      running.once("exit", () => done());
      running.kill(signal);
    });
  }

  process.once("exit", () => child?.kill("SIGKILL")); // never leave a server behind
  await start();
  return {
    url,
    port,
    start,
    kill: () => ended("SIGKILL"),
    async stop() {
      await ended("SIGTERM");
      rmSync(dir, { recursive: true, force: true });
    },
    get output() {
      return output;
    },
  };
}

function base64url(value) {
  return Buffer.from(JSON.stringify(value)).toString("base64url");
}

/** An HS256 token for the test secret (or `secret`); `ttl` seconds of life (null: no exp). */
export function mint(sub, ttl = 3600, secret = SECRET) {
  const claims = { sub, name: sub[0].toUpperCase() + sub.slice(1), email: `${sub}@example.org` };
  if (ttl !== null) claims.exp = Math.floor(Date.now() / 1000) + ttl;
  const head = `${base64url({ alg: "HS256", typ: "JWT" })}.${base64url(claims)}`;
  const signature = createHmac("sha256", secret).update(head).digest("base64url");
  return `${head}.${signature}`;
}

export const restAs = (url, user) => createRest({ baseUrl: url, getToken: () => mint(user) });

/** members[0] creates a group, the others accept an invitation, and a session is started. */
export async function makeSession(url, members) {
  const owner = restAs(url, members[0]);
  const group = await owner.createGroup({ name: "Client library tests" });
  for (const user of members.slice(1)) {
    await owner.invite(group.id, user);
    await restAs(url, user).acceptInvite(group.id);
  }
  const session = await owner.createSession(group.id, { rounds_count: 2 });
  const facilitator = session.members.find((m) => m.role === "FACILITATOR").user_id;
  await restAs(url, facilitator).startSession(session.id);
  return { groupId: group.id, sessionId: session.id, members, facilitator };
}

/** Every durable event of the session as [seq, event] pairs, read through GET /feed. */
export async function feedOf(url, scenario, user = scenario.members[0]) {
  const rest = restAs(url, user);
  const events = [];
  let after = 0;
  for (;;) {
    const page = await rest.feed(scenario.sessionId, after, 1000);
    events.push(...page.events.map((e) => [e.seq, e.event]));
    if (!page.has_more || page.events.length === 0) return events;
    after = page.events[page.events.length - 1].seq;
  }
}

/**
 * Post chat messages from each of `users` (one loop each, in parallel) until `stop()` is called;
 * a refused connection (the server is down) is retried, so it keeps posting across a restart.
 * Returns { stop, stats: { posted, failed } }.
 */
export function chatSteadily(url, scenario, users, intervalMs = 20) {
  let running = true;
  const stats = { posted: 0, failed: 0 };
  let number = 0;
  const poster = async (user) => {
    const rest = restAs(url, user);
    while (running) {
      number += 1;
      try {
        await rest.postChat(scenario.groupId, scenario.sessionId, 1, `message ${number}`);
        stats.posted += 1;
      } catch {
        stats.failed += 1; // the server is down or restarting: try again
        await sleep(50);
      }
      await sleep(intervalMs);
    }
  };
  const loops = Promise.all(users.map(poster));
  return {
    stats,
    async stop() {
      running = false;
      await loops;
    },
  };
}

/** Record what a feed delivers: durable events as [seq, event], and every event name. */
export function record(feed) {
  const durable = [];
  const names = [];
  feed.onAny((event, data) => {
    names.push(event);
    if (typeof data.seq === "number") durable.push([data.seq, event]);
  });
  return { durable, names };
}
