/**
 * `SessionFeed`: what `client.join` returns. Every join of a session gets its own handle on the
 * one shared feed (feed.ts), so two screens can follow the same session: each handle's `leave()`
 * removes only its own handlers, and the session is left when its last handle leaves.
 */
import type { Unsubscribe } from "./emitter.js";
import type { PresenceEntry, ServerEventName, ServerEvents } from "./events.js";
import type { FeedCore, FeedError, FeedSignals } from "./feed.js";
export declare class SessionFeed {
    private readonly core;
    private readonly release;
    private readonly stops;
    private released;
    /** @internal Made by `client.join`; `release` runs once, when this handle leaves. */
    constructor(core: FeedCore, release: () => void);
    get sessionId(): string;
    /** The seq of the last durable event handed to the app (null before the first join answer
     * when no `fromSeq` was given). Persist it to resume later with `join(id, { fromSeq })`. */
    get lastSeq(): number | null;
    /** Who is present now, by userId, you included (empty once the feed is closed). */
    get presence(): readonly PresenceEntry[];
    /** Whether this connection's join answer is applied (the feed is complete up to now). */
    get caughtUp(): boolean;
    /** How many durable events arrived again and were dropped (already applied). */
    get duplicatesDropped(): number;
    /** Why the server refused the session, if it did (the feed is then closed). */
    get error(): FeedError | null;
    /** Whether the user was removed from the session's group while following it. */
    get removed(): boolean;
    /** False once this handle left, or the server refused the session (`error`, `removed`). */
    get active(): boolean;
    /** Listen to one event: a server event (durable or ephemeral) or a feed signal. */
    on<N extends ServerEventName | keyof FeedSignals>(event: N, handler: (data: (ServerEvents & FeedSignals)[N]) => void): Unsubscribe;
    /** Every server event of this session (durable ones once and in seq order). */
    onAny(handler: (event: ServerEventName, data: ServerEvents[ServerEventName]) => void): Unsubscribe;
    /** Stop this handle's handlers; the session is left when no other handle follows it. */
    leave(): void;
    private keep;
}
