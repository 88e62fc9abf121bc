/**
 * One joined session, shared by every `client.join` of it (each join gets a `SessionFeed`
 * handle, handle.ts): joins on every connection with the last applied `seq`, applies the join
 * answer's `missed` before any live event that arrived meanwhile, pages `GET …/feed` on
 * `resync: true`, drops what it already applied, and hands each durable event to the app once,
 * in seq order. Ephemeral signals pass straight through. A refusal closes it for good.
 *
 * The ordering rule (docs/realtime.md, "Following a session without losing events"): while a
 * join is being answered, live events wait in `held`; the answer (or the feed pages) is applied
 * first, then the held events, each only if its seq is past `lastSeq`.
 */
import { Emitter } from "./emitter.js";
export class FeedError extends Error {
    constructor(code, message) {
        super(`${code}: ${message}`);
        this.name = "FeedError";
        this.code = code;
    }
}
export class FeedCore {
    constructor(host, sessionId, fromSeq) {
        this.host = host;
        this.held = null;
        this.joinedOn = -1; // the connection whose join answer was applied
        this.left = false;
        this.people = [];
        this.dropped = 0;
        this.failure = null;
        this.wasRemoved = false;
        this.everJoined = false; // a join answer was applied once: a later refusal is a removal
        /** How many `SessionFeed` handles share this feed; the last one to leave leaves it. */
        this.handles = 0;
        this.events = new Emitter();
        this.sessionId = sessionId;
        this.last = fromSeq;
    }
    /** The seq of the last durable event handed to the app (null before the first join answer
     * when no `fromSeq` was given). Persist it to resume later with `join(id, { fromSeq })`. */
    get lastSeq() {
        return this.last;
    }
    /** Who is present now, by userId, you included. */
    get presence() {
        return this.people;
    }
    /** Whether this connection's join answer is applied (the feed is complete up to now). */
    get caughtUp() {
        return this.failure === null && this.joinedOn === this.host.connection && this.held === null;
    }
    /** How many durable events arrived again and were dropped (already applied). */
    get duplicatesDropped() {
        return this.dropped;
    }
    /** Why the server refused the session, if it did (the feed is then closed). */
    get error() {
        return this.failure;
    }
    /** Whether the refusal came after the session had been followed: the user was removed. */
    get removed() {
        return this.wasRemoved;
    }
    /** Listen to one event: a server event (durable or ephemeral) or a feed signal. */
    on(event, handler) {
        return this.events.on(event, handler);
    }
    /** Every server event of this session (durable ones once and in seq order). */
    onAny(handler) {
        return this.events.on("*", handler);
    }
    /** Leave the session's room and stop delivering. */
    leave() {
        if (this.left)
            return;
        const open = this.failure === null; // a refused feed already told its client
        this.left = true;
        this.held = null;
        if (open)
            this.host.leave(this.sessionId);
        this.events.clear();
    }
    /** Joined, or joining on every connection: not left, not refused. */
    get active() {
        return !this.left && this.failure === null;
    }
    /** The server refused this session (a join answer, or a membership check over REST):
     * close the feed and say so. After a session was followed, a refusal means a removal. */
    refuse(code, message) {
        if (!this.active)
            return;
        this.held = null;
        this.failure = new FeedError(code, message);
        this.wasRemoved = this.everJoined && (code === "FORBIDDEN" || code === "NOT_FOUND");
        const hadPeople = this.people.length > 0;
        this.people = []; // nobody is present for us any more
        this.host.leave(this.sessionId); // first: a handler below may join the session again
        if (hadPeople)
            this.events.emit("presence", this.people);
        if (this.wasRemoved)
            this.events.emit("removed", this.failure);
        this.events.emit("error", this.failure);
    }
    // -- called by the client ------------------------------------------------------------------
    /** A durable event arrived live. */
    live(event, data) {
        if (!this.active)
            return;
        const item = { seq: data.seq, event, data };
        if (this.held !== null)
            this.held.push(item);
        else
            this.take(item);
    }
    /** An ephemeral signal arrived (or `auth.expired`): pass it through. */
    signal(event, data) {
        if (!this.active)
            return;
        if (event === "userJoined") {
            const { userId, userName } = data;
            if (!this.people.some((p) => p.userId === userId)) {
                this.people = [...this.people, { userId, userName }].sort((a, b) => a.userId < b.userId ? -1 : a.userId > b.userId ? 1 : 0);
                this.events.emit("presence", this.people);
            }
        }
        else if (event === "userLeft") {
            const { userId } = data;
            if (this.people.some((p) => p.userId === userId)) {
                this.people = this.people.filter((p) => p.userId !== userId);
                this.events.emit("presence", this.people);
            }
        }
        this.deliver(event, data);
    }
    /** The connection is up: join with the last applied seq, holding live events meanwhile. */
    async joinNow() {
        if (!this.active)
            return;
        const mine = this.host.connection;
        this.held = [];
        this.host.changed();
        const payload = { sessionId: this.sessionId };
        if (this.last !== null)
            payload.lastSeq = this.last;
        let ack;
        try {
            ack = await this.host.join(payload);
        }
        catch (error) {
            if (this.current(mine))
                this.host.reconnect(asError(error)); // no answer in time
            return;
        }
        if (!this.current(mine))
            return; // that connection is gone; the next join starts over
        if (!ack.success) {
            const { code, message } = ack.error;
            if (code === "RATE_LIMITED" || code === "INTERNAL" || code === "UNAUTHORIZED") {
                this.host.later(1000, () => {
                    if (this.current(mine))
                        void this.joinNow();
                });
                return;
            }
            this.refuse(code, message); // FORBIDDEN, NOT_FOUND, BAD_REQUEST: retrying cannot help
            return;
        }
        this.people = [...ack.presence];
        this.events.emit("presence", this.people);
        if (ack.resync === true) {
            if (this.last !== null && ack.seq < this.last) {
                this.last = ack.seq; // the log is behind what we applied: it was reset
                this.events.emit("reset", { seq: ack.seq });
            }
            else if (!(await this.page(mine))) {
                return;
            }
        }
        else if (this.last === null) {
            this.last = ack.seq; // no fromSeq: start live from the join
        }
        else {
            for (const stored of [...(ack.missed ?? [])].sort(bySeq))
                this.take(stored);
        }
        this.release();
        this.joinedOn = mine;
        this.everJoined = true;
        this.events.emit("caught-up", { lastSeq: this.last ?? 0 });
        this.host.changed();
    }
    // -- ordering ------------------------------------------------------------------------------
    current(connection) {
        return this.active && this.host.connection === connection && this.host.connected;
    }
    /** Read the log after `lastSeq` up to its head; false when the connection moved on or the
     * read failed (then the client reconnects and the next join starts over). */
    async page(mine) {
        for (;;) {
            let page;
            try {
                page = await this.host.readFeed(this.sessionId, this.last ?? 0);
            }
            catch (error) {
                if (this.current(mine))
                    this.host.reconnect(asError(error));
                return false;
            }
            if (!this.current(mine))
                return false;
            for (const stored of page.events)
                this.take(stored);
            if (!page.has_more || page.events.length === 0)
                return true;
        }
    }
    release() {
        const waiting = this.held ?? [];
        this.held = null;
        for (const item of waiting.sort(bySeq))
            this.take(item);
    }
    take(item) {
        if (this.last !== null && item.seq <= this.last) {
            this.dropped += 1; // already applied
            return;
        }
        this.last = item.seq;
        this.deliver(item.event, item.data);
    }
    deliver(event, data) {
        this.events.emit(event, data);
        this.events.emit("*", event, data);
    }
}
function bySeq(a, b) {
    return a.seq - b.seq;
}
function asError(error) {
    return error instanceof Error ? error : new Error(String(error));
}
