// The ordering rules of a SessionFeed, with a fake connection (no server): the join answer goes
// before live events that raced it, duplicates are dropped, resync pages the feed.

import assert from "node:assert/strict";
import { test } from "node:test";

import { FeedCore } from "../dist/feed.js";

const stored = (seq, event = "chat.message") => ({
  seq,
  event,
  data: { sessionId: "s1", seq, timestamp: "2026-11-30T10:00:00.000Z" },
  created_at: "2026-11-30T10:00:00.000Z",
});

/** A connection whose join answers only when the test says so. */
function fakeHost({ log = [] } = {}) {
  const host = {
    connection: 1,
    connected: true,
    answers: [],
    pages: [],
    reconnects: [],
    join: () => new Promise((answer) => host.answers.push(answer)),
    left: [],
    leave: (sessionId) => host.left.push(sessionId),
    readFeed: async (_session, afterSeq) => {
      const rest = log.filter((e) => e.seq > afterSeq);
      host.pages.push(afterSeq);
      return { events: rest.slice(0, 2), has_more: rest.length > 2, seq: log.length };
    },
    reconnect: (reason) => host.reconnects.push(reason),
    changed: () => {},
    later: (_ms, run) => run(),
  };
  return host;
}

const settle = () => new Promise((done) => setImmediate(done));

function recorded(feed) {
  const seqs = [];
  feed.onAny((_event, data) => seqs.push(data.seq));
  return seqs;
}

test("live events that arrive before the join answer are applied after its missed events", async () => {
  const host = fakeHost();
  const feed = new FeedCore(host, "s1", 3);
  const seqs = recorded(feed);
  const joining = feed.joinNow();
  feed.live("chat.message", stored(6).data); // raced ahead of the answer
  feed.live("chat.message", stored(7).data);
  host.answers[0]({ success: true, sessionId: "s1", seq: 5, presence: [], missed: [stored(4), stored(5)] });
  await joining;
  assert.deepEqual(seqs, [4, 5, 6, 7]);
  assert.equal(feed.lastSeq, 7);
  assert.equal(feed.caughtUp, true);
});

test("an event already applied is dropped when it arrives again, and counted", async () => {
  const host = fakeHost();
  const feed = new FeedCore(host, "s1", 0);
  const seqs = recorded(feed);
  const joining = feed.joinNow();
  feed.live("chat.message", stored(2).data); // also in missed
  host.answers[0]({ success: true, sessionId: "s1", seq: 2, presence: [], missed: [stored(1), stored(2)] });
  await joining;
  feed.live("chat.message", stored(2).data); // delivered again live
  feed.live("chat.message", stored(3).data);
  assert.deepEqual(seqs, [1, 2, 3]);
  assert.equal(feed.duplicatesDropped, 2);
});

test("a resync answer is filled from the feed page by page before held live events", async () => {
  const log = [1, 2, 3, 4, 5].map((seq) => stored(seq));
  const host = fakeHost({ log });
  const feed = new FeedCore(host, "s1", 1);
  const seqs = recorded(feed);
  const joining = feed.joinNow();
  feed.live("chat.message", stored(5).data); // live, and also on the last feed page
  feed.live("chat.message", stored(6).data);
  host.answers[0]({ success: true, sessionId: "s1", seq: 5, presence: [], missed: [], resync: true });
  await joining;
  assert.deepEqual(seqs, [2, 3, 4, 5, 6]);
  assert.deepEqual(host.pages, [1, 3]); // two pages of two
  assert.equal(feed.duplicatesDropped, 1);
});

test("an answer that belongs to a lost connection is ignored and the next join replays", async () => {
  const host = fakeHost();
  const feed = new FeedCore(host, "s1", 0);
  const seqs = recorded(feed);
  const first = feed.joinNow();
  host.connection = 2; // dropped and reconnected while the first join was answered
  const second = feed.joinNow();
  host.answers[0]({ success: true, sessionId: "s1", seq: 1, presence: [], missed: [stored(1)] });
  await first;
  assert.deepEqual(seqs, []);
  host.answers[1]({ success: true, sessionId: "s1", seq: 2, presence: [], missed: [stored(1), stored(2)] });
  await second;
  assert.deepEqual(seqs, [1, 2]);
});

test("a join without fromSeq starts live from the answer's seq", async () => {
  const host = fakeHost();
  const feed = new FeedCore(host, "s1", null);
  const seqs = recorded(feed);
  const joining = feed.joinNow();
  host.answers[0]({ success: true, sessionId: "s1", seq: 9, presence: [{ userId: "ana", userName: "Ana" }] });
  await joining;
  feed.live("chat.message", stored(9).data);
  feed.live("chat.message", stored(10).data);
  assert.deepEqual(seqs, [10]);
  assert.deepEqual(feed.presence, [{ userId: "ana", userName: "Ana" }]);
});

test("a refused join reports its code and is not retried; a rate-limited one is", async () => {
  const host = fakeHost();
  const refused = new FeedCore(host, "s1", 0);
  const errors = [];
  refused.on("error", (error) => errors.push(error.code));
  const joining = refused.joinNow();
  host.answers[0]({ success: false, error: { code: "FORBIDDEN", message: "not a member" } });
  await joining;
  assert.deepEqual(errors, ["FORBIDDEN"]);
  assert.equal(host.answers.length, 1);

  const limited = new FeedCore(host, "s2", 0);
  const again = limited.joinNow();
  host.answers[1]({ success: false, error: { code: "RATE_LIMITED", message: "too fast" } });
  await again;
  await settle();
  assert.equal(host.answers.length, 3); // asked again
});

test("presence follows the join answer, userJoined and userLeft", async () => {
  const host = fakeHost();
  const feed = new FeedCore(host, "s1", 0);
  const seen = [];
  feed.on("presence", (people) => seen.push(people.map((p) => p.userId)));
  const joining = feed.joinNow();
  host.answers[0]({ success: true, sessionId: "s1", seq: 0, presence: [{ userId: "bo", userName: "Bo" }], missed: [] });
  await joining;
  feed.signal("userJoined", { userId: "ana", userName: "Ana", sessionId: "s1", timestamp: "t" });
  feed.signal("userLeft", { userId: "bo", sessionId: "s1", timestamp: "t" });
  assert.deepEqual(seen, [["bo"], ["ana", "bo"], ["ana"]]);
});

test("a refused feed is let go once: its last handle leaving later does not leave again", async () => {
  const host = fakeHost();
  const feed = new FeedCore(host, "s1", 0);
  const joining = feed.joinNow();
  host.answers[0]({ success: false, error: { code: "NOT_FOUND", message: "no such session" } });
  await joining;
  assert.deepEqual(host.left, ["s1"]);
  assert.equal(feed.active, false);
  feed.leave(); // a screen unmounts after the refusal; a newer feed of s1 may exist by now
  assert.deepEqual(host.left, ["s1"]);
});
