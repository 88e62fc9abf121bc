/** The studygroups client library: the real-time client and its types. REST helpers are in
 * `@studygroups/client/rest`, the msgpack wire format in `@studygroups/client/msgpack`. */
export { createClient, type Client, type ClientOptions, type ClientSignals, type ConnectionState, type JoinOptions, type StateChange, type WireFormat, } from "./client.js";
export { FeedError, SessionFeed, type FeedSignals } from "./feed.js";
export type { Unsubscribe } from "./emitter.js";
export { tokenExpiry } from "./token.js";
export type * from "./events.js";
