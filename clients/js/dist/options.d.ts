/**
 * The client's public shapes: its options, connection states, signals and interface
 * (implemented by `createClient` in client.ts).
 */
import type { ManagerOptions, Socket, SocketOptions } from "socket.io-client";
import type { Unsubscribe } from "./emitter.js";
import type { Ack, AuthExpired, MarkReadAck, RefreshTokenAck, TypingAck } from "./events.js";
import type { SessionFeed } from "./handle.js";
import type { TokenSource } from "./rest.js";
/** A Socket.IO wire format other than JSON: its endpoint path and its parser module. */
export interface WireFormat {
    name: string;
    path: string;
    parser: unknown;
}
export interface ClientOptions {
    /** The server's origin, e.g. `http://127.0.0.1:8000`. */
    baseUrl: string;
    /** The current JWT; read on every connection attempt and every REST call. */
    getToken: TokenSource;
    /** Returns a fresh JWT for the same user. Called ahead of the current token's `exp` (the
     * client then swaps it in band with `refreshToken`, without reconnecting) and when the server
     * refused or ended the socket for its token. Without it, `getToken` is asked instead. A token
     * of another `sub` (from either) stops the client with a `UserSwitchError`. */
    onTokenRefresh?: TokenSource;
    /** `"json"` (default, path `/socket.io/`) or `msgpack` from `@studygroups/client/msgpack`. */
    parser?: "json" | WireFormat;
    /** Refresh this long before `exp` (default 60 s; at most half the token's remaining life). */
    refreshAheadMs?: number;
    /** How long to wait for an acknowledgement before reconnecting (default 10 s). */
    ackTimeoutMs?: number;
    /** More `io()` options, e.g. `{ transports: ["websocket"] }`. `auth`, `path` and `parser`
     * are the client's own. */
    socketOptions?: Partial<ManagerOptions & SocketOptions>;
    /** Events per `GET …/feed` page when a join answers `resync` (1..1000, default 1000). */
    feedPageSize?: number;
    /** Every this many ms, each caught-up session is checked over REST (`GET …/presence`): a
     * 403/404 means you were removed from its group, which the server does not push (default
     * 15 000; 0 turns the check off, and a removal is then noticed at the next reconnect). */
    membershipCheckMs?: number;
    /** Defaults to the global `fetch` (used to page the feed on resync and the membership check). */
    fetch?: typeof fetch;
}
export type ConnectionState = "connecting" | "connected" | "reconnecting" | "caught-up" | "offline";
export interface StateChange {
    state: ConnectionState;
    /** Why the state is not `caught-up` (refused token, transport error, another user's token…);
     * always null with `caught-up`. */
    error: Error | null;
}
/** A token for another user than the one this client connected as: the client stops. */
export declare class UserSwitchError extends Error {
    readonly user: string;
    readonly tokenUser: string;
    constructor(user: string, tokenUser: string);
}
export interface JoinOptions {
    /** The `seq` of the state you read over REST (`GET /group-sessions/:id`): every event after
     * it is delivered. `0` replays the whole log. Omitted: live events from the join on. */
    fromSeq?: number;
}
/** What `client.on` reports. */
export interface ClientSignals {
    state: [StateChange];
    "auth.expired": [AuthExpired];
    /** A token was swapped in band; `expiresAt` is the server's word for its exp. */
    token: [{
        expiresAt: string | null;
    }];
    /** Every problem, also those that leave the state as it is (a refused in-band refresh, a
     * token callback that threw while the socket still holds a valid token). */
    error: [Error];
}
export interface Client {
    readonly state: ConnectionState;
    readonly error: Error | null;
    /** The underlying socket, for what this library does not wrap. Do not emit `joinSession`. */
    readonly socket: Socket;
    /** Follow a session. Every call returns its own handle; the session is left when the last
     * handle leaves. A later handle shares the first one's feed (from then on). */
    join(sessionId: string, options?: JoinOptions): SessionFeed;
    on<N extends keyof ClientSignals>(event: N, handler: (...args: ClientSignals[N]) => void): Unsubscribe;
    typing(sessionId: string, isTyping: boolean): Promise<Ack<TypingAck>>;
    markRead(sessionId: string, messageId: string): Promise<Ack<MarkReadAck>>;
    /** Swap the socket's token now (normally done for you ahead of `exp`). */
    refreshToken(): Promise<Ack<RefreshTokenAck>>;
    close(): void;
}
