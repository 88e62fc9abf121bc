// The declarations cannot drift silently from the server: a whole session is run against a real
// `studygroups serve`, and every REST answer and live event it produced is written out as a
// typed object literal and compiled with tsc (strict, exactOptionalPropertyTypes), so a field
// the types lack (excess property) or declare but never get (missing property) fails. The same
// compile checks testing/types/usage.ts (every documented request field) and the README's React
// hook as written, all through the package's own entry points.

import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { after, before, test } from "node:test";

import { createClient } from "../dist/index.js";
import { makeSession, mint, restAs, startServer, waitFor } from "../testing/server.mjs";

const LIBRARY = join(dirname(fileURLToPath(import.meta.url)), "..");
const TYPES = join(LIBRARY, "testing", "types");

let server;
before(async () => {
  server = await startServer();
});
after(async () => {
  await server?.stop();
});

/** A scratch app that depends on the library (linked) and on React's and react-query's types. */
function scratchApp() {
  const dir = mkdtempSync(join(tmpdir(), "studygroups-types-"));
  const modules = join(dir, "node_modules");
  mkdirSync(join(modules, "@studygroups"), { recursive: true });
  symlinkSync(LIBRARY, join(modules, "@studygroups", "client"), "dir");
  for (const [name, shim] of [["react", "react.d.ts"], ["@tanstack/react-query", "react-query.d.ts"]]) {
    mkdirSync(join(modules, name), { recursive: true });
    writeFileSync(join(modules, name, "package.json"), JSON.stringify({ name, version: "0.0.0", types: "index.d.ts" }));
    copyFileSync(join(TYPES, shim), join(modules, name, "index.d.ts"));
  }
  writeFileSync(join(dir, "package.json"), JSON.stringify({ name: "app", private: true, type: "module" }));
  writeFileSync(
    join(dir, "tsconfig.json"),
    JSON.stringify({
      compilerOptions: {
        target: "ES2020",
        module: "NodeNext",
        moduleResolution: "NodeNext",
        lib: ["ES2020", "DOM"],
        strict: true,
        noUncheckedIndexedAccess: true,
        exactOptionalPropertyTypes: true,
        noEmit: true,
        skipLibCheck: true,
        types: [],
      },
      include: ["*.ts"],
    }),
  );
  return dir;
}

function typeCheck(dir) {
  const tsc = join(LIBRARY, "node_modules", "typescript", "bin", "tsc");
  const result = spawnSync(process.execPath, [tsc, "-p", dir], { encoding: "utf8" });
  return `${result.stdout}${result.stderr}`.trim();
}

/** The README's React example, exactly as printed. */
function readmeHook() {
  const readme = readFileSync(join(LIBRARY, "README.md"), "utf8");
  const block = readme.match(/```tsx\n([\s\S]*?)```/);
  assert.ok(block, "the README has a tsx block");
  return block[1];
}

/** Run a whole two-round session through every REST helper; returns [type, answer] pairs and
 * the live events a member's feed got. */
async function wholeSession() {
  const scenario = await makeSession(server.url, ["ana", "bo", "cy"]);
  const { groupId, sessionId } = scenario;
  const [ana, bo, cy] = ["ana", "bo", "cy"].map((user) => restAs(server.url, user));
  const member = createClient({ baseUrl: server.url, getToken: () => mint("cy") });
  const events = [];
  const feed = member.join(sessionId, { fromSeq: 0 });
  feed.onAny((event, data) => events.push([event, data]));
  const answers = [];
  const keep = (type, answer) => {
    answers.push([type, answer]);
    return answer;
  };
  try {
    await waitFor(() => feed.caughtUp, "the member caught up");
    keep("GroupDetail", await ana.getGroup(groupId));
    keep("GroupDetail", await ana.updateGroup(groupId, { name: "Renamed", scope_type: "course", scope_id: "c1" }));
    keep("MyGroup[]", await bo.listGroups());
    keep("GroupContent", await ana.addContent(groupId, "unit-1"));
    keep("Membership", await ana.setRole(groupId, "bo", "MOD"));
    keep("SessionSummary[]", await bo.listSessions(groupId));
    keep(
      "WithSeq<Round>",
      await ana.setPrompt(sessionId, 1, {
        prompt_text: "Which falls faster in vacuum?",
        options: ["feather", "hammer", "same"],
        correct_option: "same",
        timers: { vote_sec: 30, discuss_sec: 60 },
      }),
    );
    const advance = async (to) =>
      keep("WithSeq<Round & { session_id: string; previous_status: RoundStatus }>", await ana.advance(sessionId, 1, to, true));
    await advance("VOTING");
    keep("SessionDetail", await cy.getSession(sessionId)); // a member's view: correct_option hidden
    keep("SubmitAnswer", await bo.submit(sessionId, 1, "PI_VOTE_SUBMIT", { choice: "hammer" }));
    keep("SubmitAnswer", await cy.submit(sessionId, 1, "PI_VOTE_SUBMIT", { choice: "same" }));
    keep("WithSeq<TimedRound>", await ana.timer(sessionId, 1, "pause"));
    keep("WithSeq<TimedRound>", await cy.timer(sessionId, 1, "resume")); // the TIMEKEEPER
    keep("WithSeq<TimedRound>", await ana.timer(sessionId, 1, "extend", 30));
    keep("WithSeq<SessionDetail>", await ana.setSettings(sessionId, { auto_advance: true }));
    keep("RoundResultsAnswer", await cy.results(sessionId, 1));
    await advance("DISCUSSING");
    keep("ChatMessageRecord", await cy.postChat(groupId, sessionId, 1, "It is the same"));
    await waitFor(() => events.some(([name]) => name === "chat.message"), "the chat event");
    const log = keep("ChatLog", await cy.listChat(groupId, sessionId));
    assert.equal(log.messages.length, 1);
    await advance("REVOTING");
    keep("SubmitAnswer", await bo.submit(sessionId, 1, "PI_REVOTE_SUBMIT", { choice: "same" }));
    await advance("EXPLAINING");
    keep(
      "SubmitAnswer",
      await bo.submit(sessionId, 1, "GROUP_EXPLANATION_SUBMIT", {
        explanation: "No air, no drag.",
        group_choice: "same",
        key_terms: ["vacuum"],
      }),
    );
    await advance("DONE");
    keep("Activity[]", await cy.listActivity(sessionId, 1));
    keep("SharedCard[]", await cy.sharedCards(sessionId));
    keep("RoundResultsAnswer", await cy.results(sessionId, 1));
    keep("SessionDetail", await ana.getSession(sessionId));
    keep("FeedPage", await cy.feed(sessionId, 0, 5));
    keep("{ session_id: string; presence: PresenceEntry[] }", await cy.presence(sessionId));
    keep("WithSeq<SessionDetail>", await ana.setSessionStatus(sessionId, "POST"));
    keep("WithSeq<SessionDetail>", await ana.setSessionStatus(sessionId, "FINISHED"));
    keep("Report", await ana.report(sessionId));
    const csv = await ana.reportCsv(sessionId);
    assert.match(csv, /^session_id,round_index,user_id/);
    const head = (await ana.getSession(sessionId)).seq;
    await waitFor(() => feed.lastSeq === head, "every event on the member's feed");
    keep("Membership", await ana.removeMember(groupId, "cy"));
  } finally {
    member.close();
  }
  return { answers, events };
}

function answersModule({ answers, events }) {
  const lines = [
    'import type { PresenceEntry, RoundStatus, ServerEvents } from "@studygroups/client";',
    "import type {",
    "  Activity, ChatLog, ChatMessageRecord, FeedPage, GroupContent, GroupDetail, Membership, MyGroup,",
    "  Report, Round, RoundResultsAnswer, SessionDetail, SessionSummary, SharedCard,",
    "  SubmitAnswer, TimedRound, WithSeq,",
    '} from "@studygroups/client/rest";',
    "",
  ];
  answers.forEach(([type, answer], i) => lines.push(`export const answer${i}: ${type} = ${JSON.stringify(answer, null, 1)};`));
  events.forEach(([name, data], i) => lines.push(`export const event${i}: ServerEvents[${JSON.stringify(name)}] = ${JSON.stringify(data, null, 1)};`));
  return lines.join("\n") + "\n";
}

test("real answers and events of a whole session, the documented fields and the README hook type-check", async () => {
  const session = await wholeSession();
  const names = new Set(session.events.map(([name]) => name));
  for (const name of ["round.advanced", "round.timerChanged", "session.settingsChanged", "round.results", "chat.message", "sharedCard.created", "session.ended"]) {
    assert.ok(names.has(name), `the session produced ${name}`);
  }
  const dir = scratchApp();
  try {
    writeFileSync(join(dir, "answers.ts"), answersModule(session));
    copyFileSync(join(TYPES, "usage.ts"), join(dir, "usage.ts"));
    writeFileSync(join(dir, "use-session-events.ts"), readmeHook());
    assert.equal(typeCheck(dir), "");
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("a type the answers do not match is reported (the check can fail)", () => {
  const dir = scratchApp();
  try {
    writeFileSync(
      join(dir, "wrong.ts"),
      'import type { GroupContent } from "@studygroups/client/rest";\n' +
        'export const c: GroupContent = { content_id: "c", position: 1, added_by: "ana", added_at: "t", surprise: 1 };\n',
    );
    assert.match(typeCheck(dir), /surprise/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
