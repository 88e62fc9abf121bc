/** Reading a JWT's `exp` on the client (no verification: the server verifies; the client only
 * needs to know when to refresh). */
/** The token's `exp` in milliseconds since the epoch, or null without one (or not a JWT). */
export declare function tokenExpiry(token: string): number | null;
/** The token's `sub` (the user id), or null without one (or not a JWT). */
export declare function tokenSubject(token: string): string | null;
/** When to refresh a token that ends at `expiresAtMs`: `aheadMs` before, but never later than
 * half of its remaining life (a 4 s token is refreshed after 2 s). */
export declare function refreshDelay(expiresAtMs: number, nowMs: number, aheadMs: number): number;
