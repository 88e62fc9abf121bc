// Results and the session report (API.md section 5): a chart of each round's vote and revote
// counts as the server shows them to this viewer, and for facilitators of a FINISHED session
// the report with its CSV download.
import { h, replace, toast } from "./dom.js";

const LIVE_EVERY_MS = 1000; // a facilitator's live chart: reloaded at most once a second

export function createResults({ api, sessionId, keyed }) {
  const node = h("section", { class: "card results", "aria-labelledby": "results-h" });
  node.hidden = true;
  const results = new Map();
  let report = null;
  let again = null;
  let liveAt = 0;

  function render(d) {
    // Results and the report come with the server that knows correct answers: its rounds
    // carry `correct_option`. Without it there is nothing to ask for.
    const supported = d.rounds.length > 0 && "correct_option" in d.rounds[0];
    const shown = supported ? d.rounds.filter((r) => r.status === "DONE" || (d.viewer_can_facilitate && r.status !== "CREATED")) : [];
    keyed("results", `${d.status}|${shown.map((r) => r.round_index + r.status).join()}|${d.viewer_can_facilitate}`, () => {
      for (const r of shown) load(r.round_index);
      if (supported && d.viewer_can_facilitate && d.status === "FINISHED") loadReport();
    });
    // Facilitators watch the counts move: the open round's chart follows its votes.
    const open = d.viewer_can_facilitate && d.status === "RUNNING" ? shown.find((r) => r.status !== "DONE") : null;
    const p = open && open.vote_progress;
    keyed("live-results", p ? `${open.round_index}|${p.voted}|${p.revoted}` : "none", () => {
      if (!p || again) return;
      again = setTimeout(() => {
        again = null;
        liveAt = Date.now();
        load(open.round_index);
      }, Math.max(0, liveAt + LIVE_EVERY_MS - Date.now()));
    });
  }

  async function load(roundIndex) {
    try {
      results.set(roundIndex, await api.results(sessionId, roundIndex));
      draw();
    } catch {
      // not visible to this member now
    }
  }

  async function loadReport() {
    try {
      report = await api.report(sessionId);
      draw();
    } catch {
      // only facilitators and the group's OWNER/MOD may read it
    }
  }

  function draw() {
    node.hidden = results.size === 0 && !report;
    const blocks = [...results.values()].sort((a, b) => a.round_index - b.round_index).map(chart);
    replace(node, h("h3", { id: "results-h" }, "Results"), blocks,
      blocks.length ? h("p", { class: "hint" }, "Results count the group's ACTIVE members only: after a removal they change, while the report keeps everyone who answered.") : null,
      report ? reportView(report) : null);
  }

  function chart(res) {
    const max = Math.max(1, res.eligible || 1);
    const rows = (res.options || []).map((o) => {
      const v = res.vote ? res.vote.counts[o] || 0 : null;
      const rv = res.revote ? res.revote.counts[o] || 0 : null;
      return h("tr", { class: o === res.correct_option ? "correct" : null },
        h("th", { scope: "row" }, o, o === res.correct_option ? " ✓" : ""),
        h("td", null, v === null ? "—" : bar("bar", v, max)),
        h("td", null, rv === null ? "—" : bar("bar revote", rv, max)));
    });
    const c = res.correct;
    return h("div", { class: "result" },
      h("h4", null, `Round ${res.round_index} results`),
      h("table", null,
        h("caption", { class: "sr-only" }, `Answers per option in round ${res.round_index}, out of ${res.eligible}`),
        h("thead", null, h("tr", null, h("th", { scope: "col" }, "Option"), h("th", { scope: "col" }, "Vote"), h("th", { scope: "col" }, "Revote"))),
        h("tbody", null, rows)),
      c ? h("p", { class: "correct-line" }, `Correct: ${pct(c.vote_pct)} → ${pct(c.revote_pct)}` + (c.normalized_change === null ? "" : ` (normalized change ${c.normalized_change})`)) : null);
  }

  function pct(value) {
    return value === null || value === undefined ? "—" : `${value}%`;
  }

  // A bar as long as the share of those who may vote, then the count. The width goes through
  // the CSSOM: the page's CSP refuses style attributes.
  function bar(className, value, max) {
    const span = h("span", { class: className, "aria-hidden": "true" });
    span.style.setProperty("--w", `${(100 * value) / max}%`);
    return [span, h("span", { class: "count" }, String(value))];
  }

  function reportView(r) {
    return h("div", { class: "report" },
      h("h4", null, "Session report"),
      h("table", null,
        h("thead", null, h("tr", null, ["Member", "Role", "Messages", "Answers (vote → revote)"].map((t) => h("th", { scope: "col" }, t)))),
        h("tbody", null, r.members.map((m) => h("tr", null,
          h("th", { scope: "row" }, m.user_name), h("td", null, m.session_role), h("td", null, String(m.chat_messages)),
          h("td", null, m.rounds.map((x) => `${x.round_index}: ${x.vote ?? "—"} → ${x.revote ?? "—"}`).join("; ")))))),
      h("button", { type: "button", onClick: downloadCsv }, "Download CSV"));
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

  return { node, render, close: () => clearTimeout(again) };
}
