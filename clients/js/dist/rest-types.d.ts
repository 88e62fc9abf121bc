/**
 * The REST API's shapes (docs/api.md; every answer model is in the server's `GET /openapi.json`):
 * field names are the API's snake_case. test/types checks them against real answers.
 */
import type { RoundStatus, SessionStatus, StoredEvent, Timestamp, TimerState } from "./events.js";
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
/** A member as listed in a group (`GroupDetail.members`). */
export interface Member {
    user_id: string;
    user_name: string;
    email: string | null;
    role: MemberRole;
    status: MemberStatus;
    invited_by: string | null;
    updated_at: Timestamp;
}
/** A membership change's answer (invite, accept, remove, role). */
export interface Membership extends Member {
    group_id: string;
}
/** One entry of a group's playlist (docs/api.md "The playlist"). */
export interface GroupContent {
    content_id: string;
    position: number;
    added_by: string;
    added_at: Timestamp;
}
export interface GroupDetail extends Group {
    members: Member[];
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
/** A round's phase clock (docs/api.md "Phase deadlines"). */
export interface RoundTimer {
    state: TimerState;
    /** The deadline while RUNNING, else null. Correct it by `server_time` for a countdown. */
    ends_at: Timestamp | null;
    /** Seconds left (ms precision) while RUNNING or PAUSED; 0 when EXPIRED; null for NONE. */
    remaining_sec: number | null;
}
/** A round's seconds per timed phase, each 5..3600; those left out keep their value. */
export type TimersPatch = Partial<Timers>;
export interface Round {
    id: string;
    round_index: number;
    status: RoundStatus;
    prompt_text: string | null;
    options: string[] | null;
    linked_highlight_ids: string[] | null;
    timers: Timers;
    status_changed_at: Timestamp | null;
    /** The right answer: for the facilitator (and OWNERs, MODs) always, for others once DONE. */
    correct_option: string | null;
    timer: RoundTimer;
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
export interface SessionMember {
    user_id: string;
    user_name: string;
    role: SessionRole;
    attendance_status: string;
}
export interface SessionDetail extends SessionSummary {
    members: SessionMember[];
    rounds: RoundDetail[];
    shared_cards: SharedCard[];
    viewer_can_facilitate: boolean;
    /** Whether a round moves on by itself when its phase's deadline passes. */
    auto_advance: boolean;
    /** The server's clock when it answered: compare with yours to correct a countdown. */
    server_time: Timestamp;
}
/** `POST …/rounds/:i/timer`'s answer: the round with its clock and its session (without
 * `correct_option`: the timekeeper may change the clock, not see the answer). */
export interface TimedRound extends Omit<Round, "correct_option"> {
    session_id: string;
}
export type TimerAction = "pause" | "resume" | "extend" | "set";
/** One phase's tally: every option in order (zeros included), then any other choice cast. */
export interface Tally {
    counts: Record<string, number>;
    total: number;
}
/** `GET …/rounds/:i/results` (docs/api.md "Results and the report"); parts not yet over are
 * null for members who do not facilitate. */
export interface RoundResultsAnswer {
    round_index: number;
    status: RoundStatus;
    options: string[] | null;
    eligible: number;
    vote: Tally | null;
    revote: Tally | null;
    switches: {
        from: string;
        to: string;
        count: number;
    }[] | null;
    correct_option: string | null;
    correct: {
        vote_pct: number | null;
        revote_pct: number | null;
        normalized_change: number | null;
    } | null;
}
export interface ReportRound {
    round_index: number;
    prompt_text: string | null;
    options: string[] | null;
    correct_option: string | null;
    results: RoundResultsAnswer;
    explanation: {
        explanation: string;
        group_choice: string | null;
        key_terms: string[];
    } | null;
    chat_messages: number;
}
export interface ReportMember {
    user_id: string;
    user_name: string;
    session_role: SessionRole;
    chat_messages: number;
    rounds: {
        round_index: number;
        vote: string | null;
        revote: string | null;
        vote_correct: boolean | null;
        revote_correct: boolean | null;
        chat_messages: number;
    }[];
}
/** `GET …/report`: facilitator, OWNERs and MODs. */
export interface Report {
    session: SessionSummary;
    rounds: ReportRound[];
    members: ReportMember[];
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
/** Chat as read over REST (snake_case; the live `chat.message` event is camelCase: see
 * docs/realtime.md "One chat message, two shapes"). */
export interface ChatLog {
    messages: ChatMessageRecord[];
    read_cursors: ReadCursor[];
}
export interface SubmitAnswer {
    activity: Activity;
    /** With an explanation: the round's shared card. */
    shared_card?: SharedCard;
    seq: number;
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
export interface CreateSessionBody {
    /** 1..10. */
    rounds_count: number;
    /** Default "PI". */
    mode?: string;
    /** Timers per layer: L1 60/180/60/180 s, L2 and L3 90/240/90/240 s. Default L1. */
    layer?: "L1" | "L2" | "L3";
    content_id?: string | null;
    /** Advance rounds by themselves when a phase's deadline passes (default false). */
    auto_advance?: boolean;
}
export interface PromptBody {
    prompt_text: string;
    /** Replaced with the prompt: leaving them out clears them. */
    options?: string[] | null;
    linked_highlight_ids?: string[] | null;
    /** One of `options`; null clears it; left out, kept while still one of the options. */
    correct_option?: string | null;
    timers?: TimersPatch | null;
}
/** Answers to changes carry the `seq` of the durable event they recorded. */
export type WithSeq<T> = T & {
    seq: number;
};
export interface WriteOptions {
    /** 1..64 characters: a retry with the same key returns the first answer (docs/api.md). */
    idempotencyKey?: string;
}
