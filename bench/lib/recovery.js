'use strict';
// What a well-behaved client keeps of one session's durable events, across joins, leaves and
// reconnects (API.md §2 "Durable events, ordering and recovery"):
//   - while a joinSession is in flight, live durable events of the session are held;
//   - the ack's `missed` is applied first, then the held events, dropping every seq <= lastSeq;
//   - the next join (after a leave or a reconnect) sends the lastSeq applied so far.
// Every seq applied is counted per client, so the end of a run can compare what each client
// holds with the session's GET /feed: a seq never applied is lost, one applied twice a duplicate.

/** The identity of a durable event for comparisons: its name, and its id when it has one (chat). */
const keyOf = (event, data) => `${event}:${data && data.id !== undefined ? data.id : ''}`;

/** Shared by every client of one session: the first key seen for each seq, to catch disagreements. */
class SessionBook {
  constructor(sessionId) {
    this.sessionId = sessionId;
    this.keys = new Map(); // seq -> key
  }
}

class HeldLog {
  /**
   * @param {SessionBook} book  @param {object} counters shared counters, incremented here:
   *   applied, dupDropped, gaps, missedApplied, missedOutOfOrder, held, heldDropped, mismatch
   */
  constructor(book, counters) {
    this.book = book;
    this.c = counters;
    this.lastSeq = 0;
    this.counts = new Uint8Array(1024); // index seq -> times applied
    this.holding = false;
    this.held = [];
  }

  /** A durable event arrived live on the socket. */
  onLive(event, data) {
    if (this.holding) {
      this.c.held++;
      this.held.push([data.seq, event, data]);
      return;
    }
    this.apply(data.seq, event, data);
  }

  /** Call before sending joinSession: live events are held until endJoin. */
  beginJoin() {
    this.holding = true;
    this.held = [];
  }

  /** Apply the ack's `missed` (stored events {seq, event, data}), in the order given. */
  applyMissed(missed) {
    let prev = this.lastSeq;
    for (const ev of missed) {
      if (!ev || typeof ev.seq !== 'number') continue;
      if (ev.seq <= prev) this.c.missedOutOfOrder++;
      prev = ev.seq;
      this.c.missedApplied++;
      this.apply(ev.seq, ev.event, ev.data);
    }
  }

  /** The join ack has been applied (or the join failed): release the held events. */
  endJoin() {
    this.holding = false;
    const held = this.held;
    this.held = [];
    for (const [seq, event, data] of held) {
      if (seq <= this.lastSeq) {
        this.c.heldDropped++; // already in `missed`: the overlap a client must drop
        continue;
      }
      this.apply(seq, event, data);
    }
  }

  /** The connection dropped while a join was in flight: drop the held events (the next join
   * asks for everything after lastSeq, so they come back in its `missed`). */
  abortJoin() {
    this.holding = false;
    this.held = [];
  }

  apply(seq, event, data) {
    if (seq <= this.lastSeq) {
      this.c.dupDropped++; // delivered again after it was applied: the server broke exactly-once
      return;
    }
    if (seq > this.lastSeq + 1) this.c.gaps++;
    if (seq >= this.counts.length) {
      const grown = new Uint8Array(Math.max(seq + 1, this.counts.length * 2));
      grown.set(this.counts);
      this.counts = grown;
    }
    if (this.counts[seq] < 255) this.counts[seq]++;
    this.c.applied++;
    const key = keyOf(event, data);
    const known = this.book.keys.get(seq);
    if (known === undefined) this.book.keys.set(seq, key);
    else if (known !== key) this.c.mismatch++;
    this.lastSeq = seq;
  }

  /**
   * Against the feed's events (seq 1..head, in order) -> {lost, holes, duplicated, extra}:
   * lost = feed events never applied; holes = those of them below the last seq applied (the
   * client moved past them: never coming back), the rest is a tail it has not caught up with.
   */
  compare(feedEvents) {
    let lost = 0;
    let holes = 0;
    let duplicated = 0;
    let head = 0;
    for (const ev of feedEvents) {
      const n = ev.seq < this.counts.length ? this.counts[ev.seq] : 0;
      if (n === 0) {
        lost++;
        if (ev.seq < this.lastSeq) holes++;
      } else if (n > 1) duplicated += n - 1;
      head = Math.max(head, ev.seq);
    }
    return { lost, holes, duplicated, extra: Math.max(0, this.lastSeq - head) };
  }
}

/**
 * A session's durable events with seq in (afterSeq, upTo], read from GET /feed in pages of 1,000
 * with `rest` (a Rest) as `token`'s user. -> [{seq, event, data}]; throws on a non-200.
 */
async function readFeed(rest, sessionId, token, afterSeq, upTo = Infinity) {
  const out = [];
  for (let after = afterSeq, pages = 0; pages < 1000; pages++) {
    const r = await rest.request('GET', `/group-sessions/${sessionId}/feed?after_seq=${after}&limit=1000`, { token });
    if (r.status !== 200) throw new Error(`GET feed -> ${r.status}`);
    for (const ev of r.body.events) if (ev.seq <= upTo) out.push(ev);
    const last = r.body.events.length ? r.body.events[r.body.events.length - 1].seq : after;
    if (!r.body.has_more || last >= upTo) break;
    after = last;
  }
  return out;
}

module.exports = { HeldLog, SessionBook, keyOf, readFeed };
