// Small REST helpers over fetch with the bearer token. Errors carry the API's
// {statusCode, error, message, ...} body.

export class ApiError extends Error {
  constructor(status, body) {
    super((body && body.message) || `HTTP ${status}`);
    this.status = status;
    this.body = body || {};
  }
}

export function createApi(getToken) {
  async function call(method, path, body, { raw = false, idempotent = false } = {}) {
    const headers = {};
    const token = getToken();
    if (token) headers.Authorization = `Bearer ${token}`;
    if (body !== undefined) headers["Content-Type"] = "application/json";
    if (idempotent) headers["Idempotency-Key"] = crypto.randomUUID();
    const response = await fetch(path, {
      method,
      headers,
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    if (raw && response.ok) return response;
    const text = await response.text();
    let parsed = null;
    try {
      parsed = text ? JSON.parse(text) : null;
    } catch {
      parsed = { message: text };
    }
    if (!response.ok) throw new ApiError(response.status, parsed);
    return parsed;
  }
  const s = (id) => `/group-sessions/${encodeURIComponent(id)}`;
  const g = (id) => `/groups/${encodeURIComponent(id)}`;
  return {
    call,
    devToken: (body) => call("POST", "/dev/token", body),
    groups: () => call("GET", "/groups"),
    group: (id) => call("GET", g(id)),
    createGroup: (name) => call("POST", "/groups", { name }),
    invite: (id, userId, role) => call("POST", `${g(id)}/members/invite`, { user_id: userId, role }),
    accept: (id) => call("POST", `${g(id)}/members/accept`),
    removeMember: (id, userId) => call("DELETE", `${g(id)}/members/${encodeURIComponent(userId)}`),
    setRole: (id, userId, role) =>
      call("PATCH", `${g(id)}/members/${encodeURIComponent(userId)}`, { role }),
    addContent: (id, contentId) => call("POST", `${g(id)}/contents`, { content_id: contentId }),
    removeContent: (id, contentId) => call("DELETE", `${g(id)}/contents/${encodeURIComponent(contentId)}`),
    sessions: (groupId) => call("GET", `${g(groupId)}/sessions`),
    createSession: (groupId, body) =>
      call("POST", `/group-sessions?groupId=${encodeURIComponent(groupId)}`, body),
    session: (id) => call("GET", s(id)),
    start: (id) => call("PUT", `${s(id)}/start`, undefined, { idempotent: true }),
    setStatus: (id, status) => call("PUT", `${s(id)}/status`, { status }, { idempotent: true }),
    prompt: (id, round, body) => call("PATCH", `${s(id)}/rounds/${round}/prompt`, body),
    advance: (id, round, toStatus, force = false) =>
      call("POST", `${s(id)}/rounds/${round}/advance`, { to_status: toStatus, force }, { idempotent: true }),
    timer: (id, round, action, seconds) =>
      call("POST", `${s(id)}/rounds/${round}/timer`, seconds ? { action, seconds } : { action }, { idempotent: true }),
    submit: (id, round, eventType, payload) =>
      call("POST", `${s(id)}/events`, { round_index: round, event_type: eventType, payload }, { idempotent: true }),
    results: (id, round) => call("GET", `${s(id)}/rounds/${round}/results`),
    report: (id) => call("GET", `${s(id)}/report`),
    reportCsv: (id) => call("GET", `${s(id)}/report.csv`, undefined, { raw: true }),
    feed: (id, afterSeq, limit = 1000) => call("GET", `${s(id)}/feed?after_seq=${afterSeq}&limit=${limit}`),
    chat: (groupId, sessionId) => call("GET", `${g(groupId)}/sessions/${encodeURIComponent(sessionId)}/chat`),
    postChat: (groupId, sessionId, round, message) =>
      call("POST", `${g(groupId)}/sessions/${encodeURIComponent(sessionId)}/chat`, { round_index: round, message }, { idempotent: true }),
  };
}
