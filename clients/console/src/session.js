// The session page: state, events and the render loop. The parts live in their own modules
// (clock.js: countdown and timer controls; facilitator.js; panels.js: one member panel per
// phase; chat.js; results.js: chart and report). Sections are rebuilt only when their key
// changes (inputs keep their text and focus); everything is rendered at most once per
// animation frame, however many events arrive (a 300-member session).
import { h, replace, frameScheduler, toast } from "./dom.js";
import { createClock } from "./clock.js";
import { createFacilitator } from "./facilitator.js";
import { createPhasePanel, PHASE_LABEL } from "./panels.js";
import { createChat } from "./chat.js";
import { createResults } from "./results.js";
import { describe } from "./errors.js";

const LOBBY_EVERY_MS = 500;

export function openSession({ api, live, me, sessionId, groupId, root, onBack, onRemoved }) {
  const S = {
    detail: null,
    skew: 0, // server clock minus ours, in ms (from server_time)
    chat: [],
    chatIndex: new Map(), // message id → position in S.chat
    cursors: new Map(),
    typing: new Map(),
    presence: new Map(),
    presenceVersion: 0,
    gate: null,
    removed: false,
    removedIds: new Set(), // members removed from the group (read with the group every 15 s)
  };
  const keys = {};
  const schedule = frameScheduler(render);
  let refetching = null;
  let refetchAgain = false;
  let rendered = false;
  let closed = false;
  let lobbyAt = 0;
  let lobbyLater = null;

  const ctx = {
    S, api, live, me, sessionId, groupId, schedule, keyed, act, refetch, nameOf, myRole,
    currentRound, addMessage,
  };
  const title = h("h2", { id: "session-title" }, "Session");
  const status = h("p", { class: "status-line", "aria-live": "polite" });
  const lobby = h("section", { class: "card lobby", "aria-labelledby": "lobby-h" });
  const removedNote = h("div", { class: "removed", role: "alert" });
  const clock = createClock(ctx);
  const facil = createFacilitator(ctx);
  const phase = createPhasePanel(ctx);
  const chat = createChat(ctx);
  const results = createResults(ctx);
  // The facilitator's tools come before the panel every member has (on a phone too), right
  // under the clock; the chat sits beside them on a wide screen.
  replace(
    root,
    h("button", { class: "link", onClick: () => { leave(); onBack(); } }, "← Groups"),
    title, status, removedNote, clock.node, facil.node, phase.node, chat.node, lobby, results.node,
  );

  // Joined once the detail and the chat history are in, from the detail's seq: what happened
  // before is in them (a reload replays no old toast), what happens after comes as events.
  let feed = null;
  const leave = () => feed && feed.leave();
  refetch();
  readGroup();
  // Notices a removal with no event for it (this member's, or another's for "Seen by").
  const poll = setInterval(() => { refetch(); readGroup(); }, 15000);
  const ticker = setInterval(() => clock.tick(), 250);

  function onEvent(event, data) {
    switch (event) {
      case "presence":
        S.presence = new Map(data.presence.map((p) => [p.userId, p.userName]));
        S.presenceVersion++;
        break;
      case "userJoined":
        S.presence.set(data.userId, data.userName);
        S.presenceVersion++;
        break;
      case "userLeft":
        S.presence.delete(data.userId);
        S.presenceVersion++;
        S.typing.delete(data.userId);
        break;
      case "chat.message":
        addMessage({ id: data.id, user_id: data.userId, user_name: data.userName, message: data.message, round_index: data.roundIndex });
        S.typing.delete(data.userId);
        break;
      case "chat.typing":
        if (data.isTyping) S.typing.set(data.userId, { name: data.userName, until: Date.now() + 6000 });
        else S.typing.delete(data.userId);
        break;
      case "chat.read":
        S.cursors.set(data.userId, data.messageId);
        break;
      case "vote.submitted":
      case "revote.submitted":
        countVote(event, data);
        break;
      case "sharedCard.created":
        // The scribe wrote it: only the others are told it has arrived.
        if (myRole() !== "SCRIBE") toast("The group's shared card has arrived");
        refetch();
        break;
      case "join.refused":
        if (data.error.code === "FORBIDDEN" || data.error.code === "NOT_FOUND") markRemoved();
        break;
      default:
        if (event.startsWith("round.") || event.startsWith("session.") || event === "prompt.updated") {
          if (event === "round.advanced") S.gate = null;
          refetch();
        }
    }
    schedule();
  }

  function countVote(event, data) {
    const round = S.detail && S.detail.rounds.find((r) => r.round_index === data.roundIndex);
    if (!round) return;
    const p = round.vote_progress;
    const list = event === "vote.submitted" ? p.voted_user_ids : p.revoted_user_ids;
    if (!list.includes(data.userId)) {
      list.push(data.userId);
      if (event === "vote.submitted") p.voted = list.length;
      else p.revoted = list.length;
    }
  }

  async function readGroup() {
    try {
      const group = await api.group(groupId);
      S.removedIds = new Set(group.members.filter((m) => m.status === "REMOVED").map((m) => m.user_id));
      schedule();
    } catch {
      // refetch() notices this member's own removal
    }
  }

  function addMessage(m) {
    if (S.chatIndex.has(m.id)) return;
    S.chatIndex.set(m.id, S.chat.length);
    S.chat.push(m);
  }

  function markRemoved() {
    S.removed = true;
    clearInterval(poll);
    leave();
    replace(removedNote, "You are no longer a member of this group: you were removed, so this session is closed to you.");
    onRemoved && onRemoved();
    schedule();
  }

  async function refetch() {
    if (S.removed) return;
    if (refetching) {
      refetchAgain = true;
      return refetching;
    }
    refetching = (async () => {
      try {
        const before = Date.now();
        const detail = await api.session(sessionId);
        if (detail.server_time) S.skew = Date.parse(detail.server_time) - (before + Date.now()) / 2;
        S.detail = detail;
        if (!feed) {
          const history = await api.chat(groupId, sessionId);
          for (const m of history.messages) addMessage(m);
          for (const c of history.read_cursors) S.cursors.set(c.user_id, c.message_id);
          if (!S.removed && !closed) {
            feed = live.join(sessionId, { fromSeq: detail.seq ?? 0 });
            feed.onAny((event, data) => onEvent(event, data));
          }
        }
      } catch (error) {
        if (error.status === 403 || error.status === 404) markRemoved();
      } finally {
        refetching = null;
        schedule();
        if (refetchAgain) {
          refetchAgain = false;
          refetch();
        }
      }
    })();
    return refetching;
  }

  // Runs a user's action: its answer to `done`, a refusal as a toast in people's words (a 403
  // to a member who does not facilitate means they were removed); `how` says what failed and
  // whether the typed text was kept (errors.js). Null when it failed.
  async function act(promise, done, how) {
    try {
      const answer = await promise;
      if (done) done(answer);
      refetch();
      return answer;
    } catch (error) {
      if (error.status === 403 && !S.detail?.viewer_can_facilitate) markRemoved();
      else toast(describe(error, how));
      return null;
    }
  }

  function keyed(name, key, build) {
    if (keys[name] === key) return false;
    keys[name] = key;
    build();
    return true;
  }
  keyed.reset = (name) => { keys[name] = null; };

  function currentRound() {
    const rounds = S.detail.rounds;
    return rounds.find((r) => r.status !== "DONE" && r.status !== "CREATED") || rounds.find((r) => r.status === "CREATED") || rounds[rounds.length - 1];
  }
  function myRole() {
    const m = S.detail.members.find((x) => x.user_id === me.sub);
    return m ? m.role : null;
  }
  let names = { detail: null, map: new Map() };
  function nameOf(userId) {
    if (S.detail && names.detail !== S.detail) names = { detail: S.detail, map: new Map(S.detail.members.map((m) => [m.user_id, m.user_name])) };
    return names.map.get(userId) || S.presence.get(userId) || userId;
  }

  function render() {
    if (S.removed) {
      for (const node of [phase.node, facil.node, lobby, chat.node, results.node, clock.node, status]) node.hidden = true;
      return;
    }
    if (!S.detail) return;
    const d = S.detail;
    const round = currentRound();
    const role = myRole();
    const line = `Round ${round.round_index} of ${d.rounds_count} · ${roundLine(d, round)}` + (role ? ` · your role: ${role}` : "");
    keyed("title", `${d.status}|${line}`, () => {
      replace(title, `Session · ${d.status}`);
      replace(status, line);
    });
    // Who is here is redrawn at most twice a second (a class arriving or dropping at once).
    const lobbyKey = `${S.presenceVersion}|${d.members.map((m) => m.user_id + m.role).join()}`;
    const wait = lobbyAt + LOBBY_EVERY_MS - Date.now();
    if (keys.lobby !== lobbyKey && wait > 0) {
      if (!lobbyLater) lobbyLater = setTimeout(() => { lobbyLater = null; schedule(); }, wait);
    } else {
      keyed("lobby", lobbyKey, () => { lobbyAt = Date.now(); renderLobby(d); });
    }
    // Between rounds the last results stay near the top for everyone (on a phone too).
    const between = round.status === "CREATED" && d.rounds.some((r) => r.status === "DONE");
    keyed("results-place", String(between), () => {
      if (between) root.insertBefore(results.node, phase.node);
      else root.insertBefore(results.node, lobby.nextSibling);
    });
    clock.render(d, round);
    facil.render(d, round);
    phase.render(d, round);
    chat.render(d, round);
    results.render(d);
    if (!rendered) {
      rendered = true;
      performance.mark("session-rendered"); // first load to a usable session page (measured)
    }
  }

  // A round not started in a running session says what comes next, to whom.
  function roundLine(d, round) {
    if (d.status !== "RUNNING" || round.status !== "CREATED") return PHASE_LABEL[round.status];
    return d.viewer_can_facilitate
      ? "Not started — write the question, then Move to: Vote"
      : "Waiting for the next question";
  }

  function renderLobby(d) {
    replace(
      lobby,
      h("h3", { id: "lobby-h" }, `Who is here (${d.members.filter((m) => S.presence.has(m.user_id)).length} of ${d.members.length})`),
      h("p", { class: "hint" }, "Roles are the students' discussion roles, dealt by the server; the group's OWNER or MOD keeps the controls."),
      h("ul", { class: "people" }, d.members.map((m) =>
        h("li", { class: S.presence.has(m.user_id) ? "here" : "away" },
          h("span", { class: "dot", "aria-hidden": "true" }),
          h("span", { class: "who" }, m.user_name),
          h("span", { class: "role" }, m.role),
          h("span", { class: "sr-only" }, S.presence.has(m.user_id) ? " (present)" : " (away)"),
        ))),
    );
  }

  return {
    close() {
      closed = true;
      clearInterval(poll);
      clearInterval(ticker);
      clearTimeout(lobbyLater);
      chat.close();
      results.close();
      leave();
    },
  };
}
