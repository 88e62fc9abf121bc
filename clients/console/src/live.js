// The realtime side is clients/js (lastSeq, rejoin, `missed` in order, duplicates dropped,
// the feed paged on resync, in-band token refresh). This adapter only turns its signals into
// the few the session page listens to.
import { createClient as createLibraryClient } from "../../js/dist/index.js";

export function createClient({ getToken }) {
  const client = createLibraryClient({ baseUrl: location.origin, getToken });
  const plain = (change) => ({ state: change.state, error: change.error ? change.error.message : null });
  return {
    on(name, fn) {
      if (name === "state") client.on("state", (change) => fn(plain(change)));
      else client.on(name, fn);
    },
    get state() {
      return plain({ state: client.state, error: client.error });
    },
    join(sessionId, options) {
      const feed = client.join(sessionId, options);
      return {
        onAny(fn) {
          feed.on("presence", (presence) => fn("presence", { presence }));
          feed.on("error", (error) => fn("join.refused", { error: { code: error.code, message: error.message } }));
          feed.onAny((event, data) => fn(event, data));
        },
        leave: () => feed.leave(),
      };
    },
    typing: (sessionId, isTyping) => client.typing(sessionId, isTyping).catch(() => {}),
    markRead: (sessionId, messageId) => client.markRead(sessionId, messageId).catch(() => {}),
    close: () => client.close(),
  };
}
