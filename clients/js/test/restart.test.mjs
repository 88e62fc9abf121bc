// Against a real `studygroups serve`: the server process is killed (SIGKILL) in the middle of a
// session while another member keeps posting, and started again on the same port and database.
// The client reconnects by itself, rejoins with its last seq, and ends with every event of the
// feed once and in order.

import assert from "node:assert/strict";
import { after, before, test } from "node:test";

import { createClient } from "../dist/index.js";
import {
  chatSteadily,
  feedOf,
  makeSession,
  mint,
  record,
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

test("every event arrives once and in order when the server is killed and restarted mid-session", async () => {
  const scenario = await makeSession(server.url, ["ana", "bo", "cy"]);
  const chat = chatSteadily(server.url, scenario, ["ana", "cy"]);
  const client = createClient({
    baseUrl: server.url,
    getToken: () => mint("bo"),
    socketOptions: { reconnectionDelay: 100, reconnectionDelayMax: 500 },
  });
  const states = [];
  client.on("state", ({ state }) => states.push(state));
  try {
    const feed = client.join(scenario.sessionId, { fromSeq: 0 });
    const seen = record(feed);
    for (let round = 0; round < 2; round++) {
      await waitFor(() => client.state === "caught-up", "caught-up before the kill");
      const posted = chat.stats.posted;
      await waitFor(() => chat.stats.posted >= posted + 20, "posts before the kill");
      await server.kill();
      await sleep(300); // the poster's requests are refused meanwhile
      await server.start();
      await waitFor(() => chat.stats.posted >= posted + 40, "posts after the restart");
    }
    await chat.stop();
    const events = await feedOf(server.url, scenario);
    const head = events[events.length - 1][0];
    await waitFor(() => feed.lastSeq === head, `lastSeq ${head} (at ${feed.lastSeq})`);
    assert.deepEqual(seen.durable, events);
    assert.ok(states.includes("reconnecting"), `states: ${states}`);
    assert.equal(client.state, "caught-up");
  } finally {
    await chat.stop();
    client.close();
  }
});
