// What this script says, in the page's language: base.html renders the strings as JSON
// (supportdesk/inbox/context_processors.py); "%(name)s" parts are filled in here.
const deskText = (() => {
  let strings = {};
  try { strings = JSON.parse(document.getElementById("desk-strings")?.textContent || "{}"); } catch (_) { /* English below */ }
  return (key, fallback, values = {}) =>
    (strings[key] || fallback).replace(/%\((\w+)\)s/g, (_, name) => String(values[name] ?? ""));
})();

// Keyboard shortcuts and the live-connection indicator. No framework; htmx does the rest.
(() => {
  "use strict";
  const rows = () => Array.from(document.querySelectorAll("#ticket-rows .row, .keyboard-rows .row"));
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
    const composer = document.getElementById("compose-text");
    if (event.key === "Enter" && (event.ctrlKey || event.metaKey) && event.target === editor) {
      event.preventDefault();
      document.getElementById("send-edited")?.click();
      return;
    }
    if (event.key === "Enter" && (event.ctrlKey || event.metaKey) && event.target.closest("#faq-entry")) {
      event.preventDefault();
      document.getElementById("faq-publish")?.click();
      return;
    }
    if (event.key === "Enter" && (event.ctrlKey || event.metaKey) && event.target === composer) {
      event.preventDefault();
      const button = event.shiftKey ? "compose-note" : "compose-send";
      (document.getElementById(button) || document.getElementById("compose-note"))?.click();
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
      case "/": event.preventDefault(); document.querySelector("#id_q, #inbox-filters select")?.focus(); break;
      case "e": if (editor) { event.preventDefault(); editor.focus(); } break;
      case "r":
        if (composer) {
          event.preventDefault();
          const other = composer.closest("details");
          if (other) other.open = true;
          composer.focus();
        }
        break;
      case "s": document.querySelector(".status-form button[value=solve]")?.click(); break;
      case "x": {
        const pick = rows()[selected]?.querySelector("input.pick");
        if (pick) { pick.checked = !pick.checked; pick.dispatchEvent(new Event("change", { bubbles: true })); }
        break;
      }
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
      signIn.textContent = deskText("signInAgain", "sign in again");
      const [before, after] = deskText("sessionEnded", "Your session ended — %(sign_in)s. Live updates have stopped.", { sign_in: "\u0000" }).split("\u0000");
      notice.append(before, signIn, after ?? "");
    } else {
      notice.textContent = deskText("noAccess", "Your account no longer has access to this page. Live updates have stopped.");
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
    const text = minutes >= 60
      ? deskText("hoursMinutes", "%(hours)s h %(minutes)s min", { hours: Math.floor(minutes / 60), minutes: minutes % 60 })
      : deskText("minutes", "%(minutes)s min", { minutes });
    return ms > 0 ? deskText("dueIn", "due in %(time)s", { time: text }) : deskText("overdue", "overdue %(time)s", { time: text });
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

// Failed requests. A refused action answers with the panel it concerns and its reason (marked
// X-Desk-Swap-Error): that is swapped in like any answer. Anything else (403, 404, 413, 5xx, no
// network) is said in the notice at the top of the page; what the agent typed stays where it is.
(() => {
  "use strict";
  const notice = () => document.getElementById("desk-notice");

  function say(text) {
    const box = notice();
    if (!box) return;
    document.getElementById("desk-notice-text").textContent = text;
    box.hidden = false;
  }

  function explain(xhr) {
    const status = xhr.status;
    const type = xhr.getResponseHeader("Content-Type") || "";
    const body = (xhr.responseText || "").trim();
    // Short plain-text answers are written for people (e.g. "action must be solve or reopen").
    if (type.startsWith("text/plain") && body && body.length <= 300) return body;
    if (status === 403) return deskText("forbidden", "You are not allowed to do that. Ask a supervisor if you need to.");
    if (status === 404) return deskText("gone", "That item no longer exists. Reload the page to see the current state.");
    if (status === 409) return deskText("conflict", "Someone else acted on this first. Reload the page to see what changed.");
    if (status === 413) return deskText("tooLarge", "That is too large to send.");
    if (status === 429) return deskText("tooMany", "Too many requests just now. Wait a moment and try again.");
    if (status >= 500) return deskText("serverError", "The server could not do that (error %(status)s). Your text is still here; try again, or reload the page to see the ticket's current state.", { status });
    return deskText("failed", "That did not work (error %(status)s).", { status });
  }

  document.addEventListener("htmx:beforeSwap", (event) => {
    const xhr = event.detail.xhr;
    if (xhr.status >= 400 && xhr.getResponseHeader("X-Desk-Swap-Error")) {
      event.detail.shouldSwap = true;
      event.detail.isError = false;
    }
  });
  document.addEventListener("htmx:responseError", (event) => say(explain(event.detail.xhr)));
  document.addEventListener("htmx:sendError", () => {
    say(deskText("offline", "The desk cannot reach the server. Check your connection and try again; your text is still here."));
  });
  document.addEventListener("htmx:beforeRequest", () => { const box = notice(); if (box) box.hidden = true; });
  document.addEventListener("click", (event) => {
    if (event.target.id === "desk-notice-close") notice().hidden = true;
  });
})();

// The socket re-sends the draft panel when the draft changes. Skip the copy when this page
// already shows that draft (its own request swapped it in first), and while a request from the
// panel is in flight (its response brings the newest state): replacing the panel then would
// detach the element that response is meant for, or swallow the agent's next click or keystroke.
// While the agent has unsent text in the panel, the new state waits behind a prompt; taking it
// moves their text into the new panel's composer, so nothing typed is ever lost.
(() => {
  "use strict";
  let waiting = null; // the newest panel the socket sent while the agent was typing

  function unsent(panel) {
    const draft = panel.querySelector("#draft-text");
    const composer = panel.querySelector("#compose-text");
    const edited = draft && draft.value.trim() !== (draft.dataset.original || "").trim() ? draft.value : "";
    return edited || (composer && composer.value.trim() ? composer.value : "");
  }

  function prompt(panel, incoming) {
    let bar = panel.querySelector("#panel-changed");
    if (!bar) {
      bar = document.createElement("div");
      bar.id = "panel-changed";
      bar.className = "banner warn";
      bar.setAttribute("role", "alert");
      const text = document.createElement("span");
      const show = document.createElement("button");
      show.type = "button";
      show.id = "panel-changed-show";
      show.textContent = deskText("showNewState", "Show the new state (keeps your text)");
      bar.append(text, " ", show);
      panel.querySelector("h2")?.after(bar);
    }
    bar.querySelector("span").textContent = incoming.dataset.summary || deskText("panelChanged", "This reply panel changed while you were writing.");
  }

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
      return;
    }
    if (incoming && unsent(target)) {
      event.preventDefault();
      waiting = incoming.cloneNode(true);
      waiting.removeAttribute("hx-swap-oob");
      prompt(target, incoming);
    }
  });

  // The panel's own answer (send, note, refusal) is newer than anything waiting.
  document.addEventListener("htmx:afterSwap", (event) => {
    if (event.detail.target && event.detail.target.id === "draft-panel") waiting = null;
  });

  document.addEventListener("click", (event) => {
    if (event.target.id !== "panel-changed-show" || !waiting) return;
    const panel = document.getElementById("draft-panel");
    const text = unsent(panel);
    const fresh = waiting;
    waiting = null;
    panel.replaceWith(fresh);
    htmx.process(fresh);
    const composer = fresh.querySelector("#compose-text");
    if (composer && text) {
      composer.value = text;
      const other = composer.closest("details");
      if (other) other.open = true;
      composer.focus();
    }
  });
})();

// "X is editing": while the agent types in the draft or the composer, their page tells the server
// (at most every 20 s; the sign lapses a minute after the last one) and says when they stop: on
// leaving the field with nothing unsent, or once the panel was sent and replaced.
(() => {
  "use strict";
  const FIELDS = "#draft-text, #compose-text";
  const REPEAT_MS = 20000;
  let on = false;
  let sentAt = 0;

  function tell(state) {
    const panel = document.getElementById("draft-panel");
    const url = panel && panel.dataset.editingUrl;
    if (!url) return;
    htmx.ajax("POST", url, { source: panel, swap: "none", values: { state } }).catch(() => {});
  }

  function hasUnsent() {
    const draft = document.getElementById("draft-text");
    const composer = document.getElementById("compose-text");
    const edited = draft && draft.value.trim() !== (draft.dataset.original || "").trim();
    return Boolean(edited || (composer && composer.value.trim()));
  }

  document.addEventListener("input", (event) => {
    if (!event.target.matches || !event.target.matches(FIELDS)) return;
    const now = Date.now();
    if (!on || now - sentAt > REPEAT_MS) {
      on = true;
      sentAt = now;
      tell("on");
    }
  });
  document.addEventListener("focusout", (event) => {
    if (on && event.target.matches && event.target.matches(FIELDS) && !hasUnsent()) {
      on = false;
      tell("off");
    }
  });
  document.addEventListener("htmx:afterSwap", (event) => {
    if (on && event.detail.target && event.detail.target.id === "draft-panel" && !hasUnsent()) {
      on = false;
      tell("off");
    }
  });
})();

// Macros: Alt+M (or m outside a text field, or the button) opens the picker for the field the
// agent is writing in; arrows choose, Enter inserts the macro at the cursor.
(() => {
  "use strict";
  let field = null;

  const picker = () => document.getElementById("macro-picker");
  const options = () => Array.from(document.querySelectorAll("#macro-list [role=option]"));

  function writingField(preferred) {
    const active = document.activeElement;
    if (active && (active.id === "draft-text" || active.id === "compose-text")) return active;
    const named = preferred && document.getElementById(preferred);
    return named || document.getElementById("draft-text") || document.getElementById("compose-text");
  }

  function open(preferred) {
    const dialog = picker();
    if (!dialog) return;
    field = writingField(preferred);
    if (!field) return;
    const search = document.getElementById("macro-search");
    search.value = "";
    dialog.showModal();
    search.focus();
    htmx.ajax("GET", dialog.dataset.url, { target: "#macro-list", swap: "outerHTML" });
  }

  function choose(step) {
    const all = options();
    if (!all.length) return;
    let index = all.findIndex((o) => o.getAttribute("aria-selected") === "true");
    index = Math.max(0, Math.min(all.length - 1, index + step));
    all.forEach((o, i) => o.setAttribute("aria-selected", i === index ? "true" : "false"));
    all[index].scrollIntoView({ block: "nearest" });
    document.getElementById("macro-search").setAttribute("aria-activedescendant", all[index].id);
  }

  function insert(option) {
    if (!option || !field) return;
    picker().close();
    const details = field.closest("details");
    if (details) details.open = true;
    field.focus();
    field.setRangeText(option.dataset.text, field.selectionStart, field.selectionEnd, "end");
    field.dispatchEvent(new Event("input", { bubbles: true }));
  }

  document.addEventListener("keydown", (event) => {
    const dialog = picker();
    if (!dialog) return;
    if (dialog.open) {
      if (event.key === "ArrowDown") { event.preventDefault(); choose(1); }
      else if (event.key === "ArrowUp") { event.preventDefault(); choose(-1); }
      else if (event.key === "Enter") {
        event.preventDefault();
        insert(options().find((o) => o.getAttribute("aria-selected") === "true"));
      }
      return;
    }
    const typing = event.target.closest && event.target.closest("input, textarea, select");
    if ((event.altKey && event.code === "KeyM") || (event.key === "m" && !typing && !event.ctrlKey && !event.metaKey && !event.altKey)) {
      event.preventDefault();
      open();
    }
  });
  // Each new list (the picker opened, the search changed) selects its first option: the search
  // box points at that one, or at none when nothing matches, never at an option that is gone.
  document.addEventListener("htmx:load", (event) => {
    if (event.detail.elt.id !== "macro-list") return;
    const search = document.getElementById("macro-search");
    const selected = options().find((o) => o.getAttribute("aria-selected") === "true");
    if (selected) search.setAttribute("aria-activedescendant", selected.id);
    else search.removeAttribute("aria-activedescendant");
  });
  document.addEventListener("click", (event) => {
    const button = event.target.closest && event.target.closest(".macro-open");
    if (button) { open(button.dataset.for); return; }
    const option = event.target.closest && event.target.closest("#macro-list [role=option]");
    if (option) insert(option);
  });
})();

// A live update replaces an inbox row with a fresh copy. Keep what the agent did to the old one:
// its bulk checkbox, the keyboard selection and the focus, so "x" then Assign still acts on every
// ticket the agent picked even if one of them changed in between.
(() => {
  "use strict";
  let refocus = null;
  document.body.addEventListener("htmx:oobBeforeSwap", (event) => {
    const target = event.detail.target;
    if (!target || !target.matches || !target.matches("#ticket-rows .row")) return;
    const fresh = event.detail.fragment && event.detail.fragment.querySelector(`#${target.id}`);
    if (!fresh) return;
    const picked = target.querySelector("input.pick");
    const pick = fresh.querySelector("input.pick");
    if (picked && pick && picked.checked) pick.setAttribute("checked", "");
    if (target.classList.contains("selected")) fresh.classList.add("selected");
    if (document.activeElement === target) refocus = target.id;
  });
  document.body.addEventListener("htmx:oobAfterSwap", () => {
    if (!refocus) return;
    document.getElementById(refocus)?.focus({ preventScroll: true });
    refocus = null;
  });
})();

// How many inbox rows are selected for a bulk action.
document.addEventListener("change", (event) => {
  if (!event.target.matches || !event.target.matches("#ticket-rows input.pick")) return;
  const count = document.querySelectorAll("#ticket-rows input.pick:checked").length;
  const label = document.getElementById("bulk-count");
  if (label) label.textContent = count ? deskText("selected", "%(count)s selected", { count }) : deskText("selectHint", "Select tickets (x) to act on several at once");
});

// Preferences: offer the browser's own time zone.
(() => {
  "use strict";
  const button = document.getElementById("use-browser-zone");
  const select = document.getElementById("time-zone");
  if (!button || !select) return;
  const zone = Intl.DateTimeFormat().resolvedOptions().timeZone;
  if (!zone || !Array.from(select.options).some((o) => o.value === zone) || select.value === zone) return;
  button.querySelector("span").textContent = zone;
  button.hidden = false;
  button.addEventListener("click", () => { select.value = zone; });
})();
