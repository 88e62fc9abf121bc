/**
 * `createClient`: one Socket.IO connection (the official `socket.io-client`, no protocol code
 * here) to the `/study-groups` namespace, shared by every joined session. It reconnects after
 * drops and server restarts, rejoins each session with its last applied seq, refreshes the
 * token in band before `exp` (API.md §7) and reports one connection state.
 */
import { type ManagerOptions, type Socket, type SocketOptions } from "socket.io-client";
import { type Unsubscribe } from "./emitter.js";
import type { Ack, AuthExpired, MarkReadAck, RefreshTokenAck, TypingAck } from "./events.js";
import { SessionFeed } from "./feed.js";
import { type TokenSource } from "./rest.js";
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
    /** Returns a fresh JWT. Called ahead of the current token's `exp` (the client then swaps it
     * in band with `refreshToken`, without reconnecting) and when the server refused or ended
     * the socket for its token. Without it, `getToken` is asked instead. */
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
    /** Defaults to the global `fetch` (used to page the feed on resync). */
    fetch?: typeof fetch;
}
export type ConnectionState = "connecting" | "connected" | "reconnecting" | "caught-up" | "offline";
export interface StateChange {
    state: ConnectionState;
    /** The latest error (refused token, transport error, refused refresh…), null once caught up. */
    error: Error | null;
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
}
export interface Client {
    readonly state: ConnectionState;
    readonly error: Error | null;
    /** The underlying socket, for what this library does not wrap. Do not emit `joinSession`. */
    readonly socket: Socket;
    join(sessionId: string, options?: JoinOptions): SessionFeed;
    on<N extends keyof ClientSignals>(event: N, handler: (...args: ClientSignals[N]) => void): Unsubscribe;
    typing(sessionId: string, isTyping: boolean): Promise<Ack<TypingAck>>;
    markRead(sessionId: string, messageId: string): Promise<Ack<MarkReadAck>>;
    /** Swap the socket's token now (normally done for you ahead of `exp`). */
    refreshToken(): Promise<Ack<RefreshTokenAck>>;
    close(): void;
}
export declare function createClient(options: ClientOptions): Client;
