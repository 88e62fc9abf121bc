/** Reading a JWT's `exp` on the client (no verification: the server verifies; the client only
 * needs to know when to refresh). */
/** The token's `exp` in milliseconds since the epoch, or null without one (or not a JWT). */
export function tokenExpiry(token) {
    const part = token.replace(/^Bearer\s+/i, "").split(".")[1];
    if (part === undefined)
        return null;
    try {
        const base64 = part.replace(/-/g, "+").replace(/_/g, "/");
        const padded = base64 + "=".repeat((4 - (base64.length % 4)) % 4);
        const claims = JSON.parse(atob(padded));
        if (typeof claims !== "object" || claims === null)
            return null;
        const exp = claims.exp;
        return typeof exp === "number" && Number.isFinite(exp) ? exp * 1000 : null;
    }
    catch {
        return null;
    }
}
/** When to refresh a token that ends at `expiresAtMs`: `aheadMs` before, but never later than
 * half of its remaining life (a 4 s token is refreshed after 2 s). */
export function refreshDelay(expiresAtMs, nowMs, aheadMs) {
    const remaining = expiresAtMs - nowMs;
    return Math.max(0, remaining - Math.min(aheadMs, remaining / 2));
}
