/**
 * Typed helpers for the REST API (docs/api.md): a thin `fetch` wrapper that sends the bearer
 * token and turns an error answer into an `ApiError` carrying the API's
 * `{statusCode, error, message}`. Independent of the real-time part (no socket.io import).
 */

import type { ChatMessage, PresenceEntry, RoundStatus } from "./events.js";
import type {
  Activity,
  ActivityType,
  ChatLog,
  ChatMessageRecord,
  CreateSessionBody,
  FeedPage,
  GroupContent,
  GroupDetail,
  MemberRole,
  Membership,
  MyGroup,
  PromptBody,
  Report,
  Round,
  RoundResultsAnswer,
  SessionDetail,
  SessionRole,
  SessionSummary,
  SharedCard,
  SubmitAnswer,
  TimedRound,
  TimerAction,
  WithSeq,
  WriteOptions,
} from "./rest-types.js";

export type * from "./rest-types.js";

export type TokenSource = () => string | Promise<string>;

export interface RestOptions {
  /** The server's origin, e.g. `http://127.0.0.1:8000` (a trailing slash is ignored). */
  baseUrl: string;
  /** The current JWT, read before every request. */
  getToken: TokenSource;
  /** Defaults to the global `fetch`. */
  fetch?: typeof fetch;
}

/** The API's error body (docs/api.md "Errors"), extra fields included (`details`, gate counts). */
export interface ApiErrorBody {
  statusCode: number;
  error: string;
  message: string;
  details?: { field: string; problem: string }[];
  required?: number;
  current?: number;
  missing?: string[];
  [extra: string]: unknown;
}

/** A non-2xx answer. `status` is the HTTP status; `body` the API's error JSON. */
export class ApiError extends Error {
  readonly status: number;
  readonly body: ApiErrorBody;
  constructor(status: number, body: ApiErrorBody) {
    super(`${status} ${body.error}: ${body.message}`);
    this.name = "ApiError";
    this.status = status;
    this.body = body;
  }
}

/** The REST client: one method per route of docs/api.md that a front end needs. */
export interface Rest {
  request<T>(method: string, path: string, body?: unknown, options?: WriteOptions): Promise<T>;
  createGroup(body: { name: string; scope_type?: string; scope_id?: string }): Promise<GroupDetail>;
  listGroups(): Promise<MyGroup[]>;
  getGroup(groupId: string): Promise<GroupDetail>;
  /** OWNER or MOD: rename, or change the scope (null clears it). */
  updateGroup(
    groupId: string,
    body: { name?: string; scope_type?: string | null; scope_id?: string | null },
  ): Promise<GroupDetail>;
  invite(groupId: string, userId: string, role?: MemberRole): Promise<Membership>;
  acceptInvite(groupId: string): Promise<Membership>;
  removeMember(groupId: string, userId: string): Promise<Membership>;
  /** OWNER only; demoting the last ACTIVE OWNER is 409. */
  setRole(groupId: string, userId: string, role: MemberRole): Promise<Membership>;
  /** OWNER or MOD; adds at the end (201), a content already listed is 409. */
  addContent(groupId: string, contentId: string): Promise<GroupContent>;
  /** OWNER or MOD; 204. */
  removeContent(groupId: string, contentId: string): Promise<void>;
  listSessions(groupId: string): Promise<SessionSummary[]>;
  createSession(groupId: string, body: CreateSessionBody): Promise<SessionDetail>;
  getSession(sessionId: string): Promise<SessionDetail>;
  startSession(sessionId: string, options?: WriteOptions): Promise<WithSeq<SessionDetail>>;
  setSessionStatus(
    sessionId: string,
    status: "POST" | "FINISHED",
    options?: WriteOptions,
  ): Promise<WithSeq<SessionDetail>>;
  setPrompt(
    sessionId: string,
    roundIndex: number,
    body: PromptBody,
    options?: WriteOptions,
  ): Promise<WithSeq<Round>>;
  advance(
    sessionId: string,
    roundIndex: number,
    toStatus: RoundStatus,
    force?: boolean,
    options?: WriteOptions,
  ): Promise<WithSeq<Round & { session_id: string; previous_status: RoundStatus }>>;
  /** Facilitator or TIMEKEEPER: `pause`, `resume`, or `extend`/`set` by `seconds` (1..3600). */
  timer(
    sessionId: string,
    roundIndex: number,
    action: TimerAction,
    seconds?: number,
    options?: WriteOptions,
  ): Promise<WithSeq<TimedRound>>;
  /** Facilitator: turn auto-advance on or off; answers the session detail. */
  setSettings(
    sessionId: string,
    body: { auto_advance: boolean },
    options?: WriteOptions,
  ): Promise<WithSeq<SessionDetail>>;
  submit(
    sessionId: string,
    roundIndex: number,
    eventType: ActivityType,
    payload: Record<string, unknown>,
    options?: WriteOptions,
  ): Promise<SubmitAnswer>;
  listActivity(sessionId: string, roundIndex?: number): Promise<Activity[]>;
  sharedCards(sessionId: string): Promise<SharedCard[]>;
  /** A round's tally; parts not over yet are null for members who do not facilitate. */
  results(sessionId: string, roundIndex: number): Promise<RoundResultsAnswer>;
  /** Facilitator, OWNERs and MODs. */
  report(sessionId: string): Promise<Report>;
  /** The report as CSV text (one row per member per round). */
  reportCsv(sessionId: string): Promise<string>;
  postChat(
    groupId: string,
    sessionId: string,
    roundIndex: number,
    message: string,
    options?: WriteOptions,
  ): Promise<ChatMessageRecord>;
  listChat(
    groupId: string,
    sessionId: string,
    roundIndex?: number,
  ): Promise<ChatLog>;
  feed(sessionId: string, afterSeq?: number, limit?: number): Promise<FeedPage>;
  presence(sessionId: string): Promise<{ session_id: string; presence: PresenceEntry[] }>;
}

const enc = encodeURIComponent;

function query(values: Record<string, number | undefined>): string {
  const parts = Object.entries(values)
    .filter((entry): entry is [string, number] => entry[1] !== undefined)
    .map(([key, value]) => `${key}=${value}`);
  return parts.length ? `?${parts.join("&")}` : "";
}

/** A REST client for one server and one token source. */
export function createRest({ baseUrl, getToken, fetch: fetcher }: RestOptions): Rest {
  const origin = baseUrl.replace(/\/+$/, "");
  const doFetch = fetcher ?? globalThis.fetch.bind(globalThis);

  /** The answer's text (and parsed JSON, when it is JSON); an error answer throws ApiError. */
  async function send(
    method: string,
    path: string,
    body?: unknown,
    options: WriteOptions = {},
  ): Promise<{ text: string; parsed: unknown }> {
    const headers: Record<string, string> = { authorization: `Bearer ${await getToken()}` };
    if (body !== undefined) headers["content-type"] = "application/json";
    if (options.idempotencyKey !== undefined) headers["idempotency-key"] = options.idempotencyKey;
    const init: RequestInit = { method, headers };
    if (body !== undefined) init.body = JSON.stringify(body);
    const response = await doFetch(`${origin}${path}`, init);
    const text = await response.text();
    let parsed: unknown = undefined;
    if (text) {
      try {
        parsed = JSON.parse(text);
      } catch {
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

  async function request<T>(
    method: string,
    path: string,
    body?: unknown,
    options: WriteOptions = {},
  ): Promise<T> {
    return (await send(method, path, body, options)).parsed as T;
  }

  const s = (id: string) => `/group-sessions/${enc(id)}`;
  const chatPath = (groupId: string, sessionId: string) =>
    `/groups/${enc(groupId)}/sessions/${enc(sessionId)}/chat`;

  return {
    request,
    createGroup: (body) => request("POST", "/groups", body),
    listGroups: () => request("GET", "/groups"),
    getGroup: (groupId) => request("GET", `/groups/${enc(groupId)}`),
    updateGroup: (groupId, body) => request("PATCH", `/groups/${enc(groupId)}`, body),
    invite: (groupId, userId, role = "MEMBER") =>
      request("POST", `/groups/${enc(groupId)}/members/invite`, { user_id: userId, role }),
    acceptInvite: (groupId) => request("POST", `/groups/${enc(groupId)}/members/accept`),
    removeMember: (groupId, userId) =>
      request("DELETE", `/groups/${enc(groupId)}/members/${enc(userId)}`),
    setRole: (groupId, userId, role) =>
      request("PATCH", `/groups/${enc(groupId)}/members/${enc(userId)}`, { role }),
    addContent: (groupId, contentId) =>
      request("POST", `/groups/${enc(groupId)}/contents`, { content_id: contentId }),
    removeContent: (groupId, contentId) =>
      request("DELETE", `/groups/${enc(groupId)}/contents/${enc(contentId)}`),
    listSessions: (groupId) => request("GET", `/groups/${enc(groupId)}/sessions`),
    createSession: (groupId, body) => request("POST", `/group-sessions?groupId=${enc(groupId)}`, body),
    getSession: (sessionId) => request("GET", s(sessionId)),
    startSession: (sessionId, options) => request("PUT", `${s(sessionId)}/start`, undefined, options),
    setSessionStatus: (sessionId, status, options) =>
      request("PUT", `${s(sessionId)}/status`, { status }, options),
    setPrompt: (sessionId, roundIndex, body, options) =>
      request("PATCH", `${s(sessionId)}/rounds/${roundIndex}/prompt`, body, options),
    advance: (sessionId, roundIndex, toStatus, force = false, options) =>
      request(
        "POST",
        `${s(sessionId)}/rounds/${roundIndex}/advance`,
        { to_status: toStatus, force },
        options,
      ),
    timer: (sessionId, roundIndex, action, seconds, options) =>
      request(
        "POST",
        `${s(sessionId)}/rounds/${roundIndex}/timer`,
        seconds === undefined ? { action } : { action, seconds },
        options,
      ),
    setSettings: (sessionId, body, options) => request("PATCH", `${s(sessionId)}/settings`, body, options),
    submit: (sessionId, roundIndex, eventType, payload, options) =>
      request(
        "POST",
        `${s(sessionId)}/events`,
        { round_index: roundIndex, event_type: eventType, payload },
        options,
      ),
    listActivity: (sessionId, roundIndex) =>
      request("GET", `${s(sessionId)}/events${query({ round_index: roundIndex })}`),
    sharedCards: (sessionId) => request("GET", `${s(sessionId)}/shared-cards`),
    results: (sessionId, roundIndex) => request("GET", `${s(sessionId)}/rounds/${roundIndex}/results`),
    report: (sessionId) => request("GET", `${s(sessionId)}/report`),
    reportCsv: async (sessionId) => (await send("GET", `${s(sessionId)}/report.csv`)).text,
    postChat: (groupId, sessionId, roundIndex, message, options) =>
      request("POST", chatPath(groupId, sessionId), { round_index: roundIndex, message }, options),
    listChat: (groupId, sessionId, roundIndex) =>
      request("GET", `${chatPath(groupId, sessionId)}${query({ round_index: roundIndex })}`),
    feed: (sessionId, afterSeq = 0, limit = 1000) =>
      request("GET", `${s(sessionId)}/feed${query({ after_seq: afterSeq, limit })}`),
    presence: (sessionId) => request("GET", `${s(sessionId)}/presence`),
  };
}

function isErrorBody(value: unknown): value is ApiErrorBody {
  if (typeof value !== "object" || value === null) return false;
  const body = value as Record<string, unknown>;
  return typeof body.statusCode === "number" && typeof body.message === "string";
}

/** A live `chat.message` in the REST shape, to keep one shape in a store filled from
 * `listChat` (docs/realtime.md "One chat message, two shapes"). The event has no role: pass it
 * from the session's `members` by `userId` (null for a member who joined the group later). */
export function chatRecordOf(event: ChatMessage, userRole: SessionRole | null = null): ChatMessageRecord {
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
