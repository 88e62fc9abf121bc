/**
 * Typed helpers for the REST API (docs/api.md): a thin `fetch` wrapper that sends the bearer
 * token and turns an error answer into an `ApiError` carrying the API's
 * `{statusCode, error, message}`. Independent of the real-time part (no socket.io import).
 */
/** A non-2xx answer. `status` is the HTTP status; `body` the API's error JSON. */
export class ApiError extends Error {
    constructor(status, body) {
        super(`${status} ${body.error}: ${body.message}`);
        this.name = "ApiError";
        this.status = status;
        this.body = body;
    }
}
const enc = encodeURIComponent;
function query(values) {
    const parts = Object.entries(values)
        .filter((entry) => entry[1] !== undefined)
        .map(([key, value]) => `${key}=${value}`);
    return parts.length ? `?${parts.join("&")}` : "";
}
/** A REST client for one server and one token source. */
export function createRest({ baseUrl, getToken, fetch: fetcher }) {
    const origin = baseUrl.replace(/\/+$/, "");
    const doFetch = fetcher ?? globalThis.fetch.bind(globalThis);
    /** The answer's text (and parsed JSON, when it is JSON); an error answer throws ApiError. */
    async function send(method, path, body, options = {}) {
        const headers = { authorization: `Bearer ${await getToken()}` };
        if (body !== undefined)
            headers["content-type"] = "application/json";
        if (options.idempotencyKey !== undefined)
            headers["idempotency-key"] = options.idempotencyKey;
        const init = { method, headers };
        if (body !== undefined)
            init.body = JSON.stringify(body);
        const response = await doFetch(`${origin}${path}`, init);
        const text = await response.text();
        let parsed = undefined;
        if (text) {
            try {
                parsed = JSON.parse(text);
            }
            catch {
                parsed = undefined; // not JSON (a proxy's page): reported below with the status
            }
        }
        if (!response.ok) {
            const errorBody = isErrorBody(parsed)
                ? parsed
                : { statusCode: response.status, error: response.statusText, message: text.slice(0, 200) };
            throw new ApiError(response.status, errorBody);
        }
        return { text, parsed };
    }
    async function request(method, path, body, options = {}) {
        return (await send(method, path, body, options)).parsed;
    }
    const s = (id) => `/group-sessions/${enc(id)}`;
    const chatPath = (groupId, sessionId) => `/groups/${enc(groupId)}/sessions/${enc(sessionId)}/chat`;
    return {
        request,
        createGroup: (body) => request("POST", "/groups", body),
        listGroups: () => request("GET", "/groups"),
        getGroup: (groupId) => request("GET", `/groups/${enc(groupId)}`),
        updateGroup: (groupId, body) => request("PATCH", `/groups/${enc(groupId)}`, body),
        invite: (groupId, userId, role = "MEMBER") => request("POST", `/groups/${enc(groupId)}/members/invite`, { user_id: userId, role }),
        acceptInvite: (groupId) => request("POST", `/groups/${enc(groupId)}/members/accept`),
        removeMember: (groupId, userId) => request("DELETE", `/groups/${enc(groupId)}/members/${enc(userId)}`),
        setRole: (groupId, userId, role) => request("PATCH", `/groups/${enc(groupId)}/members/${enc(userId)}`, { role }),
        addContent: (groupId, contentId) => request("POST", `/groups/${enc(groupId)}/contents`, { content_id: contentId }),
        removeContent: (groupId, contentId) => request("DELETE", `/groups/${enc(groupId)}/contents/${enc(contentId)}`),
        listSessions: (groupId) => request("GET", `/groups/${enc(groupId)}/sessions`),
        createSession: (groupId, body) => request("POST", `/group-sessions?groupId=${enc(groupId)}`, body),
        getSession: (sessionId) => request("GET", s(sessionId)),
        startSession: (sessionId, options) => request("PUT", `${s(sessionId)}/start`, undefined, options),
        setSessionStatus: (sessionId, status, options) => request("PUT", `${s(sessionId)}/status`, { status }, options),
        setPrompt: (sessionId, roundIndex, body, options) => request("PATCH", `${s(sessionId)}/rounds/${roundIndex}/prompt`, body, options),
        advance: (sessionId, roundIndex, toStatus, force = false, options) => request("POST", `${s(sessionId)}/rounds/${roundIndex}/advance`, { to_status: toStatus, force }, options),
        timer: (sessionId, roundIndex, action, seconds, options) => request("POST", `${s(sessionId)}/rounds/${roundIndex}/timer`, seconds === undefined ? { action } : { action, seconds }, options),
        setSettings: (sessionId, body, options) => request("PATCH", `${s(sessionId)}/settings`, body, options),
        submit: (sessionId, roundIndex, eventType, payload, options) => request("POST", `${s(sessionId)}/events`, { round_index: roundIndex, event_type: eventType, payload }, options),
        listActivity: (sessionId, roundIndex) => request("GET", `${s(sessionId)}/events${query({ round_index: roundIndex })}`),
        sharedCards: (sessionId) => request("GET", `${s(sessionId)}/shared-cards`),
        results: (sessionId, roundIndex) => request("GET", `${s(sessionId)}/rounds/${roundIndex}/results`),
        report: (sessionId) => request("GET", `${s(sessionId)}/report`),
        reportCsv: async (sessionId) => (await send("GET", `${s(sessionId)}/report.csv`)).text,
        postChat: (groupId, sessionId, roundIndex, message, options) => request("POST", chatPath(groupId, sessionId), { round_index: roundIndex, message }, options),
        listChat: (groupId, sessionId, roundIndex) => request("GET", `${chatPath(groupId, sessionId)}${query({ round_index: roundIndex })}`),
        feed: (sessionId, afterSeq = 0, limit = 1000) => request("GET", `${s(sessionId)}/feed${query({ after_seq: afterSeq, limit })}`),
        presence: (sessionId) => request("GET", `${s(sessionId)}/presence`),
    };
}
function isErrorBody(value) {
    if (typeof value !== "object" || value === null)
        return false;
    const body = value;
    return typeof body.statusCode === "number" && typeof body.message === "string";
}
/** A live `chat.message` in the REST shape, to keep one shape in a store filled from
 * `listChat` (docs/realtime.md "One chat message, two shapes"). The event has no role: pass it
 * from the session's `members` by `userId` (null for a member who joined the group later). */
export function chatRecordOf(event, userRole = null) {
    return {
        id: event.id,
        session_id: event.sessionId,
        round_index: event.roundIndex,
        user_id: event.userId,
        user_name: event.userName,
        user_role: userRole,
        message: event.message,
        seq: event.seq,
        created_at: event.timestamp,
    };
}
