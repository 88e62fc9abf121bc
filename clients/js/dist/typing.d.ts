/**
 * `typing` with the server's throttle in mind: the server relays at most one `typing` per user
 * and session every 250 ms and answers the others RATE_LIMITED (docs/realtime.md, `typing`).
 * Dropping those would leave others seeing "typing…" after a quick `false`, so a change that
 * falls inside the window is sent when the window ends instead (the trailing edge): the latest
 * state wins, and every call it replaced resolves with the answer to that send.
 */
import type { Ack, TypingAck } from "./events.js";
/** The server's window, counted from our previous send's answer (which it always follows). */
export declare const TYPING_INTERVAL_MS = 250;
type Send = (sessionId: string, isTyping: boolean) => Promise<Ack<TypingAck>>;
type Later = (ms: number, run: () => void) => void;
export declare class TypingThrottle {
    private readonly send;
    private readonly later;
    private readonly lanes;
    constructor(send: Send, later: Later);
    typing(sessionId: string, isTyping: boolean): Promise<Ack<TypingAck>>;
    /** Reject what waits (the client closed). */
    clear(reason: Error): void;
    private pump;
}
export {};
