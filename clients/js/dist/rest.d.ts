/**
 * Typed helpers for the REST API (docs/api.md): a thin `fetch` wrapper that sends the bearer
 * token and turns an error answer into an `ApiError` carrying the API's
 * `{statusCode, error, message}`. Independent of the real-time part (no socket.io import).
 */
import type { PresenceEntry, RoundStatus, SessionStatus, StoredEvent, Timestamp } from "./events.js";
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
export type MemberRole = "OWNER" | "MOD" | "MEMBER";
export type MemberStatus = "INVITED" | "ACTIVE" | "REMOVED";
export type SessionRole = "FACILITATOR" | "SCRIBE" | "TIMEKEEPER" | "CLARIFIER" | "CONNECTOR" | "PARTICIPANT";
export type ActivityType = "PI_VOTE_SUBMIT" | "PI_REVOTE_SUBMIT" | "GROUP_EXPLANATION_SUBMIT";
export interface Group {
    id: string;
    name: string;
    scope_type: string | null;
    scope_id: string | null;
    created_by: string;
    created_at: Timestamp;
}
export interface Membership {
    user_id: string;
    user_name: string;
    email: string | null;
    role: MemberRole;
    status: MemberStatus;
    invited_by: string | null;
    updated_at: Timestamp;
    group_id?: string;
}
/** One entry of a group's playlist (docs/api.md "The playlist"). */
export interface GroupContent {
    content_id: string;
    position: number;
    added_by: string;
    added_at: Timestamp;
}
export interface GroupDetail extends Group {
    members: Membership[];
    /** The playlist, in order. */
    contents: GroupContent[];
}
export interface MyGroup extends Group {
    my_role: MemberRole;
    my_status: MemberStatus;
}
export interface SessionSummary {
    id: string;
    group_id: string;
    status: SessionStatus;
    mode: string;
    layer: "L1" | "L2" | "L3";
    content_id: string | null;
    rounds_count: number;
    created_by: string;
    created_at: Timestamp;
    started_at: Timestamp | null;
    finished_at: Timestamp | null;
    /** The session's last durable seq: pass it to `client.join(id, { fromSeq })`. */
    seq: number;
}
export interface Timers {
    vote_sec: number;
    discuss_sec: number;
    revote_sec: number;
    explain_sec: number;
}
export interface Round {
    id: string;
    round_index: number;
    status: RoundStatus;
    prompt_text: string | null;
    options: string[] | null;
    linked_highlight_ids: string[] | null;
    timers: Timers;
    status_changed_at: Timestamp | null;
}
export interface RoundDetail extends Round {
    vote_progress: {
        required: number;
        voted: number;
        revoted: number;
        voted_user_ids: string[];
        revoted_user_ids: string[];
    };
    has_shared_card: boolean;
}
export interface SharedCard {
    id: string;
    session_id: string;
    round_id: string;
    round_index: number;
    created_by: string;
    explanation: string;
    group_choice: string | null;
    key_terms: string[];
    created_at: Timestamp;
    updated_at: Timestamp;
}
export interface SessionDetail extends SessionSummary {
    members: {
        user_id: string;
        user_name: string;
        role: SessionRole;
        attendance_status: string;
    }[];
    rounds: RoundDetail[];
    shared_cards: SharedCard[];
    viewer_can_facilitate: boolean;
}
export interface Activity {
    id: string;
    session_id: string;
    round_id: string;
    round_index: number;
    user_id: string;
    event_type: ActivityType;
    payload: Record<string, unknown>;
    choice_hidden: boolean;
    created_at: Timestamp;
    updated_at: Timestamp;
}
export interface ChatMessageRecord {
    id: string;
    session_id: string;
    round_index: number;
    user_id: string;
    user_name: string;
    user_role: SessionRole | null;
    message: string;
    seq: number;
    created_at: Timestamp;
}
export interface ReadCursor {
    user_id: string;
    message_id: string;
    updated_at: Timestamp;
}
export interface FeedPage {
    events: StoredEvent[];
    has_more: boolean;
    /** The session's head seq. */
    seq: number;
}
/** Answers to changes carry the `seq` of the durable event they recorded. */
export type WithSeq<T> = T & {
    seq: number;
};
export interface WriteOptions {
    /** 1..64 characters: a retry with the same key returns the first answer (docs/api.md). */
    idempotencyKey?: string;
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
    createSession(groupId: string, body: {
        rounds_count: number;
        mode?: string;
        layer?: "L1" | "L2" | "L3";
        content_id?: string;
    }): Promise<SessionDetail>;
    getSession(sessionId: string): Promise<SessionDetail>;
    startSession(sessionId: string, options?: WriteOptions): Promise<WithSeq<SessionDetail>>;
    setSessionStatus(sessionId: string, status: "POST" | "FINISHED", options?: WriteOptions): Promise<WithSeq<SessionDetail>>;
    setPrompt(sessionId: string, roundIndex: number, body: {
        prompt_text: string;
        options?: string[];
        linked_highlight_ids?: string[];
    }, options?: WriteOptions): Promise<WithSeq<Round>>;
    advance(sessionId: string, roundIndex: number, toStatus: RoundStatus, force?: boolean, options?: WriteOptions): Promise<WithSeq<Round & {
        session_id: string;
        previous_status: RoundStatus;
    }>>;
    submit(sessionId: string, roundIndex: number, eventType: ActivityType, payload: Record<string, unknown>, options?: WriteOptions): Promise<{
        activity: Activity;
        shared_card?: SharedCard;
        seq: number;
    }>;
    listActivity(sessionId: string, roundIndex?: number): Promise<Activity[]>;
    sharedCards(sessionId: string): Promise<SharedCard[]>;
    postChat(groupId: string, sessionId: string, roundIndex: number, message: string, options?: WriteOptions): Promise<ChatMessageRecord>;
    listChat(groupId: string, sessionId: string, roundIndex?: number): Promise<{
        messages: ChatMessageRecord[];
        read_cursors: ReadCursor[];
    }>;
    feed(sessionId: string, afterSeq?: number, limit?: number): Promise<FeedPage>;
    presence(sessionId: string): Promise<{
        session_id: string;
        presence: PresenceEntry[];
    }>;
}
/** A REST client for one server and one token source. */
export declare function createRest({ baseUrl, getToken, fetch: fetcher }: RestOptions): Rest;
