/** The studygroups client library: the real-time client and its types. REST helpers are in
 * `@studygroups/client/rest`, the msgpack wire format in `@studygroups/client/msgpack`. */
export { createClient, } from "./client.js";
export { FeedError, SessionFeed } from "./feed.js";
export { tokenExpiry } from "./token.js";
