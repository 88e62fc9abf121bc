/** Reading a JWT's `exp` on the client (no verification: the server verifies; the client only
 * needs to know when to refresh). */
/** The token's claims, unverified; null when it is not a JWT. */
function claimsOf(token) {
    const part = token.replace(/^Bearer\s+/i, "").split(".")[1];
    if (part === undefined)
        return null;
    try {
        const base64 = part.replace(/-/g, "+").replace(/_/g, "/");
        const padded = base64 + "=".repeat((4 - (base64.length % 4)) % 4);
        const claims = JSON.parse(atob(padded));
        return typeof claims === "object" && claims !== null ? claims : null;
    }
    catch {
        return null;
    }
}
/** The token's `exp` in milliseconds since the epoch, or null without one (or not a JWT). */
export function tokenExpiry(token) {
    const exp = claimsOf(token)?.exp;
    return typeof exp === "number" && Number.isFinite(exp) ? exp * 1000 : null;
}
/** The token's `sub` (the user id), or null without one (or not a JWT). */
export function tokenSubject(token) {
    const sub = claimsOf(token)?.sub;
    return typeof sub === "string" ? sub : null;
}
/** When to refresh a token that ends at `expiresAtMs`: `aheadMs` before, but never later than
 * half of its remaining life (a 4 s token is refreshed after 2 s). */
export function refreshDelay(expiresAtMs, nowMs, aheadMs) {
    const remaining = expiresAtMs - nowMs;
    return Math.max(0, remaining - Math.min(aheadMs, remaining / 2));
}
