/**
 * The wire contract as types: every server → client event payload, every client event's
 * payload and acknowledgement (docs/realtime.md "Client → server", "Server → client", "Tokens on
 * live sockets"; docs/api.md "Phase deadlines"). Payload fields are the
 * seed's camelCase; every payload carries `timestamp` (ISO 8601 UTC with milliseconds).
 */

/** ISO 8601, UTC, milliseconds, `Z`, e.g. `2026-11-30T10:15:00.123Z`. */
export type Timestamp = string;

export type RoundStatus = "CREATED" | "VOTING" | "DISCUSSING" | "REVOTING" | "EXPLAINING" | "DONE";
export type SessionStatus = "CREATED" | "RUNNING" | "POST" | "FINISHED";
export type TimerState = "RUNNING" | "PAUSED" | "EXPIRED" | "NONE";

/** Fields every durable event carries: its place in the session's log and its time. */
export interface Durable {
  seq: number;
  timestamp: Timestamp;
}

export interface SessionStarted extends Durable {
  sessionId: string;
  status: "RUNNING";
  startedBy: string;
}
export interface SessionStatusChanged extends Durable {
  sessionId: string;
  status: "POST";
}
export interface SessionEnded extends Durable {
  sessionId: string;
  status: "FINISHED";
}
export interface RoundAdvanced extends Durable {
  sessionId: string;
  roundId: string;
  roundIndex: number;
  status: RoundStatus;
  previousStatus?: RoundStatus;
  /** docs/api.md "Phase deadlines": the new phase's deadline (null for DONE); `correctOption`
   * on the advance to DONE; `auto` when auto-advance moved the round. */
  endsAt?: Timestamp | null;
  durationSec?: number | null;
  correctOption?: string | null;
  auto?: boolean;
}
export interface PromptUpdated extends Durable {
  sessionId: string;
  roundId: string;
  roundIndex: number;
  prompt: string;
  options?: string[] | null;
}
export interface VoteSubmitted extends Durable {
  sessionId: string;
  roundId: string;
  roundIndex: number;
  userId: string;
  eventType: "PI_VOTE_SUBMIT";
}
export interface RevoteSubmitted extends Durable {
  sessionId: string;
  roundId: string;
  roundIndex: number;
  userId: string;
  eventType: "PI_REVOTE_SUBMIT";
}
export interface SharedCardCreated extends Durable {
  sessionId: string;
  roundId: string;
  roundIndex: number;
  cardId?: string;
}
export interface ChatMessage extends Durable {
  id: string;
  sessionId: string;
  roundIndex: number;
  message: string;
  userId: string;
  userName: string;
}
/** docs/realtime.md "Durable events"; docs/api.md "Phase deadlines". */
export interface RoundTimerChanged extends Durable {
  sessionId: string;
  roundId: string;
  roundIndex: number;
  status: RoundStatus;
  action: "pause" | "resume" | "extend" | "set";
  state: TimerState;
  endsAt: Timestamp | null;
  remainingSec: number | null;
  by: string;
}
/** docs/realtime.md "Durable events"; docs/api.md "Phase deadlines". */
export interface RoundTimeUp extends Durable {
  sessionId: string;
  roundId: string;
  roundIndex: number;
  status: RoundStatus;
  endsAt: Timestamp;
}
/** docs/realtime.md "Durable events"; docs/api.md "Phase deadlines". */
export interface SessionSettingsChanged extends Durable {
  sessionId: string;
  autoAdvance: boolean;
  by: string;
}
/** docs/realtime.md "Durable events": the final tally of a closed VOTING or REVOTING. */
export interface RoundResults extends Durable {
  sessionId: string;
  roundId: string;
  roundIndex: number;
  phase: "VOTE" | "REVOTE";
  counts: Record<string, number>;
  total: number;
}

/** Durable events: stored, numbered by `seq`, replayed after a reconnect. */
export interface DurableEvents {
  "session.started": SessionStarted;
  "session.statusChanged": SessionStatusChanged;
  "session.ended": SessionEnded;
  "round.advanced": RoundAdvanced;
  "prompt.updated": PromptUpdated;
  "vote.submitted": VoteSubmitted;
  "revote.submitted": RevoteSubmitted;
  "sharedCard.created": SharedCardCreated;
  "chat.message": ChatMessage;
  "round.timerChanged": RoundTimerChanged;
  "round.timeUp": RoundTimeUp;
  "session.settingsChanged": SessionSettingsChanged;
  "round.results": RoundResults;
}
export type DurableEventName = keyof DurableEvents;

export interface UserJoined {
  userId: string;
  userName: string;
  sessionId: string;
  timestamp: Timestamp;
}
export interface UserLeft {
  userId: string;
  sessionId: string;
  userName?: string;
  timestamp: Timestamp;
}
export interface ChatTyping {
  sessionId: string;
  userId: string;
  userName: string;
  isTyping: boolean;
  timestamp: Timestamp;
}
export interface ChatRead {
  sessionId: string;
  userId: string;
  messageId: string;
  timestamp: Timestamp;
}
export interface AuthExpired {
  timestamp: Timestamp;
}

/** Ephemeral signals: not stored, no `seq`, never replayed; passed through as they come. */
export interface EphemeralEvents {
  userJoined: UserJoined;
  userLeft: UserLeft;
  "chat.typing": ChatTyping;
  "chat.read": ChatRead;
  "auth.expired": AuthExpired;
}
export type EphemeralEventName = keyof EphemeralEvents;

export type ServerEvents = DurableEvents & EphemeralEvents;
export type ServerEventName = keyof ServerEvents;

/** One entry of the event log, as in a join ack's `missed` and in `GET …/feed`. */
export interface StoredEvent<N extends DurableEventName = DurableEventName> {
  seq: number;
  event: N;
  data: DurableEvents[N];
  created_at: Timestamp;
}

export interface PresenceEntry {
  userId: string;
  userName: string;
}

// -- acknowledgements --------------------------------------------------------------------------

export type AckErrorCode =
  | "BAD_REQUEST"
  | "UNAUTHORIZED"
  | "FORBIDDEN"
  | "NOT_FOUND"
  | "CONFLICT"
  | "RATE_LIMITED"
  | "INTERNAL";

export interface AckError {
  success: false;
  error: { code: AckErrorCode; message: string };
}

export interface JoinSessionAck {
  success: true;
  sessionId: string;
  /** The session's last durable seq when the join was answered. */
  seq: number;
  presence: PresenceEntry[];
  /** Present when `lastSeq` was sent: every durable event after it, in seq order. */
  missed?: StoredEvent[];
  /** Too far behind (or ahead) to replay: read `GET …/feed` instead. */
  resync?: boolean;
}
export interface LeaveSessionAck {
  success: true;
  sessionId: string;
}
export interface TypingAck {
  success: true;
}
export interface MarkReadAck {
  success: true;
  sessionId: string;
  /** The user's read cursor after the call (never moves backwards). */
  messageId: string;
}
export interface RefreshTokenAck {
  success: true;
  /** The new token's exp, or null when it has none. */
  expiresAt: Timestamp | null;
}

export type Ack<T> = T | AckError;

/** Client → server events, their payloads and their answers. */
export interface ClientEvents {
  joinSession: { payload: { sessionId: string; lastSeq?: number | null }; ack: JoinSessionAck };
  leaveSession: { payload: { sessionId: string }; ack: LeaveSessionAck };
  typing: { payload: { sessionId: string; isTyping: boolean }; ack: TypingAck };
  markRead: { payload: { sessionId: string; messageId: string }; ack: MarkReadAck };
  refreshToken: { payload: { token: string }; ack: RefreshTokenAck };
}
