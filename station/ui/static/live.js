// The fleet's pages kept up to date in place, never reloaded (docs/fleet.md,
// "Live updates"). Every data-seconds (15 s) while the tab is visible:
//
// - with data-source (the stations page): POST the page's query string to it
//   with the signatures of the rows shown; the answer has the tiles, every row
//   in order and the HTML of the rows that changed. A changed cell is
//   replaced where it is (a cell holding the keyboard focus is left for the
//   next round), a new station is added at the end of its group, a station
//   that no longer fits the filter is greyed, and when the order is no longer
//   the page's a link offers to sort again: nothing moves under the reader.
// - without it (the alerts page, a station's page): the page itself is read again and each
//   element marked data-live is replaced when it changed, unless the focus or
//   a selection is inside it.
//
// Changes of state and of "needs action" are said in a polite live region.
// The highlight of a changed cell fades, or, with prefers-reduced-motion,
// simply shows and goes (live.css has no transition then).
(function () {
  "use strict";
  var script = document.currentScript;
  var seconds = Number(script && script.dataset.seconds) || 15;
  var source = script && script.dataset.source;
  var timer = null;
  var stopped = false;
  var lastAt = null;

  var said = {};
  try { said = JSON.parse((script && script.dataset.words) || "{}"); } catch (e) { said = {}; }
  function words() { return said; }

  function fill(text, values) {
    return String(text || "").replace(/%\((\w+)\)s/g, function (_, key) { return values[key]; });
  }

  // Vietnam time (UTC+7, no summer time), as every other time of the
  // dashboard, whatever the time zone of the reader's computer
  function clock(date) {
    function two(n) { return (n < 10 ? "0" : "") + n; }
    var vn = new Date(date.getTime() + 7 * 3600 * 1000);
    return two(vn.getUTCHours()) + ":" + two(vn.getUTCMinutes()) + ":" + two(vn.getUTCSeconds());
  }

  function say(text) {
    var region = document.getElementById("live-announce");
    if (region && text) { region.textContent = text; }
  }

  function status(text) {
    var at = document.getElementById("live-at");
    if (at) { at.textContent = text; at.hidden = false; }
  }

  function flash(el) {
    el.classList.remove("changed");
    void el.offsetWidth;  // start the highlight again
    el.classList.add("changed");
    window.setTimeout(function () { el.classList.remove("changed"); }, 4000);
  }

  function busy(el) {
    var active = document.activeElement;
    var selection = window.getSelection && window.getSelection();
    return (active && active !== document.body && el.contains(active)) ||
      Boolean(selection && !selection.isCollapsed && selection.anchorNode && el.contains(selection.anchorNode));
  }

  function parseRow(html) {
    var holder = document.createElement("template");
    holder.innerHTML = html.trim();
    return holder.content.firstElementChild;
  }

  function copyAttributes(from, to) {
    Array.prototype.slice.call(to.attributes).forEach(function (a) {
      if (!from.hasAttribute(a.name)) { to.removeAttribute(a.name); }
    });
    Array.prototype.slice.call(from.attributes).forEach(function (a) {
      if (to.getAttribute(a.name) !== a.value) { to.setAttribute(a.name, a.value); }
    });
  }

  function rows() {
    return Array.prototype.slice.call(document.querySelectorAll("table.stations tr[data-station]"));
  }

  // one row brought up to date in place; what is worth saying about it
  function patch(tr, html, w) {
    var fresh = parseRow(html);
    if (!fresh || fresh.cells.length !== tr.cells.length) { return null; }
    var before = { state: tr.dataset.state, attention: tr.dataset.attention };
    var held = false;
    for (var i = 0; i < fresh.cells.length; i++) {
      var cell = tr.cells[i], next = fresh.cells[i];
      if (cell.innerHTML === next.innerHTML) { continue; }
      if (busy(cell)) { held = true; continue; }
      cell.innerHTML = next.innerHTML;
      copyAttributes(next, cell);
      flash(cell);
    }
    var sig = tr.dataset.sig;
    copyAttributes(fresh, tr);
    if (held) { tr.dataset.sig = sig; }  // sent again next time
    tr.classList.remove("gone");
    var what = [];
    if (before.state !== tr.dataset.state) {
      what.push(tr.querySelector("td.state").textContent.trim());
    }
    if (!before.attention && tr.dataset.attention) { what.push(w.attention); }
    if (before.attention && !tr.dataset.attention) { what.push(w.resolved); }
    return what.length ? fill(w.changed, { station: tr.dataset.station, what: what.join(", ") }) : null;
  }

  function apply(data) {
    var w = words();
    var news = [];
    Object.keys(data.tiles || {}).forEach(function (key) {
      var count = document.querySelector('[data-tile="' + key + '"] b');
      if (count && count.textContent !== String(data.tiles[key])) {
        count.textContent = String(data.tiles[key]);
        flash(count.parentNode);
      }
    });
    var listed = {};
    var reordered = false;
    var shown = rows();
    var position = {}, byId = {};
    shown.forEach(function (tr, i) { position[tr.dataset.station] = i; byId[tr.dataset.station] = tr; });
    var last = -1;
    (data.rows || []).forEach(function (row) {
      listed[row.id] = true;
      var tr = byId[row.id];
      var html = data.html && data.html[row.id];
      if (!tr) {
        if (!html) { return; }
        var body = document.querySelector('table.stations tbody[data-group="' + CSS.escape(row.group) + '"]') ||
          document.querySelector("table.stations tbody:last-of-type");
        if (!body) { return; }
        var added = parseRow(html);
        body.appendChild(added);
        flash(added);
        news.push(fill(w.changed, { station: row.id, what: w["new"] }));
        reordered = true;
        return;
      }
      if (html) {
        var said = patch(tr, html, w);
        if (said) { news.push(said); }
      }
      if (position[row.id] < last) { reordered = true; }
      last = Math.max(last, position[row.id]);
    });
    shown.forEach(function (tr) {
      if (!listed[tr.dataset.station] && !tr.classList.contains("gone")) {
        tr.classList.add("gone");
        tr.title = w.gone || "";
        news.push(fill(w.changed, { station: tr.dataset.station, what: w.gone }));
        reordered = true;
      }
    });
    var link = document.getElementById("live-reorder");
    if (link && reordered) { link.hidden = false; }
    lastAt = new Date();
    status(fill(w.at, { t: clock(lastAt) }));
    if (news.length) { say(news.slice(0, 5).join(". ") + (news.length > 5 ? " …" : "")); }
  }

  function pollBoard() {
    var have = {};
    rows().forEach(function (tr) {
      if (!tr.classList.contains("gone")) { have[tr.dataset.station] = tr.dataset.sig || ""; }
    });
    return fetch(source + window.location.search, {
      method: "POST",
      credentials: "same-origin",
      headers: {
        "Content-Type": "application/json",
        "Accept": "application/json",
        "X-CSRF-Token": document.body.dataset.csrf || ""
      },
      body: JSON.stringify({ have: have })
    }).then(function (response) {
      if (response.status === 401) { throw new Error("signin"); }
      if (!response.ok) { throw new Error(String(response.status)); }
      return response.json();
    }).then(apply);
  }

  function pollPage() {
    return fetch(window.location.href, { credentials: "same-origin", headers: { "Accept": "text/html" } })
      .then(function (response) {
        if (response.redirected || !response.ok) { throw new Error("signin"); }
        return response.text();
      }).then(function (text) {
        var fresh = new DOMParser().parseFromString(text, "text/html");
        document.querySelectorAll("[data-live]").forEach(function (el) {
          var next = fresh.querySelector('[data-live="' + CSS.escape(el.dataset.live) + '"]');
          if (next && next.innerHTML !== el.innerHTML && !busy(el)) {
            el.innerHTML = next.innerHTML;
          }
        });
        lastAt = new Date();
        status(fill(words().at, { t: clock(lastAt) }));
      });
  }

  function later(delay) {
    window.clearTimeout(timer);
    if (!stopped) { timer = window.setTimeout(round, delay); }
  }

  function round() {
    if (document.hidden) { return; }  // again when the tab is shown
    (source ? pollBoard() : pollPage()).catch(function (error) {
      var w = words();
      if (error && error.message === "signin") {
        stopped = true;
        status(w.signin || "");
      } else {
        status(fill(w.stale, { t: lastAt ? clock(lastAt) : "–" }));
      }
    }).then(function () { later(seconds * 1000); });
  }

  document.addEventListener("visibilitychange", function () {
    if (!document.hidden) { later(0); }
  });
  later(seconds * 1000);
})();
