/** The studygroups client library: the real-time client and its types. REST helpers are in
 * `@studygroups/client/rest`, the msgpack wire format in `@studygroups/client/msgpack`. */

export {
  createClient,
  type Client,
  type ClientOptions,
  type ClientSignals,
  type ConnectionState,
  type JoinOptions,
  type StateChange,
  UserSwitchError,
  type WireFormat,
} from "./client.js";
export { FeedError, type FeedSignals } from "./feed.js";
export { SessionFeed } from "./handle.js";
export type { Unsubscribe } from "./emitter.js";
export { tokenExpiry, tokenSubject } from "./token.js";
export { TYPING_INTERVAL_MS } from "./typing.js";
export type * from "./events.js";
