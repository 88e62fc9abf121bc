/** A tiny typed event emitter: `on` returns its own unsubscribe; a throwing handler is reported
 * and never stops the others (one broken screen must not stop the session's event stream). */
export type Unsubscribe = () => void;
export declare class Emitter<Events extends {
    [K in keyof Events]: unknown[];
}> {
    private handlers;
    on<N extends keyof Events>(name: N, handler: (...args: Events[N]) => void): Unsubscribe;
    emit<N extends keyof Events>(name: N, ...args: Events[N]): void;
    clear(): void;
}
