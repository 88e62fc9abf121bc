/**
 * The wire contract as types: every server → client event payload, every client event's
 * payload and acknowledgement (API.md §2, §5, §7; docs/realtime.md). Payload fields are the
 * seed's camelCase; every payload carries `timestamp` (ISO 8601 UTC with milliseconds).
 */
export {};
