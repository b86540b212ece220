// Keyboard shortcuts and the live-connection indicator. No framework; htmx does the rest.
(() => {
  "use strict";
  const rows = () => Array.from(document.querySelectorAll("#ticket-rows .row"));
  let selected = -1;
  let pendingG = false;

  function select(index) {
    const all = rows();
    if (!all.length) return;
    selected = Math.max(0, Math.min(index, all.length - 1));
    all.forEach((row, i) => row.classList.toggle("selected", i === selected));
    all[selected].focus();
    all[selected].scrollIntoView({ block: "nearest" });
  }

  function typing(target) {
    return target.closest("input, textarea, select, [contenteditable]");
  }

  document.addEventListener("keydown", (event) => {
    const editor = document.getElementById("draft-text");
    if (event.key === "Enter" && (event.ctrlKey || event.metaKey) && event.target === editor) {
      event.preventDefault();
      document.getElementById("send-edited")?.click();
      return;
    }
    if (event.altKey || event.ctrlKey || event.metaKey || typing(event.target)) return;
    if (pendingG) {
      pendingG = false;
      if (event.key === "i") window.location.href = "/inbox/";
      return;
    }
    switch (event.key) {
      case "j": select(selected + 1); break;
      case "k": select(selected - 1); break;
      case "o":
      case "Enter": {
        const row = rows()[selected];
        if (row && document.activeElement === row) row.querySelector("a.subject")?.click();
        break;
      }
      case "/": event.preventDefault(); document.querySelector("#inbox-filters select")?.focus(); break;
      case "e": if (editor) { event.preventDefault(); editor.focus(); } break;
      case "s": document.querySelector(".status-form button[value=solve]")?.click(); break;
      case "g": pendingG = true; break;
      case "?": document.getElementById("shortcuts")?.showModal(); break;
      default: return;
    }
  });

  // Regenerating writes a new draft: ask before throwing away the agent's own edits.
  document.addEventListener("htmx:confirm", (event) => {
    if (event.detail.elt.id !== "regenerate-form") return;
    const editor = document.getElementById("draft-text");
    if (!editor || editor.value === editor.dataset.original) return;
    event.preventDefault();
    if (window.confirm("Regenerating replaces your edits to the draft. Continue?")) {
      event.detail.issueRequest(true);
    }
  });

  // The server closes with these when the page may no longer be live; the ws extension does not
  // reconnect after them, so say why. No automatic redirect to the login page: it would throw
  // away a half-written draft, which the agent can still copy before signing in again.
  const SIGN_IN_AGAIN = 4401;
  const FORBIDDEN = 4403;

  function liveEnded(code) {
    document.body.dataset.live = "ended";
    if (document.getElementById("live-ended")) return;
    const notice = document.createElement("p");
    notice.id = "live-ended";
    notice.className = "banner warn";
    notice.setAttribute("role", "alert");
    if (code === SIGN_IN_AGAIN) {
      const signIn = document.createElement("a");
      signIn.href = `/login/?next=${encodeURIComponent(location.pathname + location.search)}`;
      signIn.textContent = "sign in again";
      notice.append("Your session ended — ", signIn, ". Live updates have stopped.");
    } else {
      notice.textContent = "Your account no longer has access to this page. Live updates have stopped.";
    }
    (document.getElementById("main") || document.body).prepend(notice);
  }

  document.addEventListener("htmx:wsOpen", () => { document.body.dataset.live = "on"; });
  document.addEventListener("htmx:wsClose", (event) => {
    const code = event.detail.event.code;
    if (code === SIGN_IN_AGAIN || code === FORBIDDEN) liveEnded(code);
    else document.body.dataset.live = "off";
  });
})();

// SLA countdowns in inbox rows: the server renders them; this keeps them ticking between updates.
(() => {
  "use strict";
  function label(ms) {
    const minutes = Math.round(Math.abs(ms) / 60000);
    const text = minutes >= 60 ? `${Math.floor(minutes / 60)} h ${minutes % 60} min` : `${minutes} min`;
    return ms > 0 ? `due in ${text}` : `overdue ${text}`;
  }
  function tick() {
    document.querySelectorAll("time[data-countdown]").forEach((el) => {
      const due = Date.parse(el.getAttribute("datetime"));
      if (!Number.isNaN(due)) el.textContent = label(due - Date.now());
    });
  }
  setInterval(tick, 30000);
  document.addEventListener("htmx:afterSettle", tick);
})();

// The socket re-sends the draft panel when the draft changes. Skip the copy when this page
// already shows that draft (its own request swapped it in first), and while a request from the
// panel is in flight (its response brings the newest state): replacing the panel then would
// detach the element that response is meant for, or swallow the agent's next click or keystroke.
document.body.addEventListener("htmx:oobBeforeSwap", (event) => {
  const target = event.detail.target;
  if (!target || target.id !== "draft-panel") return;
  if (target.querySelector(".htmx-request") || target.classList.contains("htmx-request")) {
    event.preventDefault();
    return;
  }
  const incoming = event.detail.fragment && event.detail.fragment.firstElementChild;
  const state = incoming && incoming.dataset.draft;
  if (state && state !== "-" && state === target.dataset.draft) {
    event.preventDefault();
  }
});
