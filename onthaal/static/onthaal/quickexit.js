// Quick exit: leave for a neutral site, replacing this page in the history
// (so "back" does not return here), and leave nothing behind in this tab's
// storage. Loaded on every visitor page.
const link = document.getElementById("quick-exit");
if (link) {
  link.addEventListener("click", (event) => {
    event.preventDefault();
    try {
      sessionStorage.clear();
    } catch {}
    location.replace(link.href);
  });
}
