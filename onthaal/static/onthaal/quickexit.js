// Quick exit: leave for a neutral site, replacing this page in the history
// (so "back" does not return here), and leave nothing behind in this tab's
// storage, nor the returning-visitor key. Loaded on every visitor page; it
// also serves the privacy page's "forget this device" button.
const RETURNING_KEY = "onthaal.returning";
const link = document.getElementById("quick-exit");
if (link) {
  link.addEventListener("click", (event) => {
    event.preventDefault();
    try {
      sessionStorage.clear();
      localStorage.removeItem(RETURNING_KEY);
    } catch {}
    location.replace(link.href);
  });
}
const forget = document.getElementById("forget-device");
if (forget) {
  forget.hidden = false;
  forget.addEventListener("click", () => {
    try {
      localStorage.removeItem(RETURNING_KEY);
    } catch {}
    const done = document.getElementById("forget-device-done");
    if (done) done.hidden = false;
  });
}
