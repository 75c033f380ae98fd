// The visitor's chat: intake, queue, live chat, rating.
//
// Nothing but the JSON API (/api/v1/) and the visitor websocket
// (/ws/v1/visitor/) is used; the protocol is in docs/api.md.
// sessionStorage holds only what a reload needs to resume: the conversation
// id, its token, the last message id seen, and messages not yet
// acknowledged by the server. All of it is removed when the chat ends, and
// the quick-exit button (quickexit.js) removes it at once.

const KEY = "onthaal.visitor";
const T = JSON.parse(document.getElementById("visitor-strings").textContent);
const $ = (id) => document.getElementById(id);
const VIEWS = ["closed", "intake", "waiting", "chat", "rating", "thanks"];

let state = load();
let ws = null;
let retry = 0;
let pingTimer = null;
let typingTimer = null;
let typingSentAt = 0;
let typingHideTimer = null;
let wasOffline = false;
let lastOperatorId = 0;
let receiptState = { delivered: 0, read: 0 };

function load() {
  try {
    return JSON.parse(sessionStorage.getItem(KEY));
  } catch {
    return null;
  }
}
function save() {
  if (state) sessionStorage.setItem(KEY, JSON.stringify(state));
}
function forget() {
  state = null;
  sessionStorage.removeItem(KEY);
  if (ws) {
    ws.onclose = null;
    ws.close();
    ws = null;
  }
  clearInterval(pingTimer);
}
// The returning-visitor key (see the privacy page): random, kept in
// localStorage, sent only with the intake; the server keeps a keyed hash.
// Quick exit and the privacy page's button remove it (quickexit.js).
function returningKey() {
  try {
    let key = localStorage.getItem("onthaal.returning") || "";
    if (!/^[0-9a-f]{64}$/.test(key)) {
      const bytes = crypto.getRandomValues(new Uint8Array(32));
      key = Array.from(bytes, (x) => x.toString(16).padStart(2, "0")).join("");
      localStorage.setItem("onthaal.returning", key);
    }
    return key;
  } catch {
    return "";
  }
}
function fmt(template, values) {
  return template.replace(/%\((\w+)\)s/g, (_, k) => String(values[k]));
}
function show(name) {
  for (const v of VIEWS) $(`view-${v}`).hidden = v !== name;
}
function uuid() {
  if (crypto.randomUUID) return crypto.randomUUID();
  const b = crypto.getRandomValues(new Uint8Array(16));
  return Array.from(b, (x) => x.toString(16).padStart(2, "0")).join("");
}
function say(el, text) {
  el.textContent = text || "";
  el.hidden = !text;
}

async function api(method, path, body) {
  const headers = { "Content-Type": "application/json" };
  if (state && state.token) headers.Authorization = `Bearer ${state.token}`;
  const response = await fetch(`/api/v1${path}`, {
    method,
    headers,
    body: body === undefined ? undefined : JSON.stringify(body),
    credentials: "omit",
  });
  const data = await response.json().catch(() => ({}));
  if (!response.ok) throw Object.assign(new Error(data.message || T.error), { data });
  return data;
}

// Intake → queue.
$("intake-form").addEventListener("submit", async (event) => {
  event.preventDefault();
  const form = event.target;
  const value = (name) => (form.querySelector(`[name=${name}]:checked`) || {}).value || "";
  const age = form.age.value.trim();
  say($("intake-error"), "");
  $("intake-submit").disabled = true;
  try {
    const data = await api("POST", "/conversations", {
      audience: value("audience"),
      gender: value("gender"),
      age: age === "" ? null : Number(age),
      referral_source: form.referral_source.value,
      touch: matchMedia("(pointer: coarse)").matches,
      visitor_key: returningKey(),
    });
    state = { id: data.id, token: data.token, lastId: 0, outbox: [] };
    save();
    apply(data.conversation, data.queue);
    connect();
  } catch (error) {
    const code = error.data && error.data.code;
    if (code === "chat_closed" || code === "chat_closing") {
      // The page was loaded before closing time (or its cut-off): say so,
      // with the server's message, which tells when the chat opens next.
      if (code === "chat_closing") $("closed-title").textContent = T.closing_title;
      say($("closed-message"), error.message);
      if ($("next-opening-line")) $("next-opening-line").hidden = true;
      show("closed");
    }
    say($("intake-error"), error.message);
  } finally {
    $("intake-submit").disabled = false;
  }
});

function connect() {
  if (!state) return;
  const scheme = location.protocol === "https:" ? "wss" : "ws";
  ws = new WebSocket(`${scheme}://${location.host}/ws/v1/visitor/`);
  ws.onopen = () => {
    retry = 0;
    send({ type: "hello", conversation_id: state.id, token: state.token, after: state.lastId });
    clearInterval(pingTimer);
    pingTimer = setInterval(() => send({ type: "ping" }), 20000);
  };
  ws.onmessage = (event) => handle(JSON.parse(event.data));
  ws.onclose = (event) => {
    clearInterval(pingTimer);
    ws = null;
    if (!state) return;
    if (event.code === 4404) {
      forget();
      location.reload();
      return;
    }
    wasOffline = true;
    say($("connection-banner"), T.offline);
    retry = Math.min(retry + 1, 5);
    setTimeout(connect, 500 * 2 ** retry);
  };
}

function send(frame) {
  if (ws && ws.readyState === WebSocket.OPEN) {
    ws.send(JSON.stringify(frame));
    return true;
  }
  return false;
}

function handle(frame) {
  switch (frame.type) {
    case "welcome":
      if (wasOffline) {
        say($("connection-banner"), T.reconnected);
        setTimeout(() => say($("connection-banner"), ""), 3000);
        wasOffline = false;
      } else say($("connection-banner"), "");
      for (const m of frame.messages) addMessage(m);
      apply(frame.conversation, frame.queue);
      flushOutbox();
      break;
    case "conversation":
      apply(frame.conversation, frame.queue);
      break;
    case "queue":
      renderQueue(frame.queue);
      break;
    case "message.new":
      addMessage(frame.message);
      break;
    case "message.ack":
      if (state) state.outbox = state.outbox.filter((m) => m.client_id !== frame.client_id);
      save();
      addMessage(frame.message);
      break;
    case "typing":
      $("typing").hidden = !frame.typing.active;
      clearTimeout(typingHideTimer);
      typingHideTimer = setTimeout(() => ($("typing").hidden = true), 6000);
      break;
    case "receipt":
      receiptState = {
        delivered: frame.receipt.operator_delivered_id,
        read: frame.receipt.operator_read_id,
      };
      renderReceipts();
      break;
    case "error":
      if (frame.in_reply_to === "message.send" && frame.client_id && state) {
        // Refused for good (too long, empty): drop it from the outbox.
        state.outbox = state.outbox.filter((m) => m.client_id !== frame.client_id);
        save();
        const pending = document.querySelector(`[data-client-id="${frame.client_id}"]`);
        if (pending && !pending.dataset.messageId) pending.remove();
      }
      say($("chat-error"), frame.message);
      break;
  }
}

function apply(conversation, queue) {
  if (!state) return;
  state.status = conversation.status;
  if (conversation.status === "queued") {
    show("waiting");
    renderQueue(queue);
  } else if (conversation.status === "active") {
    show("chat");
    $("chat-title").textContent = fmt(T.chat_with, { name: conversation.operator_pseudonym });
    // A colleague took the chat over: a neutral notice with the new name only.
    const name = conversation.operator_pseudonym;
    if (state.operatorName && name && state.operatorName !== name) {
      say($("connection-banner"), fmt(T.operator_changed, { name }));
    }
    state.operatorName = name;
    receiptState = {
      delivered: conversation.receipts.operator_delivered_id,
      read: conversation.receipts.operator_read_id,
    };
    renderReceipts();
  } else {
    ended(conversation);
    return;
  }
  save();
}

function ended(conversation) {
  // The transcript leaves the page and the tab's storage.
  $("messages").replaceChildren();
  state.outbox = [];
  const reasons = {
    operator_ended: T.ended_by_operator,
    visitor_ended: T.ended_by_visitor,
    broke_off: T.ended_broke_off,
    closed: T.ended_closed,
    missed: T.ended_missed,
  };
  $("ended-reason").textContent = reasons[conversation.end_reason] || "";
  if (conversation.accepted_at && conversation.rating === null) {
    state = { id: state.id, token: state.token, status: "ended", lastId: 0, outbox: [] };
    save();
    show("rating");
  } else {
    // Never answered (still waiting at closing time, or stopped waiting): say why.
    const reason = conversation.accepted_at ? "" : reasons[conversation.end_reason] || "";
    forget();
    say($("thanks-reason"), reason);
    show("thanks");
  }
}

function renderQueue(queue) {
  // toolkit/alternatives.js listens: it offers alternatives when the wait is long.
  document.dispatchEvent(new CustomEvent("onthaal:queue", { detail: queue }));
  if (!queue) return;
  $("queue-position").textContent = fmt(T.position, { n: queue.position });
  const seconds = queue.estimated_wait_seconds;
  let estimate = T.estimate_unknown;
  if (seconds !== null && seconds < 60) estimate = T.estimate_soon;
  else if (seconds !== null) estimate = fmt(T.estimate, { n: Math.round(seconds / 60) });
  $("queue-estimate").textContent = estimate;
}

function messageElement(m) {
  const li = document.createElement("li");
  li.className = m.sender === "visitor" ? "from-visitor" : "from-operator";
  const body = document.createElement("p");
  body.className = "body";
  body.textContent = m.body; // never innerHTML: markup in a message stays text
  li.append(body);
  if (m.sender === "visitor") {
    const receipt = document.createElement("span");
    receipt.className = "receipt";
    receipt.textContent = T.sending;
    li.append(receipt);
  }
  return li;
}

function addMessage(m) {
  if (!state) return;
  const list = $("messages");
  let li = list.querySelector(`[data-message-id="${m.id}"]`);
  if (!li && m.sender === "visitor") {
    li = list.querySelector(`[data-client-id="${CSS.escape(m.client_id)}"]`);
  }
  if (!li) {
    li = messageElement(m);
    list.append(li);
  }
  if (m.id) {
    li.dataset.messageId = m.id;
    li.dataset.clientId = m.client_id;
    state.lastId = Math.max(state.lastId || 0, m.id);
    save();
  }
  if (m.sender === "operator" && m.id > lastOperatorId) {
    lastOperatorId = m.id;
    $("typing").hidden = true;
    sendReceipt();
  }
  renderReceipts();
  li.scrollIntoView({ block: "end" });
}

function renderReceipts() {
  for (const li of $("messages").querySelectorAll(".from-visitor")) {
    const id = Number(li.dataset.messageId || 0);
    const receipt = li.querySelector(".receipt");
    if (!id) receipt.textContent = T.sending;
    else if (id <= receiptState.read) receipt.textContent = T.read;
    else if (id <= receiptState.delivered) receipt.textContent = T.delivered;
    else receipt.textContent = T.sent;
  }
}

function sendReceipt() {
  if (!lastOperatorId) return;
  const frame = { type: "receipt", delivered_id: lastOperatorId };
  if (document.visibilityState === "visible") frame.read_id = lastOperatorId;
  send(frame);
}
document.addEventListener("visibilitychange", sendReceipt);

function flushOutbox() {
  for (const m of state.outbox) {
    if (!$("messages").querySelector(`[data-client-id="${CSS.escape(m.client_id)}"]`)) {
      const li = messageElement({ sender: "visitor", body: m.body });
      li.dataset.clientId = m.client_id;
      $("messages").append(li);
    }
    send({ type: "message.send", client_id: m.client_id, body: m.body });
  }
}

$("composer").addEventListener("submit", (event) => {
  event.preventDefault();
  const input = $("composer-input");
  const body = input.value.trim();
  if (!body || !state) return;
  const message = { client_id: uuid(), body };
  state.outbox.push(message);
  save();
  const li = messageElement({ sender: "visitor", body });
  li.dataset.clientId = message.client_id;
  $("messages").append(li);
  li.scrollIntoView({ block: "end" });
  input.value = "";
  say($("chat-error"), "");
  send({ type: "message.send", ...message });
  clearTimeout(typingTimer);
  send({ type: "typing", active: false });
  typingSentAt = 0;
});

$("composer-input").addEventListener("keydown", (event) => {
  if (event.key === "Enter" && !event.shiftKey && !event.isComposing) {
    event.preventDefault();
    $("composer").requestSubmit();
  }
});

$("composer-input").addEventListener("input", () => {
  const now = Date.now();
  if (now - typingSentAt > 2500) {
    send({ type: "typing", active: true });
    typingSentAt = now;
  }
  clearTimeout(typingTimer);
  typingTimer = setTimeout(() => {
    send({ type: "typing", active: false });
    typingSentAt = 0;
  }, 3000);
});

async function endChat() {
  if (!state) return;
  if (!send({ type: "end" })) {
    try {
      const data = await api("POST", `/conversations/${state.id}/end`);
      apply(data.conversation, null);
    } catch (error) {
      say($("chat-error"), error.message);
    }
  }
}
$("end-chat").addEventListener("click", () => {
  if (confirm(T.confirm_end)) endChat();
});
$("leave-queue").addEventListener("click", endChat);

$("rating-form").addEventListener("submit", async (event) => {
  event.preventDefault();
  const checked = event.target.querySelector("[name=rating]:checked");
  if (!checked) {
    say($("rating-error"), T.rating_required);
    return;
  }
  try {
    await api("POST", `/conversations/${state.id}/rating`, {
      rating: Number(checked.value),
      comment: $("rating-comment").value,
    });
    forget();
    show("thanks");
  } catch (error) {
    say($("rating-error"), error.message);
  }
});
$("rating-skip").addEventListener("click", () => {
  forget();
  show("thanks");
});
$("new-chat").addEventListener("click", () => location.reload());

if (state && state.status === "ended") show("rating");
else if (state) {
  // After a reload the page is empty: ask for the whole conversation again.
  state.lastId = 0;
  show("waiting");
  connect();
}
