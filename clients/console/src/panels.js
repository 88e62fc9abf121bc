// One panel per phase for every member: the question, the vote and revote forms, the
// discussion's pointer to the chat, the scribe's explanation form and the shared card.
import { h, replace, field, toast } from "./dom.js";

export const PHASE_LABEL = { CREATED: "Not started", VOTING: "Vote", DISCUSSING: "Discussion", REVOTING: "Revote", EXPLAINING: "Explanation", DONE: "Done" };

export function createPhasePanel({ api, sessionId, act, keyed, myRole }) {
  const heading = h("h3", { id: "phase-h", tabindex: -1 });
  const body = h("div");
  const node = h("section", { class: "card phase", "aria-labelledby": "phase-h" }, heading, body);

  function render(d, round) {
    const role = myRole();
    const key = `${d.status}|${round.round_index}|${round.status}|${round.prompt_text}|${(round.options || []).join("\u0001")}|${role}|${round.has_shared_card}`;
    keyed("phase", key, () => {
      // A keyboard user whose control goes away with the old panel lands on the new heading.
      const hadFocus = node.contains(document.activeElement) && document.activeElement !== heading;
      replace(heading, PHASE_LABEL[round.status]);
      const prompt = round.prompt_text ? h("p", { class: "prompt" }, round.prompt_text) : h("p", { class: "muted" }, "The facilitator has not written the question yet.");
      const panel = [prompt];
      if (d.status === "CREATED") panel.push(h("p", null, "Waiting for the facilitator to start the session."));
      else if (d.status === "FINISHED") panel.push(h("p", null, "This session is finished."));
      else if (round.status === "VOTING" || round.status === "REVOTING") panel.push(voteForm(round));
      else if (round.status === "DISCUSSING") panel.push(h("p", null, "Discuss your answers with the group in the chat."));
      const card = (d.shared_cards || []).find((c) => c.round_index === round.round_index);
      if (round.status === "EXPLAINING" && role === "SCRIBE") panel.push(explainForm(round, card));
      else if (round.status === "EXPLAINING" && !card) panel.push(h("p", null, "The scribe is writing the group's explanation."));
      if (card) panel.push(sharedCard(card));
      replace(body, ...panel);
      if (hadFocus) heading.focus();
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
      act(api.submit(sessionId, round.round_index, "GROUP_EXPLANATION_SUBMIT", payload), () => replace(done, "Explanation saved."),
        { action: "Not saved", kept: true });
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

  return { node, render };
}
