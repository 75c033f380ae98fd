// The coordinator's live overview: who is online, the queue, the live chats,
// requests for support; reading along in one chat, whispering to its
// operator, taking it over or handing it on. One plain ES module; it talks to
// the server only through /api/v1/ and /ws/v1/overview/. Text from people is
// shown with textContent only: never innerHTML.

const config = JSON.parse(document.getElementById("overview-config").textContent);
const csrfToken = document.querySelector('meta[name="csrf-token"]').content;

const PING_MS = 20000;
const MAX_BACKOFF_MS = 15000;

function t(key, params = {}) {
  const text = config.strings[key] ?? key;
  return text.replace(/%\((\w+)\)s/g, (_, name) => String(params[name] ?? ""));
}

const byId = (id) => document.getElementById(id);

function el(tag, className = "", text = null) {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (text !== null) node.textContent = text;
  return node;
}

const timeFormat = new Intl.DateTimeFormat(document.documentElement.lang || "nl-BE", {
  hour: "2-digit",
  minute: "2-digit",
  hourCycle: "h23",
  timeZone: "Europe/Brussels",
});
const formatTime = (iso) => (iso ? timeFormat.format(new Date(iso)) : "");

function formatDuration(seconds) {
  const h = Math.floor(seconds / 3600);
  const m = Math.floor((seconds % 3600) / 60);
  const s = String(seconds % 60).padStart(2, "0");
  return h ? `${h}:${String(m).padStart(2, "0")}:${s}` : `${m}:${s}`;
}

const state = {
  socket: null,
  retry: 0,
  retryTimer: null,
  pingTimer: null,
  overview: null,
  receivedAt: 0,
  reading: null, // conversation id read along in
  messageIds: new Set(),
  noteIds: new Set(),
};

// ---------------------------------------------------------------- socket

function send(frame) {
  if (state.socket?.readyState !== WebSocket.OPEN) return false;
  state.socket.send(JSON.stringify(frame));
  return true;
}

function setConnection(kind) {
  byId("connection-state").textContent = t(kind);
  byId("connection-state").parentElement.dataset.state = kind;
  byId("login-again").hidden = kind !== "signed_out";
}

function connect() {
  window.clearTimeout(state.retryTimer);
  state.retryTimer = null;
  const scheme = location.protocol === "https:" ? "wss" : "ws";
  const socket = new WebSocket(`${scheme}://${location.host}${config.ws_path}`);
  state.socket = socket;
  socket.addEventListener("open", () => {
    state.retry = 0;
    setConnection("connected");
    window.clearInterval(state.pingTimer);
    state.pingTimer = window.setInterval(() => send({ type: "ping" }), PING_MS);
    if (state.reading) send({ type: "read_along.start", conversation_id: state.reading });
  });
  socket.addEventListener("message", (event) => {
    let frame;
    try {
      frame = JSON.parse(event.data);
    } catch {
      return;
    }
    handleFrame(frame);
  });
  socket.addEventListener("close", (event) => {
    if (state.socket !== socket) return;
    state.socket = null;
    window.clearInterval(state.pingTimer);
    if (event.code === 4401 || event.code === 4403) {
      setConnection("signed_out");
      return;
    }
    setConnection("reconnecting");
    const delay = Math.min(MAX_BACKOFF_MS, 1000 * 1.6 ** state.retry);
    state.retry += 1;
    state.retryTimer = window.setTimeout(connect, delay);
  });
}

function handleFrame(frame) {
  switch (frame.type) {
    case "overview":
      return renderOverview(frame.overview);
    case "support.requested":
      return showSupportAlert(frame.support);
    case "read_along":
      return openReading(frame);
    case "conversation":
      return applyConversation(frame.conversation);
    case "message.new":
      return addMessage(frame.message);
    case "whisper":
      return addNote(frame.whisper);
    case "readers":
      return undefined;
    case "typing":
      return applyTyping(frame.typing);
    case "take_over.ack":
      return afterHandOver(t("taken_over"));
    case "transfer.ack":
      return afterHandOver(t("transferred"));
    case "error":
      byId("overview-error").textContent = frame.message;
      return undefined;
    default:
      return undefined;
  }
}

// ---------------------------------------------------------------- overview

// "?gesprek=N" (the link of a support alert) opens that chat at once.
let wanted = Number(new URLSearchParams(location.search).get("gesprek")) || null;

function renderOverview(data) {
  if (wanted && !state.reading) {
    startReading(wanted);
    wanted = null;
  }
  state.overview = data;
  state.receivedAt = performance.now();
  byId("overview-error").textContent = "";
  const warnings = byId("warnings");
  const texts = data.warnings.map((w) => w.message);
  if ([...warnings.children].map((p) => p.textContent).join("|") !== texts.join("|")) {
    warnings.replaceChildren(...texts.map((text) => el("p", "", text)));
  }
  byId("fig-queue").textContent = String(data.queue.length);
  byId("fig-online").textContent = String(data.online_count);
  byId("fig-available").textContent = String(data.available_count);
  byId("fig-scheduled").textContent = String(data.scheduled_count);
  byId("fig-missed").textContent = String(data.missed_today);

  const rows = data.online.map((o) => {
    const tr = el("tr");
    tr.dataset.userId = String(o.id);
    const availability = config.labels.availability[o.availability] ?? o.availability;
    tr.append(
      el("td", "", o.pseudonym),
      el("td", "", config.labels.discipline[o.discipline] ?? "–"),
      el("td", "", availability),
      el("td", "", t("chats_of", { n: o.chats, max: o.max_chats })),
      el("td", "", o.scheduled ? t("scheduled") : t("not_scheduled")),
    );
    return tr;
  });
  byId("online-rows").replaceChildren(...rows);
  byId("online-empty").hidden = rows.length > 0;

  const scheduled = data.scheduled_now.map((s) => {
    const li = el("li", "", s.pseudonym);
    li.append(el("span", `badge ${s.online ? "badge-ok" : "badge-warn"}`, s.online ? t("online") : t("not_online")));
    return li;
  });
  byId("scheduled-list").replaceChildren(...scheduled);
  byId("scheduled-empty").hidden = scheduled.length > 0;

  const support = data.support_requests.map((s) => {
    const li = el("li", "", t("support_item", { name: s.operator_pseudonym, id: s.conversation_id, time: formatTime(s.requested_at) }));
    li.dataset.conversationId = String(s.conversation_id);
    const button = el("button", "button-secondary read-along", t("read_along"));
    button.type = "button";
    button.addEventListener("click", () => startReading(s.conversation_id));
    li.append(button);
    return li;
  });
  byId("support-list").replaceChildren(...support);
  byId("support-empty").hidden = support.length > 0;

  const hadFocus = byId("active-rows").contains(document.activeElement)
    ? document.activeElement.closest("tr")?.dataset.conversationId
    : null;
  const active = data.active.map((c) => {
    const tr = el("tr");
    tr.dataset.conversationId = String(c.id);
    const supervision = el("td");
    if (c.support_requested) supervision.append(el("span", "badge badge-warn", t("support_badge")), " ");
    if (c.readers.length) supervision.append(t("readers", { names: c.readers.join(", ") }));
    const action = el("td");
    const button = el("button", "button-secondary read-along", t("read_along"));
    button.type = "button";
    button.id = `read-along-${c.id}`;
    button.setAttribute("aria-describedby", `active-chat-${c.id}`);
    button.addEventListener("click", () => startReading(c.id));
    action.append(button);
    const title = el("td", "", t("chat", { id: c.id }));
    title.id = `active-chat-${c.id}`;
    tr.append(title, el("td", "", c.operator_pseudonym ?? "–"), el("td", "duration"), supervision, action);
    return tr;
  });
  byId("active-rows").replaceChildren(...active);
  byId("active-empty").hidden = active.length > 0;
  if (hadFocus) byId(`read-along-${hadFocus}`)?.focus();
  tick();
  if (state.reading) fillTargets();
}

function tick() {
  const data = state.overview;
  if (!data) return;
  const elapsed = Math.floor((performance.now() - state.receivedAt) / 1000);
  byId("fig-wait").textContent = data.queue.length ? formatDuration(data.queue.longest_wait_seconds + elapsed) : "–";
  for (const c of data.active) {
    const cell = byId("active-rows").querySelector(`[data-conversation-id="${c.id}"] .duration`);
    if (cell) cell.textContent = formatDuration(c.duration_seconds + elapsed);
  }
}

function showSupportAlert(support) {
  const warnings = byId("warnings");
  const p = el("p", "support-alert", t("support_alert", { name: support.operator_pseudonym, id: support.conversation_id }));
  warnings.append(p);
  window.setTimeout(() => p.remove(), 15000);
}

// ---------------------------------------------------------------- reading along

function startReading(id) {
  if (state.reading && state.reading !== id) send({ type: "read_along.stop", conversation_id: state.reading });
  state.reading = id;
  state.messageIds.clear();
  state.noteIds.clear();
  byId("reading-messages").replaceChildren();
  byId("reading-notes").replaceChildren();
  send({ type: "read_along.start", conversation_id: id });
}

function openReading(frame) {
  const c = frame.conversation;
  if (c.id !== state.reading) return;
  byId("reading").hidden = false;
  byId("reading-title").textContent = t("reading_title", { id: c.id });
  for (const m of frame.messages ?? []) addMessage(m);
  for (const n of frame.notes ?? []) addNote(n);
  applyConversation(c);
  fillTargets();
  byId("reading-title").focus();
}

function applyConversation(c) {
  if (c.id !== state.reading) return;
  const ended = c.status !== "active";
  byId("reading-status").textContent = ended ? t("chat_ended") : t("held_by", { name: c.operator_pseudonym ?? "–", time: formatTime(c.accepted_at) });
  for (const node of [byId("whisper-form"), byId("take-over"), byId("overview-transfer-form")]) node.hidden = ended;
  state.readingOperator = c.operator_id;
}

function addMessage(m) {
  if (m.conversation_id !== state.reading || state.messageIds.has(m.id)) return;
  state.messageIds.add(m.id);
  const li = el("li", `from-${m.sender}`);
  li.dataset.messageId = String(m.id);
  li.append(
    el("p", "message-meta", `${m.sender === "visitor" ? t("visitor") : (state.overview?.active.find((c) => c.id === m.conversation_id)?.operator_pseudonym ?? "")} ${formatTime(m.created_at)}`),
    el("p", "message-body", m.body),
  );
  const list = byId("reading-messages");
  const next = [...list.children].find((child) => Number(child.dataset.messageId) > m.id);
  list.insertBefore(li, next ?? null);
  list.scrollTop = list.scrollHeight;
}

function addNote(n) {
  if (n.conversation_id !== state.reading || state.noteIds.has(n.id)) return;
  state.noteIds.add(n.id);
  const key = n.kind === "transfer_note" ? "transfer_note_from" : "whisper_from";
  const li = el("li", `note note-${n.kind}`);
  li.append(el("p", "message-meta", `${t(key, { name: n.author_pseudonym })} ${formatTime(n.created_at)}`), el("p", "message-body", n.body));
  byId("reading-notes").append(li);
}

function applyTyping(typing) {
  if (typing.conversation_id !== state.reading || typing.side !== "visitor") return;
  byId("reading-typing").textContent = typing.active ? t("typing") : "";
}

async function fillTargets() {
  const id = state.reading;
  if (!id) return;
  let data;
  try {
    const response = await fetch(`${config.api_root}/conversations/${id}/transfer-targets`, {
      headers: { Accept: "application/json" },
      credentials: "same-origin",
    });
    if (!response.ok) return;
    data = await response.json();
  } catch {
    return;
  }
  const select = byId("overview-transfer-target");
  const chosen = select.value;
  const options = data.operators.map((o) => {
    const option = el("option", "", `${o.pseudonym} (${o.chats}/${o.max_chats})`);
    option.value = String(o.id);
    return option;
  });
  if (!options.length) options.push(Object.assign(el("option", "", t("no_targets")), { value: "" }));
  select.replaceChildren(...options);
  if (chosen && [...select.options].some((o) => o.value === chosen)) select.value = chosen;
}

function afterHandOver(message) {
  byId("reading-status").textContent = message;
  stopReading(false);
  byId("overview-error").textContent = "";
  byId("warnings").append(Object.assign(el("p", "support-alert", message), { className: "notice" }));
}

function stopReading(notify = true) {
  if (state.reading && notify) send({ type: "read_along.stop", conversation_id: state.reading });
  const id = state.reading;
  state.reading = null;
  byId("reading").hidden = true;
  (byId(`read-along-${id}`) ?? byId("active-title")).focus?.();
}

byId("whisper-form").addEventListener("submit", (event) => {
  event.preventDefault();
  const input = byId("whisper-input");
  if (!input.value.trim() || !state.reading) return;
  if (send({ type: "whisper.send", conversation_id: state.reading, body: input.value })) input.value = "";
});
byId("whisper-input").addEventListener("keydown", (event) => {
  if (event.key === "Enter" && !event.shiftKey && !event.isComposing) {
    event.preventDefault();
    byId("whisper-form").requestSubmit();
  }
});
byId("take-over").addEventListener("click", () => {
  if (state.reading) send({ type: "take_over", conversation_id: state.reading, from_operator_id: state.readingOperator });
});
byId("overview-transfer-form").addEventListener("submit", (event) => {
  event.preventDefault();
  const target = Number(byId("overview-transfer-target").value);
  if (!target || !state.reading) return;
  send({ type: "transfer", conversation_id: state.reading, operator_id: target, note: byId("overview-transfer-note").value });
});
byId("stop-reading").addEventListener("click", () => stopReading(true));

window.setInterval(tick, 1000);
setConnection("connecting");
connect();
