// socialdesk inbox: live updates (SSE), keyboard shortcuts, composer helpers, presence.
(function () {
  "use strict";
  const body = document.body;
  const page = body.dataset.page || "";
  const csrf = body.dataset.csrf || "";
  const ticketId = body.dataset.ticketId ? Number(body.dataset.ticketId) : null;

  function post(url, fields) {
    const data = new URLSearchParams(fields);
    return fetch(url, { method: "POST", body: data, headers: { "X-CSRF-Token": csrf }, credentials: "same-origin" });
  }
  function toast(text) {
    const el = document.createElement("div");
    el.className = "toast"; el.setAttribute("role", "alert"); el.textContent = text;
    body.appendChild(el); setTimeout(() => el.remove(), 5000);
  }
  document.addEventListener("htmx:responseError", (e) => {
    const tmp = document.createElement("div");
    tmp.innerHTML = e.detail.xhr.responseText || "";
    toast(tmp.textContent.trim() || "The request failed (" + e.detail.xhr.status + ")");
  });

  // A live refresh that left before an agent's action on the same region answers with the
  // state from before that action; swapping it in would undo what the agent just saw
  // (a cancelled reply showing as scheduled again). Such stale refreshes are dropped;
  // the action's own live event brings a fresh one.
  const lastActionAt = {};
  document.addEventListener("htmx:beforeRequest", (e) => {
    const target = e.detail.target;
    if (!target || !target.id) return;
    e.detail.xhr.sdStartedAt = performance.now();
    if (e.detail.requestConfig.verb !== "get") lastActionAt[target.id] = e.detail.xhr.sdStartedAt;
  });
  document.addEventListener("htmx:beforeSwap", (e) => {
    const target = e.detail.target;
    if (!target || !target.id || e.detail.requestConfig.verb !== "get") return;
    if ((e.detail.xhr.sdStartedAt || 0) < (lastActionAt[target.id] || 0)) e.detail.shouldSwap = false;
  });

  // ---- live updates ------------------------------------------------------------------
  const status = document.getElementById("live-status");
  if (status && window.EventSource) {
    const source = new EventSource("/live");
    source.addEventListener("ready", () => { status.textContent = "live"; status.classList.add("on"); });
    source.onerror = () => { status.textContent = "reconnecting…"; status.classList.remove("on"); };
    source.addEventListener("inbox", (e) => {
      const data = JSON.parse(e.data);
      if (data.kind === "approval.changed") htmx.trigger(body, "sd:approvals-changed");
      if (page === "inbox") {
        // Do not pull the list from under someone who is selecting rows for a bulk action.
        if (!document.querySelector(".ticket-row input[type=checkbox]:checked")) {
          htmx.trigger(body, "sd:inbox-changed");
        }
      } else if (page === "ticket" && data.ticket_ids.includes(ticketId)) {
        htmx.trigger(body, "sd:ticket-changed");
      } else if (page === "queue") {
        htmx.trigger(body, "sd:queue-changed");
      }
    });
    source.addEventListener("presence", (e) => {
      if (page === "ticket" && JSON.parse(e.data).ticket_id === ticketId) pingPresence();
    });
    window.addEventListener("pagehide", () => source.close());
  }

  // ---- inbox list --------------------------------------------------------------------
  let selected = -1;
  function rows() { return Array.from(document.querySelectorAll(".ticket-row")); }
  function select(i) {
    const all = rows(); if (!all.length) return;
    selected = Math.max(0, Math.min(all.length - 1, i));
    all.forEach((r, j) => r.classList.toggle("selected", j === selected));
    const link = all[selected].querySelector(".row-link");
    if (link) link.focus();
  }
  document.addEventListener("change", (e) => {
    if (e.target.matches("[data-select-all]")) {
      document.querySelectorAll(".ticket-row input[type=checkbox]").forEach((c) => { c.checked = e.target.checked; });
    }
  });
  let known = new Set(rows().map((r) => r.dataset.ticketId));
  document.addEventListener("htmx:afterSwap", () => {
    rows().forEach((r) => { if (!known.has(r.dataset.ticketId)) r.classList.add("fresh"); });
    known = new Set(rows().map((r) => r.dataset.ticketId));
    selected = -1;
  });

  // A customer's public post with personal data: open "Move to private" in the composer.
  document.addEventListener("click", (e) => {
    if (!e.target.matches("[data-open-private]")) return;
    const box = document.querySelector("details.move-private");
    if (!box) return;
    box.open = true;
    box.scrollIntoView({ block: "center" });
    const text = document.getElementById("private-body");
    if (text) text.focus();
  });

  // ---- conversation: composer, canned responses, presence ------------------------------
  const composer = document.getElementById("composer-body");
  const replyForm = document.getElementById("composer-form");
  const noteForm = document.getElementById("note-form");
  const menu = document.getElementById("canned-menu");
  let typingUntil = 0;

  function setMode(mode) {
    if (!replyForm || !noteForm) return;
    const note = mode === "note";
    replyForm.hidden = note; noteForm.hidden = !note;
    document.getElementById("tab-reply").setAttribute("aria-selected", String(!note));
    document.getElementById("tab-note").setAttribute("aria-selected", String(note));
    (note ? document.getElementById("note-body") : composer).focus();
  }
  document.querySelectorAll("[data-mode]").forEach((b) => b.addEventListener("click", () => setMode(b.dataset.mode)));

  function pingPresence(leaving) {
    if (!ticketId) return;
    const fields = { typing: Date.now() < typingUntil ? "1" : "" };
    if (leaving) fields.leaving = "1";
    const sent = post("/tickets/" + ticketId + "/presence", fields);
    if (leaving) return;
    sent.then((r) => r.ok ? r.text() : "").then((html) => {
      const box = document.getElementById("presence");
      if (box && box.innerHTML.trim() !== html.trim()) box.innerHTML = html;
    }).catch(() => {});
  }
  if (page === "ticket") {
    setInterval(() => pingPresence(false), 5000);
    window.addEventListener("pagehide", () => {
      navigator.sendBeacon && navigator.sendBeacon("/tickets/" + ticketId + "/presence",
        new Blob([new URLSearchParams({ leaving: "1", csrf_token: csrf }).toString()], { type: "application/x-www-form-urlencoded" }));
    });
  }

  function slashQuery() {
    const upto = composer.value.slice(0, composer.selectionStart);
    const m = /(^|\s)\/([\w-]*)$/.exec(upto);
    return m ? { q: m[2], start: upto.length - m[2].length - 1 } : null;
  }
  function menuItems() { return Array.from(menu.querySelectorAll(".canned-item")); }
  function closeMenu() { menu.hidden = true; menu.innerHTML = ""; }
  function insertCanned(item) {
    const found = slashQuery(); if (!found) return closeMenu();
    const end = composer.selectionStart;
    composer.value = composer.value.slice(0, found.start) + item.dataset.text + composer.value.slice(end);
    const caret = found.start + item.dataset.text.length;
    composer.setSelectionRange(caret, caret);
    closeMenu(); composer.focus();
    // The reply names the canned answers it used: the send counts them.
    const used = document.getElementById("composer-canned");
    if (used && item.dataset.id) used.value = used.value ? used.value + "," + item.dataset.id : item.dataset.id;
    htmx.trigger(composer, "sd:refresh-count");
  }
  let menuRequest = 0;
  if (composer && menu) {
    composer.addEventListener("input", () => {
      const wasTyping = Date.now() < typingUntil;
      typingUntil = Date.now() + 6000;
      if (!wasTyping) pingPresence(false);
      const found = slashQuery();
      if (!found) return closeMenu();
      const kind = (replyForm.querySelector("input[name=kind]:checked") || {}).value || "public";
      const mine = ++menuRequest;
      fetch("/tickets/" + ticketId + "/canned?q=" + encodeURIComponent(found.q) + "&kind=" + kind, { credentials: "same-origin" })
        .then((r) => r.text()).then((html) => {
          if (mine !== menuRequest) return;
          menu.innerHTML = html; menu.hidden = false;
        });
    });
    composer.addEventListener("keydown", (e) => {
      if ((e.ctrlKey || e.metaKey) && e.key === "Enter") { e.preventDefault(); htmx.trigger(replyForm, "submit"); return; }
      if (menu.hidden) return;
      const items = menuItems(); let i = items.findIndex((x) => x.getAttribute("aria-selected") === "true");
      if (e.key === "ArrowDown" || e.key === "ArrowUp") {
        e.preventDefault(); if (!items.length) return;
        i = (i + (e.key === "ArrowDown" ? 1 : items.length - 1)) % items.length;
        items.forEach((x, j) => x.setAttribute("aria-selected", String(j === i)));
      } else if ((e.key === "Enter" || e.key === "Tab") && items[i]) {
        e.preventDefault(); insertCanned(items[i]);
      } else if (e.key === "Escape") { closeMenu(); }
    });
    menu.addEventListener("click", (e) => { const item = e.target.closest(".canned-item"); if (item) insertCanned(item); });
    // Suggestions box: insert an article's link or text, or a past answer, at the caret.
    document.addEventListener("click", (e) => {
      const button = e.target.closest && e.target.closest(".suggestion-insert");
      if (!button) return;
      const start = composer.selectionStart, end = composer.selectionEnd;
      const before = composer.value.slice(0, start);
      const text = (before && !/\s$/.test(before) ? " " : "") + button.dataset.text;
      composer.value = before + text + composer.value.slice(end);
      composer.setSelectionRange(start + text.length, start + text.length);
      composer.focus();
      htmx.trigger(composer, "sd:refresh-count");
    });
    replyForm.addEventListener("change", (e) => { if (e.target.name === "kind") htmx.trigger(composer, "sd:refresh-count"); });
  }
  body.addEventListener("sd:sent", (e) => {
    const form = e.target.closest ? e.target.closest("form") : null;
    if (form) { form.reset(); const used = form.querySelector("#composer-canned"); if (used) used.value = ""; }
    const pending = document.getElementById("reply-confirm");
    if (pending) pending.innerHTML = "";
    typingUntil = 0;
    if (composer) htmx.trigger(composer, "sd:refresh-count");
    const key = replyForm && replyForm.querySelector("input[name=client_key]");
    if (key) key.value = (crypto.randomUUID ? crypto.randomUUID() : String(Date.now())).replace(/-/g, "");
  });

  document.addEventListener("click", (e) => {
    if (e.target.closest && e.target.closest("[data-confirm-cancel]")) {
      const pending = document.getElementById("reply-confirm");
      if (pending) pending.innerHTML = "";
    }
  });

  // Enter in the bulk tag field adds the tag (not the form's first button, assign to me).
  const bulkTag = document.getElementById("bulk-tag");
  if (bulkTag) bulkTag.addEventListener("keydown", (e) => {
    if (e.key !== "Enter") return;
    e.preventDefault();
    const button = bulkTag.form && bulkTag.form.querySelector("button[name=action][value=tag]");
    if (button) button.click();
  });

  // ---- keyboard shortcuts --------------------------------------------------------------
  const help = document.getElementById("help");
  document.querySelectorAll("[data-help-open]").forEach((b) => b.addEventListener("click", () => help.showModal()));
  document.addEventListener("keydown", (e) => {
    const t = e.target;
    if (e.ctrlKey || e.metaKey || e.altKey) return;
    if (t.closest && t.closest("input, textarea, select, [contenteditable]")) {
      if (e.key === "Escape") t.blur();
      return;
    }
    if (help && help.open) return;
    const key = e.key;
    if (key === "?") { e.preventDefault(); help && help.showModal(); return; }
    if (page === "inbox") {
      if (key === "j") { e.preventDefault(); select(selected + 1); }
      else if (key === "k") { e.preventDefault(); select(selected - 1); }
      else if ((key === "o" || key === "Enter") && selected >= 0) { e.preventDefault(); location.href = rows()[selected].dataset.href; }
      else if (key === "x" && selected >= 0) { const c = rows()[selected].querySelector("input[type=checkbox]"); c.checked = !c.checked; }
    } else if (page === "ticket") {
      if (key === "r") { e.preventDefault(); setMode("reply"); }
      else if (key === "n") { e.preventDefault(); setMode("note"); }
      else if (key === "a") { const f = document.getElementById("assign-me-form"); if (f) { e.preventDefault(); f.requestSubmit(); } }
      else if (key === "s") { const f = document.getElementById("solve-form"); if (f) { e.preventDefault(); f.requestSubmit(); } }
      else if (key === "j" || key === "k") {
        e.preventDefault();
        const list = JSON.parse(sessionStorage.getItem("sd:list") || "[]");
        const i = list.indexOf(ticketId);
        const next = list[i + (key === "j" ? 1 : -1)];
        if (i >= 0 && next) location.href = "/tickets/" + next;
      }
    }
  });
  // Remember the list order so j/k on a ticket moves through the same queue.
  if (page === "inbox") {
    const save = () => sessionStorage.setItem("sd:list", JSON.stringify(rows().map((r) => Number(r.dataset.ticketId))));
    save(); document.addEventListener("htmx:afterSwap", save);
  }
})();

// Scheduled send: the agent picks a wall-clock date-time. With a time zone chosen in
// their profile (body data-time-zone) the server reads it in that zone; otherwise the
// browser's zone turns it into UTC here. Times marked data-local-time are shown in the
// same zone. (Here and not inline in composer.html: the CSP allows /static scripts only.)
(function () {
  const chosenZone = document.body.dataset.timeZone || undefined;
  function sync(event) {
    const local = event.target;
    if (!local || local.id !== "send-at-local") return;
    const sent = document.getElementById("send-at");
    if (!sent) return;
    if (!local.value) sent.value = "";
    else sent.value = chosenZone ? local.value : new Date(local.value).toISOString();
  }
  document.addEventListener("input", sync);
  document.addEventListener("change", sync);
  function localize() {
    document.querySelectorAll("time[data-local-time]").forEach((t) => {
      t.textContent = new Date(t.getAttribute("datetime")).toLocaleString([], { dateStyle: "medium", timeStyle: "short", timeZone: chosenZone });
    });
  }
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", localize);
  else localize();
  document.addEventListener("htmx:afterSwap", localize);
  // The profile's zone picker starts on the browser's zone while none was chosen.
  const picker = document.querySelector("select[data-browser-zone-if-unset='1']");
  if (picker && window.Intl) {
    const zone = Intl.DateTimeFormat().resolvedOptions().timeZone;
    if (zone && picker.querySelector("option[value='" + zone + "']")) picker.value = zone;
  }
})();
