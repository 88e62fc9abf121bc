// Against a real `studygroups serve` whose join answers replay at most REPLAY_MAX_BYTES=2000
// bytes: a client further behind gets `resync: true` and pages GET …/feed (10 events a page
// here) while live events keep coming, and still hands every event over once and in order.

import assert from "node:assert/strict";
import { after, before, test } from "node:test";

import { createClient } from "../dist/index.js";
import {
  chatSteadily,
  feedOf,
  makeSession,
  mint,
  restAs,
  startServer,
  waitFor,
} from "../testing/server.mjs";

let server;
before(async () => {
  server = await startServer({ REPLAY_MAX_BYTES: "2000" });
});
after(async () => {
  await server?.stop();
});

test("a join too far behind pages the feed and applies each event once, in order, live ones after", async () => {
  const scenario = await makeSession(server.url, ["ana", "bo", "cy"]);
  const ana = restAs(server.url, "ana");
  for (let i = 0; i < 25; i++) await ana.postChat(scenario.groupId, scenario.sessionId, 1, `early ${i}`);
  const pages = [];
  const fetchCounting = (url, init) => {
    if (String(url).includes("/feed")) pages.push(new URL(url).searchParams.get("after_seq"));
    return fetch(url, init);
  };
  const chat = chatSteadily(server.url, scenario, ["ana", "cy"], 10);
  const client = createClient({
    baseUrl: server.url,
    getToken: () => mint("bo"),
    feedPageSize: 10,
    fetch: fetchCounting,
    socketOptions: { reconnectionDelay: 10, reconnectionDelayMax: 100 },
  });
  try {
    const feed = client.join(scenario.sessionId, { fromSeq: 0 });
    const seen = [];
    feed.onAny((event, data) => seen.push([data.seq, event]));
    await waitFor(() => client.state === "caught-up", "caught-up after the first resync");
    const firstPages = pages.length;
    // Fall behind again while disconnected, then come back: a second resync.
    client.socket.disconnect();
    const behind = chat.stats.posted;
    await waitFor(() => chat.stats.posted >= behind + 20, "posts while away");
    client.socket.connect();
    await waitFor(() => client.state === "caught-up" && pages.length > firstPages, "the second resync");
    await chat.stop();
    const events = await feedOf(server.url, scenario);
    const head = events[events.length - 1][0];
    await waitFor(() => feed.lastSeq === head, `lastSeq ${head} (at ${feed.lastSeq})`);
    assert.deepEqual(seen, events);
    assert.ok(firstPages >= 3, `the first resync read ${firstPages} pages`);
  } finally {
    await chat.stop();
    client.close();
  }
});
