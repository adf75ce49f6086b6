// The counter's screens, live: thumbnails as pages are captured, documents as
// they are grouped and read, actions sent without reloading. Every form also
// works without this script.
(function () {
  "use strict";

  var batchEl = document.getElementById("batch");
  var batchId = batchEl ? batchEl.dataset.batch : null;
  var live = document.querySelector("[data-live]");
  var refreshTimer = null;
  var ticking = null;
  // one language per screen: the page's own
  var english = document.documentElement.lang === "en";
  function say(vi, en) { return english ? en : vi; }

  function editing() {
    var active = document.activeElement;
    return active && active.form && active.form.dataset.ajax === "fields";
  }

  // fields the clerk changed and has not saved yet: kept across every refresh
  function unsaved() {
    var kept = [];
    document.querySelectorAll('form[data-ajax="fields"].dirty').forEach(function (form) {
      var doc = form.closest("[data-doc]");
      var values = {};
      Array.prototype.forEach.call(form.elements, function (field) {
        if (field.name && field.dataset.changed) { values[field.name] = field.value; }
      });
      if (doc) { kept.push({ doc: doc.dataset.doc, values: values }); }
    });
    return kept;
  }

  function restore(kept) {
    kept.forEach(function (entry) {
      var form = batchEl.querySelector('[data-doc="' + entry.doc + '"] form[data-ajax="fields"]');
      if (!form) { return; }
      Object.keys(entry.values).forEach(function (name) {
        var field = form.elements[name];
        if (field) { field.value = entry.values[name]; field.dataset.changed = "1"; }
      });
      form.classList.add("dirty");
    });
  }

  // a page's actions the clerk has open stay open through a refresh, with the
  // choices made in them, as long as the page is still in the batch
  function openSheet() {
    var sheet = batchEl.querySelector("figure.thumb details.page[open]");
    if (!sheet) { return null; }
    var choices = {};
    sheet.querySelectorAll("select").forEach(function (select) {
      choices[select.form.dataset.ajax + "/" + select.name] = select.value;
    });
    return { page: sheet.closest("figure.thumb").dataset.page, choices: choices };
  }

  function reopen(sheet) {
    if (!sheet) { return; }
    var figure = batchEl.querySelector('figure.thumb[data-page="' + sheet.page + '"]');
    var details = figure && figure.querySelector("details.page");
    if (!details) { return; }
    details.open = true;
    details.querySelectorAll("select").forEach(function (select) {
      var value = sheet.choices[select.form.dataset.ajax + "/" + select.name];
      if (value !== undefined && select.querySelector('option[value="' + value + '"]')) {
        select.value = value;
      }
    });
  }

  function refreshDocs() {
    if (!batchEl) { return; }
    clearTimeout(refreshTimer);
    refreshTimer = setTimeout(function () {
      if (editing()) { refreshDocs(); return; }  // not while the clerk types
      fetch(batchEl.dataset.docsUrl, { headers: { Accept: "text/html" } })
        .then(function (r) { return r.text(); })
        .then(function (html) {
          var kept = unsaved();
          var sheet = openSheet();
          batchEl.innerHTML = html;
          restore(kept);
          reopen(sheet);
          if (justSaved) { markSaved(justSaved); justSaved = null; }
          if (pendingUndo && Date.now() < pendingUndo.until) {
            document.getElementById("undo-slot").innerHTML = pendingUndo.html;
          }
          countdown();
        });
    }, 200);
  }

  document.addEventListener("input", function (event) {
    var form = event.target.form;
    if (form && form.dataset.ajax === "fields") {
      event.target.dataset.changed = "1";
      form.classList.add("dirty");
    }
  });

  // the first touch, key or focus on the batch stops its countdown, for good
  function stopCountdown(event) {
    var stop = document.querySelector("#countdown form");
    if (!stop || stop.dataset.sent || !batchEl || !batchEl.contains(event.target)) { return; }
    stop.dataset.sent = "1";
    post(stop).then(function (answer) {
      if (!answer.ok) { delete stop.dataset.sent; return; }
      clearInterval(ticking);
      var box = document.getElementById("countdown");
      if (box) { box.remove(); }  // at once: the screen refreshes only when the clerk leaves the field
      refreshDocs();
    }, function () { delete stop.dataset.sent; });
  }
  ["pointerdown", "keydown", "focusin"].forEach(function (kind) {
    document.addEventListener(kind, stopCountdown, true);
  });

  function post(form, submitter) {
    var data = new FormData(form);
    // the button that sent the form says what it was for ("Đã kiểm tra")
    if (submitter && submitter.name) { data.append(submitter.name, submitter.value); }
    return fetch(form.action, {
      method: "POST",
      body: data,
      headers: { Accept: "application/json" }
    }).then(function (r) {
      return r.json().then(function (body) { return { ok: r.ok, body: body, form: form }; });
    });
  }

  // before a confirmation: every unsaved edit saved, or the confirmation waits
  function saveAll() {
    var forms = Array.prototype.slice.call(
      document.querySelectorAll('form[data-ajax="fields"].dirty'));
    return forms.reduce(function (chain, form) {
      return chain.then(function (failed) {
        if (failed) { return failed; }
        return post(form).then(function (answer) {
          if (answer.ok) { saved(form); return null; }
          return answer;
        });
      });
    }, Promise.resolve(null));
  }

  // "Đã lưu" beside the document's button, once the screen shows what was saved
  var justSaved = null;
  // "Hoàn tác" for a page just deleted: offered for a minute, until the next change
  var pendingUndo = null;
  function markSaved(docId) {
    var note = batchEl.querySelector('[data-doc="' + docId + '"] .saved-note');
    if (note) { note.textContent = note.dataset.text; }
  }

  function saved(form) {
    var doc = form.closest("[data-doc]");
    if (doc) { justSaved = doc.dataset.doc; }
    form.classList.remove("dirty");
    Array.prototype.forEach.call(form.elements, function (field) { delete field.dataset.changed; });
  }

  function shown(page) {
    document.dispatchEvent(new CustomEvent("thumb-shown", {
      detail: { page: page, at: performance.timeOrigin + performance.now() }
    }));
  }

  function addThumb(data) {
    var strip = document.getElementById("incoming");
    if (!strip || !data.thumb || strip.querySelector('[data-page="' + data.page + '"]')) { return; }
    var figure = document.createElement("figure");
    figure.className = "thumb incoming";
    figure.dataset.page = data.page;
    var img = new Image();
    img.alt = "";
    img.onload = function () { shown(data.page); };
    img.src = "/work/" + data.thumb;
    figure.appendChild(img);
    strip.appendChild(figure);
    // pages are coming: "no document yet" would be wrong under them
    var empty = batchEl && batchEl.querySelector("p.card.empty:not(#grouping)");
    if (empty) { empty.hidden = true; }
  }

  function showError(form, body) {
    var box = document.getElementById("action-error");
    if (body.errors) {
      Object.keys(body.errors).forEach(function (name) {
        var slot = form.querySelector('[data-for="' + name + '"]');
        if (slot) { slot.textContent = body.errors[name]; }
      });
      return;
    }
    if (box) {
      box.textContent = body.error || say("Lỗi", "Error");
      box.hidden = false;
    } else {
      window.alert(body.error || say("Lỗi", "Error"));
    }
  }

  document.addEventListener("submit", function (event) {
    var form = event.target;
    if (!form.dataset || !form.dataset.ajax) { return; }
    event.preventDefault();
    form.querySelectorAll("small.error").forEach(function (s) { s.textContent = ""; });
    var button = form.querySelector("button.save") || form.querySelector("button[type=submit], button:not([type])");
    if (button) { button.disabled = true; }
    var main = document.getElementById("confirm");
    // the confirm button as it was, when the station did not confirm
    function ready() {
      var again = document.getElementById("confirm");
      if (!again || !again.dataset.label) { return; }
      again.disabled = false;
      again.removeAttribute("aria-busy");
      again.textContent = again.dataset.label;
    }
    if (form.dataset.ajax === "confirm" && main) {
      main.dataset.label = main.textContent;
      // a confirmation takes a few seconds: say so, and take no second tap
      main.disabled = true;
      main.setAttribute("aria-busy", "true");
      main.textContent = main.dataset.busy;
      main.insertAdjacentHTML("afterbegin", '<span class="spinner" aria-hidden="true"></span>');
    }
    var first = form.dataset.ajax === "confirm" ? saveAll() : Promise.resolve(null);
    first.then(function (failed) {
      if (failed) { return failed; }
      return post(form, event.submitter);
    }).then(function (answer) {
      if (button) { button.disabled = false; }
      if (form.dataset.ajax === "confirm" && !answer.ok) { ready(); }
      form = answer.form;
      if (!answer.ok && answer.body.code === "pin" && answer.body.pin_url) {
        // the PIN first, then back to this screen
        location.href = answer.body.pin_url.split("?")[0] + "?next=" +
          encodeURIComponent(location.pathname + location.search);
        return;
      }
      if (!answer.ok && answer.body.code === "ask") { ask(answer.body.html); return; }
      if (answer.ok && answer.body.undo_html) {
        pendingUndo = { html: answer.body.undo_html, until: Date.now() + 60000 };
      } else if (answer.ok) {
        pendingUndo = null;  // another change: the offer is over
      }
      if (!answer.ok) { showError(form, answer.body); return; }
      if (form.dataset.ajax === "fields") { saved(form); }
      if (batchEl) { refreshDocs(); } else if (form.dataset.ajax !== "scan") { location.reload(); }
    }).catch(function () {
      if (button) { button.disabled = false; }
      if (form.dataset.ajax === "confirm") { ready(); }
      showError(form, { error: say("Mất kết nối với trạm", "The station cannot be reached") });
    });
  });

  // before sending: the findings, and "Vẫn gửi?" when the clerk may send all the same
  function ask(html) {
    var slot = document.getElementById("ask-slot");
    if (!slot) { return; }
    slot.innerHTML = html;
    var box = document.getElementById("ask");
    box.scrollIntoView({ block: "center" });
    box.focus();
  }

  document.addEventListener("click", function (event) {
    var back = event.target.closest ? event.target.closest("a.close-ask") : null;
    if (!back || !batchEl) { return; }
    event.preventDefault();
    document.getElementById("ask-slot").innerHTML = "";
  });

  // "Dùng": what the reader read, put into its field for the clerk to check and save
  document.addEventListener("click", function (event) {
    var button = event.target.closest ? event.target.closest("button.use-read") : null;
    if (!button) { return; }
    var field = button.form && button.form.elements[button.dataset.for];
    if (!field) { return; }
    field.value = button.dataset.value;
    field.focus();
  });

  // a page's actions close by ✕, by Escape and by a tap outside them
  function closeSheets(except) {
    document.querySelectorAll("details.page[open]").forEach(function (open) {
      if (open !== except) { open.open = false; }
    });
  }
  document.addEventListener("click", function (event) {
    var close = event.target.closest ? event.target.closest("button.close-sheet") : null;
    if (close) { closeSheets(null); }
  });
  document.addEventListener("keydown", function (event) {
    if (event.key === "Escape") { closeSheets(null); }
  });
  document.addEventListener("pointerdown", function (event) {
    var inside = event.target.closest ? event.target.closest("details.page[open]") : null;
    closeSheets(inside);
  });

  // one page's actions at a time
  document.addEventListener("toggle", function (event) {
    var opened = event.target;
    if (!opened.matches || !opened.matches("details.page") || !opened.open) { return; }
    document.querySelectorAll("details.page[open]").forEach(function (other) {
      if (other !== opened) { other.open = false; }
    });
  }, true);

  function countdown() {
    clearInterval(ticking);
    var box = document.getElementById("countdown");
    if (!box) { return; }
    var left = parseInt(box.dataset.seconds, 10);
    var label = box.querySelector(".left");
    ticking = setInterval(function () {
      left = Math.max(0, left - 1);
      label.textContent = left;
      if (left === 0) { clearInterval(ticking); setTimeout(refreshDocs, 1500); }
    }, 1000);
  }
  countdown();

  if (!window.EventSource) { return; }
  var source = new EventSource("/api/events");
  source.addEventListener("page", function (e) {
    var data = JSON.parse(e.data);
    if (!batchEl) {
      if (live && live.dataset.live === "scan") { location.href = "/batch/" + data.batch; }
      return;
    }
    if (data.batch !== batchId) { return; }
    if (data.stage === "captured") { addThumb(data); } else { refreshDocs(); }
  });
  ["batch", "countdown"].forEach(function (kind) {
    source.addEventListener(kind, function (e) {
      if (JSON.parse(e.data).batch === batchId) { refreshDocs(); }
    });
  });
  source.addEventListener("scanner", function () {
    if (batchEl) { refreshDocs(); } else if (live && live.dataset.live === "scan") { location.reload(); }
  });
  source.addEventListener("storage", function () {
    if (live && live.dataset.live === "scan") { location.reload(); }
  });
  // a hot-folder file refused or already scanned: shown until the clerk taps it
  source.addEventListener("notice", function (e) {
    var data = JSON.parse(e.data);
    var main = document.querySelector("main");
    if (!main || !data.message) { return; }
    var box = document.getElementById("notices");
    if (!box) {
      box = document.createElement("div");
      box.id = "notices";
      box.setAttribute("role", "status");
      main.insertBefore(box, main.firstChild);
    }
    var line = document.createElement("p");
    line.className = "flash warning notice";
    line.dataset.type = data.type;
    line.textContent = say(data.message.vi, data.message.en);
    line.title = say("Chạm để ẩn", "Tap to hide");
    line.addEventListener("click", function () { line.remove(); });
    box.appendChild(line);
  });
  // a secret document was stopped (or its notice seen): the notice is shown
  // on every screen, unless the clerk has an edit not saved yet
  source.addEventListener("secret", function () {
    if (!document.querySelector('form[data-ajax="fields"].dirty')) { location.reload(); }
  });
  // a form sent the plain way is taking the clerk elsewhere: no reload may cancel that
  var leaving = false;
  window.addEventListener("beforeunload", function () { leaving = true; });
  source.addEventListener("outbox", function (e) {
    var data = e.data ? JSON.parse(e.data) : {};
    if (leaving) { return; }
    if (live && live.dataset.live === "outbox") { location.reload(); }
    // a refusal, or its answer: the home screen's notice changes
    else if (live && live.dataset.live === "scan" && (data.status === "02" || data.answered)) { location.reload(); }
  });
}());
