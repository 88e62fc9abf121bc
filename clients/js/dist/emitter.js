/** A tiny typed event emitter: `on` returns its own unsubscribe; a throwing handler is reported
 * and never stops the others (one broken screen must not stop the session's event stream). */
export class Emitter {
    constructor() {
        this.handlers = new Map();
    }
    on(name, handler) {
        let set = this.handlers.get(name);
        if (set === undefined) {
            set = new Set();
            this.handlers.set(name, set);
        }
        set.add(handler);
        return () => {
            set.delete(handler);
        };
    }
    emit(name, ...args) {
        const set = this.handlers.get(name);
        if (set === undefined)
            return;
        for (const handler of [...set]) {
            try {
                handler(...args);
            }
            catch (error) {
                console.error(`studygroups client: a "${String(name)}" handler threw`, error);
            }
        }
    }
    clear() {
        this.handlers.clear();
    }
}
