// The phase clock: the countdown from the round's `timer` (its `ends_at` corrected by the
// detail's `server_time`), and beside it the timer controls for the facilitator and the
// session's TIMEKEEPER (API.md section 5).
import { h, replace, field } from "./dom.js";

export const TIMED = { VOTING: "vote_sec", DISCUSSING: "discuss_sec", REVOTING: "revote_sec", EXPLAINING: "explain_sec" };

// The API's refusals of a timer action (API.md section 5) in a short sentence.
const TIMER_REFUSED = {
  400: "Seconds: a whole number from 1 to 3600.",
  403: "Only the facilitator and the timekeeper keep the time.",
  409: "The timer cannot do that now: the phase has moved on or its timer already changed.",
};

export function createClock({ S, api, sessionId, act, keyed, myRole, currentRound }) {
  const countdown = h("p", { class: "countdown", role: "timer", "aria-live": "off" });
  const controls = h("div", { class: "timer-slot" });
  const node = h("section", { class: "clock", "aria-label": "Phase clock" }, countdown, controls);
  node.hidden = true;

  function render(d, round) {
    const t = round.timer;
    node.hidden = !t || t.state === "NONE";
    const mayControl = d.viewer_can_facilitate || myRole() === "TIMEKEEPER";
    const show = !node.hidden && mayControl && d.status === "RUNNING" && !!TIMED[round.status];
    keyed("timer", show ? `${round.round_index}|${round.status}|${t.state}` : "none", () => {
      replace(controls, show ? timerControls(round, t) : null);
    });
    tick();
  }

  function timerControls(round, t) {
    const seconds = h("input", { type: "number", min: 1, max: 3600, value: 30, required: true });
    const problem = h("p", { class: "error", role: "alert" });
    // Seconds out of 1..3600 are refused here: no request the server would refuse anyway.
    const send = (action, withSeconds) => {
      const value = Number(seconds.value);
      if (withSeconds && !(Number.isInteger(value) && value >= 1 && value <= 3600)) {
        replace(problem, "Seconds: a whole number from 1 to 3600.");
        seconds.focus();
        return;
      }
      replace(problem);
      act(api.timer(sessionId, round.round_index, action, withSeconds ? value : undefined), null, { action: "The timer did not change", known: TIMER_REFUSED });
    };
    return h("div", { class: "timer-controls", role: "group", "aria-label": "Timer" },
      t.state === "RUNNING" ? h("button", { type: "button", onClick: () => send("pause") }, "Pause") : null,
      t.state === "PAUSED" ? h("button", { type: "button", class: "primary", onClick: () => send("resume") }, "Resume") : null,
      field("Seconds", seconds),
      h("button", { type: "button", onClick: () => send("extend", true) }, "Add time"),
      h("button", { type: "button", onClick: () => send("set", true) }, "Set time"), problem);
  }

  // Called every 250 ms and after each render: only the text changes, and only when it must.
  function tick() {
    if (!S.detail || S.removed) return;
    const t = currentRound().timer;
    if (!t || t.state === "NONE") return;
    let left = t.remaining_sec ?? 0;
    if (t.state === "RUNNING" && t.ends_at) left = Math.max(0, (Date.parse(t.ends_at) - (Date.now() + S.skew)) / 1000);
    const whole = Math.ceil(left);
    const text = t.state === "EXPIRED" || (t.state === "RUNNING" && whole === 0)
      ? "Time is up"
      : `${Math.floor(whole / 60)}:${String(whole % 60).padStart(2, "0")}${t.state === "PAUSED" ? " (paused)" : ""}`;
    if (countdown.textContent !== text) countdown.textContent = text;
  }

  return { node, render, tick };
}
