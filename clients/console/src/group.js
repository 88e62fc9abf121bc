// A group's page: its sessions, playlist and members, with the OWNER/MOD's controls. The page
// stays live without a reload: its data is read again every 10 s while the page is visible
// (two GETs, far under the API's 20 reads a second) and after each of the user's own actions;
// only the lists are redrawn, and only when the data changed, so a form being filled keeps
// its text and an open "Yes, remove …" stays open.
import { h, replace, field, toast, confirming } from "./dom.js";
import { describe } from "./errors.js";

const REFRESH_EVERY_MS = 10000;

export function showGroup({ api, me, groupId, root, ready }) {
  let closed = false;
  let shownKey = null;
  let manager = false;
  let owner = false;
  const inviteId = h("input", { type: "text", required: true, maxlength: 255 });
  const inviteRole = h("select", null, ["MEMBER", "MOD", "OWNER"].map((r) => h("option", { value: r }, r)));
  const rounds = h("input", { type: "number", min: 1, max: 10, value: 1, required: true });
  const layer = h("select", null, ["L1", "L2", "L3"].map((l) => h("option", { value: l }, l)));
  const auto = h("input", { type: "checkbox" });
  const contentId = h("input", { type: "text", required: true, maxlength: 200 });
  const roleError = h("p", { class: "error", role: "alert" });
  const title = h("h2", null, "");
  const sessionList = h("ul", { class: "sessions" });
  const playlist = h("ol", { class: "playlist" });
  const playlistEmpty = h("p", { class: "muted playlist-empty" }, "The playlist is empty.");
  const memberList = h("ul", { class: "members" });
  const sessionsPath = (s) => `#/groups/${encodeURIComponent(groupId)}/sessions/${encodeURIComponent(s)}`;
  const doing = (promise, done) => promise.then(() => { if (done) done(); refresh(); }, (error) => toast(describe(error)));
  // A refused role change (the last OWNER's 409) says why where the select is, and the select
  // goes back to the role the member still has.
  const changeRole = (m, select) => api.setRole(groupId, m.user_id, select.value).then(refresh, (error) => {
    select.value = m.role;
    replace(roleError, describe(error));
  });

  const addForm = h("form", { onSubmit: (e) => {
    e.preventDefault();
    doing(api.addContent(groupId, contentId.value.trim()), () => { contentId.value = ""; });
  } }, h("h4", null, "Add content"), field("Content id", contentId, "The id of a content of the learning app."),
    h("button", { type: "submit" }, "Add to the playlist"));
  const inviteForm = h("form", { onSubmit: (e) => {
    e.preventDefault();
    doing(api.invite(groupId, inviteId.value.trim(), inviteRole.value), () => { inviteId.value = ""; });
  } }, h("h4", null, "Invite"), h("div", { class: "row" }, field("User id", inviteId), field("Role", inviteRole)),
    h("button", { type: "submit" }, "Invite"));
  const sessionForm = h("form", { onSubmit: async (e) => {
    e.preventDefault();
    const body = { rounds_count: Number(rounds.value), layer: layer.value };
    if (auto.checked) body.auto_advance = true;
    try {
      const s = await api.createSession(groupId, body);
      location.hash = sessionsPath(s.id);
    } catch (error) {
      toast(describe(error));
    }
  } }, h("h4", null, "New session"), h("div", { class: "row" }, field("Rounds", rounds), field("Layer", layer)),
    h("label", { class: "check" }, auto, " Advance by itself when a phase's time is up"),
    h("p", { class: "hint" }, "The server stops before Done while the scribe's explanation is missing."),
    h("button", { type: "submit", class: "primary" }, "Create the session"));

  const addSlot = h("div");
  const inviteSlot = h("div");

  function fill(group, sessions) {
    const key = JSON.stringify([group, sessions]);
    if (key === shownKey) return;
    shownKey = key;
    const mine = group.members.find((m) => m.user_id === me.sub);
    manager = !!mine && (mine.role === "OWNER" || mine.role === "MOD");
    owner = !!mine && mine.role === "OWNER";
    replace(title, group.name);
    replace(sessionList, sessions.length ? sessions.map((s) => h("li", null,
      h("a", { href: sessionsPath(s.id) }, `Session of ${new Date(s.created_at).toLocaleString()}`),
      " ", h("span", { class: "role" }, s.status))) : h("li", { class: "muted" }, "No sessions yet."));
    const contents = group.contents || [];
    playlist.hidden = !contents.length;
    playlistEmpty.hidden = !!contents.length;
    replace(playlist, contents.map((c) => h("li", null,
      h("span", { class: "content" }, c.content_id),
      manager ? [" ", h("button", { class: "danger small", "aria-label": `Remove ${c.content_id} from the playlist`,
        onClick: () => doing(api.removeContent(groupId, c.content_id)) }, "Remove")] : null)));
    // The same forms come back (with what was typed) when a role change makes one a manager.
    replace(addSlot, manager ? addForm : null);
    replace(inviteSlot, manager ? inviteForm : null);
    replace(memberList, group.members.filter((m) => m.status !== "REMOVED").map((m) => h("li", null,
      h("span", { class: "who" }, m.user_name), " ", h("span", { class: "muted" }, `(${m.user_id})`), " ",
      owner && m.status === "ACTIVE"
        ? h("select", { "aria-label": `Role of ${m.user_name}`, onChange: (e) => changeRole(m, e.target) },
          ["OWNER", "MOD", "MEMBER"].map((r) => h("option", { value: r, selected: r === m.role }, r)))
        : h("span", { class: "role" }, m.role),
      " ", h("span", { class: "role" }, m.status),
      manager && m.user_id !== me.sub
        ? confirming(`Remove ${m.user_name}`, `Yes, remove ${m.user_name}`, () => doing(api.removeMember(groupId, m.user_id)), { class: "danger small" })
        : null)));
  }

  function refused(error) {
    closed = true;
    replace(root, h("p", { class: "error", role: "alert" }, error.status === 403 ? "You are not a member of this group (or you were removed)." : describe(error)), h("a", { href: "#/" }, "← Groups"));
  }

  let loading = null;
  async function refresh() {
    if (closed || loading) return loading;
    loading = Promise.all([api.group(groupId), api.sessions(groupId)]).then(
      ([group, sessions]) => { if (!closed) fill(group, sessions); },
      (error) => {
        if (closed) return;
        // A refresh that fails for a while (offline) keeps what is shown, and says nothing.
        if (error.status === 403 || error.status === 404 || !shownKey) refused(error);
      }).finally(() => { loading = null; });
    return loading;
  }

  const onVisible = () => { if (document.visibilityState === "visible") refresh(); };
  const timer = setInterval(onVisible, REFRESH_EVERY_MS);
  document.addEventListener("visibilitychange", onVisible);

  refresh().then(() => {
    if (closed) return ready();
    replace(root,
      h("a", { href: "#/", class: "link" }, "← Groups"),
      title,
      h("section", { class: "card" }, h("h3", null, "Sessions"), sessionList, sessionForm),
      h("section", { class: "card", "aria-labelledby": "playlist-title" }, h("h3", { id: "playlist-title" }, "Playlist"),
        playlist, playlistEmpty, addSlot),
      h("section", { class: "card" }, h("h3", null, "Members"), roleError, memberList, inviteSlot));
    ready();
  });

  return {
    close() {
      closed = true;
      clearInterval(timer);
      document.removeEventListener("visibilitychange", onVisible);
    },
  };
}
