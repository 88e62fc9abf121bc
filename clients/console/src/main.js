// The console's entry: sign-in, groups, and the session page. Served by studygroups at /.
import { h, replace, field, toast } from "./dom.js";
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
let session = null;

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

function showState({ state, error }) {
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
  const match = location.hash.match(/^#\/groups\/([^/]+)\/sessions\/([^/]+)$/);
  if (match) {
    session = openSession({
      api, live, me, groupId: decodeURIComponent(match[1]), sessionId: decodeURIComponent(match[2]), root: main,
      onBack: () => { location.hash = `#/groups/${match[1]}`; },
    });
    ready();
    return;
  }
  const group = location.hash.match(/^#\/groups\/([^/]+)$/);
  if (group) showGroup(decodeURIComponent(group[1]), me);
  else showGroups(me);
}

async function showGroups(me) {
  const name = h("input", { type: "text", required: true, maxlength: 200 });
  const list = h("ul", { class: "groups" });
  replace(main,
    h("section", { class: "card" }, h("h2", null, "Your groups"), list),
    h("form", { class: "card", onSubmit: async (e) => {
      e.preventDefault();
      try {
        const group = await api.createGroup(name.value.trim());
        location.hash = `#/groups/${encodeURIComponent(group.id)}`;
      } catch (error) {
        toast(error.message);
      }
    } }, h("h2", null, "New group"), field("Name", name), h("button", { type: "submit", class: "primary" }, "Create the group")),
    h("p", { class: "muted" }, `Your user id: ${me.sub}`));
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
              toast(error.message);
            }
          } }, `Accept the invitation to ${g.name}`)]
        : h("a", { href: `#/groups/${encodeURIComponent(g.id)}` }, g.name), " ", h("span", { class: "role" }, g.my_role)))
      : h("li", { class: "muted" }, "No groups yet: create one, or ask to be invited."));
  } catch (error) {
    toast(error.message);
  }
  ready();
}

async function showGroup(groupId, me) {
  let group;
  let sessions;
  try {
    [group, sessions] = await Promise.all([api.group(groupId), api.sessions(groupId)]);
  } catch (error) {
    replace(main, h("p", { class: "error", role: "alert" }, error.status === 403 ? "You are not a member of this group (or you were removed)." : error.message), h("a", { href: "#/" }, "← Groups"));
    return ready();
  }
  const mine = group.members.find((m) => m.user_id === me.sub);
  const manager = mine && (mine.role === "OWNER" || mine.role === "MOD");
  const inviteId = h("input", { type: "text", required: true, maxlength: 255 });
  const inviteRole = h("select", null, ["MEMBER", "MOD", "OWNER"].map((r) => h("option", { value: r }, r)));
  const rounds = h("input", { type: "number", min: 1, max: 10, value: 1, required: true });
  const layer = h("select", null, ["L1", "L2", "L3"].map((l) => h("option", { value: l }, l)));
  const auto = h("input", { type: "checkbox" });
  const contentId = h("input", { type: "text", required: true, maxlength: 200 });
  const roleError = h("p", { class: "error", role: "alert" });
  const reload = () => showGroup(groupId, me);
  const doing = (promise) => promise.then(reload, (error) => toast(error.message));
  // A refused role change (the last OWNER's 409) says why where the select is, and the select
  // goes back to the role the member still has.
  const changeRole = (m, select) => api.setRole(groupId, m.user_id, select.value).then(reload, (error) => {
    select.value = m.role;
    replace(roleError, error.message);
  });
  const contents = group.contents || [];
  replace(main,
    h("a", { href: "#/", class: "link" }, "← Groups"),
    h("h2", null, group.name),
    h("section", { class: "card" }, h("h3", null, "Sessions"),
      h("ul", { class: "sessions" }, sessions.length ? sessions.map((s) => h("li", null,
        h("a", { href: `#/groups/${encodeURIComponent(groupId)}/sessions/${encodeURIComponent(s.id)}` }, `Session of ${new Date(s.created_at).toLocaleString()}`),
        " ", h("span", { class: "role" }, s.status))) : h("li", { class: "muted" }, "No sessions yet.")),
      h("form", { onSubmit: async (e) => {
        e.preventDefault();
        const body = { rounds_count: Number(rounds.value), layer: layer.value };
        if (auto.checked) body.auto_advance = true;
        try {
          const s = await api.createSession(groupId, body);
          location.hash = `#/groups/${encodeURIComponent(groupId)}/sessions/${encodeURIComponent(s.id)}`;
        } catch (error) {
          toast(error.message);
        }
      } }, h("h4", null, "New session"), h("div", { class: "row" }, field("Rounds", rounds), field("Layer", layer)),
        h("label", { class: "check" }, auto, " Advance by itself when a phase's time is up"),
        h("button", { type: "submit", class: "primary" }, "Create the session"))),
    h("section", { class: "card", "aria-labelledby": "playlist-title" }, h("h3", { id: "playlist-title" }, "Playlist"),
      h("ol", { class: "playlist" }, contents.length ? contents.map((c) => h("li", null,
        h("span", { class: "content" }, c.content_id),
        manager ? [" ", h("button", { class: "danger small", "aria-label": `Remove ${c.content_id} from the playlist`,
          onClick: () => doing(api.removeContent(groupId, c.content_id)) }, "Remove")] : null))
        : h("li", { class: "muted" }, "The playlist is empty.")),
      manager ? h("form", { onSubmit: (e) => {
        e.preventDefault();
        doing(api.addContent(groupId, contentId.value.trim()));
      } }, h("h4", null, "Add content"), field("Content id", contentId, "The id of a content of the learning app."),
        h("button", { type: "submit" }, "Add to the playlist")) : null),
    h("section", { class: "card" }, h("h3", null, "Members"), roleError,
      h("ul", { class: "members" }, group.members.filter((m) => m.status !== "REMOVED").map((m) => h("li", null,
        h("span", { class: "who" }, m.user_name), " ", h("span", { class: "muted" }, `(${m.user_id})`), " ",
        mine && mine.role === "OWNER" && m.status === "ACTIVE"
          ? h("select", { "aria-label": `Role of ${m.user_name}`, onChange: (e) => changeRole(m, e.target) },
            ["OWNER", "MOD", "MEMBER"].map((r) => h("option", { value: r, selected: r === m.role }, r)))
          : h("span", { class: "role" }, m.role),
        " ", h("span", { class: "role" }, m.status),
        manager && m.user_id !== me.sub ? h("button", { class: "danger small", onClick: () => doing(api.removeMember(groupId, m.user_id)) }, `Remove ${m.user_name}`) : null))),
      manager ? h("form", { onSubmit: (e) => {
        e.preventDefault();
        doing(api.invite(groupId, inviteId.value.trim(), inviteRole.value));
      } }, h("h4", null, "Invite"), h("div", { class: "row" }, field("User id", inviteId), field("Role", inviteRole)),
        h("button", { type: "submit" }, "Invite")) : null));
  ready();
}

function ready() {
  if (!document.body.dataset.ready) {
    document.body.dataset.ready = String(Math.round(performance.now() - started));
  }
}

if (token) start();
else signIn();
