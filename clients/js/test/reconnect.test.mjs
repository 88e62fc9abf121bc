// Against a real `studygroups serve`: a client that loses its connection again and again, whose
// token lives only a few seconds, or whose server is killed (SIGKILL) mid-session and started
// again on the same port and database while another member keeps posting, still hands the app
// every durable event of the feed once and in seq order.

import assert from "node:assert/strict";
import { after, before, test } from "node:test";

import { createClient } from "../dist/index.js";
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

/** Wait until the feed applied the session's head, then compare with GET /feed. */
async function assertEveryEventOnceInOrder(scenario, seen, feed, fromSeq) {
  const events = await feedOf(server.url, scenario);
  const head = events[events.length - 1][0];
  await waitFor(() => feed.lastSeq === head, `lastSeq ${head} (at ${feed.lastSeq})`);
  assert.deepEqual(seen.durable, events.filter(([seq]) => seq > fromSeq));
  return events;
}

for (const transports of [["polling", "websocket"], ["websocket"]]) {
  test(`every event arrives once and in order across repeated socket drops (${transports})`, async () => {
    const scenario = await makeSession(server.url, ["ana", "bo", "cy"]);
    await restAs(server.url, "ana").postChat(scenario.groupId, scenario.sessionId, 1, "before");
    const { seq } = await restAs(server.url, "bo").getSession(scenario.sessionId);
    const chat = chatSteadily(server.url, scenario, ["ana", "cy"], 5);
    const client = createClient({
      baseUrl: server.url,
      getToken: () => mint("bo"),
      socketOptions: { ...FAST, transports },
    });
    try {
      const feed = client.join(scenario.sessionId, { fromSeq: seq });
      const seen = record(feed);
      let connects = 0;
      client.socket.on("connect", () => (connects += 1));
      for (let drop = 0; drop < 16; drop++) {
        await waitFor(() => client.socket.connected, "a connection");
        await sleep(Math.random() * 60); // while the join is answered, or soon after
        if (drop % 2 === 0) {
          client.socket.io.engine.close(); // the transport dies; the manager reconnects
        } else {
          client.socket.disconnect(); // away while others post, then back
          const posted = chat.stats.posted;
          await waitFor(() => chat.stats.posted >= posted + 3, "posts while away");
          client.socket.connect();
        }
      }
      await waitFor(() => client.state === "caught-up", "caught-up");
      await chat.stop();
      const events = await assertEveryEventOnceInOrder(scenario, seen, feed, seq);
      assert.ok(events.length - seq >= 48, `too few events to race with: ${events.length - seq}`);
      assert.ok(connects >= 16, `reconnected ${connects} times`);
    } finally {
      await chat.stop();
      client.close();
    }
  });
}

test("a token of a few seconds is refreshed in band before exp and the socket never drops", async () => {
  const scenario = await makeSession(server.url, ["ana", "bo", "cy"]);
  const chat = chatSteadily(server.url, scenario, ["ana", "cy"], 50);
  let issued = 0;
  const client = createClient({
    baseUrl: server.url,
    getToken: () => mint("bo", 4),
    onTokenRefresh: () => {
      issued += 1;
      return mint("bo", 4);
    },
    socketOptions: FAST,
  });
  try {
    const refreshed = [];
    const expired = [];
    let disconnects = 0;
    client.on("token", ({ expiresAt }) => refreshed.push(expiresAt));
    client.on("auth.expired", () => expired.push(true));
    client.socket.on("disconnect", () => (disconnects += 1));
    const feed = client.join(scenario.sessionId, { fromSeq: 0 });
    const seen = record(feed);
    // Past the first token's life: without a refresh the server ends the socket at 4 s.
    await waitFor(() => refreshed.length >= 3, "three in-band refreshes", 40_000);
    await chat.stop();
    await assertEveryEventOnceInOrder(scenario, seen, feed, 0);
    assert.equal(disconnects, 0);
    assert.deepEqual(expired, []);
    assert.ok(issued >= 3);
  } finally {
    await chat.stop();
    client.close();
  }
});

test("a socket ended at exp reconnects with a fresh token and loses nothing", async () => {
  const scenario = await makeSession(server.url, ["ana", "bo"]);
  const chat = chatSteadily(server.url, scenario, ["ana"], 50);
  let fresh = 0;
  // getToken has nothing newer than a 3 s token until the server said auth.expired: the
  // server ends the socket, and the client reconnects with the next token and rejoins.
  let refreshing = false;
  const short = mint("bo", 3);
  const client = createClient({
    baseUrl: server.url,
    getToken: () => (refreshing ? mint("bo") : short), // nothing new before the expiry
    socketOptions: FAST,
  });
  try {
    const expired = [];
    client.on("auth.expired", () => {
      expired.push(true);
      refreshing = true;
      fresh += 1;
    });
    const reasons = [];
    client.socket.on("disconnect", (reason) => reasons.push(reason));
    const feed = client.join(scenario.sessionId, { fromSeq: 0 });
    const seen = record(feed);
    await waitFor(() => expired.length === 1, "auth.expired", 20_000);
    await waitFor(() => client.state === "caught-up" && reasons.length > 0, "the rejoin");
    await sleep(300);
    await chat.stop();
    await assertEveryEventOnceInOrder(scenario, seen, feed, 0);
    assert.deepEqual(reasons, ["io server disconnect"]);
    assert.equal(fresh, 1);
    assert.ok(seen.names.includes("auth.expired"));
  } finally {
    await chat.stop();
    client.close();
  }
});

test("typing and markRead reach the others, who see them once, with presence", async () => {
  const scenario = await makeSession(server.url, ["ana", "bo"]);
  const ana = createClient({ baseUrl: server.url, getToken: () => mint("ana"), socketOptions: FAST });
  const bo = createClient({ baseUrl: server.url, getToken: () => mint("bo"), socketOptions: FAST });
  try {
    const anaFeed = ana.join(scenario.sessionId);
    await waitFor(() => ana.state === "caught-up", "ana caught up");
    const boFeed = bo.join(scenario.sessionId);
    const boSeen = record(boFeed);
    await waitFor(() => bo.state === "caught-up", "bo caught up");
    await waitFor(() => anaFeed.presence.length === 2, "ana to see bo");
    const anaSeen = record(anaFeed);
    const typed = await bo.typing(scenario.sessionId, true);
    const message = await restAs(server.url, "ana").postChat(scenario.groupId, scenario.sessionId, 1, "hi");
    await waitFor(() => boSeen.names.includes("chat.message"), "bo to get the message");
    const read = await bo.markRead(scenario.sessionId, message.id);
    await waitFor(() => anaSeen.names.includes("chat.read"), "ana to get chat.read");
    assert.deepEqual(typed, { success: true });
    assert.deepEqual(read, { success: true, sessionId: scenario.sessionId, messageId: message.id });
    assert.deepEqual(anaSeen.names.filter((n) => n !== "chat.message"), ["chat.typing", "chat.read"]);
    assert.deepEqual(boFeed.presence.map((p) => p.userId), ["ana", "bo"]);
    bo.close();
    await waitFor(() => anaFeed.presence.length === 1, "ana to see bo leave");
    assert.ok(anaSeen.names.includes("userLeft"));
  } finally {
    ana.close();
    bo.close();
  }
});

test("a join the server refuses is reported on the feed and in the client's state", async () => {
  const scenario = await makeSession(server.url, ["ana", "bo"]);
  const client = createClient({ baseUrl: server.url, getToken: () => mint("zed"), socketOptions: FAST });
  try {
    const feed = client.join(scenario.sessionId, { fromSeq: 0 });
    const errors = [];
    feed.on("error", (error) => errors.push(error.code));
    await waitFor(() => feed.error !== null, "the refusal");
    assert.deepEqual(errors, ["FORBIDDEN"]);
    assert.equal(feed.caughtUp, false);
  } finally {
    client.close();
  }
});

// Last: it kills the server this file shares.
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
  } finally {
    await chat.stop();
    client.close();
  }
});
