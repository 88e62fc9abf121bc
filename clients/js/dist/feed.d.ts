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
import { type Unsubscribe } from "./emitter.js";
import type { Ack, DurableEventName, DurableEvents, EphemeralEvents, JoinSessionAck, PresenceEntry, ServerEventName, ServerEvents, StoredEvent } from "./events.js";
import type { FeedPage } from "./rest.js";
/** What the library itself reports about a session, besides the server's events. */
export interface FeedSignals {
    /** The people present changed (join answer, `userJoined`, `userLeft`). */
    presence: readonly PresenceEntry[];
    /** The join answered `resync` with a head *before* `lastSeq`: the server's log was reset.
     * Reload the session over REST; events continue from `seq`. */
    reset: {
        seq: number;
    };
    /** The server refused the session (FORBIDDEN, NOT_FOUND, …): the feed is closed (not
     * retried, `active` false). Join again for a new attempt. */
    error: FeedError;
    /** You are no longer a member (removed from the group): a session you were following
     * refused you. Also emitted as `error`. The feed is closed. */
    removed: FeedError;
    /** The join's answer (and any feed pages) are applied: the feed is live and complete. */
    "caught-up": {
        lastSeq: number;
    };
}
export declare class FeedError extends Error {
    readonly code: string;
    constructor(code: string, message: string);
}
export type AnyHandler = <N extends ServerEventName>(event: N, data: ServerEvents[N]) => void;
/** What a feed needs from its client (kept small so the ordering logic is testable alone). */
export interface FeedHost {
    /** Which connection is current; answers that belong to an older one are ignored. */
    readonly connection: number;
    readonly connected: boolean;
    join(payload: {
        sessionId: string;
        lastSeq?: number;
    }): Promise<Ack<JoinSessionAck>>;
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
export declare class FeedCore {
    private readonly host;
    readonly sessionId: string;
    private last;
    private held;
    private joinedOn;
    private left;
    private people;
    private dropped;
    private failure;
    private wasRemoved;
    private everJoined;
    /** How many `SessionFeed` handles share this feed; the last one to leave leaves it. */
    handles: number;
    private readonly events;
    constructor(host: FeedHost, sessionId: string, fromSeq: number | null);
    /** The seq of the last durable event handed to the app (null before the first join answer
     * when no `fromSeq` was given). Persist it to resume later with `join(id, { fromSeq })`. */
    get lastSeq(): number | null;
    /** Who is present now, by userId, you included. */
    get presence(): readonly PresenceEntry[];
    /** Whether this connection's join answer is applied (the feed is complete up to now). */
    get caughtUp(): boolean;
    /** How many durable events arrived again and were dropped (already applied). */
    get duplicatesDropped(): number;
    /** Why the server refused the session, if it did (the feed is then closed). */
    get error(): FeedError | null;
    /** Whether the refusal came after the session had been followed: the user was removed. */
    get removed(): boolean;
    /** Listen to one event: a server event (durable or ephemeral) or a feed signal. */
    on<N extends ServerEventName | keyof FeedSignals>(event: N, handler: (data: (ServerEvents & FeedSignals)[N]) => void): Unsubscribe;
    /** Every server event of this session (durable ones once and in seq order). */
    onAny(handler: (event: ServerEventName, data: ServerEvents[ServerEventName]) => void): Unsubscribe;
    /** Leave the session's room and stop delivering. */
    leave(): void;
    /** Joined, or joining on every connection: not left, not refused. */
    get active(): boolean;
    /** The server refused this session (a join answer, or a membership check over REST):
     * close the feed and say so. After a session was followed, a refusal means a removal. */
    refuse(code: string, message: string): void;
    /** A durable event arrived live. */
    live(event: DurableEventName, data: DurableEvents[DurableEventName]): void;
    /** An ephemeral signal arrived (or `auth.expired`): pass it through. */
    signal<N extends keyof EphemeralEvents>(event: N, data: EphemeralEvents[N]): void;
    /** The connection is up: join with the last applied seq, holding live events meanwhile. */
    joinNow(): Promise<void>;
    private current;
    /** Read the log after `lastSeq` up to its head; false when the connection moved on or the
     * read failed (then the client reconnects and the next join starts over). */
    private page;
    private release;
    private take;
    private deliver;
}
export type { StoredEvent };
