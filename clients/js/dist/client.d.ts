/**
 * `createClient`: one Socket.IO connection (the official `socket.io-client`, no protocol code
 * here) to the `/study-groups` namespace, shared by every joined session. It reconnects after
 * drops and server restarts, rejoins each session with its last applied seq, refreshes the
 * token in band before `exp` (docs/realtime.md "Tokens on live sockets"), notices a removal
 * from the group, and reports one connection state. It stays one user: a token for another
 * `sub` stops it (create a new client for another user).
 */
import { type Client, type ClientOptions } from "./options.js";
export * from "./options.js";
export declare function createClient(options: ClientOptions): Client;
