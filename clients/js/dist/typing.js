/**
 * `typing` with the server's throttle in mind: the server relays at most one `typing` per user
 * and session every 250 ms and answers the others RATE_LIMITED (docs/realtime.md, `typing`).
 * Dropping those would leave others seeing "typing…" after a quick `false`, so a change that
 * falls inside the window is sent when the window ends instead (the trailing edge): the latest
 * state wins, and every call it replaced resolves with the answer to that send.
 */
/** The server's window, counted from our previous send's answer (which it always follows). */
export const TYPING_INTERVAL_MS = 250;
export class TypingThrottle {
    constructor(send, later) {
        this.send = send;
        this.later = later;
        this.lanes = new Map();
    }
    typing(sessionId, isTyping) {
        let lane = this.lanes.get(sessionId);
        if (lane === undefined) {
            lane = { busy: false, waiting: false, nextAt: 0, pending: null };
            this.lanes.set(sessionId, lane);
        }
        const job = lane.pending ?? { isTyping, waiters: [], retried: false };
        job.isTyping = isTyping; // the latest state wins
        lane.pending = job;
        const answer = new Promise((resolve, reject) => job.waiters.push({ resolve, reject }));
        this.pump(sessionId, lane);
        return answer;
    }
    /** Reject what waits (the client closed). */
    clear(reason) {
        for (const lane of this.lanes.values()) {
            for (const waiter of lane.pending?.waiters ?? [])
                waiter.reject(reason);
        }
        this.lanes.clear();
    }
    pump(sessionId, lane) {
        if (lane.busy || lane.waiting || lane.pending === null)
            return;
        const wait = lane.nextAt - Date.now();
        if (wait > 0) {
            lane.waiting = true;
            this.later(wait, () => {
                lane.waiting = false;
                this.pump(sessionId, lane);
            });
            return;
        }
        const job = lane.pending;
        lane.pending = null;
        lane.busy = true;
        this.send(sessionId, job.isTyping).then((ack) => {
            lane.busy = false;
            lane.nextAt = Date.now() + TYPING_INTERVAL_MS;
            if (!ack.success && ack.error.code === "RATE_LIMITED" && !job.retried) {
                // Another tab of the same user took the window: send again after it (the newer
                // state, if one came meanwhile, answers for both).
                if (lane.pending === null)
                    lane.pending = { ...job, retried: true };
                else
                    lane.pending.waiters.unshift(...job.waiters);
            }
            else {
                for (const waiter of job.waiters)
                    waiter.resolve(ack);
            }
            this.pump(sessionId, lane);
        }, (error) => {
            lane.busy = false;
            for (const waiter of job.waiters)
                waiter.reject(error);
            this.pump(sessionId, lane);
        });
    }
}
