// Every request field docs/api.md documents, and the answer fields a front end reads, used
// through the published entry points. Type-checked by test/types.test.mjs (not run).
import { createClient, type SessionFeed, type StateChange, UserSwitchError } from "@studygroups/client";
import { msgpack } from "@studygroups/client/msgpack";
import { chatRecordOf, createRest, type PromptBody, type Rest } from "@studygroups/client/rest";

const rest: Rest = createRest({ baseUrl: "http://127.0.0.1:8000", getToken: () => "jwt" });

export async function everyDocumentedField(): Promise<unknown[]> {
  const group = await rest.createGroup({ name: "Physics", scope_type: "course", scope_id: "p1" });
  await rest.updateGroup(group.id, { name: "Physics 2", scope_type: null, scope_id: null });
  const session = await rest.createSession(group.id, {
    rounds_count: 2,
    mode: "PI",
    layer: "L2",
    content_id: "unit-1",
    auto_advance: true,
  });
  const round = session.rounds[0];
  const prompt: PromptBody = {
    prompt_text: "Which falls faster?",
    options: ["feather", "hammer", "same"],
    linked_highlight_ids: ["h1"],
    correct_option: "same",
    timers: { vote_sec: 30, discuss_sec: 120, revote_sec: 30, explain_sec: 90 },
  };
  const set = await rest.setPrompt(session.id, 1, prompt, { idempotencyKey: "k1" });
  await rest.setPrompt(session.id, 1, { prompt_text: "Open question", correct_option: null, timers: { vote_sec: 5 } });
  const advanced = await rest.advance(session.id, 1, "VOTING", true);
  const paused = await rest.timer(session.id, 1, "pause");
  const extended = await rest.timer(session.id, 1, "extend", 30, { idempotencyKey: "k2" });
  const settings = await rest.setSettings(session.id, { auto_advance: false });
  const results = await rest.results(session.id, 1);
  const report = await rest.report(session.id);
  const csv: string = await rest.reportCsv(session.id);
  const log = await rest.listChat(group.id, session.id, 1);
  return [
    session.server_time,
    session.auto_advance,
    session.seq,
    round?.timer.state,
    round?.timer.ends_at,
    round?.timer.remaining_sec,
    round?.correct_option,
    round?.vote_progress.voted_user_ids,
    set.correct_option,
    set.timers.explain_sec,
    set.timer.state,
    set.seq,
    advanced.correct_option,
    advanced.timer.ends_at,
    advanced.previous_status,
    advanced.session_id,
    paused.timer.remaining_sec,
    extended.seq,
    settings.auto_advance,
    settings.server_time,
    results.vote?.counts["A"],
    results.switches?.[0]?.from,
    results.correct?.normalized_change,
    report.rounds[0]?.results.eligible,
    report.rounds[0]?.explanation?.key_terms,
    report.members[0]?.rounds[0]?.revote_correct,
    csv.length,
    log.read_cursors[0]?.message_id,
  ];
}

export function realtime(): void {
  const client = createClient({
    baseUrl: "http://127.0.0.1:8000",
    getToken: () => "jwt",
    onTokenRefresh: async () => "fresh jwt",
    parser: msgpack,
    membershipCheckMs: 30_000,
  });
  client.on("state", ({ state, error }: StateChange) => {
    if (state === "offline" && error instanceof UserSwitchError) console.log(error.user, error.tokenUser);
  });
  client.on("error", (error: Error) => console.log(error.message));
  const feed: SessionFeed = client.join("s1", { fromSeq: 0 });
  feed.on("round.advanced", (event) => console.log(event.endsAt, event.durationSec, event.correctOption, event.auto));
  feed.on("round.timeUp", (event) => console.log(event.endsAt));
  feed.on("round.timerChanged", (event) => console.log(event.state, event.remainingSec));
  feed.on("session.settingsChanged", (event) => console.log(event.autoAdvance));
  feed.on("round.results", (event) => console.log(event.counts, event.phase));
  feed.on("chat.message", (event) => console.log(chatRecordOf(event, "SCRIBE").created_at));
  feed.on("removed", (error) => console.log(error.code, feed.removed, feed.active));
  feed.on("error", (error) => console.log(error.code));
  void client.typing("s1", false).then((ack) => ack.success);
  feed.leave();
}
