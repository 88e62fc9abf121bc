/**
 * `SessionFeed`: what `client.join` returns. Every join of a session gets its own handle on the
 * one shared feed (feed.ts), so two screens can follow the same session: each handle's `leave()`
 * removes only its own handlers, and the session is left when its last handle leaves.
 */

import type { Unsubscribe } from "./emitter.js";
import type { PresenceEntry, ServerEventName, ServerEvents } from "./events.js";
import type { FeedCore, FeedError, FeedSignals } from "./feed.js";

export class SessionFeed {
  private readonly stops = new Set<Unsubscribe>();
  private released = false;

  /** @internal Made by `client.join`; `release` runs once, when this handle leaves. */
  constructor(
    private readonly core: FeedCore,
    private readonly release: () => void,
  ) {}

  get sessionId(): string {
    return this.core.sessionId;
  }
  /** The seq of the last durable event handed to the app (null before the first join answer
   * when no `fromSeq` was given). Persist it to resume later with `join(id, { fromSeq })`. */
  get lastSeq(): number | null {
    return this.core.lastSeq;
  }
  /** Who is present now, by userId, you included (empty once the feed is closed). */
  get presence(): readonly PresenceEntry[] {
    return this.core.presence;
  }
  /** Whether this connection's join answer is applied (the feed is complete up to now). */
  get caughtUp(): boolean {
    return !this.released && this.core.caughtUp;
  }
  /** How many durable events arrived again and were dropped (already applied). */
  get duplicatesDropped(): number {
    return this.core.duplicatesDropped;
  }
  /** Why the server refused the session, if it did (the feed is then closed). */
  get error(): FeedError | null {
    return this.core.error;
  }
  /** Whether the user was removed from the session's group while following it. */
  get removed(): boolean {
    return this.core.removed;
  }
  /** False once this handle left, or the server refused the session (`error`, `removed`). */
  get active(): boolean {
    return !this.released && this.core.active;
  }

  /** Listen to one event: a server event (durable or ephemeral) or a feed signal. */
  on<N extends ServerEventName | keyof FeedSignals>(
    event: N,
    handler: (data: (ServerEvents & FeedSignals)[N]) => void,
  ): Unsubscribe {
    return this.keep(this.core.on(event, handler));
  }

  /** Every server event of this session (durable ones once and in seq order). */
  onAny(handler: (event: ServerEventName, data: ServerEvents[ServerEventName]) => void): Unsubscribe {
    return this.keep(this.core.onAny(handler));
  }

  /** Stop this handle's handlers; the session is left when no other handle follows it. */
  leave(): void {
    if (this.released) return;
    this.released = true;
    for (const stop of this.stops) stop();
    this.stops.clear();
    this.release();
  }

  private keep(stop: Unsubscribe): Unsubscribe {
    if (this.released) {
      stop();
      return () => undefined;
    }
    this.stops.add(stop);
    return () => {
      stop();
      this.stops.delete(stop);
    };
  }
}
