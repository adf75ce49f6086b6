// Sổ đến: a row's later columns ("Ghi thêm") saved without leaving the row.
// The form is sent as JSON; the answer names the page a plain form lands on
// (the same period, the row marked "Đã lưu"), and the saved row and the list of
// what to check are taken from it, so the screen stays where it was. Without
// this script the form posts and the page comes back at the row's anchor.
(function () {
  "use strict";

  function swap(fresh, id) {
    var now = document.getElementById(id);
    var next = fresh.getElementById(id);
    if (now && next) { now.replaceWith(document.importNode(next, true)); }
    return Boolean(now && next);
  }

  function showError(form, text) {
    var box = form.querySelector(".form-error");
    if (box) { box.textContent = text; box.hidden = false; } else { window.alert(text); }
  }

  document.addEventListener("submit", function (event) {
    var form = event.target;
    if (!form.classList || !form.classList.contains("register-form")) { return; }
    event.preventDefault();
    var row = form.closest("tr");
    var button = form.querySelector("button.primary");
    var box = form.querySelector(".form-error");
    if (box) { box.hidden = true; }
    if (button) { button.disabled = true; }
    fetch(form.action, {
      method: "POST",
      body: new FormData(form),
      headers: { Accept: "application/json" }
    }).then(function (r) {
      return r.json().then(function (body) { return { ok: r.ok, body: body }; });
    }).then(function (answer) {
      if (!answer.ok) {
        if (button) { button.disabled = false; }
        if (answer.body.code === "pin" && answer.body.pin_url) {
          location.href = answer.body.pin_url.split("?")[0] + "?next=" +
            encodeURIComponent(location.pathname + location.search);
          return;
        }
        showError(form, answer.body.error || (document.documentElement.lang === "en" ? "Error" : "Lỗi"));
        return;
      }
      var next = answer.body.next;
      return fetch(next, { headers: { Accept: "text/html" } }).then(function (r) {
        return r.text();
      }).then(function (html) {
        var fresh = new DOMParser().parseFromString(html, "text/html");
        if (!swap(fresh, row.id)) { location.assign(next); return; }  // moved out of the period
        var flags = document.getElementById("register-flags");
        var newFlags = fresh.getElementById("register-flags");
        if (flags && newFlags) { swap(fresh, "register-flags"); }
        else if (flags) { flags.remove(); }
        else if (newFlags) {
          var rows = document.querySelector(".register-rows");
          rows.parentNode.insertBefore(document.importNode(newFlags, true), rows);
        }
        var saved = document.getElementById(row.id);
        var top = saved.getBoundingClientRect().top;
        if (top < 0 || top > window.innerHeight - 120) { saved.scrollIntoView({ block: "start" }); }
        var summary = saved.querySelector("summary");
        if (summary) { summary.focus({ preventScroll: true }); }
      });
    }).catch(function () {
      if (button) { button.disabled = false; }
      showError(form, document.documentElement.lang === "en" ? "The station cannot be reached" : "Mất kết nối với trạm");
    });
  });
}());
