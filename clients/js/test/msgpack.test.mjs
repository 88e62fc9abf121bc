// The msgpack wire format (`parser: msgpack` from "@studygroups/client/msgpack", API.md §6)
// against a real `studygroups serve`: the client joins over /socket.io-msgpack/, speaks msgpack
// on the wire, hears what a JSON client of the same session hears, and after the server is killed
// and started again it still hands the app every durable event once and in seq order.

import assert from "node:assert/strict";
import { after, before, test } from "node:test";

import { createClient } from "../dist/index.js";
import { msgpack } from "../dist/msgpack.js";
import {
  chatSteadily,
  feedOf,
  makeSession,
  mint,
  record,
  restAs,
  sleep,
  startServer,
  waitFor,
} from "../testing/server.mjs";

let server;
before(async () => {
  server = await startServer();
});
after(async () => {
  await server?.stop();
});

const FAST = { reconnectionDelay: 10, reconnectionDelayMax: 100 };

/** Count the Engine.IO messages the client receives as binary (msgpack) and as text (JSON). */
function wireOf(client) {
  const wire = { binary: 0, text: 0 };
  client.socket.io.on("open", () => {
    client.socket.io.engine.on("packet", (packet) => {
      if (packet.type !== "message") return;
      if (typeof packet.data === "string") wire.text += 1;
      else wire.binary += 1;
    });
  });
  return wire;
}

for (const transports of [["websocket"], ["polling", "websocket"]]) {
  test(`a msgpack client and a JSON client of one session hear the same events (${transports})`, async () => {
    const scenario = await makeSession(server.url, ["ana", "bo", "cy"]);
    const packed = createClient({
      baseUrl: server.url,
      getToken: () => mint("bo"),
      parser: msgpack,
      socketOptions: { ...FAST, transports },
    });
    const plain = createClient({ baseUrl: server.url, getToken: () => mint("cy"), socketOptions: FAST });
    const wire = wireOf(packed);
    try {
      const packedSeen = record(packed.join(scenario.sessionId, { fromSeq: 0 }));
      const plainSeen = record(plain.join(scenario.sessionId, { fromSeq: 0 }));
      await waitFor(() => packed.state === "caught-up" && plain.state === "caught-up", "both caught up");
      const typed = await packed.typing(scenario.sessionId, true);
      for (let n = 0; n < 5; n++) {
        await restAs(server.url, "ana").postChat(scenario.groupId, scenario.sessionId, 1, `m${n}`);
      }
      const events = await feedOf(server.url, scenario);
      const head = events[events.length - 1][0];
      await waitFor(
        () => packedSeen.durable.length === events.length && plainSeen.durable.length === events.length,
        `both at seq ${head}`,
      );
      assert.deepEqual(typed, { success: true });
      assert.deepEqual(packedSeen.durable, events);
      assert.deepEqual(plainSeen.durable, events);
      assert.ok(plainSeen.names.includes("chat.typing"), "the JSON client saw the msgpack one type");
      assert.ok(wire.binary > 0, "msgpack on the wire");
      assert.equal(wire.text, 0);
    } finally {
      packed.close();
      plain.close();
    }
  });
}

test("a join the server refuses is reported over msgpack with the contract's error code", async () => {
  const scenario = await makeSession(server.url, ["ana", "bo"]);
  const client = createClient({
    baseUrl: server.url,
    getToken: () => mint("zed"),
    parser: msgpack,
    socketOptions: FAST,
  });
  try {
    const feed = client.join(scenario.sessionId, { fromSeq: 0 });
    await waitFor(() => feed.error !== null, "the refusal");
    assert.equal(feed.error.code, "FORBIDDEN");
  } finally {
    client.close();
  }
});

// Last: it kills the server this file shares.
test("over msgpack every event arrives once and in order when the server is killed and restarted", async () => {
  const scenario = await makeSession(server.url, ["ana", "bo", "cy"]);
  const chat = chatSteadily(server.url, scenario, ["ana", "cy"]);
  const client = createClient({
    baseUrl: server.url,
    getToken: () => mint("bo"),
    parser: msgpack,
    socketOptions: { reconnectionDelay: 100, reconnectionDelayMax: 500 },
  });
  const wire = wireOf(client);
  const states = [];
  client.on("state", ({ state }) => states.push(state));
  try {
    const feed = client.join(scenario.sessionId, { fromSeq: 0 });
    const seen = record(feed);
    await waitFor(() => client.state === "caught-up", "caught-up before the kill");
    await waitFor(() => chat.stats.posted >= 20, "posts before the kill");
    await server.kill();
    await sleep(300); // the poster's requests are refused meanwhile
    const posted = chat.stats.posted;
    await server.start(); // same port, same database
    await waitFor(() => chat.stats.posted >= posted + 20, "posts after the restart");
    await chat.stop();
    const events = await feedOf(server.url, scenario);
    const head = events[events.length - 1][0];
    await waitFor(() => feed.lastSeq === head, `lastSeq ${head} (at ${feed.lastSeq})`);
    assert.deepEqual(seen.durable, events);
    assert.ok(states.includes("reconnecting"), `states: ${states}`);
    assert.equal(client.state, "caught-up");
    assert.ok(wire.binary > 0, "msgpack on the wire");
  } finally {
    await chat.stop();
    client.close();
  }
});
