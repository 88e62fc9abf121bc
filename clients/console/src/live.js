// The realtime side, shaped like clients/js's createClient (its README's API): one socket,
// lastSeq per joined session, rejoin after every reconnect, `missed` applied in order,
// duplicates dropped by seq, the feed paged on `resync`. The console switches to clients/js
// once that library lands; until then this module keeps the same surface.
import { io } from "socket.io-client";

const NAMESPACE = "/study-groups";

export function createClient({ baseUrl = "", getToken, readFeed }) {
  const socket = io(`${baseUrl}${NAMESPACE}`, {
    auth: (cb) => cb({ token: getToken() }),
    reconnectionDelay: 500,
    reconnectionDelayMax: 4000,
  });
  const listeners = new Map();
  const feeds = new Map();
  let state = "connecting";
  let lastError = null;

  function emitLocal(name, value) {
    for (const fn of listeners.get(name) || []) fn(value);
  }
  function setState(next, error = null) {
    state = next;
    lastError = error;
    emitLocal("state", { state, error });
  }

  async function rejoinAll() {
    const joins = [...feeds.values()].map((feed) => feed._join());
    await Promise.allSettled(joins);
    if (socket.connected) setState("caught-up");
  }

  socket.on("connect", () => {
    setState("connected");
    rejoinAll();
  });
  socket.on("disconnect", (reason) => {
    setState(reason === "io client disconnect" ? "offline" : "reconnecting");
  });
  socket.on("connect_error", (error) => {
    setState(socket.active ? "reconnecting" : "offline", error.message);
  });
  socket.onAny((event, data) => {
    if (!data || typeof data.sessionId !== "string") {
      emitLocal("event", { event, data });
      return;
    }
    const feed = feeds.get(data.sessionId);
    if (feed) feed._live(event, data);
  });
  socket.on("auth.expired", () => emitLocal("auth.expired", {}));

  function join(sessionId, { fromSeq = 0 } = {}) {
    const handlers = new Map();
    const any = [];
    let buffered = null; // live events held while a join's answer is applied
    const feed = {
      sessionId,
      lastSeq: fromSeq,
      presence: [],
      on(name, fn) {
        if (!handlers.has(name)) handlers.set(name, []);
        handlers.get(name).push(fn);
        return feed;
      },
      onAny(fn) {
        any.push(fn);
        return feed;
      },
      leave() {
        feeds.delete(sessionId);
        if (socket.connected) socket.emit("leaveSession", { sessionId });
      },
      _deliver(event, data) {
        if (typeof data.seq === "number") {
          if (data.seq <= feed.lastSeq) return; // a duplicate
          feed.lastSeq = data.seq;
        }
        for (const fn of handlers.get(event) || []) fn(data);
        for (const fn of any) fn(event, data);
      },
      _live(event, data) {
        if (buffered) buffered.push([event, data]);
        else feed._deliver(event, data);
      },
      async _join() {
        buffered = [];
        try {
          const ack = await socket.timeout(10000).emitWithAck("joinSession", { sessionId, lastSeq: feed.lastSeq });
          if (!ack || !ack.success) {
            feed._deliver("join.refused", { error: (ack && ack.error) || { code: "UNKNOWN" } });
            return;
          }
          feed.presence = ack.presence || [];
          feed._deliver("presence", { presence: feed.presence });
          if (ack.resync) await pageFeed();
          for (const stored of ack.missed || []) feed._deliver(stored.event, { ...stored.data, seq: stored.seq });
        } catch (error) {
          // no answer in time: the socket reconnects and the join is tried again
        } finally {
          const held = buffered || [];
          buffered = null;
          for (const [event, data] of held) feed._deliver(event, data);
        }
      },
    };
    async function pageFeed() {
      for (;;) {
        const page = await readFeed(sessionId, feed.lastSeq);
        for (const stored of page.events) feed._deliver(stored.event, { ...stored.data, seq: stored.seq });
        if (!page.has_more) return;
      }
    }
    feeds.set(sessionId, feed);
    if (socket.connected) feed._join().then(() => socket.connected && setState("caught-up"));
    return feed;
  }

  return {
    on(name, fn) {
      if (!listeners.has(name)) listeners.set(name, []);
      listeners.get(name).push(fn);
    },
    get state() {
      return { state, error: lastError };
    },
    join,
    typing: (sessionId, isTyping) => socket.emit("typing", { sessionId, isTyping }),
    markRead: (sessionId, messageId) => socket.emit("markRead", { sessionId, messageId }),
    close: () => socket.close(),
  };
}
