/** A tiny typed event emitter: `on` returns its own unsubscribe; a throwing handler is reported
 * and never stops the others (one broken screen must not stop the session's event stream). */

export type Unsubscribe = () => void;

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Handler = (...args: any[]) => void;

export class Emitter<Events extends { [K in keyof Events]: unknown[] }> {
  private handlers = new Map<keyof Events, Set<Handler>>();

  on<N extends keyof Events>(name: N, handler: (...args: Events[N]) => void): Unsubscribe {
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

  emit<N extends keyof Events>(name: N, ...args: Events[N]): void {
    const set = this.handlers.get(name);
    if (set === undefined) return;
    for (const handler of [...set]) {
      try {
        handler(...args);
      } catch (error) {
        console.error(`studygroups client: a "${String(name)}" handler threw`, error);
      }
    }
  }

  clear(): void {
    this.handlers.clear();
  }
}
