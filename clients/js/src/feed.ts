/**
 * One joined session, shared by every `client.join` of it (each join gets a `SessionFeed`
 * handle, handle.ts): joins on every connection with the last applied `seq`, applies the join
 * answer's `missed` before any live event that arrived meanwhile, pages `GET …/feed` on
 * `resync: true`, drops what it already applied, and hands each durable event to the app once,
 * in seq order. Ephemeral signals pass straight through. A refusal closes it for good.
 *
 * The ordering rule (docs/realtime.md, "Following a session without losing events"): while a
 * join is being answered, live events wait in `held`; the answer (or the feed pages) is applied
 * first, then the held events, each only if its seq is past `lastSeq`.
 */

import { Emitter, type Unsubscribe } from "./emitter.js";
import type {
  Ack,
  DurableEventName,
  DurableEvents,
  EphemeralEvents,
  JoinSessionAck,
  PresenceEntry,
  ServerEventName,
  ServerEvents,
  StoredEvent,
} from "./events.js";
import type { FeedPage } from "./rest.js";

/** What the library itself reports about a session, besides the server's events. */
export interface FeedSignals {
  /** The people present changed (join answer, `userJoined`, `userLeft`). */
  presence: readonly PresenceEntry[];
  /** The join answered `resync` with a head *before* `lastSeq`: the server's log was reset.
   * Reload the session over REST; events continue from `seq`. */
  reset: { seq: number };
  /** The server refused the session (FORBIDDEN, NOT_FOUND, …): the feed is closed (not
   * retried, `active` false). Join again for a new attempt. */
  error: FeedError;
  /** You are no longer a member (removed from the group): a session you were following
   * refused you. Also emitted as `error`. The feed is closed. */
  removed: FeedError;
  /** The join's answer (and any feed pages) are applied: the feed is live and complete. */
  "caught-up": { lastSeq: number };
}

export class FeedError extends Error {
  readonly code: string;
  constructor(code: string, message: string) {
    super(`${code}: ${message}`);
    this.name = "FeedError";
    this.code = code;
  }
}

export type AnyHandler = <N extends ServerEventName>(event: N, data: ServerEvents[N]) => void;

type FeedEvents = { [N in ServerEventName]: [ServerEvents[N]] } & {
  [N in keyof FeedSignals]: [FeedSignals[N]];
} & { "*": [ServerEventName, ServerEvents[ServerEventName]] };

/** What a feed needs from its client (kept small so the ordering logic is testable alone). */
export interface FeedHost {
  /** Which connection is current; answers that belong to an older one are ignored. */
  readonly connection: number;
  readonly connected: boolean;
  join(
    payload: { sessionId: string; lastSeq?: number },
  ): Promise<Ack<JoinSessionAck>>;
  /** The feed is done (left by its last handle, or refused): forget it, leave the room. */
  leave(sessionId: string): void;
  readFeed(sessionId: string, afterSeq: number): Promise<FeedPage>;
  /** The current connection cannot go on (no answer, feed unreadable): reconnect and rejoin. */
  reconnect(reason: Error): void;
  /** A feed's caught-up state changed. */
  changed(): void;
  /** Wait before retrying a refused-for-now join. */
  later(ms: number, run: () => void): void;
}

interface Item {
  seq: number;
  event: DurableEventName;
  data: DurableEvents[DurableEventName];
}

export class FeedCore {
  readonly sessionId: string;
  private last: number | null;
  private held: Item[] | null = null;
  private joinedOn = -1; // the connection whose join answer was applied
  private left = false;
  private people: PresenceEntry[] = [];
  private dropped = 0;
  private failure: FeedError | null = null;
  private wasRemoved = false;
  private everJoined = false; // a join answer was applied once: a later refusal is a removal
  /** How many `SessionFeed` handles share this feed; the last one to leave leaves it. */
  handles = 0;
  private readonly events = new Emitter<FeedEvents>();

  constructor(
    private readonly host: FeedHost,
    sessionId: string,
    fromSeq: number | null,
  ) {
    this.sessionId = sessionId;
    this.last = fromSeq;
  }

  /** The seq of the last durable event handed to the app (null before the first join answer
   * when no `fromSeq` was given). Persist it to resume later with `join(id, { fromSeq })`. */
  get lastSeq(): number | null {
    return this.last;
  }
  /** Who is present now, by userId, you included. */
  get presence(): readonly PresenceEntry[] {
    return this.people;
  }
  /** Whether this connection's join answer is applied (the feed is complete up to now). */
  get caughtUp(): boolean {
    return this.failure === null && this.joinedOn === this.host.connection && this.held === null;
  }
  /** How many durable events arrived again and were dropped (already applied). */
  get duplicatesDropped(): number {
    return this.dropped;
  }
  /** Why the server refused the session, if it did (the feed is then closed). */
  get error(): FeedError | null {
    return this.failure;
  }
  /** Whether the refusal came after the session had been followed: the user was removed. */
  get removed(): boolean {
    return this.wasRemoved;
  }

  /** Listen to one event: a server event (durable or ephemeral) or a feed signal. */
  on<N extends ServerEventName | keyof FeedSignals>(
    event: N,
    handler: (data: (ServerEvents & FeedSignals)[N]) => void,
  ): Unsubscribe {
    return this.events.on(event, handler as never);
  }

  /** Every server event of this session (durable ones once and in seq order). */
  onAny(handler: (event: ServerEventName, data: ServerEvents[ServerEventName]) => void): Unsubscribe {
    return this.events.on("*", handler);
  }

  /** Leave the session's room and stop delivering. */
  leave(): void {
    if (this.left) return;
    const open = this.failure === null; // a refused feed already told its client
    this.left = true;
    this.held = null;
    if (open) this.host.leave(this.sessionId);
    this.events.clear();
  }

  /** Joined, or joining on every connection: not left, not refused. */
  get active(): boolean {
    return !this.left && this.failure === null;
  }

  /** The server refused this session (a join answer, or a membership check over REST):
   * close the feed and say so. After a session was followed, a refusal means a removal. */
  refuse(code: string, message: string): void {
    if (!this.active) return;
    this.held = null;
    this.failure = new FeedError(code, message);
    this.wasRemoved = this.everJoined && (code === "FORBIDDEN" || code === "NOT_FOUND");
    const hadPeople = this.people.length > 0;
    this.people = []; // nobody is present for us any more
    this.host.leave(this.sessionId); // first: a handler below may join the session again
    if (hadPeople) this.events.emit("presence", this.people);
    if (this.wasRemoved) this.events.emit("removed", this.failure);
    this.events.emit("error", this.failure);
  }

  // -- called by the client ------------------------------------------------------------------

  /** A durable event arrived live. */
  live(event: DurableEventName, data: DurableEvents[DurableEventName]): void {
    if (!this.active) return;
    const item = { seq: data.seq, event, data };
    if (this.held !== null) this.held.push(item);
    else this.take(item);
  }

  /** An ephemeral signal arrived (or `auth.expired`): pass it through. */
  signal<N extends keyof EphemeralEvents>(event: N, data: EphemeralEvents[N]): void {
    if (!this.active) return;
    if (event === "userJoined") {
      const { userId, userName } = data as EphemeralEvents["userJoined"];
      if (!this.people.some((p) => p.userId === userId)) {
        this.people = [...this.people, { userId, userName }].sort((a, b) =>
          a.userId < b.userId ? -1 : a.userId > b.userId ? 1 : 0,
        );
        this.events.emit("presence", this.people);
      }
    } else if (event === "userLeft") {
      const { userId } = data as EphemeralEvents["userLeft"];
      if (this.people.some((p) => p.userId === userId)) {
        this.people = this.people.filter((p) => p.userId !== userId);
        this.events.emit("presence", this.people);
      }
    }
    this.deliver(event, data);
  }

  /** The connection is up: join with the last applied seq, holding live events meanwhile. */
  async joinNow(): Promise<void> {
    if (!this.active) return;
    const mine = this.host.connection;
    this.held = [];
    this.host.changed();
    const payload: { sessionId: string; lastSeq?: number } = { sessionId: this.sessionId };
    if (this.last !== null) payload.lastSeq = this.last;
    let ack: Ack<JoinSessionAck>;
    try {
      ack = await this.host.join(payload);
    } catch (error) {
      if (this.current(mine)) this.host.reconnect(asError(error)); // no answer in time
      return;
    }
    if (!this.current(mine)) return; // that connection is gone; the next join starts over
    if (!ack.success) {
      const { code, message } = ack.error;
      if (code === "RATE_LIMITED" || code === "INTERNAL" || code === "UNAUTHORIZED") {
        this.host.later(1_000, () => {
          if (this.current(mine)) void this.joinNow();
        });
        return;
      }
      this.refuse(code, message); // FORBIDDEN, NOT_FOUND, BAD_REQUEST: retrying cannot help
      return;
    }
    this.people = [...ack.presence];
    this.events.emit("presence", this.people);
    if (ack.resync === true) {
      if (this.last !== null && ack.seq < this.last) {
        this.last = ack.seq; // the log is behind what we applied: it was reset
        this.events.emit("reset", { seq: ack.seq });
      } else if (!(await this.page(mine))) {
        return;
      }
    } else if (this.last === null) {
      this.last = ack.seq; // no fromSeq: start live from the join
    } else {
      for (const stored of [...(ack.missed ?? [])].sort(bySeq)) this.take(stored);
    }
    this.release();
    this.joinedOn = mine;
    this.everJoined = true;
    this.events.emit("caught-up", { lastSeq: this.last ?? 0 });
    this.host.changed();
  }

  // -- ordering ------------------------------------------------------------------------------

  private current(connection: number): boolean {
    return this.active && this.host.connection === connection && this.host.connected;
  }

  /** Read the log after `lastSeq` up to its head; false when the connection moved on or the
   * read failed (then the client reconnects and the next join starts over). */
  private async page(mine: number): Promise<boolean> {
    for (;;) {
      let page: FeedPage;
      try {
        page = await this.host.readFeed(this.sessionId, this.last ?? 0);
      } catch (error) {
        if (this.current(mine)) this.host.reconnect(asError(error));
        return false;
      }
      if (!this.current(mine)) return false;
      for (const stored of page.events) this.take(stored);
      if (!page.has_more || page.events.length === 0) return true;
    }
  }

  private release(): void {
    const waiting = this.held ?? [];
    this.held = null;
    for (const item of waiting.sort(bySeq)) this.take(item);
  }

  private take(item: { seq: number; event: string; data: unknown }): void {
    if (this.last !== null && item.seq <= this.last) {
      this.dropped += 1; // already applied
      return;
    }
    this.last = item.seq;
    this.deliver(item.event as ServerEventName, item.data as ServerEvents[ServerEventName]);
  }

  private deliver(event: ServerEventName, data: ServerEvents[ServerEventName]): void {
    this.events.emit(event, data as never);
    this.events.emit("*", event, data);
  }
}

function bySeq(a: { seq: number }, b: { seq: number }): number {
  return a.seq - b.seq;
}

function asError(error: unknown): Error {
  return error instanceof Error ? error : new Error(String(error));
}

export type { StoredEvent };
