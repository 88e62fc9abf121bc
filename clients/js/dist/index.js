/** The studygroups client library: the real-time client and its types. REST helpers are in
 * `@studygroups/client/rest`, the msgpack wire format in `@studygroups/client/msgpack`. */
export { createClient, UserSwitchError, } from "./client.js";
export { FeedError } from "./feed.js";
export { SessionFeed } from "./handle.js";
export { tokenExpiry, tokenSubject } from "./token.js";
export { TYPING_INTERVAL_MS } from "./typing.js";
