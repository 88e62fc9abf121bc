// Runs the reconnect snippet of docs/realtime.md (extracted by tests/e2e/test_docs_snippet.py)
// through repeated reconnections, and reports what it applied.
//
// Configuration (environment):
//   SG_SNIPPET     path of the extracted snippet (an ES module exporting followSession)
//   SG_URL, SG_TOKEN, SG_SESSION, SG_SEQ   server origin, JWT, session, the seq read over REST
//   SG_TRANSPORTS  comma-separated engine.io transports, e.g. "polling" or "websocket"
//   SG_RECONNECTS  how many times to lose the connection (a dropped transport, then a
//                  disconnect/connect, in turn), each a moment after the previous connect
//   SG_TIMEOUT_MS  the script gives up (exit 2) after this long; default 60000
//
// Output: JSON lines on stdout: {type: "connected"} per connection, {type: "done"} after the
// last reconnection, and {type: "report", applied, lastSeq} when sent "report" on stdin.

import { createInterface } from "node:readline";
import { pathToFileURL } from "node:url";

const env = process.env;
const { followSession } = await import(pathToFileURL(env.SG_SNIPPET).href);
const out = (message) => process.stdout.write(JSON.stringify(message) + "\n");

const applied = [];
let refetches = 0;
const socket = followSession({
  url: env.SG_URL,
  getToken: () => env.SG_TOKEN,
  sessionId: env.SG_SESSION,
  seq: Number(env.SG_SEQ),
  apply: (event, data) => applied.push({ seq: data.seq, event }),
  refetch: async () => {
    refetches += 1;
    const response = await fetch(`${env.SG_URL}/group-sessions/${env.SG_SESSION}`, {
      headers: { authorization: `Bearer ${env.SG_TOKEN}` },
    });
    return (await response.json()).seq;
  },
  options: {
    transports: (env.SG_TRANSPORTS ?? "polling,websocket").split(","),
    reconnectionDelay: 10,
    reconnectionDelayMax: 50,
  },
});

let reconnects = Number(env.SG_RECONNECTS ?? 0);
let connections = 0;
socket.on("connect", () => {
  connections += 1;
  out({ type: "connected", transport: socket.io.engine.transport.name });
  if (reconnects === 0) {
    out({ type: "done", connections });
    return;
  }
  reconnects -= 1;
  // Lose the connection while the join is answered or soon after, as a flaky network does.
  const drop = reconnects % 2 === 0;
  setTimeout(() => {
    if (drop) socket.io.engine.close(); // the manager reconnects by itself
    else socket.disconnect().connect();
  }, Math.random() * 60);
});

function finish(code) {
  socket.disconnect();
  setTimeout(() => process.exit(code), 50);
}

const timer = setTimeout(() => {
  out({ type: "timeout", applied, connections });
  finish(2);
}, Number(env.SG_TIMEOUT_MS ?? 60000));

createInterface({ input: process.stdin }).on("line", (line) => {
  const command = JSON.parse(line);
  if (command.cmd === "report") {
    const lastSeq = applied.length ? applied[applied.length - 1].seq : null;
    out({ type: "report", applied, lastSeq, refetches, connected: socket.connected });
  } else if (command.cmd === "exit") {
    clearTimeout(timer);
    finish(0);
  }
});
