// While the visitor waits in the queue: once the wait is long
// (ONTHAAL_LONG_WAIT_MINUTES, decided with the server's clock), show other
// helplines and self-help tools that fit the visitor's audience and age.
// Nothing here touches the queue socket: the visitor keeps their place, and
// every link opens in a new tab (rel="noopener noreferrer").
// visitor.js announces each queue state with the "onthaal:queue" event.

const box = document.getElementById("wait-alternatives");
let data = null;
let loading = false;
let timer = 0;

function session() {
  try {
    return JSON.parse(sessionStorage.getItem("onthaal.visitor"));
  } catch {
    return null;
  }
}

async function load() {
  const s = session();
  if (!s || !s.id || !s.token) return null;
  const response = await fetch(`/api/v1/toolkit/conversations/${s.id}/alternatives`, {
    headers: { Authorization: `Bearer ${s.token}` },
    credentials: "omit",
  });
  return response.ok ? response.json() : null;
}

function item(entry) {
  const li = document.createElement("li");
  const link = document.createElement("a");
  link.href = entry.url.startsWith("https://") ? entry.url : "#";
  link.target = "_blank";
  link.rel = "noopener noreferrer";
  link.textContent = entry.name;
  const hint = document.createElement("span");
  hint.className = "visually-hidden";
  hint.textContent = ` ${box.dataset.newTab}`;
  link.append(hint);
  const strong = document.createElement("strong");
  strong.append(link);
  li.append(strong);
  if (entry.phone) {
    const [before, after] = box.dataset.call.split("%(phone)s");
    const tel = document.createElement("a");
    tel.href = `tel:${entry.phone.replace(/\s/g, "")}`;
    tel.textContent = entry.phone;
    li.append(`: ${before}`, tel, after || "");
  }
  li.append(document.createElement("br"), entry.description);
  return li;
}

function fill(listId, entries) {
  document.getElementById(listId).replaceChildren(...entries.map(item));
  document.getElementById(`${listId}-box`).hidden = entries.length === 0;
}

function offer() {
  const waiting = document.getElementById("view-waiting");
  if (!data || !box.hidden || (waiting && waiting.hidden)) return;
  fill("alternatives-helplines", data.helplines);
  fill("alternatives-tools", data.tools);
  box.hidden = false;
}

async function onQueue(queue) {
  if (!queue || !box) return;
  if (!data && !loading) {
    loading = true;
    try {
      data = await load();
    } catch {
      data = null; // offline for now: the next queue frame tries again
    }
    loading = false;
  }
  if (!data || data.long_wait_seconds === null) return;
  const estimate = queue.estimated_wait_seconds;
  if (data.offer || (estimate !== null && estimate > data.long_wait_seconds)) {
    offer();
  } else if (!timer) {
    const left = Math.max(0, data.long_wait_seconds - data.waited_seconds) + 1;
    timer = setTimeout(offer, left * 1000);
  }
}

document.addEventListener("onthaal:queue", (event) => onQueue(event.detail));
