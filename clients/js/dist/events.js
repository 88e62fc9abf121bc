/**
 * The wire contract as types: every server → client event payload, every client event's
 * payload and acknowledgement (docs/realtime.md "Client → server", "Server → client", "Tokens on
 * live sockets"; docs/api.md "Phase deadlines"). Payload fields are the
 * seed's camelCase; every payload carries `timestamp` (ISO 8601 UTC with milliseconds).
 */
export {};
