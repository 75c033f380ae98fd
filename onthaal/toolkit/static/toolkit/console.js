// The console's toolkit card: canned responses by short code, and links
// from the social map. Kept apart from console.js: it only reads and edits
// the composers' text, and console.js sends whatever the composer holds.
//
// Short code: type "/welkom" in a composer and press Tab. Tab, not Enter:
// Enter already sends. Tab is only taken when the word before the caret is
// a known code; otherwise it moves the focus as usual (no keyboard trap).
// A personal response wins over a shared one with the same code.

const panel = document.getElementById("toolkit-panel");
const API = "/api/v1/toolkit";
let byCode = new Map();
let lastComposer = null;

function fmt(template, values) {
  return template.replace(/%\((\w+)\)s/g, (_, k) => String(values[k]));
}
function announce(text) {
  const status = document.getElementById("toolkit-status");
  status.textContent = "";
  setTimeout(() => (status.textContent = text), 50);
}
async function get(path) {
  const response = await fetch(API + path, {
    headers: { Accept: "application/json" },
    credentials: "same-origin",
  });
  if (!response.ok) throw new Error(String(response.status));
  return response.json();
}

async function loadCanned() {
  let data;
  try {
    data = await get("/canned-responses");
  } catch {
    return;
  }
  const map = new Map();
  // Shared first, then personal: a personal code overwrites a shared one.
  for (const r of data.responses) if (r.scope === "shared") map.set(r.code, r);
  for (const r of data.responses) if (r.scope === "personal") map.set(r.code, r);
  byCode = map;
  const list = document.getElementById("canned-list");
  document.getElementById("canned-empty").hidden = map.size > 0;
  list.replaceChildren(
    ...[...map.values()].map((r) => {
      const li = document.createElement("li");
      const code = document.createElement("code");
      code.textContent = r.shortcut;
      li.append(code, ` ${r.title}`);
      return li;
    }),
  );
}

/** Replace the text from `start` to the caret with `text`, as if typed. */
function insertAt(input, start, end, text) {
  input.focus();
  input.setRangeText(text, start, end, "end");
  input.dispatchEvent(new Event("input", { bubbles: true }));
}

document.addEventListener("keydown", (event) => {
  const input = event.target;
  if (event.key !== "Tab" || event.shiftKey || event.isComposing) return;
  if (!(input instanceof HTMLTextAreaElement) || !input.classList.contains("composer-input")) {
    return;
  }
  const caret = input.selectionStart;
  if (caret !== input.selectionEnd) return;
  const match = /(?:^|\s)\/([a-z0-9_-]{2,30})$/i.exec(input.value.slice(0, caret));
  const response = match && byCode.get(match[1].toLowerCase());
  if (!response) return;
  event.preventDefault();
  insertAt(input, caret - match[1].length - 1, caret, response.body);
  announce(fmt(panel.dataset.inserted, { code: response.shortcut }));
});

document.addEventListener("focusin", (event) => {
  if (event.target.classList && event.target.classList.contains("composer-input")) {
    lastComposer = event.target;
  }
});

function targetComposer() {
  if (lastComposer && lastComposer.isConnected && !lastComposer.closest("[hidden]")) {
    return lastComposer;
  }
  return [...document.querySelectorAll(".composer-input")].find((i) => !i.closest("[hidden]"));
}

function insertLink(entry) {
  const input = targetComposer();
  if (!input) {
    announce(panel.dataset.noChat);
    return;
  }
  const before = input.value.slice(0, input.selectionStart);
  const text = `${before && !/\s$/.test(before) ? " " : ""}${entry.name}: ${entry.url}`;
  insertAt(input, input.selectionStart, input.selectionEnd, text);
  announce(fmt(panel.dataset.linkInserted, { name: entry.name }));
}

function resultItem(entry) {
  const li = document.createElement("li");
  const name = document.createElement("a");
  name.href = entry.url;
  name.target = "_blank";
  name.rel = "noopener noreferrer";
  name.textContent = entry.name;
  const about = document.createElement("p");
  about.className = "hint";
  let ages = "";
  if (entry.age_min !== null && entry.age_max !== null) ages = `${entry.age_min}–${entry.age_max}`;
  else if (entry.age_min !== null) ages = `${entry.age_min}+`;
  else if (entry.age_max !== null) ages = `≤ ${entry.age_max}`;
  if (ages) ages = ` · ${fmt(panel.dataset.years, { ages })}`;
  about.textContent = `${entry.theme || entry.kind_label}${ages} · ${entry.description}`;
  const button = document.createElement("button");
  button.type = "button";
  button.className = "button-secondary";
  button.textContent = panel.dataset.insertLabel;
  const hidden = document.createElement("span");
  hidden.className = "visually-hidden";
  hidden.textContent = `: ${entry.name}`;
  button.append(hidden);
  button.addEventListener("click", () => insertLink(entry));
  li.append(name, about, button);
  return li;
}

document.getElementById("social-map-form").addEventListener("submit", async (event) => {
  event.preventDefault();
  const q = document.getElementById("social-map-q").value.trim();
  const list = document.getElementById("social-map-results");
  let data;
  try {
    data = await get(`/social-map?q=${encodeURIComponent(q)}`);
  } catch {
    announce(panel.dataset.error);
    return;
  }
  list.replaceChildren(...data.entries.map(resultItem));
  if (!data.entries.length) {
    const li = document.createElement("li");
    li.className = "muted";
    li.textContent = panel.dataset.noneFound;
    list.append(li);
  }
  announce(fmt(panel.dataset.found, { n: data.entries.length }));
});

if (panel) {
  loadCanned();
  // A response made or changed on the management page (another tab) counts
  // as soon as the operator comes back.
  window.addEventListener("focus", loadCanned);
}
