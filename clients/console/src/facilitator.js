// The facilitator's tools: start, advance (the gate's missing members, then "Force"), live
// vote progress, the question editor (options, correct option, per-phase timers) and finish.
// The editor folds away once its question is saved, so on a phone the next step is in reach.
import { h, replace, field, toast, confirming } from "./dom.js";
import { PHASE_LABEL } from "./panels.js";
import { describe } from "./errors.js";

const NEXT = { CREATED: "VOTING", VOTING: "DISCUSSING", DISCUSSING: "REVOTING", REVOTING: "EXPLAINING", EXPLAINING: "DONE" };
const TIMER_LABEL = { vote_sec: "Vote (s)", discuss_sec: "Discussion (s)", revote_sec: "Revote (s)", explain_sec: "Explanation (s)" };

export function createFacilitator(ctx) {
  const { S, api, sessionId, act, keyed, refetch, schedule, nameOf } = ctx;
  const actions = h("div", { class: "actions" });
  const progress = h("div", { id: "progress" });
  const editor = h("div", { class: "editor" });
  // Said where the facilitator is looking (a toast would cover the editor), and kept when the
  // saved question folds the editor away.
  const saved = h("p", { class: "confirm", role: "status" });
  const finish = h("div", { class: "finish" });
  const node = h("section", { class: "card facilitator", "aria-labelledby": "facilitator-h" },
    h("h3", { id: "facilitator-h" }, "Facilitator"), actions, progress, editor, saved, finish);
  node.hidden = true;
  let editorKey = null;
  let editorRound = null;

  function render(d, round) {
    node.hidden = !d.viewer_can_facilitate;
    if (node.hidden) return;
    keyed("actions", `${d.status}|${round.round_index}|${round.status}|${S.gate ? S.gate.missing.join(",") : ""}`, () => {
      const parts = [];
      if (d.status === "CREATED") parts.push(h("button", { type: "button", class: "primary", onClick: () => act(api.start(sessionId)) }, "Start the session"));
      if (d.status === "RUNNING" && NEXT[round.status]) parts.push(advanceControls(round));
      replace(actions, ...parts);
      replace(finish, d.status === "RUNNING" || d.status === "POST"
        ? confirming("Finish the session", "Yes, finish the session", () => act(api.setStatus(sessionId, "FINISHED")))
        : null);
    });
    // "Question saved." is about the draft: gone once the round starts or moves on.
    keyed("saved", `${round.round_index}|${round.status}`, () => replace(saved));
    const p = round.vote_progress;
    const revotes = round.status !== "CREATED" && round.status !== "VOTING";
    keyed("progress", p ? `${p.voted}|${p.revoted}|${p.required}|${revotes}` : "none", () => {
      replace(progress, p ? [progressBar("Votes", p.voted, p.required), revotes ? progressBar("Revotes", p.revoted, p.required) : null] : null);
    });
    // The editor is rebuilt for another round or another saved question, never under the
    // facilitator's fingers (a draft being typed is kept).
    const editable = d.status !== "FINISHED" && (round.status === "CREATED" || round.status === "VOTING");
    const key = editable ? `${round.round_index}|${round.prompt_text}|${(round.options || []).join("\u0001")}|${round.correct_option}|${JSON.stringify(round.timers)}` : "none";
    if (editorKey !== key && !(editable && editor.dataset.dirty === "1" && editorRound === round.round_index)) {
      editorKey = key;
      if (editorRound !== round.round_index || !editable) replace(saved);
      editorRound = round.round_index;
      editor.dataset.dirty = "";
      replace(editor, editable ? promptEditor(d, round) : null);
    }
  }

  function progressBar(label, value, max) {
    return h("div", { class: "progress-row" },
      h("span", null, `${label}: ${value} of ${max}`),
      h("progress", { value, max: Math.max(max, 1), "aria-label": `${label}: ${value} of ${max}` }));
  }

  function promptEditor(d, round) {
    const text = h("textarea", { rows: 3, maxlength: 2000, required: true, value: round.prompt_text || "" });
    const options = h("textarea", { rows: 4, value: (round.options || []).join("\n") });
    const correct = h("select", null);
    const lines = () => options.value.split("\n").map((o) => o.trim()).filter(Boolean);
    const fillCorrect = () => {
      const keep = correct.value || round.correct_option || "";
      replace(correct, h("option", { value: "" }, "none"), lines().map((o) => h("option", { value: o, selected: o === keep }, o)));
    };
    options.addEventListener("input", fillCorrect);
    fillCorrect();
    const timed = !!d.server_time && !!round.timers;
    const timers = timed ? Object.entries(round.timers).map(([name, value]) =>
      field(TIMER_LABEL[name] || name, h("input", { type: "number", min: 5, max: 3600, value, required: true, "data-timer": name }))) : [];
    const form = h("form", { class: "prompt-editor", onInput: () => { editor.dataset.dirty = "1"; replace(saved); }, onSubmit: (e) => {
      e.preventDefault();
      const body = { prompt_text: text.value.trim() };
      if (lines().length) body.options = lines();
      if ("correct_option" in round) body.correct_option = correct.value || null;
      if (timed) {
        body.timers = {};
        for (const input of form.querySelectorAll("[data-timer]")) body.timers[input.dataset.timer] = Number(input.value);
      }
      act(api.prompt(sessionId, round.round_index, body), () => { editor.dataset.dirty = ""; replace(saved, "Question saved."); },
        { action: "Not saved", kept: true });
    } },
      field("Question", text), field("Options, one a line", options),
      "correct_option" in round ? field("Correct option", correct) : null,
      timed ? h("fieldset", { class: "timers" }, h("legend", null, "Time per phase"), timers) : null,
      h("button", { type: "submit" }, "Save the question"));
    // Open while there is no question yet; folded to one line once there is.
    return h("details", { class: "editor-fold", open: !round.prompt_text },
      h("summary", null, round.prompt_text ? `Edit the question of round ${round.round_index}` : `Question of round ${round.round_index}`),
      form);
  }

  function advanceControls(round) {
    const to = NEXT[round.status];
    const gate = S.gate && S.gate.round === round.round_index ? S.gate : null;
    const wrap = h("div", { class: "advance" },
      h("button", { type: "button", class: "primary", onClick: async () => {
        try {
          await api.advance(sessionId, round.round_index, to, false);
          S.gate = null;
          refetch();
        } catch (error) {
          if (error.status === 409 && Array.isArray(error.body.missing)) {
            S.gate = { round: round.round_index, missing: error.body.missing, required: error.body.required, current: error.body.current };
            keyed.reset("actions");
            schedule();
          } else toast(describe(error));
        }
      } }, `Move to: ${PHASE_LABEL[to]}`));
    if (gate) {
      wrap.appendChild(h("div", { class: "gate", role: "alert" },
        h("p", null, `Waiting for ${gate.required - gate.current} of ${gate.required}: `,
          gate.missing.map((id) => nameOf(id)).join(", ") || "the explanation"),
        to === "DONE" ? null : h("button", { type: "button", class: "danger", onClick: () => act(api.advance(sessionId, round.round_index, to, true), () => { S.gate = null; }) }, "Force")));
    }
    return wrap;
  }

  return { node, render };
}
