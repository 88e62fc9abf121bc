/**
 * The msgpack wire format (docs/realtime.md, msgpack): pass `parser: msgpack` to `createClient` to speak the
 * `/socket.io-msgpack/` endpoint with the `socket.io-msgpack-parser` package. A module of its
 * own so that bundles using JSON (the default) do not carry the parser (about 2.4 KB gzipped).
 */
import msgpackParser from "socket.io-msgpack-parser";
export const msgpack = {
    name: "msgpack",
    path: "/socket.io-msgpack/",
    parser: msgpackParser,
};
