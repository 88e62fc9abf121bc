/**
 * Typed helpers for the REST API (docs/api.md): a thin `fetch` wrapper that sends the bearer
 * token and turns an error answer into an `ApiError` carrying the API's
 * `{statusCode, error, message}`. Independent of the real-time part (no socket.io import).
 */
import type { ChatMessage, PresenceEntry, RoundStatus } from "./events.js";
import type { Activity, ActivityType, ChatLog, ChatMessageRecord, CreateSessionBody, FeedPage, GroupContent, GroupDetail, MemberRole, Membership, MyGroup, PromptBody, Report, Round, RoundResultsAnswer, SessionDetail, SessionRole, SessionSummary, SharedCard, SubmitAnswer, TimedRound, TimerAction, WithSeq, WriteOptions } from "./rest-types.js";
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
    details?: {
        field: string;
        problem: string;
    }[];
    required?: number;
    current?: number;
    missing?: string[];
    [extra: string]: unknown;
}
/** A non-2xx answer. `status` is the HTTP status; `body` the API's error JSON. */
export declare class ApiError extends Error {
    readonly status: number;
    readonly body: ApiErrorBody;
    constructor(status: number, body: ApiErrorBody);
}
/** The REST client: one method per route of docs/api.md that a front end needs. */
export interface Rest {
    request<T>(method: string, path: string, body?: unknown, options?: WriteOptions): Promise<T>;
    createGroup(body: {
        name: string;
        scope_type?: string;
        scope_id?: string;
    }): Promise<GroupDetail>;
    listGroups(): Promise<MyGroup[]>;
    getGroup(groupId: string): Promise<GroupDetail>;
    /** OWNER or MOD: rename, or change the scope (null clears it). */
    updateGroup(groupId: string, body: {
        name?: string;
        scope_type?: string | null;
        scope_id?: string | null;
    }): Promise<GroupDetail>;
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
    setSessionStatus(sessionId: string, status: "POST" | "FINISHED", options?: WriteOptions): Promise<WithSeq<SessionDetail>>;
    setPrompt(sessionId: string, roundIndex: number, body: PromptBody, options?: WriteOptions): Promise<WithSeq<Round>>;
    advance(sessionId: string, roundIndex: number, toStatus: RoundStatus, force?: boolean, options?: WriteOptions): Promise<WithSeq<Round & {
        session_id: string;
        previous_status: RoundStatus;
    }>>;
    /** Facilitator or TIMEKEEPER: `pause`, `resume`, or `extend`/`set` by `seconds` (1..3600). */
    timer(sessionId: string, roundIndex: number, action: TimerAction, seconds?: number, options?: WriteOptions): Promise<WithSeq<TimedRound>>;
    /** Facilitator: turn auto-advance on or off; answers the session detail. */
    setSettings(sessionId: string, body: {
        auto_advance: boolean;
    }, options?: WriteOptions): Promise<WithSeq<SessionDetail>>;
    submit(sessionId: string, roundIndex: number, eventType: ActivityType, payload: Record<string, unknown>, options?: WriteOptions): Promise<SubmitAnswer>;
    listActivity(sessionId: string, roundIndex?: number): Promise<Activity[]>;
    sharedCards(sessionId: string): Promise<SharedCard[]>;
    /** A round's tally; parts not over yet are null for members who do not facilitate. */
    results(sessionId: string, roundIndex: number): Promise<RoundResultsAnswer>;
    /** Facilitator, OWNERs and MODs. */
    report(sessionId: string): Promise<Report>;
    /** The report as CSV text (one row per member per round). */
    reportCsv(sessionId: string): Promise<string>;
    postChat(groupId: string, sessionId: string, roundIndex: number, message: string, options?: WriteOptions): Promise<ChatMessageRecord>;
    listChat(groupId: string, sessionId: string, roundIndex?: number): Promise<ChatLog>;
    feed(sessionId: string, afterSeq?: number, limit?: number): Promise<FeedPage>;
    presence(sessionId: string): Promise<{
        session_id: string;
        presence: PresenceEntry[];
    }>;
}
/** A REST client for one server and one token source. */
export declare function createRest({ baseUrl, getToken, fetch: fetcher }: RestOptions): Rest;
/** A live `chat.message` in the REST shape, to keep one shape in a store filled from
 * `listChat` (docs/realtime.md "One chat message, two shapes"). The event has no role: pass it
 * from the session's `members` by `userId` (null for a member who joined the group later). */
export declare function chatRecordOf(event: ChatMessage, userRole?: SessionRole | null): ChatMessageRecord;
