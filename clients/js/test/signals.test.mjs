// Against a real `studygroups serve`: what a front end sees besides the event stream. Two screens
// joined to one session each leave on their own; a quick typing true → false reaches the others
// in that order; a refused join closes its feed while the client stays caught up; a member
// removed from the group is told so; a token of another user stops the client.

import assert from "node:assert/strict";
import { after, before, test } from "node:test";

import { createClient, UserSwitchError } from "../dist/index.js";
import { makeSession, mint, restAs, startServer, waitFor } from "../testing/server.mjs";

let server;
before(async () => {
  server = await startServer();
});
after(async () => {
  await server?.stop();
});

const FAST = { reconnectionDelay: 10, reconnectionDelayMax: 100 };

function clientOf(user, extra = {}) {
  return createClient({ baseUrl: server.url, getToken: () => mint(user), socketOptions: FAST, ...extra });
}

const chatNames = (feed) => {
  const names = [];
  feed.on("chat.message", (message) => names.push(message.message));
  return names;
};

test("two joins of one session each leave on their own; the session is left with the last", async () => {
  const scenario = await makeSession(server.url, ["ana", "bo"]);
  const bo = clientOf("bo");
  const ana = clientOf("ana");
  try {
    const first = bo.join(scenario.sessionId, { fromSeq: 0 });
    const second = bo.join(scenario.sessionId);
    const one = chatNames(first);
    const two = chatNames(second);
    const watcher = ana.join(scenario.sessionId);
    const left = [];
    watcher.on("userLeft", ({ userId }) => left.push(userId));
    await waitFor(() => bo.state === "caught-up" && ana.state === "caught-up", "both caught up");
    await waitFor(() => watcher.presence.some((p) => p.userId === "bo"), "bo present");

    const rest = restAs(server.url, "ana");
    await rest.postChat(scenario.groupId, scenario.sessionId, 1, "both screens");
    await waitFor(() => one.length === 1 && two.length === 1, "the message on both screens");

    first.leave(); // one screen unmounts: the other still follows the session
    assert.equal(first.active, false);
    assert.equal(second.active, true);
    await rest.postChat(scenario.groupId, scenario.sessionId, 1, "second only");
    await waitFor(() => two.length === 2, "the second screen's message");
    assert.deepEqual(one, ["both screens"]);
    assert.deepEqual(left, []);

    second.leave(); // the last screen: now the session is left
    await waitFor(() => left.includes("bo"), "bo's userLeft");
    assert.equal(bo.state, "caught-up");
  } finally {
    bo.close();
    ana.close();
  }
});

test("typing false right after true is sent after the throttle window, so others see it last", async () => {
  const scenario = await makeSession(server.url, ["ana", "bo"]);
  const bo = clientOf("bo");
  const ana = clientOf("ana");
  try {
    bo.join(scenario.sessionId);
    const watcher = ana.join(scenario.sessionId);
    const seen = [];
    watcher.on("chat.typing", ({ userId, isTyping }) => seen.push([userId, isTyping]));
    await waitFor(() => bo.state === "caught-up" && ana.state === "caught-up", "both caught up");

    const answers = await Promise.all([
      bo.typing(scenario.sessionId, true),
      bo.typing(scenario.sessionId, false), // inside the server's 250 ms window
    ]);
    assert.deepEqual(answers, [{ success: true }, { success: true }]);
    await waitFor(() => seen.length === 2, "two typing signals");
    assert.deepEqual(seen, [["bo", true], ["bo", false]]);

    // Several changes inside one window: only the latest is sent, and all callers get its answer.
    const burst = await Promise.all([
      bo.typing(scenario.sessionId, true),
      bo.typing(scenario.sessionId, false),
      bo.typing(scenario.sessionId, true),
    ]);
    assert.deepEqual(burst, [{ success: true }, { success: true }, { success: true }]);
    await waitFor(() => seen.length === 3, "the burst's typing signal");
    assert.deepEqual(seen.slice(2), [["bo", true]]);
  } finally {
    bo.close();
    ana.close();
  }
});

test("a refused join closes its feed, says why, and the client is still caught up", async () => {
  const scenario = await makeSession(server.url, ["ana", "bo"]);
  const zed = clientOf("zed"); // not a member of the group
  try {
    const feed = zed.join(scenario.sessionId, { fromSeq: 0 });
    const errors = [];
    feed.on("error", (error) => errors.push(error.code));
    await waitFor(() => errors.length === 1, "the refusal");
    assert.deepEqual(errors, ["FORBIDDEN"]);
    assert.equal(feed.active, false);
    assert.equal(feed.caughtUp, false);
    assert.equal(feed.removed, false); // never followed it: not a removal
    assert.equal(feed.error.code, "FORBIDDEN");
    await waitFor(() => zed.state === "caught-up", "caught-up");
    assert.equal(zed.error, null);
  } finally {
    zed.close();
  }
});

test("a refused in-band refresh leaves the state caught-up without error and is reported apart", async () => {
  const scenario = await makeSession(server.url, ["ana", "bo"]);
  const bo = clientOf("bo", { onTokenRefresh: () => mint("bo", 3600, "another-secret-that-is-long-enough-for-hs256") });
  try {
    const errors = [];
    bo.on("error", (error) => errors.push(error.message));
    bo.join(scenario.sessionId);
    await waitFor(() => bo.state === "caught-up", "caught-up");
    const answer = await bo.refreshToken();
    assert.equal(answer.success, false);
    assert.equal(answer.error.code, "UNAUTHORIZED");
    assert.equal(bo.state, "caught-up");
    assert.equal(bo.error, null);
    assert.equal(errors.length, 1);
    assert.match(errors[0], /refreshToken refused/);
  } finally {
    bo.close();
  }
});

test("a member removed from the group is told: the feed says removed and closes", async () => {
  const scenario = await makeSession(server.url, ["ana", "bo", "cy"]);
  const cy = clientOf("cy", { membershipCheckMs: 100 });
  try {
    const feed = cy.join(scenario.sessionId, { fromSeq: 0 });
    const removed = [];
    const presence = [];
    feed.on("removed", (error) => removed.push(error.code));
    feed.on("presence", (people) => presence.push(people.length));
    await waitFor(() => feed.caughtUp && feed.presence.length === 1, "cy caught up and present");

    await restAs(server.url, "ana").removeMember(scenario.groupId, "cy");
    await waitFor(() => removed.length === 1, "the removal");
    assert.deepEqual(removed, ["FORBIDDEN"]);
    assert.equal(feed.removed, true);
    assert.equal(feed.active, false);
    assert.deepEqual(feed.presence, []);
    assert.equal(presence[presence.length - 1], 0);
    assert.equal(cy.state, "caught-up");
  } finally {
    cy.close();
  }
});

test("without the membership check a removal is noticed at the next reconnect", async () => {
  const scenario = await makeSession(server.url, ["ana", "bo", "cy"]);
  const cy = clientOf("cy", { membershipCheckMs: 0 });
  try {
    const feed = cy.join(scenario.sessionId, { fromSeq: 0 });
    const removed = [];
    feed.on("removed", (error) => removed.push(error.code));
    await waitFor(() => feed.caughtUp, "cy caught up");
    await restAs(server.url, "ana").removeMember(scenario.groupId, "cy");
    cy.socket.io.engine.close(); // the connection drops; the rejoin is refused
    await waitFor(() => removed.length === 1, "the removal");
    assert.equal(feed.active, false);
  } finally {
    cy.close();
  }
});

test("a token of another user is refused: the client goes offline instead of switching user", async () => {
  const scenario = await makeSession(server.url, ["ana", "bo"]);
  const bo = clientOf("bo", { onTokenRefresh: () => mint("ana") });
  try {
    const feed = bo.join(scenario.sessionId);
    await waitFor(() => bo.state === "caught-up", "caught-up");
    const failure = await bo.refreshToken().catch((error) => error);
    assert.ok(failure instanceof UserSwitchError);
    assert.equal(failure.user, "bo");
    assert.equal(failure.tokenUser, "ana");
    assert.equal(bo.state, "offline");
    assert.ok(bo.error instanceof UserSwitchError);
    assert.equal(bo.socket.connected, false);
    assert.equal(feed.caughtUp, false);
    assert.throws(() => bo.join(scenario.sessionId), /closed/);
  } finally {
    bo.close();
  }
});
