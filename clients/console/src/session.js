// The session page: lobby, facilitator tools, one member panel per phase, chat. Sections are
// rebuilt only when their key changes (so inputs keep their text and focus); the live parts
// are refreshed at most once per animation frame.
import { h, replace, field, frameScheduler, toast } from "./dom.js";

const NEXT = { CREATED: "VOTING", VOTING: "DISCUSSING", DISCUSSING: "REVOTING", REVOTING: "EXPLAINING", EXPLAINING: "DONE" };
const PHASE_LABEL = { CREATED: "Not started", VOTING: "Vote", DISCUSSING: "Discussion", REVOTING: "Revote", EXPLAINING: "Explanation", DONE: "Done" };
const TIMER_KEY = { VOTING: "vote_sec", DISCUSSING: "discuss_sec", REVOTING: "revote_sec", EXPLAINING: "explain_sec" };

export function openSession({ api, live, me, sessionId, groupId, root, onBack, onRemoved }) {
  const S = {
    detail: null,
    skew: 0, // server clock minus ours, in ms (from server_time)
    chat: [],
    chatIds: new Set(),
    cursors: new Map(),
    typing: new Map(),
    presence: new Map(),
    gate: null,
    results: new Map(),
    report: null,
    removed: false,
    voted: new Map(),
  };
  const keys = {};
  const schedule = frameScheduler(render);
  let refetching = null;
  let refetchAgain = false;

  const title = h("h2", { id: "session-title" }, "Session");
  const status = h("p", { class: "status-line", "aria-live": "polite" });
  const lobby = h("section", { class: "card", "aria-labelledby": "lobby-h" });
  const facil = h("section", { class: "card facilitator", "aria-label": "Facilitator tools" });
  const phase = h("section", { class: "card phase", "aria-live": "polite", "aria-label": "Current phase" });
  const countdown = h("p", { class: "countdown", role: "timer", "aria-live": "off" });
  const chatSection = buildChat();
  const resultsSection = h("section", { class: "card results", "aria-label": "Results" });
  const removedNote = h("div", { class: "removed", role: "alert" });
  replace(
    root,
    h("button", { class: "link", onClick: () => { feed.leave(); onBack(); } }, "← Groups"),
    title, status, removedNote, countdown, phase, chatSection.node, facil, lobby, resultsSection,
  );

  const feed = live.join(sessionId, { fromSeq: 0 });
  feed.onAny((event, data) => onEvent(event, data));
  refetch(true);
  const poll = setInterval(() => refetch(false), 15000); // notices a removal with no event for it
  const ticker = setInterval(updateCountdown, 250);

  function onEvent(event, data) {
    switch (event) {
      case "presence":
        S.presence = new Map(data.presence.map((p) => [p.userId, p.userName]));
        break;
      case "userJoined":
        S.presence.set(data.userId, data.userName);
        break;
      case "userLeft":
        S.presence.delete(data.userId);
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
        toast("The group's shared card has arrived");
        refetch(false);
        break;
      case "join.refused":
        if (data.error.code === "FORBIDDEN" || data.error.code === "NOT_FOUND") markRemoved();
        break;
      default:
        if (event.startsWith("round.") || event.startsWith("session.") || event === "prompt.updated") {
          if (event === "round.advanced") S.gate = null;
          refetch(false);
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

  function addMessage(m) {
    if (S.chatIds.has(m.id)) return;
    S.chatIds.add(m.id);
    S.chat.push(m);
  }

  function markRemoved() {
    S.removed = true;
    clearInterval(poll);
    feed.leave();
    replace(removedNote, "You are no longer a member of this group: you were removed, so this session is closed to you.");
    onRemoved && onRemoved();
    schedule();
  }

  async function refetch(first) {
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
        if (first) {
          const chat = await api.chat(groupId, sessionId);
          for (const m of chat.messages) addMessage(m);
          for (const c of chat.read_cursors) S.cursors.set(c.user_id, c.message_id);
        }
      } catch (error) {
        if (error.status === 403 || error.status === 404) markRemoved();
      } finally {
        refetching = null;
        schedule();
        if (refetchAgain) {
          refetchAgain = false;
          refetch(false);
        }
      }
    })();
    return refetching;
  }

  async function act(promise, done) {
    try {
      const answer = await promise;
      if (done) done(answer);
      refetch(false);
      return answer;
    } catch (error) {
      if (error.status === 403 && !S.detail?.viewer_can_facilitate) {
        markRemoved();
      } else {
        toast(error.message);
      }
      return null;
    }
  }

  // -- derived ---------------------------------------------------------------------------------
  function currentRound() {
    const rounds = S.detail.rounds;
    return rounds.find((r) => r.status !== "DONE" && r.status !== "CREATED") || rounds.find((r) => r.status === "CREATED") || rounds[rounds.length - 1];
  }
  function myRole() {
    const m = S.detail.members.find((x) => x.user_id === me.sub);
    return m ? m.role : null;
  }
  function nameOf(userId) {
    const m = S.detail && S.detail.members.find((x) => x.user_id === userId);
    return m ? m.user_name : S.presence.get(userId) || userId;
  }

  // -- render ----------------------------------------------------------------------------------
  function render() {
    if (S.removed) {
      for (const node of [phase, facil, lobby, chatSection.node, resultsSection, countdown, status]) node.hidden = true;
      return;
    }
    if (!S.detail) return;
    const d = S.detail;
    const round = currentRound();
    replace(title, `Session · ${d.status}`);
    replace(status, `Round ${round.round_index} of ${d.rounds_count} · ${PHASE_LABEL[round.status]}` + (myRole() ? ` · your role: ${myRole()}` : ""));
    renderLobby(d);
    renderPhase(d, round);
    renderFacilitator(d, round);
    chatSection.update(round);
    renderResults(d, round);
    updateCountdown();
  }

  function renderLobby(d) {
    replace(
      lobby,
      h("h3", { id: "lobby-h" }, `Who is here (${S.presence.size} of ${d.members.length})`),
      h("ul", { class: "people" }, d.members.map((m) =>
        h("li", { class: S.presence.has(m.user_id) ? "here" : "away" },
          h("span", { class: "dot", "aria-hidden": "true" }),
          h("span", { class: "who" }, m.user_name),
          h("span", { class: "role" }, m.role),
          h("span", { class: "sr-only" }, S.presence.has(m.user_id) ? " (present)" : " (away)"),
        ))),
    );
  }

  function keyed(name, key, build) {
    if (keys[name] === key) return false;
    keys[name] = key;
    build();
    return true;
  }

  function renderPhase(d, round) {
    const role = myRole();
    keyed("phase", `${d.status}|${round.round_index}|${round.status}|${round.prompt_text}|${(round.options || []).join("\u0001")}|${role}|${round.has_shared_card}`, () => {
      const prompt = round.prompt_text ? h("p", { class: "prompt" }, round.prompt_text) : h("p", { class: "muted" }, "The facilitator has not written the question yet.");
      const panel = [h("h3", null, PHASE_LABEL[round.status]), prompt];
      if (d.status === "CREATED") panel.push(h("p", null, "Waiting for the facilitator to start the session."));
      else if (d.status === "FINISHED") panel.push(h("p", null, "This session is finished."));
      else if (round.status === "VOTING" || round.status === "REVOTING") panel.push(voteForm(round));
      else if (round.status === "DISCUSSING") panel.push(h("p", null, "Discuss your answers with the group in the chat."));
      const card = (d.shared_cards || []).find((c) => c.round_index === round.round_index);
      if (round.status === "EXPLAINING") panel.push(role === "SCRIBE" ? explainForm(round, card) : h("p", null, "The scribe is writing the group's explanation."));
      if (card) panel.push(sharedCard(card));
      replace(phase, ...panel);
    });
  }

  function voteForm(round) {
    const kind = round.status === "VOTING" ? "PI_VOTE_SUBMIT" : "PI_REVOTE_SUBMIT";
    const options = round.options && round.options.length ? round.options : ["A", "B", "C", "D"];
    const name = `choice-${round.round_index}-${round.status}`;
    const done = h("p", { class: "confirm", role: "status" });
    const form = h("form", { class: "vote", onSubmit: (e) => {
      e.preventDefault();
      const picked = form.querySelector(`input[name="${name}"]:checked`);
      if (!picked) return toast("Pick an option first");
      act(api.submit(sessionId, round.round_index, kind, { choice: picked.value }), () => replace(done, `Your ${round.status === "VOTING" ? "vote" : "revote"}: ${picked.value}`));
    } },
      h("fieldset", null, h("legend", null, round.status === "VOTING" ? "Your answer" : "Your answer after the discussion"),
        options.map((o, i) => h("label", { class: "option" }, h("input", { type: "radio", name, value: o, required: i === 0 }), h("span", null, o)))),
      h("button", { type: "submit", class: "primary" }, round.status === "VOTING" ? "Vote" : "Revote"),
      done);
    return form;
  }

  function explainForm(round, card) {
    const text = h("textarea", { rows: 4, maxlength: 2000, required: true, value: card ? card.explanation : "" });
    const choice = h("select", null, h("option", { value: "" }, "—"), (round.options || []).map((o) => h("option", { value: o, selected: card && card.group_choice === o }, o)));
    const terms = h("input", { type: "text", placeholder: "comma separated", value: card && card.key_terms ? card.key_terms.join(", ") : "" });
    const done = h("p", { class: "confirm", role: "status" });
    return h("form", { class: "explain", onSubmit: (e) => {
      e.preventDefault();
      const payload = { explanation: text.value.trim() };
      if (choice.value) payload.group_choice = choice.value;
      const keyTerms = terms.value.split(",").map((t) => t.trim()).filter(Boolean);
      if (keyTerms.length) payload.key_terms = keyTerms;
      act(api.submit(sessionId, round.round_index, "GROUP_EXPLANATION_SUBMIT", payload), () => replace(done, "Explanation saved."));
    } },
      field("The group's explanation", text), field("The group's answer", choice), field("Key terms", terms),
      h("button", { type: "submit", class: "primary" }, "Save the explanation"), done);
  }

  function sharedCard(card) {
    return h("article", { class: "shared-card", "aria-label": "Shared card" },
      h("h4", null, "Shared card"),
      h("p", null, card.explanation),
      card.group_choice ? h("p", null, "Group's answer: ", h("strong", null, card.group_choice)) : null,
      card.key_terms && card.key_terms.length ? h("p", { class: "muted" }, "Key terms: ", card.key_terms.join(", ")) : null);
  }

  const facilActions = h("div", { class: "actions" });
  const facilEditor = h("div", { class: "editor" });
  const facilTimer = h("div", { class: "timer" });
  const facilProgress = h("div", { id: "progress" });
  const facilTitle = h("h3");
  facil.append(facilTitle, facilActions, facilEditor, facilTimer, facilProgress);

  function renderFacilitator(d, round) {
    const role = myRole();
    const canTime = d.viewer_can_facilitate || (role === "TIMEKEEPER" && !!round.timer);
    facil.hidden = !canTime;
    if (facil.hidden) return;
    replace(facilTitle, d.viewer_can_facilitate ? "Facilitator" : "Timekeeper");
    keyed("actions", `${d.status}|${round.round_index}|${round.status}|${d.viewer_can_facilitate}|${S.gate ? S.gate.missing.join(",") : ""}`, () => {
      const parts = [];
      if (d.viewer_can_facilitate) {
        if (d.status === "CREATED") parts.push(h("button", { class: "primary", onClick: () => act(api.start(sessionId)) }, "Start the session"));
        if (d.status === "RUNNING" && NEXT[round.status]) parts.push(advanceControls(round));
        if (d.status === "RUNNING" || d.status === "POST") {
          parts.push(h("button", { class: "danger", onClick: () => act(api.setStatus(sessionId, "FINISHED")) }, "Finish the session"));
        }
      }
      replace(facilActions, ...parts);
    });
    // The editor is rebuilt for another round or another saved question, never under the
    // facilitator's fingers (a draft being typed is kept).
    const editable = d.viewer_can_facilitate && d.status !== "FINISHED" && (round.status === "CREATED" || round.status === "VOTING");
    const editorKey = editable ? `${round.round_index}|${round.prompt_text}|${(round.options || []).join("\u0001")}|${round.correct_option}|${JSON.stringify(round.timers)}` : "none";
    if (keys.editor !== editorKey && !(editable && facilEditor.dataset.dirty === "1" && keys.editorRound === round.round_index)) {
      keys.editor = editorKey;
      keys.editorRound = round.round_index;
      facilEditor.dataset.dirty = "";
      replace(facilEditor, editable ? promptEditor(round) : null);
    }
    keyed("timer", `${d.status}|${round.round_index}|${round.status}|${JSON.stringify(round.timer || null)}`, () => {
      replace(facilTimer, round.timer && d.status === "RUNNING" && TIMER_KEY[round.status] ? timerControls(round) : null);
    });
    const p = round.vote_progress;
    if (p) {
      replace(facilProgress,
        progressBar("Votes", p.voted, p.required),
        round.status !== "CREATED" && round.status !== "VOTING" ? progressBar("Revotes", p.revoted, p.required) : null);
    }
  }

  function progressBar(label, value, max) {
    return h("div", { class: "progress-row" },
      h("span", null, `${label}: ${value} of ${max}`),
      h("progress", { value, max: Math.max(max, 1), "aria-label": `${label}: ${value} of ${max}` }));
  }

  function promptEditor(round) {
    const text = h("textarea", { rows: 3, maxlength: 2000, required: true, value: round.prompt_text || "" });
    const options = h("textarea", { rows: 4, value: (round.options || []).join("\n") });
    const correct = h("select", null);
    const fillCorrect = () => {
      const opts = options.value.split("\n").map((o) => o.trim()).filter(Boolean);
      const keep = correct.value || round.correct_option || "";
      replace(correct, h("option", { value: "" }, "none"), opts.map((o) => h("option", { value: o, selected: o === keep }, o)));
    };
    options.addEventListener("input", fillCorrect);
    fillCorrect();
    const timers = Object.entries(round.timers || {}).map(([key, value]) =>
      field(`${key.replace("_sec", "")} (s)`, h("input", { type: "number", min: 5, max: 3600, value, "data-timer": key })));
    return h("form", { class: "prompt-editor", onInput: () => { facilEditor.dataset.dirty = "1"; }, onSubmit: (e) => {
      e.preventDefault();
      const body = { prompt_text: text.value.trim() };
      const opts = options.value.split("\n").map((o) => o.trim()).filter(Boolean);
      if (opts.length) body.options = opts;
      if ("correct_option" in round) body.correct_option = correct.value || null;
      if (S.detail.server_time) {
        body.timers = {};
        for (const input of e.target.querySelectorAll("[data-timer]")) body.timers[input.dataset.timer] = Number(input.value);
      }
      act(api.prompt(sessionId, round.round_index, body), () => { facilEditor.dataset.dirty = ""; toast("Question saved"); });
    } },
      h("h4", null, `Question of round ${round.round_index}`),
      field("Question", text), field("Options, one a line", options),
      "correct_option" in round ? field("Correct option", correct) : null,
      S.detail.server_time ? h("div", { class: "timers" }, timers) : null,
      h("button", { type: "submit" }, "Save the question"));
  }

  function advanceControls(round) {
    const to = NEXT[round.status];
    const gate = S.gate && S.gate.round === round.round_index ? S.gate : null;
    const go = (force) => act(api.advance(sessionId, round.round_index, to, force), () => { S.gate = null; }).then((ok) => ok);
    const wrap = h("div", { class: "advance" },
      h("button", { class: "primary", onClick: async () => {
        try {
          await api.advance(sessionId, round.round_index, to, false);
          S.gate = null;
          refetch(false);
        } catch (error) {
          if (error.status === 409 && Array.isArray(error.body.missing)) {
            S.gate = { round: round.round_index, missing: error.body.missing, required: error.body.required, current: error.body.current };
            keys.actions = null;
            schedule();
          } else toast(error.message);
        }
      } }, `Move to: ${PHASE_LABEL[to]}`));
    if (gate) {
      wrap.appendChild(h("div", { class: "gate", role: "alert" },
        h("p", null, `Waiting for ${gate.required - gate.current} of ${gate.required}: `,
          gate.missing.map((id) => nameOf(id)).join(", ") || "the explanation"),
        to === "DONE" ? null : h("button", { class: "danger", onClick: () => go(true) }, "Force")));
    }
    return wrap;
  }

  function timerControls(round) {
    const seconds = h("input", { type: "number", min: 1, max: 3600, value: 30 });
    const t = round.timer;
    return h("div", { class: "timer-controls", role: "group", "aria-label": "Timer" },
      t.state === "RUNNING" ? h("button", { onClick: () => act(api.timer(sessionId, round.round_index, "pause")) }, "Pause") : null,
      t.state === "PAUSED" ? h("button", { onClick: () => act(api.timer(sessionId, round.round_index, "resume")) }, "Resume") : null,
      field("Seconds", seconds),
      h("button", { onClick: () => act(api.timer(sessionId, round.round_index, "extend", Number(seconds.value))) }, "Add"),
      h("button", { onClick: () => act(api.timer(sessionId, round.round_index, "set", Number(seconds.value))) }, "Set"));
  }

  function updateCountdown() {
    if (!S.detail || S.removed) return;
    const round = currentRound();
    const t = round.timer;
    if (!t || t.state === "NONE") {
      countdown.hidden = true;
      return;
    }
    countdown.hidden = false;
    let left = t.remaining_sec ?? 0;
    if (t.state === "RUNNING" && t.ends_at) left = Math.max(0, (Date.parse(t.ends_at) - (Date.now() + S.skew)) / 1000);
    const whole = Math.ceil(left);
    const text = t.state === "EXPIRED" || (t.state === "RUNNING" && whole === 0) ? "Time is up" : `${Math.floor(whole / 60)}:${String(whole % 60).padStart(2, "0")}${t.state === "PAUSED" ? " (paused)" : ""}`;
    if (countdown.textContent !== text) countdown.textContent = text;
  }

  function renderResults(d, round) {
    // Results and the report come with the server that knows correct answers: its rounds
    // carry `correct_option` (API.md section 5). Without it there is nothing to ask for.
    const supported = d.rounds.length > 0 && "correct_option" in d.rounds[0];
    const done = supported ? d.rounds.filter((r) => r.status === "DONE" || (d.viewer_can_facilitate && r.status !== "CREATED")) : [];
    keyed("results", `${d.status}|${done.map((r) => r.round_index + r.status).join()}|${d.viewer_can_facilitate}`, () => {
      replace(resultsSection);
      resultsSection.hidden = true;
      for (const r of done) loadResults(r.round_index);
      if (supported && d.viewer_can_facilitate && d.status === "FINISHED") loadReport();
    });
  }

  async function loadResults(roundIndex) {
    try {
      const res = await api.results(sessionId, roundIndex);
      S.results.set(roundIndex, res);
      drawResults();
    } catch {
      // no results endpoint on this server yet, or not visible to this member now
    }
  }

  function drawResults() {
    resultsSection.hidden = S.results.size === 0 && !S.report;
    const blocks = [...S.results.values()].sort((a, b) => a.round_index - b.round_index).map((res) => {
      const rows = (res.options || []).map((o) => {
        const v = res.vote ? res.vote.counts[o] || 0 : null;
        const rv = res.revote ? res.revote.counts[o] || 0 : null;
        const max = Math.max(1, res.eligible || 1);
        return h("tr", { class: o === res.correct_option ? "correct" : null },
          h("th", { scope: "row" }, o, o === res.correct_option ? " ✓" : ""),
          h("td", null, v === null ? "—" : bar("bar", v, max)),
          h("td", null, rv === null ? "—" : bar("bar revote", rv, max)));
      });
      return h("div", { class: "result" },
        h("h4", null, `Round ${res.round_index} results`),
        h("table", null, h("thead", null, h("tr", null, h("th", null, "Option"), h("th", null, "Vote"), h("th", null, "Revote"))), h("tbody", null, rows)),
        res.correct ? h("p", null, `Correct: ${res.correct.vote_pct}% → ${res.correct.revote_pct}%` + (res.correct.normalized_change === null ? "" : ` (normalized change ${res.correct.normalized_change})`)) : null);
    });
    replace(resultsSection, h("h3", null, "Results"), blocks, S.report ? reportView(S.report) : null);
  }

  // The width goes through the CSSOM: the page's CSP refuses style attributes.
  function bar(className, value, max) {
    const node = h("span", { class: className }, String(value));
    node.style.setProperty("--w", `${(100 * value) / max}%`);
    return node;
  }

  async function loadReport() {
    try {
      S.report = await api.report(sessionId);
      drawResults();
    } catch {
      // no report endpoint on this server yet
    }
  }

  function reportView(report) {
    return h("div", { class: "report" },
      h("h4", null, "Session report"),
      h("table", null,
        h("thead", null, h("tr", null, h("th", null, "Member"), h("th", null, "Role"), h("th", null, "Messages"), h("th", null, "Answers (vote → revote)"))),
        h("tbody", null, report.members.map((m) => h("tr", null,
          h("th", { scope: "row" }, m.user_name), h("td", null, m.session_role), h("td", null, String(m.chat_messages)),
          h("td", null, m.rounds.map((r) => `${r.round_index}: ${r.vote ?? "—"} → ${r.revote ?? "—"}`).join("; ")))))),
      h("button", { onClick: downloadCsv }, "Download CSV"));
  }

  async function downloadCsv() {
    try {
      const response = await api.reportCsv(sessionId);
      const url = URL.createObjectURL(await response.blob());
      const a = h("a", { href: url, download: `session-${sessionId}.csv` });
      document.body.appendChild(a);
      a.click();
      a.remove();
      setTimeout(() => URL.revokeObjectURL(url), 1000);
    } catch (error) {
      toast(error.message);
    }
  }

  // -- chat ------------------------------------------------------------------------------------
  function buildChat() {
    const log = h("ol", { class: "chat-log", "aria-label": "Messages", tabindex: 0 });
    const typingLine = h("p", { class: "typing", "aria-live": "polite" });
    const receipts = h("p", { class: "receipts muted" });
    const input = h("input", { type: "text", maxlength: 500, autocomplete: "off", placeholder: "Say something to the group" });
    let typingSent = 0;
    input.addEventListener("input", () => {
      const now = Date.now();
      if (now - typingSent > 2000) {
        typingSent = now;
        live.typing(sessionId, true);
      }
    });
    let roundIndex = 1;
    const form = h("form", { class: "chat-form", onSubmit: (e) => {
      e.preventDefault();
      const text = input.value.trim();
      if (!text) return;
      input.value = "";
      live.typing(sessionId, false);
      typingSent = 0;
      act(api.postChat(groupId, sessionId, roundIndex, text), (m) => { addMessage(m); schedule(); });
    } }, field("Message", input), h("button", { type: "submit" }, "Send"));
    const node = h("section", { class: "card chat", "aria-labelledby": "chat-h" }, h("h3", { id: "chat-h" }, "Chat"), log, typingLine, receipts, form);
    let shown = 0;
    let lastRead = null;
    return {
      node,
      update(round) {
        roundIndex = round.round_index;
        if (S.chat.length < shown) shown = 0;
        if (shown === 0) log.replaceChildren();
        for (; shown < S.chat.length; shown++) {
          const m = S.chat[shown];
          log.appendChild(h("li", { class: m.user_id === me.sub ? "mine" : null, "data-id": m.id },
            h("span", { class: "who" }, m.user_name), h("span", { class: "text" }, m.message)));
        }
        log.scrollTop = log.scrollHeight;
        const now = Date.now();
        const typers = [...S.typing.entries()].filter(([id, t]) => id !== me.sub && t.until > now).map(([, t]) => t.name);
        const line = typers.length ? `${typers.join(", ")} ${typers.length > 1 ? "are" : "is"} typing…` : "";
        if (typingLine.textContent !== line) typingLine.textContent = line;
        const last = S.chat[S.chat.length - 1];
        if (last && last.id !== lastRead && document.visibilityState === "visible") {
          lastRead = last.id;
          live.markRead(sessionId, last.id);
        }
        const mineLast = [...S.chat].reverse().find((m) => m.user_id === me.sub);
        if (mineLast) {
          const position = S.chat.indexOf(mineLast);
          const seen = [...S.cursors.entries()].filter(([id, mid]) => id !== me.sub && S.chat.findIndex((m) => m.id === mid) >= position).map(([id]) => nameOf(id));
          receipts.textContent = seen.length ? `Seen by ${seen.join(", ")}` : "";
        }
      },
    };
  }

  return {
    close() {
      clearInterval(poll);
      clearInterval(ticker);
      feed.leave();
    },
  };
}
