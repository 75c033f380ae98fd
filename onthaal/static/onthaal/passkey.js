// Passkeys (WebAuthn): register one on the passkeys page, or use one at the
// second sign-in step or to confirm it is you before adding or removing one. The server hands out the options (with a one-time
// challenge) and checks the signed answer; this file only carries them
// between the server and navigator.credentials. No inline script (CSP): the
// URLs come from data attributes, the texts from the #passkey-strings block.
"use strict";

const strings = JSON.parse(document.getElementById("passkey-strings").textContent);
const csrfToken = document.querySelector("[name=csrfmiddlewaretoken]").value;
const statusLine = document.getElementById("passkey-status");

function toBytes(base64url) {
  const base64 = base64url.replace(/-/g, "+").replace(/_/g, "/");
  const padded = base64 + "=".repeat((4 - (base64.length % 4)) % 4);
  return Uint8Array.from(atob(padded), (c) => c.charCodeAt(0));
}

function toBase64url(buffer) {
  const bytes = new Uint8Array(buffer);
  let text = "";
  for (const b of bytes) text += String.fromCharCode(b);
  return btoa(text).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
}

function show(text) {
  statusLine.textContent = text;
  statusLine.hidden = !text;
}

async function post(url, body) {
  const response = await fetch(url, {
    method: "POST",
    credentials: "same-origin",
    headers: { "Content-Type": "application/json", "X-CSRFToken": csrfToken },
    body: JSON.stringify(body || {}),
  });
  let data = {};
  try {
    data = await response.json();
  } catch {}
  if (!response.ok) {
    const error = new Error(data.message || strings.error);
    error.code = data.code;
    throw error;
  }
  return data;
}

function descriptors(list) {
  return (list || []).map((c) => ({ ...c, id: toBytes(c.id) }));
}

async function register(form) {
  const options = await post(form.dataset.optionsUrl);
  const publicKey = {
    ...options,
    challenge: toBytes(options.challenge),
    user: { ...options.user, id: toBytes(options.user.id) },
    excludeCredentials: descriptors(options.excludeCredentials),
  };
  let credential;
  try {
    credential = await navigator.credentials.create({ publicKey });
  } catch {
    throw new Error(strings.cancelled);
  }
  const response = credential.response;
  await post(form.dataset.verifyUrl, {
    name: form.elements.name.value,
    credential: {
      id: credential.id,
      rawId: toBase64url(credential.rawId),
      type: credential.type,
      response: {
        clientDataJSON: toBase64url(response.clientDataJSON),
        attestationObject: toBase64url(response.attestationObject),
        transports: response.getTransports ? response.getTransports() : [],
      },
      clientExtensionResults: credential.getClientExtensionResults(),
    },
  });
  location.reload();
}

async function authenticate(button) {
  const options = await post(button.dataset.optionsUrl);
  const publicKey = {
    ...options,
    challenge: toBytes(options.challenge),
    allowCredentials: descriptors(options.allowCredentials),
  };
  let credential;
  try {
    credential = await navigator.credentials.get({ publicKey });
  } catch {
    throw new Error(strings.cancelled);
  }
  const response = credential.response;
  const result = await post(button.dataset.verifyUrl, {
    credential: {
      id: credential.id,
      rawId: toBase64url(credential.rawId),
      type: credential.type,
      response: {
        clientDataJSON: toBase64url(response.clientDataJSON),
        authenticatorData: toBase64url(response.authenticatorData),
        signature: toBase64url(response.signature),
        userHandle: response.userHandle ? toBase64url(response.userHandle) : null,
      },
      clientExtensionResults: credential.getClientExtensionResults(),
    },
  });
  location.assign(result.redirect);
}

function run(element, action) {
  if (!window.PublicKeyCredential || !navigator.credentials) {
    show(strings.unsupported);
    element.querySelectorAll("button").forEach((b) => (b.disabled = true));
    if (element.tagName === "BUTTON") element.disabled = true;
    return;
  }
  const start = async (event) => {
    event.preventDefault();
    const button = element.tagName === "BUTTON" ? element : element.querySelector("button");
    button.disabled = true;
    show("");
    statusLine.classList.remove("error");
    statusLine.textContent = strings.working;
    statusLine.hidden = false;
    try {
      await action(element);
    } catch (error) {
      if (error.code === "reauth_required") {
        // The confirmation ran out while the page was open: show the step again.
        location.reload();
        return;
      }
      statusLine.classList.add("error");
      show(error.message || strings.error);
      button.disabled = false;
    }
  };
  element.addEventListener(element.tagName === "FORM" ? "submit" : "click", start);
}

const registerForm = document.querySelector("[data-passkey=register]");
if (registerForm) run(registerForm, register);
const signInButton = document.querySelector("[data-passkey=authenticate]");
if (signInButton) run(signInButton, authenticate);
