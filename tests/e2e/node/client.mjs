// A browser tab of the study-groups front end, as a script driven by the Python tests.
//
// Configuration (environment):
//   SG_URL         server origin, e.g. http://127.0.0.1:8000
//   SG_TOKEN       JWT (omit for "no token")
//   SG_VIA         "auth" (auth.token, the default) or "query" (?token=)
//   SG_TRANSPORTS  comma-separated engine.io transports, e.g. "polling" or "websocket"
//   SG_SESSION     session to join on every `connect` (the reconnect pattern of docs/realtime.md)
//   SG_TIMEOUT_MS  the script gives up (exit 2) after this long; default 20000
//   SG_ORIGIN      the Origin header a browser on that origin would send (default: none)
//   SG_PARSER      "json" (default, path /socket.io/) or "msgpack" (socket.io-msgpack-parser at
//                  /socket.io-msgpack/)
//
// Output: one JSON object per line on stdout ({type: ...}). Input: one JSON command per line on
// stdin: {"cmd": "disconnect" | "connect" | "drop" | "report" | "emit" | "exit", ...}.

import { createInterface } from "node:readline";
import { io } from "socket.io-client";
import msgpackParser from "socket.io-msgpack-parser";

const DURABLE = [
  "session.started",
  "session.ended",
  "session.statusChanged",
  "round.advanced",
  "round.results",
  "prompt.updated",
  "vote.submitted",
  "revote.submitted",
  "sharedCard.created",
  "chat.message",
];
const EPHEMERAL = ["userJoined", "userLeft", "chat.typing", "chat.read"];

const env = process.env;
const url = env.SG_URL;
const token = env.SG_TOKEN;
const via = env.SG_VIA ?? "auth";
const transports = (env.SG_TRANSPORTS ?? "polling,websocket").split(",");
const sessionId = env.SG_SESSION;
const timeoutMs = Number(env.SG_TIMEOUT_MS ?? 20000);

const out = (message) => process.stdout.write(JSON.stringify(message) + "\n");

const options = { transports, reconnectionDelay: 50, reconnectionDelayMax: 200 };
if (env.SG_ORIGIN) options.extraHeaders = { origin: env.SG_ORIGIN };
if (env.SG_PARSER === "msgpack") {
  options.path = "/socket.io-msgpack/";
  options.parser = msgpackParser;
}
let target = `${url}/study-groups`;
if (token !== undefined && via === "auth") options.auth = { token };
if (token !== undefined && via === "query") target += `?token=${encodeURIComponent(token)}`;

const socket = io(target, options);

// Engine.IO messages received as binary (every one on msgpack, none on JSON).
let binaryMessages = 0;
socket.io.on("open", () => {
  socket.io.engine.on("packet", (packet) => {
    if (packet.type === "message" && typeof packet.data !== "string") binaryMessages += 1;
  });
});

// The client-side state the documentation recommends: the last seq applied, and what was applied.
let lastSeq = null;
const applied = [];
const ephemeral = [];

function apply(seq, event, data, source) {
  const duplicate = lastSeq !== null && seq <= lastSeq;
  applied.push({ seq, event, data, source, duplicate });
  if (!duplicate) lastSeq = seq;
  out({ type: "applied", seq, event, source, duplicate });
}

for (const name of DURABLE) socket.on(name, (data) => apply(data.seq, name, data, "live"));
for (const name of EPHEMERAL) socket.on(name, (data) => ephemeral.push({ event: name, data }));

socket.on("connect", async () => {
  const transport = socket.io.engine.transport.name;
  out({ type: "connected", transport, recovered: socket.recovered });
  if (!sessionId) return;
  const request = lastSeq === null ? { sessionId } : { sessionId, lastSeq };
  const ack = await socket.timeout(10000).emitWithAck("joinSession", request);
  if (ack.success) {
    for (const item of ack.missed ?? []) apply(item.seq, item.event, item.data, "missed");
  }
  out({ type: "joined", request, ack, transport: socket.io.engine.transport.name });
});

socket.on("connect_error", (error) => {
  out({ type: "connect_error", message: error.message, errorType: error.type ?? null });
});

socket.on("disconnect", (reason) => out({ type: "disconnected", reason }));

function finish(code) {
  socket.disconnect();
  setTimeout(() => process.exit(code), 50);
}

const timer = setTimeout(() => {
  out({ type: "timeout", applied, lastSeq });
  finish(2);
}, timeoutMs);

const lines = createInterface({ input: process.stdin });
lines.on("line", async (line) => {
  const command = JSON.parse(line);
  switch (command.cmd) {
    case "disconnect":
      socket.disconnect();
      break;
    case "connect":
      socket.connect();
      break;
    case "drop":
      // A network failure: the transport closes and the client reconnects by itself.
      socket.io.engine.close();
      break;
    case "emit": {
      const ack = await socket.timeout(10000).emitWithAck(command.event, command.data);
      out({ type: "ack", event: command.event, ack });
      break;
    }
    case "report":
      out({
        type: "report",
        applied,
        ephemeral,
        lastSeq,
        binaryMessages,
        connected: socket.connected,
        transport: socket.connected ? socket.io.engine.transport.name : null,
      });
      break;
    case "exit":
      clearTimeout(timer);
      finish(0);
      break;
    default:
      out({ type: "error", message: `unknown command ${command.cmd}` });
  }
});
