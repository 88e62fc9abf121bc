/**
 * `createClient`: one Socket.IO connection (the official `socket.io-client`, no protocol code
 * here) to the `/study-groups` namespace, shared by every joined session. It reconnects after
 * drops and server restarts, rejoins each session with its last applied seq, refreshes the
 * token in band before `exp` (docs/realtime.md "Tokens on live sockets"), notices a removal
 * from the group, and reports one connection state. It stays one user: a token for another
 * `sub` stops it (create a new client for another user).
 */

import { io, type ManagerOptions, type Socket, type SocketOptions } from "socket.io-client";

import { Emitter } from "./emitter.js";
import type {
  Ack,
  AuthExpired,
  DurableEventName,
  DurableEvents,
  EphemeralEventName,
  EphemeralEvents,
  JoinSessionAck,
  MarkReadAck,
  RefreshTokenAck,
  TypingAck,
} from "./events.js";
import { type FeedHost, FeedCore } from "./feed.js";
import { SessionFeed } from "./handle.js";
import { ApiError, createRest } from "./rest.js";
import {
  type Client,
  type ClientOptions,
  type ClientSignals,
  type ConnectionState,
  UserSwitchError,
} from "./options.js";
import { refreshDelay, tokenExpiry, tokenSubject } from "./token.js";
import { TypingThrottle } from "./typing.js";

export * from "./options.js";


const EPHEMERAL = new Set<string>(["userJoined", "userLeft", "chat.typing", "chat.read"]);

export function createClient(options: ClientOptions): Client {
  const { baseUrl, getToken, onTokenRefresh } = options;
  const ackTimeout = options.ackTimeoutMs ?? 10_000;
  const ahead = options.refreshAheadMs ?? 60_000;
  const pageSize = Math.min(1000, Math.max(1, options.feedPageSize ?? 1000));
  const origin = baseUrl.replace(/\/+$/, "");
  const format = options.parser ?? "json";
  if (typeof format === "string" && format !== "json") {
    throw new TypeError(
      `parser must be "json" or the msgpack format: import { msgpack } from "@studygroups/client/msgpack"`,
    );
  }

  const membershipEvery = options.membershipCheckMs ?? 15_000;
  const signals = new Emitter<ClientSignals>();
  const feeds = new Map<string, FeedCore>();
  const timers = new Set<ReturnType<typeof setTimeout>>();
  let state: ConnectionState = "connecting";
  let lastError: Error | null = null;
  let closed = false;
  let connection = 0;
  let everConnected = false;
  let retries = 0; // consecutive refused connections, for the back-off
  let refreshed: { token: string; exp: number } | null = null; // the latest in-band token
  let socketToken: string | null = null; // the token the live socket holds
  let refreshTimer: ReturnType<typeof setTimeout> | null = null;
  let user: string | null = null; // the `sub` of the first token: the client's user for good

  const later = (ms: number, run: () => void): void => {
    const timer = setTimeout(() => {
      timers.delete(timer);
      if (!closed) run();
    }, ms);
    timers.add(timer);
  };

  /** Refuse a token of another user than the first one: stop the client (see UserSwitchError). */
  function sameUser(token: string): string {
    const sub = tokenSubject(token);
    if (sub === null) return token; // not a JWT: the server refuses it
    user ??= sub;
    if (sub === user) return token;
    const error = new UserSwitchError(user, sub);
    halt(error);
    throw error;
  }

  /** The newest token we know of: the app's, unless a refreshed one outlives it. */
  async function currentToken(): Promise<string> {
    const given = sameUser(await getToken());
    if (refreshed !== null && (tokenExpiry(given) ?? Infinity) < refreshed.exp) {
      return refreshed.token;
    }
    return given;
  }

  async function freshToken(): Promise<string> {
    const token = sameUser(await (onTokenRefresh ?? getToken)());
    const exp = tokenExpiry(token) ?? Infinity;
    if (refreshed === null || exp >= refreshed.exp) refreshed = { token, exp };
    return token;
  }

  async function connectToken(): Promise<string> {
    const token = await currentToken();
    const exp = tokenExpiry(token);
    if (exp !== null && exp <= Date.now() + 1_000) return freshToken(); // would be refused
    return token;
  }

  const rest = createRest({
    baseUrl: origin,
    getToken: currentToken,
    ...(options.fetch ? { fetch: options.fetch } : {}),
  });

  const wire: Partial<ManagerOptions & SocketOptions> =
    typeof format === "string" ? {} : { path: format.path, parser: format.parser as never };
  const socket: Socket = io(`${origin}/study-groups`, {
    ...options.socketOptions,
    ...wire,
    auth: (send: (data: object) => void) => {
      connectToken().then(
        (token) => {
          socketToken = token;
          send({ token });
        },
        (error: unknown) => {
          problem(asError(error));
          if (!closed) send({ token: "" }); // refused as "No token provided"; retried below
        },
      );
    },
  });

  function setState(next: ConnectionState, error: Error | null = lastError): void {
    const reason = next === "caught-up" ? null : error;
    if (error !== null && error !== lastError) signals.emit("error", error);
    if (next === state && reason === lastError) return;
    state = next;
    lastError = reason;
    signals.emit("state", { state, error: reason });
  }

  /** A problem that does not change the state by itself. */
  function problem(error: Error): void {
    setState(state, error);
  }

  /** Stop for good, keeping the listeners (the app reads why from the state). */
  function halt(error: Error | null): void {
    if (closed) return;
    closed = true;
    scheduleRefresh(null);
    for (const timer of timers) clearTimeout(timer);
    timers.clear();
    typingLanes.clear(error ?? new Error("the client is closed"));
    socket.disconnect();
    setState("offline", error);
  }

  function settle(): void {
    if (closed || !socket.connected) return;
    const all = [...feeds.values()].every((feed) => feed.caughtUp);
    if (all) setState("caught-up");
    else setState("connected");
  }

  function scheduleRefresh(exp: number | null): void {
    if (refreshTimer !== null) clearTimeout(refreshTimer);
    refreshTimer = null;
    if (exp === null || closed) return;
    const mine = connection;
    refreshTimer = setTimeout(() => {
      refreshTimer = null;
      if (!closed && mine === connection && socket.connected) {
        refreshInBand(true).catch(() => undefined); // reported in the state's error
      }
    }, refreshDelay(exp, Date.now(), ahead));
  }

  /** Send a fresh token on the live socket. A scheduled refresh that gets the socket's own
   * token back sends nothing: the server ends the socket at exp and the reconnect asks again. */
  async function refreshInBand(scheduled: boolean): Promise<Ack<RefreshTokenAck> | null> {
    const mine = connection;
    let token: string;
    try {
      token = await freshToken();
    } catch (error) {
      problem(asError(error)); // the socket ends at exp; the reconnect asks again
      throw error;
    }
    if (scheduled && token === socketToken) return null;
    let ack: Ack<RefreshTokenAck>;
    try {
      ack = (await socket.timeout(ackTimeout).emitWithAck("refreshToken", { token })) as Ack<RefreshTokenAck>;
    } catch (error) {
      problem(asError(error));
      throw error;
    }
    if (mine !== connection) return ack;
    if (ack.success) {
      socketToken = token;
      signals.emit("token", { expiresAt: ack.expiresAt });
      scheduleRefresh(ack.expiresAt === null ? null : Date.parse(ack.expiresAt));
    } else {
      // The socket still ends at the old exp; the reconnect after it asks for a token again.
      problem(new Error(`refreshToken refused: ${ack.error.message}`));
    }
    return ack;
  }

  /** Reconnect now (or after a back-off when the server refused us). */
  function reconnect(reason: Error, delayMs = 0): void {
    if (closed) return;
    setState(everConnected ? "reconnecting" : "connecting", reason);
    later(delayMs, () => {
      if (socket.connected) socket.disconnect();
      socket.connect();
    });
  }

  const host: FeedHost = {
    get connection() {
      return connection;
    },
    get connected() {
      return socket.connected;
    },
    join: async (payload) =>
      (await socket.timeout(ackTimeout).emitWithAck("joinSession", payload)) as Ack<JoinSessionAck>,
    leave: (sessionId) => {
      feeds.delete(sessionId);
      if (socket.connected) socket.emit("leaveSession", { sessionId });
      settle();
    },
    readFeed: (sessionId, afterSeq) => rest.feed(sessionId, afterSeq, pageSize),
    reconnect: (reason) => reconnect(reason),
    changed: () => settle(),
    later,
  };

  socket.on("connect", () => {
    connection += 1;
    everConnected = true;
    retries = 0;
    setState("connected");
    scheduleRefresh(socketToken === null ? null : tokenExpiry(socketToken));
    for (const feed of feeds.values()) void feed.joinNow();
    settle();
  });

  /** The server does not tell a removed member anything (docs/realtime.md "Removal"): ask. */
  function checkMembership(): void {
    later(membershipEvery, () => {
      checkMembership();
      if (!socket.connected) return;
      for (const feed of feeds.values()) {
        if (!feed.caughtUp) continue;
        rest.presence(feed.sessionId).catch((error: unknown) => {
          if (error instanceof ApiError && (error.status === 403 || error.status === 404)) {
            feed.refuse(error.status === 403 ? "FORBIDDEN" : "NOT_FOUND", error.body.message);
          } // anything else (offline, 429, 5xx): the next check asks again
        });
      }
    });
  }
  if (membershipEvery > 0) checkMembership();

  socket.on("disconnect", (reason) => {
    connection += 1; // an answer still on its way belongs to the old connection
    scheduleRefresh(null);
    if (closed) return;
    setState("reconnecting", new Error(`disconnected: ${reason}`));
    if (reason === "io server disconnect") {
      // The server ended the socket (token expired, slow reader…): socket.io-client does not
      // retry this by itself. The next attempt takes a fresh token if the old one expired.
      retries += 1;
      reconnect(new Error(`disconnected: ${reason}`), backoff(retries));
    }
  });

  socket.on("connect_error", (error) => {
    if (closed) return;
    setState(everConnected ? "reconnecting" : "connecting", error);
    if (socket.active) return; // a transport error: the manager retries by itself
    // Refused by the server ("No token provided", "Invalid or expired token", "Too many
    // connections for this user"): not retried by socket.io-client. Get a new token if that
    // was the reason, then try again after a back-off.
    retries += 1;
    const delay = backoff(retries);
    if (error.message.includes("token")) {
      freshToken().then(
        () => reconnect(error, delay),
        (failure: unknown) => reconnect(asError(failure), delay),
      );
    } else {
      reconnect(error, delay);
    }
  });

  socket.io.on("reconnect_failed", () => setState("offline"));

  socket.onAny((event: string, data: unknown) => {
    if (typeof data !== "object" || data === null) return;
    const payload = data as { sessionId?: unknown; seq?: unknown };
    if (event === "auth.expired") {
      signals.emit("auth.expired", data as AuthExpired);
      for (const feed of feeds.values()) feed.signal("auth.expired", data as AuthExpired);
      return;
    }
    if (typeof payload.sessionId !== "string") return;
    const feed = feeds.get(payload.sessionId);
    if (feed === undefined) return;
    if (typeof payload.seq === "number" && !EPHEMERAL.has(event)) {
      feed.live(event as DurableEventName, data as DurableEvents[DurableEventName]);
    } else {
      feed.signal(event as EphemeralEventName, data as EphemeralEvents[EphemeralEventName]);
    }
  });

  async function ask<T>(event: string, payload: object): Promise<Ack<T>> {
    if (!socket.connected) throw new Error(`${event}: not connected`);
    return (await socket.timeout(ackTimeout).emitWithAck(event, payload)) as Ack<T>;
  }
  const typingLanes = new TypingThrottle(
    (sessionId, isTyping) => ask<TypingAck>("typing", { sessionId, isTyping }),
    later,
  );

  return {
    get state() {
      return state;
    },
    get error() {
      return lastError;
    },
    socket,
    join(sessionId, joinOptions = {}) {
      if (closed) throw new Error("the client is closed");
      let feed = feeds.get(sessionId);
      if (feed === undefined) {
        feed = new FeedCore(host, sessionId, joinOptions.fromSeq ?? null);
        feeds.set(sessionId, feed);
        if (socket.connected) void feed.joinNow();
        settle();
      }
      const core = feed;
      core.handles += 1;
      return new SessionFeed(core, () => {
        core.handles -= 1;
        if (core.handles === 0) core.leave();
      });
    },
    on: (event, handler) => signals.on(event, handler),
    typing: (sessionId, isTyping) => typingLanes.typing(sessionId, isTyping),
    markRead: (sessionId, messageId) => ask<MarkReadAck>("markRead", { sessionId, messageId }),
    refreshToken: async () => (await refreshInBand(false)) as Ack<RefreshTokenAck>,
    close() {
      halt(null); // closed on purpose: no error to show
      feeds.clear();
      signals.clear();
    },
  };
}

function backoff(attempt: number): number {
  return Math.min(30_000, 500 * 2 ** Math.min(attempt - 1, 6));
}

function asError(error: unknown): Error {
  return error instanceof Error ? error : new Error(String(error));
}
