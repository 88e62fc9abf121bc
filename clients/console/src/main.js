// The console's entry: sign-in, groups, and the session page. Served by studygroups at /.
import { h, replace, field, toast } from "./dom.js";
import { describe } from "./errors.js";
import { showGroup } from "./group.js";
import { createApi } from "./api.js";
import { createClient } from "./live.js";
import { openSession } from "./session.js";

const started = performance.now();
const STORE = "studygroups.token";
let token = localStorage.getItem(STORE) || "";
const api = createApi(() => token);
const main = document.getElementById("main");
const connection = document.getElementById("connection");
const who = document.getElementById("who");
let live = null;
let session = null; // the open session page, or the open group page: closed on leaving it
let removed = false; // removed from the open session's group: the header says so

const STATES = {
  connecting: "Connecting…",
  connected: "Catching up…",
  reconnecting: "Reconnecting…",
  "caught-up": "Live",
  offline: "Offline",
};

function claims(jwt) {
  try {
    const part = jwt.split(".")[1].replace(/-/g, "+").replace(/_/g, "/");
    return JSON.parse(decodeURIComponent(escape(atob(part))));
  } catch {
    return null;
  }
}

let lastState = { state: "offline", error: null };
function showState(change) {
  lastState = change;
  const { state, error } = change;
  if (removed) {
    connection.dataset.state = "removed";
    connection.textContent = "Removed";
    connection.title = "You were removed from this group";
    return;
  }
  connection.dataset.state = state;
  connection.textContent = STATES[state] + (error && state === "offline" ? ` (${error})` : "");
  connection.title = error && state !== "caught-up" ? error : "";
}

function signOut() {
  localStorage.removeItem(STORE);
  location.reload();
}

async function signIn() {
  // Development sign-in is offered where the server serves POST /dev/token.
  let devLogin = false;
  try {
    devLogin = (await api.call("GET", "/console/config.json")).dev_login === true;
  } catch {
    // an older server: ask for a token
  }
  const name = h("input", { type: "text", required: true, maxlength: 100, autocomplete: "name" });
  const userId = h("input", { type: "text", maxlength: 100, autocomplete: "username" });
  const pasted = h("textarea", { rows: 4, required: true, spellcheck: "false" });
  const error = h("p", { class: "error", role: "alert" });
  const slug = (text) => text.trim().toLowerCase().normalize("NFKD").replace(/[^a-z0-9]+/g, "-").replace(/^-|-$/g, "");
  name.addEventListener("input", () => { userId.placeholder = slug(name.value); });
  const byName = h("form", { class: "card", onSubmit: async (e) => {
    e.preventDefault();
    const sub = userId.value.trim() || slug(name.value) || name.value.trim();
    try {
      const answer = await api.devToken({ sub, name: name.value.trim(), email: `${sub}@dev.invalid` });
      useToken(answer.token);
    } catch (err) {
      replace(error, err.message);
    }
  } },
    h("h2", null, "Sign in"),
    h("p", { class: "muted" }, "Development sign-in: this server mints a token for any name."),
    field("Your name", name), field("User id", userId, "Others invite you by this id. Left empty, it is made from your name."),
    h("button", { type: "submit", class: "primary" }, "Sign in"));
  const byToken = h("form", { class: "card", onSubmit: (e) => {
    e.preventDefault();
    if (!claims(pasted.value.trim().replace(/^Bearer\s+/i, ""))) return replace(error, "That is not a token.");
    useToken(pasted.value.trim().replace(/^Bearer\s+/i, ""));
  } },
    h("h2", null, devLogin ? "…or paste a token" : "Sign in with a token"),
    field("Token", pasted, "A JWT from your school, or from `studygroups token`."),
    h("button", { type: "submit", class: devLogin ? null : "primary" }, "Use this token"));
  replace(main, error, devLogin ? byName : null, byToken);
  (devLogin ? name : pasted).focus();
  ready();
}

function useToken(value) {
  token = value;
  localStorage.setItem(STORE, value);
  start();
}

function start() {
  const me = claims(token);
  if (!me) return signIn();
  replace(who, h("span", null, me.name), " ", h("button", { class: "link", onClick: signOut }, "Sign out"));
  live = createClient({ getToken: () => token });
  live.on("state", showState);
  showState(live.state);
  window.addEventListener("hashchange", route);
  route();
}

function route() {
  const me = claims(token);
  if (session) {
    session.close();
    session = null;
  }
  if (removed) {
    removed = false;
    showState(lastState);
  }
  const match = location.hash.match(/^#\/groups\/([^/]+)\/sessions\/([^/]+)$/);
  if (match) {
    session = openSession({
      api, live, me, groupId: decodeURIComponent(match[1]), sessionId: decodeURIComponent(match[2]), root: main,
      // A removed member goes back to the groups list: the group's page is closed to them.
      onBack: () => { location.hash = removed ? "#/" : `#/groups/${match[1]}`; },
      onRemoved: () => {
        removed = true;
        showState(lastState);
      },
    });
    ready();
    return;
  }
  const group = location.hash.match(/^#\/groups\/([^/]+)$/);
  if (group) session = showGroup({ api, me, groupId: decodeURIComponent(group[1]), root: main, ready });
  else showGroups(me);
}

async function showGroups(me) {
  const name = h("input", { type: "text", required: true, maxlength: 200 });
  const list = h("ul", { class: "groups" });
  // Others invite you by your user id: shown first, with a button to copy it.
  const copy = async () => {
    try {
      await navigator.clipboard.writeText(me.sub);
      toast("Your user id is copied.");
    } catch {
      toast("Could not copy: select the id and copy it by hand.");
    }
  };
  replace(main,
    h("section", { class: "card my-id" }, h("p", null, "Your user id: ", h("code", { class: "user-id" }, me.sub),
      " ", h("button", { type: "button", class: "small", onClick: copy }, "Copy"),
      h("span", { class: "hint" }, "Others need it to invite you to their group."))),
    h("section", { class: "card" }, h("h2", null, "Your groups"), list),
    h("form", { class: "card", onSubmit: async (e) => {
      e.preventDefault();
      try {
        const group = await api.createGroup(name.value.trim());
        location.hash = `#/groups/${encodeURIComponent(group.id)}`;
      } catch (error) {
        toast(describe(error));
      }
    } }, h("h2", null, "New group"), field("Name", name), h("button", { type: "submit", class: "primary" }, "Create the group")),
  );
  try {
    const groups = await api.groups();
    replace(list, groups.length ? groups.map((g) => h("li", null,
      g.my_status === "INVITED"
        ? [h("span", null, g.name, " (invited as ", g.my_role, ")"), " ",
          h("button", { class: "primary", onClick: async () => {
            try {
              await api.accept(g.id);
              location.hash = `#/groups/${encodeURIComponent(g.id)}`;
            } catch (error) {
              toast(describe(error));
            }
          } }, `Accept the invitation to ${g.name}`)]
        : h("a", { href: `#/groups/${encodeURIComponent(g.id)}` }, g.name), " ", h("span", { class: "role" }, g.my_role)))
      : h("li", { class: "muted" }, "No groups yet: create one, or ask to be invited."));
  } catch (error) {
    toast(describe(error));
  }
  ready();
}

function ready() {
  if (!document.body.dataset.ready) {
    document.body.dataset.ready = String(Math.round(performance.now() - started));
  }
}

if (token) start();
else signIn();
