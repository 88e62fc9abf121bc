// The discussion chat: messages once and in order (appended, never redrawn), who is typing,
// and "Seen by" under one's own last message from the read cursors.
import { h, field } from "./dom.js";

const READ_EVERY_MS = 1000; // markRead at most once a second (the server allows 20 a second)

export function createChat({ S, api, live, me, sessionId, groupId, act, schedule, nameOf, addMessage }) {
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
  let sending = false;
  const send = h("button", { type: "submit" }, "Send");
  // The text leaves the box only once the server has it: a failed send keeps it to send again.
  const form = h("form", { class: "chat-form", onSubmit: async (e) => {
    e.preventDefault();
    const text = input.value.trim();
    if (!text || sending) return;
    sending = true;
    live.typing(sessionId, false);
    typingSent = 0;
    const answer = await act(api.postChat(groupId, sessionId, roundIndex, text), (m) => { addMessage(m); schedule(); },
      { action: "Not sent", kept: true });
    sending = false;
    if (answer && input.value.trim() === text) input.value = "";
  } }, field("Message", input), send);
  // The API strips anything like an HTML tag from messages: said once, under the box.
  const hint = h("small", { class: "hint", id: "chat-hint" }, "Text only: anything like an HTML tag is removed.");
  input.setAttribute("aria-describedby", "chat-hint");
  const closedNote = h("p", { class: "closed-note", role: "status" });
  const node = h("section", { class: "card chat", "aria-labelledby": "chat-h" }, h("h3", { id: "chat-h" }, "Chat"), log, typingLine, receipts, form, hint, closedNote);

  let shown = 0;
  let shownRound = null;
  let lastRead = null;
  let readTimer = null;
  let readAt = 0;

  // The newest message is marked read once it has been on a visible page, at most once a
  // second however fast messages arrive.
  function markRead() {
    readTimer = null;
    const last = S.chat[S.chat.length - 1];
    if (!last || last.id === lastRead || document.visibilityState !== "visible") return;
    lastRead = last.id;
    readAt = Date.now();
    live.markRead(sessionId, last.id);
  }

  function render(d, round) {
    roundIndex = round.round_index;
    const finished = d.status === "FINISHED";
    if (input.disabled !== finished) {
      input.disabled = finished;
      send.disabled = finished;
      closedNote.textContent = finished ? "The session is finished: the chat is read-only." : "";
    }
    if (S.chat.length > shown) {
      const batch = document.createDocumentFragment();
      for (; shown < S.chat.length; shown++) {
        const m = S.chat[shown];
        // The chat carries over between rounds: a line says where the next one begins.
        if (m.round_index !== shownRound && (shownRound !== null || m.round_index > 1)) {
          batch.appendChild(h("li", { class: "round-separator", role: "separator", "aria-label": `Round ${m.round_index}` }, `Round ${m.round_index}`));
        }
        shownRound = m.round_index;
        batch.appendChild(h("li", { class: m.user_id === me.sub ? "mine" : null, "data-id": m.id },
          h("span", { class: "who" }, m.user_name), h("span", { class: "text" }, m.message)));
      }
      log.appendChild(batch);
      log.scrollTop = log.scrollHeight;
    }
    const now = Date.now();
    const typers = [...S.typing.entries()].filter(([id, t]) => id !== me.sub && t.until > now).map(([, t]) => t.name);
    const line = typers.length > 3
      ? `${typers.slice(0, 3).join(", ")} and ${typers.length - 3} more are typing…`
      : typers.length ? `${typers.join(", ")} ${typers.length > 1 ? "are" : "is"} typing…` : "";
    if (typingLine.textContent !== line) typingLine.textContent = line;
    const last = S.chat[S.chat.length - 1];
    if (last && last.id !== lastRead && !readTimer) readTimer = setTimeout(markRead, Math.max(0, readAt + READ_EVERY_MS - now));
    let mine = -1;
    for (let i = S.chat.length - 1; i >= 0; i--) {
      if (S.chat[i].user_id === me.sub) {
        mine = i;
        break;
      }
    }
    if (mine >= 0) {
      const seen = [];
      // Neither the message's author nor a member removed from the group is listed.
      const author = S.chat[mine].user_id;
      for (const [id, messageId] of S.cursors) {
        if (id !== me.sub && id !== author && !S.removedIds.has(id) && (S.chatIndex.get(messageId) ?? -1) >= mine) seen.push(nameOf(id));
      }
      const text = seen.length > 5 ? `Seen by ${seen.slice(0, 5).join(", ")} and ${seen.length - 5} more` : seen.length ? `Seen by ${seen.join(", ")}` : "";
      if (receipts.textContent !== text) receipts.textContent = text;
    }
  }

  return { node, render, close: () => clearTimeout(readTimer) };
}
