// The operator console: profile, queue, up to max_chats chat panes, and the
// registration of ended chats. One plain ES module, no framework, no build.
// It talks to the server only through /api/v1/ and /ws/v1/operator/.
// Message bodies are shown with textContent only: never innerHTML.

const config = JSON.parse(document.getElementById("console-config").textContent);
const csrfToken = document.querySelector('meta[name="csrf-token"]').content;
const baseTitle = document.title;

const PING_MS = 20000;
const PONG_TIMEOUT_MS = 10000;
const TYPING_IDLE_MS = 3000;
const TYPING_REPEAT_MS = 4000;
const VISITOR_TYPING_TIMEOUT_MS = 10000;
const MAX_BACKOFF_MS = 15000;

/** A translated string; "%(name)s" placeholders as in Django's gettext. */
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

const ui = {
  alert: byId("console-alert"),
  alertBox: byId("alert-box"),
  alertDismiss: byId("alert-dismiss"),
  announce: byId("console-announce"),
  connection: byId("connection-state"),
  loginAgain: byId("login-again"),
  pseudonymForm: byId("pseudonym-form"),
  pseudonym: byId("pseudonym-input"),
  availabilityButtons: [byId("availability-available"), byId("availability-paused")],
  availabilityHint: byId("availability-hint"),
  queueCount: byId("queue-count"),
  queueList: byId("queue-list"),
  takeNext: byId("take-next"),
  todoTitle: byId("todo-title"),
  todoList: byId("todo-list"),
  todoEmpty: byId("todo-empty"),
  panes: byId("chat-panes"),
  chatsEmpty: byId("chats-empty"),
  chatCount: byId("chat-count"),
  paneTemplate: byId("chat-pane-template"),
  regSection: byId("registration-section"),
  regTitle: byId("registration-title"),
  regForm: byId("registration-form"),
  regTopics: byId("registration-topics"),
  regResults: byId("registration-results"),
  regError: byId("registration-error"),
  regSave: byId("registration-save"),
  regCancel: byId("registration-cancel"),
  prank: byId("prank-suspected"),
  note: byId("registration-note"),
};

const state = {
  socket: null,
  retry: 0,
  retryTimer: null,
  pingTimer: null,
  pongTimer: null,
  signedOut: false,
  operator: { pseudonym: "", availability: "offline", max_chats: config.max_chats },
  pseudonymDirty: false,
  queue: [],
  queueReceivedAt: 0,
  convs: new Map(), // conversation id -> record (see record())
  todo: new Map(), // conversation id -> conversation frame
  registered: new Set(),
  taxonomy: null,
  registering: null,
  unread: 0,
};

// ---------------------------------------------------------------- formatting

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

function intakeSummary(c) {
  const labels = config.labels;
  return [
    labels.audience[c.audience] ?? t("unknown_audience"),
    c.age != null ? t("age", { age: c.age }) : t("unknown_age"),
    labels.gender[c.gender] ?? t("unknown_gender"),
  ].join(" · ");
}

function intakeDetails(c) {
  const source = config.labels.referral_source[c.referral_source];
  const parts = [source ? t("found_via", { source }) : t("found_unknown")];
  if (config.labels.device_class[c.device_class]) parts.push(config.labels.device_class[c.device_class]);
  return parts.join(" · ");
}

// ---------------------------------------------------------------- alerts

function showAlert(message) {
  ui.alert.textContent = message;
  ui.alertBox.classList.add("has-alert");
  ui.alertDismiss.hidden = false;
}

function clearAlert() {
  ui.alert.textContent = "";
  ui.alertBox.classList.remove("has-alert");
  ui.alertDismiss.hidden = true;
}

function announce(message) {
  ui.announce.textContent = "";
  window.setTimeout(() => (ui.announce.textContent = message), 50);
}

// ---------------------------------------------------------------- HTTP API

class ApiError extends Error {
  constructor(code, message) {
    super(message);
    this.code = code;
  }
}

async function api(method, path, body) {
  const headers = { Accept: "application/json" };
  if (body !== undefined) headers["Content-Type"] = "application/json";
  if (method !== "GET") headers["X-CSRFToken"] = csrfToken;
  let response;
  try {
    response = await fetch(config.api_root + path, {
      method,
      headers,
      credentials: "same-origin",
      body: body === undefined ? undefined : JSON.stringify(body),
    });
  } catch {
    throw new ApiError("network", t("network_error"));
  }
  const data = await response.json().catch(() => null);
  if (!response.ok) {
    throw new ApiError(data?.code ?? `http_${response.status}`, data?.message ?? t("error"));
  }
  return data;
}

/** Run an action of the operator; a refusal of the server goes to the alert area. */
async function attempt(action) {
  clearAlert();
  try {
    return await action();
  } catch (error) {
    showAlert(error instanceof ApiError ? error.message : t("error"));
    return undefined;
  }
}

// ---------------------------------------------------------------- websocket

function send(frame) {
  if (state.socket?.readyState !== WebSocket.OPEN) return false;
  state.socket.send(JSON.stringify(frame));
  return true;
}

function setConnection(kind) {
  ui.connection.textContent = t(kind);
  ui.connection.parentElement.dataset.state = kind;
  ui.loginAgain.hidden = kind !== "signed_out";
}

function connect() {
  window.clearTimeout(state.retryTimer);
  state.retryTimer = null;
  const scheme = location.protocol === "https:" ? "wss" : "ws";
  const socket = new WebSocket(`${scheme}://${location.host}${config.ws_path}`);
  state.socket = socket;
  if (state.retry === 0) setConnection("connecting");
  socket.addEventListener("open", () => {
    state.retry = 0;
    setConnection("connected");
    startPing();
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
    stopPing();
    if (event.code === 4401) {
      state.signedOut = true;
      setConnection("signed_out");
      return;
    }
    scheduleReconnect();
  });
}

function scheduleReconnect() {
  if (state.signedOut || state.retryTimer) return;
  setConnection("reconnecting");
  const delay = Math.min(MAX_BACKOFF_MS, 1000 * 1.6 ** state.retry) * (0.75 + Math.random() * 0.5);
  state.retry += 1;
  state.retryTimer = window.setTimeout(connect, delay);
}

function startPing() {
  stopPing();
  state.pingTimer = window.setInterval(() => {
    if (!send({ type: "ping" })) return;
    window.clearTimeout(state.pongTimer);
    // No pong in time: the line is dead even if the browser has not noticed.
    state.pongTimer = window.setTimeout(() => state.socket?.close(), PONG_TIMEOUT_MS);
  }, PING_MS);
}

function stopPing() {
  window.clearInterval(state.pingTimer);
  window.clearTimeout(state.pongTimer);
}

function handleFrame(frame) {
  switch (frame.type) {
    case "snapshot":
      return applySnapshot(frame);
    case "queue":
      return renderQueue(frame.queue, frame.queue_total);
    case "conversation":
      return applyConversation(frame);
    case "message.new":
      return addMessage(frame.message);
    case "message.ack":
      return addMessage(frame.message);
    case "typing":
      return applyTyping(frame.typing);
    case "receipt":
      return applyReceipt(frame.receipt);
    case "pong":
      return window.clearTimeout(state.pongTimer);
    case "error":
      return applyError(frame);
    case "offer":
      return addOffer(frame.offer);
    case "offer.closed":
      return removeOffer(frame.offer.id);
    default:
      return handleSupervisionFrame(frame);
  }
}

function applySnapshot(frame) {
  applyProfile(frame.operator);
  applyOffers(frame.offers ?? []);
  renderQueue(frame.queue, frame.queue_total);
  for (const bundle of frame.conversations) applyConversation(bundle);
  for (const conversation of frame.todo) addTodo(conversation);
  // After a reconnect: whatever happened to our open chats meanwhile (an end,
  // messages the snapshot could not hold), then the messages not yet acknowledged.
  for (const rec of state.convs.values()) {
    if (rec.conv?.status !== "active") continue;
    send({ type: "resume", conversation_id: rec.id, after: rec.lastSeenId });
    for (const [clientId, pending] of rec.pending) {
      if (!pending.failed) sendPending(rec, clientId, pending.body);
    }
    sendReceipts(rec);
  }
}

function applyError(frame) {
  if (frame.in_reply_to === "message.send" && frame.client_id) {
    for (const rec of state.convs.values()) {
      const pending = rec.pending.get(frame.client_id);
      if (!pending) continue;
      pending.failed = true;
      pending.node.classList.add("failed");
      updateReceipts(rec);
    }
  }
  if (!["typing", "receipt", "ping"].includes(frame.in_reply_to)) showAlert(frame.message);
}

// ---------------------------------------------------------------- profile

function applyProfile(profile) {
  Object.assign(state.operator, profile);
  if (!state.pseudonymDirty) ui.pseudonym.value = profile.pseudonym ?? "";
  for (const button of ui.availabilityButtons) {
    button.setAttribute("aria-pressed", String(button.dataset.availability === profile.availability));
  }
  ui.availabilityHint.textContent = profile.availability === "offline" ? t("offline_hint") : "";
  renderChatCount();
}

ui.pseudonym.addEventListener("input", () => (state.pseudonymDirty = true));

ui.pseudonymForm.addEventListener("submit", async (event) => {
  event.preventDefault();
  const profile = await attempt(() => api("PATCH", "/operator/me", { pseudonym: ui.pseudonym.value }));
  if (!profile) return;
  state.pseudonymDirty = false;
  applyProfile(profile);
  announce(t("pseudonym_saved"));
});

for (const button of ui.availabilityButtons) {
  button.addEventListener("click", async () => {
    const availability = button.dataset.availability;
    const profile = await attempt(() => api("PATCH", "/operator/me", { availability }));
    if (!profile) return;
    applyProfile(profile);
    announce(t("availability_now", { state: config.labels.availability[availability] }));
  });
}

// ---------------------------------------------------------------- queue

// `entries` are the first in line (the server caps the list); `total` counts everyone.
function renderQueue(entries, total) {
  state.queue = entries;
  state.queueReceivedAt = performance.now();
  const existing = new Map([...ui.queueList.children].map((li) => [li.dataset.queueId, li]));
  const hadFocus = ui.queueList.contains(document.activeElement);
  const items = entries.map((entry) => {
    const li = existing.get(String(entry.id)) ?? buildQueueItem(entry);
    existing.delete(String(entry.id));
    return li;
  });
  for (const li of existing.values()) li.remove();
  items.forEach((li, index) => {
    if (ui.queueList.children[index] !== li) ui.queueList.insertBefore(li, ui.queueList.children[index] ?? null);
  });
  if (hadFocus && !ui.queueList.contains(document.activeElement)) ui.takeNext.focus();
  const count = total ?? entries.length;
  const text = count === 0 ? t("queue_none") : count === 1 ? t("queue_one") : t("queue_many", { n: count });
  if (ui.queueCount.textContent !== text) ui.queueCount.textContent = text;
  tickQueue();
}

function buildQueueItem(entry) {
  const li = el("li", "queue-item");
  li.dataset.queueId = String(entry.id);
  const who = el("p", "queue-who", intakeSummary(entry));
  who.id = `queue-who-${entry.id}`;
  const details = el("p", "queue-details", intakeDetails(entry));
  const wait = el("p", "queue-wait");
  const accept = el("button", "queue-accept", ui.queueList.dataset.acceptLabel);
  accept.type = "button";
  accept.setAttribute("aria-describedby", who.id);
  accept.addEventListener("click", () => takeChat(`/conversations/${entry.id}/accept`));
  li.append(who, details, wait, accept);
  return li;
}

function tickQueue() {
  const elapsed = Math.floor((performance.now() - state.queueReceivedAt) / 1000);
  for (const entry of state.queue) {
    const li = ui.queueList.querySelector(`[data-queue-id="${entry.id}"]`);
    const wait = li?.querySelector(".queue-wait");
    if (wait) wait.textContent = t("waiting", { time: formatDuration(entry.waiting_seconds + elapsed) });
  }
}

async function takeChat(path) {
  const result = await attempt(() => api("POST", path));
  if (!result) return;
  applyConversation({ conversation: result.conversation });
  state.convs.get(result.conversation.id)?.ui?.input.focus();
}

ui.takeNext.addEventListener("click", () => takeChat("/queue/take"));

// ---------------------------------------------------------------- conversations

function record(id) {
  let rec = state.convs.get(id);
  if (!rec) {
    rec = {
      id, conv: null, pane: null, ui: null, receipts: null, visible: false,
      messages: new Map(), // message id -> message frame
      pending: new Map(), // client_id -> { body, node, failed }: not yet acknowledged
      lastSeenId: 0, lastVisitorId: 0, deliveredSent: 0, readSent: 0,
      typingActive: false, typingSentAt: 0, typingIdle: null, visitorTyping: null,
    };
    state.convs.set(id, rec);
  }
  return rec;
}

function applyConversation({ conversation: c, messages }) {
  if (c.status === "queued") return;
  const known = state.convs.get(c.id);
  if (c.status === "ended" && !known?.pane) {
    addTodo(c);
    return;
  }
  const rec = record(c.id);
  // An HTTP answer may arrive after the websocket said the chat ended: never go back.
  if (rec.conv?.status === "ended" && c.status !== "ended") return;
  rec.conv = c;
  rec.receipts = c.receipts;
  if (!rec.pane) createPane(rec);
  for (const message of messages ?? []) addMessage(message);
  updatePane(rec);
  if (c.status === "ended") addTodo(c);
}

function createPane(rec) {
  const pane = ui.paneTemplate.content.firstElementChild.cloneNode(true);
  const q = (selector) => pane.querySelector(selector);
  pane.dataset.conversationId = String(rec.id);
  pane.setAttribute("aria-labelledby", `chat-title-${rec.id}`);
  q(".chat-title").id = `chat-title-${rec.id}`;
  q(".chat-title").textContent = t("chat_title", { id: rec.id });
  q(".composer-label").htmlFor = `composer-${rec.id}`;
  q(".composer-input").id = `composer-${rec.id}`;
  q(".composer-hint").id = `composer-hint-${rec.id}`;
  q(".composer-input").setAttribute("aria-describedby", `composer-hint-${rec.id}`);
  rec.pane = pane;
  rec.ui = {
    status: q(".chat-status"),
    intake: q(".intake"),
    messages: q(".messages"),
    typing: q(".typing-indicator"),
    composer: q(".composer"),
    input: q(".composer-input"),
    endButton: q(".end-chat"),
    endConfirm: q(".end-confirm"),
    registerNow: q(".register-now"),
    closePane: q(".close-pane"),
  };
  const sorted = [...rec.messages.values()].sort((a, b) => a.id - b.id);
  for (const message of sorted) rec.ui.messages.append(buildMessage(message));
  wirePane(rec);
  wireSupervision(rec);
  ui.panes.append(pane);
  visibility.observe(rec.ui.messages);
  scrollToEnd(rec);
  announce(t("chat_assigned", { id: rec.id }));
  renderChatCount();
}

function wirePane(rec) {
  const { input } = rec.ui;
  rec.ui.composer.addEventListener("submit", (event) => {
    event.preventDefault();
    sendMessage(rec);
  });
  input.addEventListener("keydown", (event) => {
    if (event.key === "Enter" && !event.shiftKey && !event.isComposing) {
      event.preventDefault();
      sendMessage(rec);
    }
  });
  input.addEventListener("input", () => onComposerInput(rec));
  input.addEventListener("focus", () => sendReceipts(rec));
  rec.ui.endButton.addEventListener("click", () => {
    rec.ui.endButton.hidden = true;
    rec.ui.endConfirm.hidden = false;
    rec.pane.querySelector(".end-chat-confirm").focus();
  });
  rec.pane.querySelector(".end-chat-cancel").addEventListener("click", () => {
    rec.ui.endConfirm.hidden = true;
    rec.ui.endButton.hidden = false;
    rec.ui.endButton.focus();
  });
  rec.pane.querySelector(".end-chat-confirm").addEventListener("click", async () => {
    stopTyping(rec);
    const result = await attempt(() => api("POST", `/conversations/${rec.id}/end`));
    if (result) applyConversation({ conversation: result.conversation });
  });
  rec.ui.registerNow.addEventListener("click", () => openRegistration(rec.id));
  rec.ui.closePane.addEventListener("click", () => {
    closePane(rec.id);
    ui.todoTitle.focus();
  });
}

function updatePane(rec) {
  const c = rec.conv;
  const ended = c.status === "ended";
  rec.pane.classList.toggle("ended", ended);
  rec.ui.intake.textContent = `${intakeSummary(c)} · ${intakeDetails(c)}`;
  // A returning visitor with a confirmed prank marking (onthaal.safeguard):
  // the server sends the alert in the staff frame only.
  if (c.visitor_alert && !rec.pane.querySelector(".visitor-alert")) {
    const alert = el("p", "visitor-alert", c.visitor_alert.message);
    alert.setAttribute("role", "note");
    rec.ui.intake.after(alert);
  }
  if (!ended) {
    rec.ui.status.textContent = t("active_since", { time: formatTime(c.accepted_at) });
  } else {
    const reason = {
      visitor_ended: "ended_visitor",
      broke_off: "ended_broke_off",
      operator_ended: "ended_operator",
    }[c.end_reason] ?? "ended_other";
    const todo = state.registered.has(c.id) ? "" : ` ${t("ended_todo")}`;
    rec.ui.status.textContent = t(reason) + todo;
    setVisitorTyping(rec, false);
  }
  // Focus in what is about to disappear goes to the next step instead.
  const active = document.activeElement;
  if (ended && (rec.ui.composer.contains(active) || rec.ui.endConfirm.contains(active))) {
    window.setTimeout(() => rec.ui.registerNow.focus());
  }
  rec.ui.input.disabled = ended;
  rec.ui.composer.hidden = ended;
  rec.ui.endButton.hidden = ended || !rec.ui.endConfirm.hidden;
  if (ended) rec.ui.endConfirm.hidden = true;
  rec.ui.registerNow.hidden = !ended || state.registered.has(c.id);
  rec.ui.closePane.hidden = !ended;
  updateReceipts(rec);
  renderChatCount();
}

function closePane(id) {
  const rec = state.convs.get(id);
  if (!rec?.pane) return;
  visibility.unobserve(rec.ui.messages);
  window.clearTimeout(rec.typingIdle);
  window.clearTimeout(rec.visitorTyping);
  rec.pane.remove();
  state.convs.delete(id);
  renderChatCount();
}

function renderChatCount() {
  const active = [...state.convs.values()].filter((rec) => rec.conv?.status === "active").length;
  ui.chatCount.textContent = t("chat_count", { n: active, max: state.operator.max_chats });
  ui.chatsEmpty.hidden = ui.panes.children.length > 0;
}

// ---------------------------------------------------------------- messages

function timeElement(iso) {
  const time = el("time", "", formatTime(iso));
  time.dateTime = iso;
  return time;
}

function buildMessage(message) {
  const node = el("div", `message from-${message.sender}`);
  if (message.id) node.dataset.messageId = String(message.id);
  const meta = el("p", "message-meta");
  meta.append(el("span", "message-who", message.sender === "visitor" ? t("visitor") : t("you")));
  if (message.created_at) meta.append(" ", timeElement(message.created_at));
  node.append(meta, el("p", "message-body", message.body));
  if (message.sender === "operator") node.append(el("p", "receipt"));
  return node;
}

function addMessage(message) {
  const rec = record(message.conversation_id);
  if (rec.messages.has(message.id)) return;
  rec.messages.set(message.id, message);
  rec.lastSeenId = Math.max(rec.lastSeenId, message.id);
  if (message.sender === "visitor") rec.lastVisitorId = Math.max(rec.lastVisitorId, message.id);
  if (!rec.pane) return; // drawn with the rest when the pane is made
  const pending = message.sender === "operator" ? rec.pending.get(message.client_id) : null;
  const stick = isNearEnd(rec);
  if (pending) {
    rec.pending.delete(message.client_id);
    pending.node.dataset.messageId = String(message.id);
    pending.node.classList.remove("pending", "failed");
    pending.node.querySelector(".message-meta").append(" ", timeElement(message.created_at));
    const previous = pending.node.previousElementSibling;
    if (previous?.dataset.messageId && Number(previous.dataset.messageId) > message.id) {
      insertSorted(rec, pending.node, message.id);
    }
  } else {
    insertSorted(rec, buildMessage(message), message.id);
  }
  if (message.sender === "visitor") {
    setVisitorTyping(rec, false);
    if (!pageHasAttention()) {
      state.unread += 1;
      document.title = `(${state.unread}) ${baseTitle}`;
    }
  }
  updateReceipts(rec);
  if (stick || message.sender === "operator") scrollToEnd(rec);
  sendReceipts(rec);
}

/** Before the first message with a higher id, or the first unsent one. */
function insertSorted(rec, node, id) {
  const next = [...rec.ui.messages.children].find(
    (child) => child !== node && (!child.dataset.messageId || Number(child.dataset.messageId) > id),
  );
  rec.ui.messages.insertBefore(node, next ?? null);
}

function isNearEnd(rec) {
  const list = rec.ui.messages;
  return list.scrollHeight - list.scrollTop - list.clientHeight < 60;
}

function scrollToEnd(rec) {
  rec.ui.messages.scrollTop = rec.ui.messages.scrollHeight;
}

function newClientId() {
  if (window.crypto?.randomUUID) return window.crypto.randomUUID();
  const bytes = window.crypto.getRandomValues(new Uint8Array(16));
  return [...bytes].map((b) => b.toString(16).padStart(2, "0")).join("");
}

function sendMessage(rec) {
  const body = rec.ui.input.value;
  if (!body.trim() || rec.conv?.status !== "active") return;
  const clientId = newClientId();
  const node = buildMessage({ sender: "operator", body: body.trim() });
  node.classList.add("pending");
  node.dataset.clientId = clientId;
  rec.pending.set(clientId, { body, node, failed: false });
  rec.ui.messages.append(node);
  rec.ui.input.value = "";
  stopTyping(rec);
  updateReceipts(rec);
  scrollToEnd(rec);
  // Sent now if the socket is open; otherwise after the next snapshot. The
  // server stores a client_id once, so a resend can never double a message.
  sendPending(rec, clientId, body);
}

function sendPending(rec, clientId, body) {
  send({ type: "message.send", conversation_id: rec.id, client_id: clientId, body });
}

function applyReceipt(receipt) {
  const rec = state.convs.get(receipt.conversation_id);
  if (!rec?.pane) return;
  rec.receipts = receipt;
  updateReceipts(rec);
}

function updateReceipts(rec) {
  const delivered = rec.receipts?.visitor_delivered_id ?? 0;
  const read = rec.receipts?.visitor_read_id ?? 0;
  for (const node of rec.ui.messages.querySelectorAll(".from-operator")) {
    const id = Number(node.dataset.messageId || 0);
    let key = "sent";
    if (!id) key = node.classList.contains("failed") ? "not_sent" : "sending";
    else if (read >= id) key = "read";
    else if (delivered >= id) key = "delivered";
    const receipt = node.querySelector(".receipt");
    if (receipt.dataset.state !== key) {
      receipt.dataset.state = key;
      receipt.textContent = t(key);
    }
  }
}

// ---------------------------------------------------------------- typing and receipts

function onComposerInput(rec) {
  window.clearTimeout(rec.typingIdle);
  if (!rec.ui.input.value.trim()) {
    stopTyping(rec);
    return;
  }
  const now = Date.now();
  if (!rec.typingActive || now - rec.typingSentAt > TYPING_REPEAT_MS) {
    if (send({ type: "typing", conversation_id: rec.id, active: true })) {
      rec.typingActive = true;
      rec.typingSentAt = now;
    }
  }
  rec.typingIdle = window.setTimeout(() => stopTyping(rec), TYPING_IDLE_MS);
}

function stopTyping(rec) {
  window.clearTimeout(rec.typingIdle);
  if (!rec.typingActive) return;
  rec.typingActive = false;
  send({ type: "typing", conversation_id: rec.id, active: false });
}

function applyTyping(typing) {
  const rec = state.convs.get(typing.conversation_id);
  if (!rec?.pane || typing.side !== "visitor") return;
  setVisitorTyping(rec, typing.active && rec.conv.status === "active");
}

function setVisitorTyping(rec, active) {
  window.clearTimeout(rec.visitorTyping);
  rec.ui.typing.textContent = active ? t("typing") : "";
  // A visitor whose line drops never says "stopped typing".
  if (active) rec.visitorTyping = window.setTimeout(() => setVisitorTyping(rec, false), VISITOR_TYPING_TIMEOUT_MS);
}

function pageHasAttention() {
  return document.visibilityState === "visible" && document.hasFocus();
}

function sendReceipts(rec) {
  if (!rec.pane || !rec.lastVisitorId) return;
  const frame = { type: "receipt", conversation_id: rec.id };
  if (rec.lastVisitorId > rec.deliveredSent) frame.delivered_id = rec.lastVisitorId;
  if (rec.visible && pageHasAttention() && rec.lastVisitorId > rec.readSent) frame.read_id = rec.lastVisitorId;
  if (frame.delivered_id === undefined && frame.read_id === undefined) return;
  if (!send(frame)) return;
  rec.deliveredSent = Math.max(rec.deliveredSent, frame.delivered_id ?? 0);
  rec.readSent = Math.max(rec.readSent, frame.read_id ?? 0);
}

const visibility = new IntersectionObserver(
  (entries) => {
    for (const entry of entries) {
      const pane = entry.target.closest(".chat-pane");
      const rec = state.convs.get(Number(pane?.dataset.conversationId));
      if (!rec) continue;
      rec.visible = entry.isIntersecting;
      sendReceipts(rec);
    }
  },
  { threshold: 0.2 },
);

function onAttention() {
  if (!pageHasAttention()) return;
  state.unread = 0;
  document.title = baseTitle;
  for (const rec of state.convs.values()) sendReceipts(rec);
}

window.addEventListener("focus", onAttention);
document.addEventListener("visibilitychange", onAttention);

// ---------------------------------------------------------------- to-do and registration

function addTodo(conversation) {
  if (!conversation.accepted_at || state.registered.has(conversation.id)) return;
  state.todo.set(conversation.id, conversation);
  renderTodo();
}

function renderTodo() {
  const focused = ui.todoList.contains(document.activeElement)
    ? document.activeElement.closest("[data-todo-id]").dataset.todoId
    : null;
  ui.todoList.replaceChildren();
  const items = [...state.todo.values()].sort((a, b) => (a.ended_at ?? "").localeCompare(b.ended_at ?? ""));
  for (const c of items) {
    const li = el("li", "todo-item");
    li.dataset.todoId = String(c.id);
    const text = el("p", "todo-text", t("todo_item", { id: c.id, summary: intakeSummary(c), time: formatTime(c.ended_at) }));
    text.id = `todo-text-${c.id}`;
    const open = el("button", "todo-open button-secondary", ui.todoList.dataset.openLabel);
    open.type = "button";
    open.setAttribute("aria-describedby", text.id);
    if (state.registering === c.id) li.setAttribute("aria-current", "true");
    open.addEventListener("click", () => openRegistration(c.id));
    li.append(text, open);
    ui.todoList.append(li);
  }
  ui.todoEmpty.hidden = items.length > 0;
  if (focused !== null) {
    const again = ui.todoList.querySelector(`[data-todo-id="${focused}"] .todo-open`);
    (again ?? ui.todoList.querySelector(".todo-open") ?? ui.todoTitle).focus();
  }
}

function buildChoice(name, item) {
  const label = el("label", "choice");
  const input = el("input");
  input.type = "checkbox";
  input.name = name;
  input.value = String(item.id);
  label.append(input, " ", item.name);
  return label;
}

function buildTaxonomy(taxonomy) {
  ui.regTopics.replaceChildren();
  for (const domain of taxonomy.domains) {
    const fieldset = el("fieldset", "checkbox-grid");
    fieldset.append(el("legend", "", `${domain.name} (${domain.code})`));
    for (const topic of domain.topics) fieldset.append(buildChoice("topic", topic));
    ui.regTopics.append(fieldset);
  }
  for (const result of taxonomy.results) ui.regResults.append(buildChoice("result", result));
}

async function openRegistration(id) {
  const conversation = state.todo.get(id);
  if (!conversation) return;
  if (!state.taxonomy) {
    const taxonomy = await attempt(() => api("GET", "/taxonomy"));
    if (!taxonomy) return;
    state.taxonomy = taxonomy;
    buildTaxonomy(taxonomy);
  }
  state.registering = id;
  ui.regForm.reset();
  ui.regError.textContent = "";
  ui.regTitle.textContent = t("registration_title", { id });
  ui.regSection.hidden = false;
  renderTodo();
  ui.regTitle.focus();
}

function closeRegistration() {
  state.registering = null;
  ui.regSection.hidden = true;
  renderTodo();
}

function checkedIds(name) {
  return [...ui.regForm.querySelectorAll(`input[name="${name}"]:checked`)].map((input) => Number(input.value));
}

ui.regForm.addEventListener("submit", async (event) => {
  event.preventDefault();
  const id = state.registering;
  if (id === null) return;
  ui.regError.textContent = "";
  ui.regSave.disabled = true;
  try {
    await api("PUT", `/conversations/${id}/registration`, {
      topic_ids: checkedIds("topic"),
      result_ids: checkedIds("result"),
      prank_suspected: ui.prank.checked,
      note: ui.note.value,
    });
  } catch (error) {
    ui.regError.textContent = error instanceof ApiError ? error.message : t("error");
    return;
  } finally {
    ui.regSave.disabled = false;
  }
  state.registered.add(id);
  state.todo.delete(id);
  if (state.convs.get(id)?.conv?.status === "ended") closePane(id);
  closeRegistration();
  announce(t("registration_saved", { id }));
  (ui.todoList.querySelector(".todo-open") ?? ui.todoTitle).focus();
});

ui.regCancel.addEventListener("click", () => {
  const id = state.registering;
  closeRegistration();
  (ui.todoList.querySelector(`[data-todo-id="${id}"] .todo-open`) ?? ui.todoTitle).focus();
});

// ---------------------------------------------------------------- supervision
// Asking a coordinator for support, whispers, who reads along, handing a
// chat to a colleague, and a chat that went to a colleague (docs/api.md).

function handleSupervisionFrame(frame) {
  switch (frame.type) {
    case "whisper":
      return addStaffNote(frame.whisper);
    case "readers":
      return applyReaders(frame.conversation_id, frame.readers);
    case "conversation.released":
      return releaseChat(frame);
    case "support.requested":
      return showAlert(t("support_alert", { name: frame.support.operator_pseudonym, id: frame.support.conversation_id }));
    case "support.pending": {
      const button = state.convs.get(frame.conversation_id)?.pane?.querySelector(".ask-support");
      if (button) {
        button.disabled = true;
        button.textContent = t("support_asked");
      }
      return undefined;
    }
    default:
      return undefined;
  }
}

function staffArea(rec) {
  const area = rec.pane.querySelector(".staff-area");
  area.hidden = false;
  return area;
}

function addStaffNote(note, quiet = false) {
  const rec = state.convs.get(note.conversation_id);
  if (!rec?.pane) return;
  const list = staffArea(rec).querySelector(".staff-notes");
  if (list.querySelector(`[data-note-id="${note.id}"]`)) return;
  const key = note.kind === "transfer_note" ? "transfer_note_from" : "whisper_from";
  const li = el("li", `staff-note note-${note.kind}`);
  li.dataset.noteId = String(note.id);
  li.append(
    el("p", "message-meta", `${t(key, { name: note.author_pseudonym })} ${formatTime(note.created_at)}`),
    el("p", "message-body", note.body),
  );
  list.append(li);
  if (!quiet && note.author_id !== state.operator.id) announce(t(key, { name: note.author_pseudonym }));
}

function applyReaders(id, readers) {
  const rec = state.convs.get(id);
  if (!rec?.pane) return;
  const names = readers.map((r) => r.pseudonym).join(", ");
  const line = staffArea(rec).querySelector(".readers");
  line.textContent = names ? t("readers", { names }) : "";
  if (names) announce(line.textContent);
}

function releaseChat(frame) {
  const rec = state.convs.get(frame.conversation_id);
  if (!rec?.pane) return;
  rec.conv = { ...rec.conv, status: "released" };
  for (const [clientId] of rec.pending) rec.pending.delete(clientId);
  const message = t(frame.kind === "taken_over" ? "released_taken_over" : "released_transferred", { name: frame.to_pseudonym });
  rec.ui.status.textContent = message;
  rec.ui.input.disabled = true;
  rec.ui.composer.hidden = true;
  rec.ui.endButton.hidden = true;
  rec.ui.endConfirm.hidden = true;
  rec.pane.querySelector(".ask-support").hidden = true;
  rec.pane.querySelector(".transfer-open").hidden = true;
  rec.pane.querySelector(".transfer-form").hidden = true;
  rec.ui.closePane.hidden = false;
  rec.pane.classList.add("ended");
  announce(message);
  renderChatCount();
}

function wireSupervision(rec) {
  const q = (selector) => rec.pane.querySelector(selector);
  const support = q(".ask-support");
  const open = q(".transfer-open");
  const form = q(".transfer-form");
  const select = q(".transfer-target");
  const note = q(".transfer-note");
  select.id = `transfer-target-${rec.id}`;
  q(".transfer-target-label").htmlFor = select.id;
  note.id = `transfer-note-${rec.id}`;
  q(".transfer-note-label").htmlFor = note.id;
  // Whispers and a transfer note written before this pane was made (a reload).
  api("GET", `/conversations/${rec.id}/notes`).then(
    (data) => data.notes.forEach((n) => addStaffNote(n, true)),
    () => {},
  );
  support.addEventListener("click", async () => {
    const result = await attempt(() => api("POST", `/conversations/${rec.id}/support`));
    if (!result) return;
    support.disabled = true;
    support.textContent = t("support_asked");
    announce(t("support_asked"));
  });
  open.addEventListener("click", async () => {
    const data = await attempt(() => api("GET", `/conversations/${rec.id}/transfer-targets`));
    if (!data) return;
    const options = data.operators.map((o) => {
      const option = el("option", "", `${o.pseudonym} (${o.chats}/${o.max_chats})`);
      option.value = String(o.id);
      return option;
    });
    if (!options.length) {
      showAlert(t("no_transfer_targets"));
      return;
    }
    select.replaceChildren(...options);
    open.hidden = true;
    form.hidden = false;
    select.focus();
  });
  q(".transfer-cancel").addEventListener("click", () => {
    form.hidden = true;
    open.hidden = false;
    open.focus();
  });
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const result = await attempt(() =>
      api("POST", `/conversations/${rec.id}/transfer`, { operator_id: Number(select.value), note: note.value }),
    );
    if (!result) return;
    form.hidden = true;
    note.value = "";
  });
}

// ---------------------------------------------------------------- start

ui.alertDismiss.addEventListener("click", () => {
  clearAlert();
  ui.takeNext.focus();
});

window.addEventListener("online", () => {
  if (!state.socket && !state.signedOut) {
    state.retry = 0;
    connect();
  }
});

window.setInterval(tickQueue, 1000);
renderChatCount();
renderTodo();
api("GET", "/operator/me").then(applyProfile, () => {});
connect();

// ---------------------------------------------------------------- offers
// Automatic assignment (ONTHAAL_ASSIGNMENT=auto): a chat offered to this
// operator alone, to accept or decline before it expires (docs/api.md).

const offerUi = { section: byId("offers"), list: byId("offer-list") };
const offers = new Map(); // offer id -> { offer, deadline (performance.now() ms), li }

function applyOffers(list) {
  const ids = new Set(list.map((offer) => offer.id));
  for (const id of [...offers.keys()]) if (!ids.has(id)) removeOffer(id);
  for (const offer of list) addOffer(offer);
}

function addOffer(offer) {
  if (!offerUi.section || offers.has(offer.id)) return;
  const data = offerUi.section.dataset;
  const seconds = (Date.parse(offer.expires_at) - Date.parse(offer.offered_at)) / 1000;
  const li = el("li", "offer-item");
  li.dataset.offerId = String(offer.id);
  const who = el("p", "offer-who", data.offerLabel.replace("%(summary)s", intakeSummary(offer.conversation)));
  who.id = `offer-who-${offer.id}`;
  const left = el("p", "offer-left muted");
  const accept = el("button", "offer-accept", data.acceptLabel);
  const decline = el("button", "offer-decline button-secondary", data.declineLabel);
  for (const button of [accept, decline]) {
    button.type = "button";
    button.setAttribute("aria-describedby", who.id);
  }
  accept.addEventListener("click", async () => {
    const result = await attempt(() => api("POST", `/offers/${offer.id}/accept`));
    removeOffer(offer.id);
    if (!result) return;
    applyConversation({ conversation: result.conversation });
    state.convs.get(result.conversation.id)?.ui?.input.focus();
  });
  decline.addEventListener("click", async () => {
    await attempt(() => api("POST", `/offers/${offer.id}/decline`));
    removeOffer(offer.id);
  });
  li.append(who, el("p", "offer-details", intakeDetails(offer.conversation)), left, accept, decline);
  offerUi.list.append(li);
  offers.set(offer.id, { offer, deadline: performance.now() + seconds * 1000, li });
  offerUi.section.hidden = false;
  tickOffers();
  announce(who.textContent);
}

function removeOffer(id) {
  const entry = offers.get(id);
  if (!entry) return;
  entry.li.remove();
  offers.delete(id);
  if (offerUi.section) offerUi.section.hidden = offers.size === 0;
}

function tickOffers() {
  for (const [id, entry] of offers) {
    const seconds = Math.ceil((entry.deadline - performance.now()) / 1000);
    // The server closes it (offer.closed); this only keeps the screen honest
    // if that frame is late.
    if (seconds <= -5) removeOffer(id);
    else entry.li.querySelector(".offer-left").textContent = offerUi.section.dataset.leftLabel.replace("%(seconds)s", String(Math.max(0, seconds)));
  }
}

window.setInterval(tickOffers, 1000);
