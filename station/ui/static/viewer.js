// The page viewer: a tap on a page's thumbnail shows the page full screen at
// its resolution, to check the fields against the paper. Pinch, wheel and the
// buttons zoom; a finger or the mouse pans; swipe, arrows and the buttons turn
// the pages of the batch. The document's fields are beside the page (under it
// on a small screen); a tap on one shows where on the page it was read. A page
// moves to another document with one tap. A tap on a field's crop in the form
// opens its page zoomed onto that place. Escape, ✕ and Back close it.
(function () {
  "use strict";

  var batchEl = document.getElementById("batch");
  var template = document.getElementById("viewer-template");
  if (!batchEl || !template) { return; }

  var MAX_SCALE = 8;
  var root = null;      // the viewer's element, made on first use
  var el = {};          // its parts
  var pages = [];       // every page of the batch's documents, in order
  var at = -1;          // the page shown
  var view = { s: 1, x: 0, y: 0, w: 0, h: 0 };  // zoom, pan, the sheet's size at fit
  var boxes = {};       // per document: where its fields were read (/doc/ID/boxes)
  var chosen = null;    // the field whose box is shown
  var aim = false;      // zoom onto the chosen field's box once its page is shown
  var returnTo = null;  // the thumbnail to focus again on close
  var focusAfter = null;  // or the field to correct

  function text(node, pattern, values) {
    var out = node.dataset[pattern] || "";
    Object.keys(values).forEach(function (key) { out = out.split("{" + key + "}").join(values[key]); });
    return out;
  }

  // ------------------------------------------------------------ the batch, as the screen shows it

  function collect() {
    var found = [];
    batchEl.querySelectorAll("article.doc[data-doc]").forEach(function (article, d) {
      var figures = article.querySelectorAll("figure.thumb[data-full]");
      var reg = article.querySelector("header .reg");
      figures.forEach(function (figure, n) {
        found.push({
          page: figure.dataset.page, full: figure.dataset.full,
          turn: parseInt(figure.dataset.turn || "0", 10) || 0,
          doc: article.dataset.doc, docN: d + 1, n: n + 1, of: figures.length,
          reg: reg ? reg.textContent.trim() : "", figure: figure, article: article
        });
      });
    });
    return found;
  }

  function documents() {
    return Array.prototype.map.call(batchEl.querySelectorAll("article.doc[data-doc]"),
      function (article, d) { return { doc: article.dataset.doc, n: d + 1 }; });
  }

  function fieldsOf(article) {
    var out = [];
    article.querySelectorAll("form.fields > label").forEach(function (label) {
      var name = /(?:^|\s)f-(\S+)/.exec(label.className);
      var inputs = label.querySelectorAll("input, textarea, select");
      if (!name || !inputs.length) { return; }
      var text = label.querySelector(".label-text");
      var title = text ? text.firstChild.textContent.trim() : "";
      // what the form shows now, saved or not: a list a line each, two pickers both
      var value = Array.prototype.map.call(inputs, function (input) {
        return input.value.split("\n").map(function (line) { return line.trim(); }).filter(Boolean).join("; ");
      }).filter(Boolean).join(", ");
      out.push({ name: name[1], title: title, value: value, check: label.classList.contains("check") });
    });
    return out;
  }

  // ------------------------------------------------------------ building the viewer

  function build() {
    root = template.content.firstElementChild.cloneNode(true);
    ["bar", "where", "stage", "sheet", "paper", "img", "box", "side", "chosen", "hint", "fields", "move",
      "targets", "status"].forEach(function (part) {
      el[part] = root.querySelector(".viewer-" + part);
    });
    root.hidden = true;
    document.body.appendChild(root);
    el.bar.addEventListener("click", function (event) {
      var button = event.target.closest("button[data-act]");
      if (!button) { return; }
      var act = button.dataset.act;
      if (act === "close") { close(); }
      else if (act === "prev") { go(at - 1); }
      else if (act === "next") { go(at + 1); }
      else if (act === "in") { zoomBy(1.5); }
      else if (act === "out") { zoomBy(1 / 1.5); }
      else if (act === "fit") { fit(); }
    });
    el.fields.addEventListener("click", function (event) {
      var button = event.target.closest("button[data-field]");
      if (button) { choose(button.dataset.field); }
    });
    el.chosen.querySelector("button").addEventListener("click", function () {
      var input = inputOf(pages[at], chosen);
      if (!input) { return; }
      focusAfter = input;  // the viewer closes, the field of the form opens to be corrected
      close();
    });
    el.targets.addEventListener("click", function (event) {
      var button = event.target.closest("button[data-doc]");
      if (button) { move(button); }
    });
    el.img.addEventListener("load", function () { layout(); showBox(); });
    gestures();
  }

  // ------------------------------------------------------------ opening, turning, closing

  function open(pageId, push) {
    pages = collect();
    var index = indexOf(pageId);
    if (index < 0) { return; }
    if (!root) { build(); }
    root.hidden = false;
    document.documentElement.classList.add("viewer-open");
    ["main", "header.top", "footer"].forEach(function (sel) {
      var node = document.querySelector(sel);
      if (node) { node.inert = true; }
    });
    if (push) { history.pushState({ viewer: pageId }, ""); }
    at = -1;
    go(index);
    root.querySelector("[data-act=close]").focus();
  }

  function hide() {
    if (!root || root.hidden) { return; }
    root.hidden = true;
    document.documentElement.classList.remove("viewer-open");
    ["main", "header.top", "footer"].forEach(function (sel) {
      var node = document.querySelector(sel);
      if (node) { node.inert = false; }
    });
    var page = pages[at];
    at = -1;
    chosen = null;
    // back to the way the viewer was opened, on the page last seen
    var figure = page && batchEl.querySelector('figure.thumb[data-page="' + page.page + '"]');
    var way = returnTo && returnTo.tagName === "BUTTON" ? "button.open-page" : "summary";
    var target = focusAfter || cropOf(returnTo) || (figure && figure.querySelector(way)) || returnTo;
    focusAfter = null;
    if (target) {
      target.focus({ preventScroll: true });
      target.scrollIntoView({ block: "center" });
    }
  }

  // opened from a field's crop: that crop again, drawn anew if the screen was refreshed
  function cropOf(button) {
    if (!button || !button.classList.contains("crop-open")) { return null; }
    if (document.contains(button)) { return button; }
    var article = button.closest("article.doc[data-doc]");
    return article && batchEl.querySelector('article.doc[data-doc="' + article.dataset.doc +
      '"] button.crop-open[data-field="' + button.dataset.field + '"]');
  }

  // the form's field of that name in the page's document, if the clerk may change it
  function inputOf(page, name) {
    var input = page && page.article.querySelector(
      "form.fields > label.f-" + name + " input, form.fields > label.f-" + name + " textarea, " +
      "form.fields > label.f-" + name + " select");
    return input && !input.readOnly && !input.disabled ? input : null;
  }

  function close() {
    if (history.state && history.state.viewer) { history.back(); } else { hide(); }
  }

  function indexOf(pageId) {
    for (var i = 0; i < pages.length; i += 1) {
      if (pages[i].page === String(pageId)) { return i; }
    }
    return -1;
  }

  function go(index, before) {
    if (index < 0 || index >= pages.length) { return; }
    before = before || pages[at];
    at = index;
    var page = pages[at];
    if (!before || before.doc !== page.doc) { chosen = null; }
    if (history.state && history.state.viewer) { history.replaceState({ viewer: page.page }, ""); }
    show(before);
    [index - 1, index + 1].forEach(function (n) {
      if (pages[n]) { new Image().src = pages[n].full; }  // the next turn is at once
    });
  }

  function show(before) {
    var page = pages[at];
    el.where.textContent = text(el.where, "text", { d: page.docN, p: page.n, t: page.of }) +
      (page.reg ? " · " + page.reg : "");
    root.querySelector("[data-act=prev]").disabled = at === 0;
    root.querySelector("[data-act=next]").disabled = at === pages.length - 1;
    el.status.textContent = "";
    var changed = !before || before.full !== page.full || before.turn !== page.turn ||
      before.page !== page.page;
    if (changed) {
      view.s = 1;
      el.box.hidden = true;
      if (el.img.getAttribute("src") !== page.full) {
        el.img.src = page.full;  // layout() when it has loaded
      } else {
        layout();
        showBox();
      }
    }
    fields(page);
    targets(page);
    load(page.doc);
  }

  // ------------------------------------------------------------ fields and boxes

  function fields(page) {
    var focused = el.fields.contains(document.activeElement) && document.activeElement.dataset.field;
    el.fields.textContent = "";
    var known = boxes[page.doc] && boxes[page.doc].fields;
    fieldsOf(page.article).forEach(function (f) {
      var item = document.createElement("li");
      var button = document.createElement("button");
      button.type = "button";
      button.dataset.field = f.name;
      button.className = "f-" + f.name + (known && known[f.name] ? " has-box" : "") + (f.check ? " check" : "");
      var name = document.createElement("span");
      name.className = "name";
      name.textContent = f.title + (f.check ? " · " + el.status.dataset.check : "");
      var value = document.createElement("span");
      value.className = "value";
      value.textContent = f.value || "—";
      button.appendChild(name);
      button.appendChild(value);
      item.appendChild(button);
      el.fields.appendChild(item);
      if (f.name === focused) { button.focus({ preventScroll: true }); }
    });
    mark(page);
  }

  // the chosen field pressed, its whole value above the fields
  function mark(page) {
    el.fields.querySelectorAll("button[data-field]").forEach(function (b) {
      b.setAttribute("aria-pressed", b.dataset.field === chosen ? "true" : "false");
    });
    var current = chosen && fieldsOf(page.article).filter(function (f) { return f.name === chosen; })[0];
    el.chosen.hidden = !current;
    el.hint.hidden = !!current;
    if (current) {
      el.chosen.querySelector("p").textContent = current.title + ": " + (current.value || "—");
      el.chosen.querySelector("button").hidden = !inputOf(page, chosen);
    }
  }

  function load(doc) {
    if (boxes[doc]) { return Promise.resolve(boxes[doc]); }
    return fetch("/doc/" + encodeURIComponent(doc) + "/boxes", { headers: { Accept: "application/json" } })
      .then(function (r) { return r.ok ? r.json() : { fields: {}, pages: {} }; },
        function () { return { fields: {}, pages: {}, lost: true }; })
      .then(function (data) {
        if (data.lost) { return data; }  // asked again next time
        boxes[doc] = data;
        var page = pages[at];
        if (page && page.doc === doc) {
          el.fields.querySelectorAll("button[data-field]").forEach(function (b) {
            b.classList.toggle("has-box", !!data.fields[b.dataset.field]);
          });
          showBox();
        }
        return data;
      });
  }

  function choose(name) {
    var page = pages[at];
    chosen = name;
    load(page.doc).then(function (data) {
      var where = data.fields[name];
      mark(pages[at]);
      if (!where) {
        el.box.hidden = true;
        el.status.textContent = el.status.dataset.nowhere;
        return;
      }
      el.status.textContent = "";
      aim = true;
      var index = indexOf(where.page);
      if (index !== at && index >= 0) { go(index); }  // the box shows when the page has loaded
      else { showBox(); }
    });
  }

  // a rectangle [left, top, width, height] in fractions of a page, on the page turned
  // clockwise by `turn` degrees
  function turned(r, turn) {
    switch ((turn % 360 + 360) % 360) {
      case 90: return [1 - r[1] - r[3], r[0], r[3], r[2]];
      case 180: return [1 - r[0] - r[2], 1 - r[1] - r[3], r[2], r[3]];
      case 270: return [r[1], 1 - r[0] - r[2], r[3], r[2]];
      default: return r;
    }
  }

  // the chosen field's box over the page; just chosen, the page zoomed onto it
  function showBox() {
    var page = pages[at];
    var data = page && boxes[page.doc];
    var where = chosen && data && data.fields[chosen];
    var read = where && data.pages[String(where.page)];
    // only once the picture has loaded: its size may be known before, and the load lays it out anew
    if (!where || !read || String(where.page) !== page.page || !el.img.complete || !el.img.naturalWidth) {
      if (el.box) { el.box.hidden = true; }
      return;
    }
    // as read, on the page as scanned (the boxes turn with the picture), as shown
    var b = where.box, mm = read.mm;
    var on = turned([b[0] / mm[0], b[1] / mm[1], (b[2] - b[0]) / mm[0], (b[3] - b[1]) / mm[1]],
      360 - read.turn);
    el.box.style.left = (on[0] * 100) + "%";
    el.box.style.top = (on[1] * 100) + "%";
    el.box.style.width = (on[2] * 100) + "%";
    el.box.style.height = (on[3] * 100) + "%";
    el.box.hidden = false;
    el.box.dataset.field = chosen;
    var shown = turned(on, page.turn);
    var left = shown[0], top = shown[1], width = shown[2], height = shown[3];
    if (aim) {
      aim = false;
      var stage = el.stage.getBoundingClientRect();
      var s = Math.min(stage.width * 0.9 / (width * view.w), stage.height * 0.6 / (height * view.h), 4);
      view.s = Math.max(1, s);
      view.x = stage.width / 2 - (left + width / 2) * view.w * view.s;
      view.y = stage.height / 2 - (top + height / 2) * view.h * view.s;
      apply();
    }
  }

  // ------------------------------------------------------------ moving the page

  function targets(page) {
    var form = page.figure.querySelector('form[data-ajax="move"]');
    el.targets.textContent = "";
    el.move.hidden = !form;
    if (!form) { return; }
    documents().forEach(function (d) {
      if (d.doc === page.doc) { return; }
      var item = document.createElement("li");
      var button = document.createElement("button");
      button.type = "button";
      button.dataset.doc = d.doc;
      button.dataset.n = d.n;
      button.textContent = text(el.targets, "text", { n: d.n });
      item.appendChild(button);
      el.targets.appendChild(item);
    });
  }

  // one tap: the page goes last in the other document (its place there is set from its actions)
  function move(button) {
    var page = pages[at];
    var form = page.figure.querySelector('form[data-ajax="move"]');
    if (!form) { return; }
    var data = new FormData(form);
    data.set("doc", button.dataset.doc);
    data.set("index", "-1");
    el.targets.querySelectorAll("button").forEach(function (b) { b.disabled = true; });
    fetch(form.action, { method: "POST", body: data, headers: { Accept: "application/json" } })
      .then(function (r) { return r.json().then(function (body) { return { ok: r.ok, body: body }; }); })
      .then(function (answer) {
        el.targets.querySelectorAll("button").forEach(function (b) { b.disabled = false; });
        if (!answer.ok && answer.body.code === "pin" && answer.body.pin_url) {
          location.href = answer.body.pin_url.split("?")[0] + "?next=" +
            encodeURIComponent(location.pathname + location.search);
          return;
        }
        if (!answer.ok) { el.status.textContent = answer.body.error || "Lỗi / Error"; return; }
        el.status.textContent = text(el.status, "moved", { n: button.dataset.n });
        // the station announces the change; the screen refreshes and so does the viewer
      })
      .catch(function () {
        el.targets.querySelectorAll("button").forEach(function (b) { b.disabled = false; });
        el.status.textContent = "Mất kết nối với trạm / lost the station";
      });
  }

  // the documents were drawn again (a change here or elsewhere): follow the page shown
  new MutationObserver(function () {
    boxes = {};
    if (!root || root.hidden) { return; }
    var page = pages[at];
    var was = at;
    var status = el.status.textContent;
    pages = collect();
    if (!pages.length) { close(); return; }
    var index = page ? indexOf(page.page) : -1;
    go(index >= 0 ? index : Math.min(pages.length - 1, was), page);
    if (index >= 0) { el.status.textContent = status; }
  }).observe(batchEl, { childList: true });

  // ------------------------------------------------------------ zoom and pan

  function layout() {
    var page = pages[at];
    if (!page || !el.img.naturalWidth) { return; }
    var stage = el.stage.getBoundingClientRect();
    var turned = page.turn % 180 !== 0;
    var w = turned ? el.img.naturalHeight : el.img.naturalWidth;
    var h = turned ? el.img.naturalWidth : el.img.naturalHeight;
    var scale = Math.min(stage.width / w, stage.height / h);
    view.w = w * scale;
    view.h = h * scale;
    el.sheet.style.width = view.w + "px";
    el.sheet.style.height = view.h + "px";
    el.paper.style.width = (turned ? view.h : view.w) + "px";
    el.paper.style.height = (turned ? view.w : view.h) + "px";
    el.paper.style.transform = "translate(-50%, -50%) rotate(" + page.turn + "deg)";
    view.s = 1;
    apply();
  }

  function apply() {
    var stage = el.stage.getBoundingClientRect();
    view.s = Math.min(MAX_SCALE, Math.max(1, view.s));
    var w = view.w * view.s, h = view.h * view.s;
    view.x = w <= stage.width ? (stage.width - w) / 2 : Math.min(0, Math.max(stage.width - w, view.x));
    view.y = h <= stage.height ? (stage.height - h) / 2 : Math.min(0, Math.max(stage.height - h, view.y));
    el.sheet.style.transform = "translate(" + view.x + "px, " + view.y + "px) scale(" + view.s + ")";
    el.sheet.style.setProperty("--s", view.s);
    root.dataset.scale = view.s.toFixed(3);
  }

  // zoom by a factor, keeping the point (x, y) of the stage where it is
  function zoomAt(factor, x, y) {
    var s = Math.min(MAX_SCALE, Math.max(1, view.s * factor));
    view.x = x - (x - view.x) * s / view.s;
    view.y = y - (y - view.y) * s / view.s;
    view.s = s;
    apply();
  }

  function zoomBy(factor) {
    var stage = el.stage.getBoundingClientRect();
    zoomAt(factor, stage.width / 2, stage.height / 2);
  }

  function fit() {
    view.s = 1;
    apply();
  }

  function gestures() {
    var points = {};
    var start = null;
    var lastTap = 0;

    function local(event) {
      var stage = el.stage.getBoundingClientRect();
      return { x: event.clientX - stage.left, y: event.clientY - stage.top };
    }
    function two() {
      var ids = Object.keys(points);
      return ids.length >= 2 ? [points[ids[0]], points[ids[1]]] : null;
    }
    function begin() {
      var pair = two();
      var ids = Object.keys(points);
      start = { s: view.s, x: view.x, y: view.y, at: Date.now(), moved: 0, pinched: !!pair };
      if (pair) {
        start.mid = { x: (pair[0].x + pair[1].x) / 2, y: (pair[0].y + pair[1].y) / 2 };
        start.dist = Math.max(1, Math.hypot(pair[0].x - pair[1].x, pair[0].y - pair[1].y));
      } else if (ids.length) {
        start.p = { x: points[ids[0]].x, y: points[ids[0]].y };
      }
    }

    el.stage.addEventListener("pointerdown", function (event) {
      el.stage.setPointerCapture(event.pointerId);
      points[event.pointerId] = local(event);
      var pinched = start && start.pinched;
      begin();
      if (pinched) { start.pinched = true; }
    });
    el.stage.addEventListener("pointermove", function (event) {
      if (!(event.pointerId in points) || !start) { return; }
      points[event.pointerId] = local(event);
      var pair = two();
      if (pair && start.mid) {
        var mid = { x: (pair[0].x + pair[1].x) / 2, y: (pair[0].y + pair[1].y) / 2 };
        var dist = Math.hypot(pair[0].x - pair[1].x, pair[0].y - pair[1].y);
        var s = Math.min(MAX_SCALE, Math.max(1, start.s * dist / start.dist));
        view.x = mid.x - (start.mid.x - start.x) * s / start.s;
        view.y = mid.y - (start.mid.y - start.y) * s / start.s;
        view.s = s;
        apply();
      } else if (start.p) {
        var p = points[event.pointerId];
        var dx = p.x - start.p.x, dy = p.y - start.p.y;
        start.moved = Math.max(start.moved, Math.hypot(dx, dy));
        if (view.s > 1.01) {
          view.x = start.x + dx;
          view.y = start.y + dy;
          apply();
        }
      }
    });
    function end(event) {
      if (!(event.pointerId in points)) { return; }
      var p = points[event.pointerId];  // where it was last seen: a lifted touch may say 0, 0
      delete points[event.pointerId];
      var left = Object.keys(points).length;
      if (!left && start && start.p && !start.pinched) {
        var dx = p.x - start.p.x, dy = p.y - start.p.y;
        var quick = Date.now() - start.at < 800;
        if (start.s <= 1.01 && quick && Math.abs(dx) > 60 && Math.abs(dx) > 1.5 * Math.abs(dy)) {
          go(dx < 0 ? at + 1 : at - 1);  // a swipe
        } else if (start.moved < 10 && quick) {
          if (Date.now() - lastTap < 350) {  // a double tap: in, or back to the whole page
            if (view.s > 1.01) { fit(); } else { zoomAt(2.5, p.x, p.y); }
            lastTap = 0;
          } else {
            lastTap = Date.now();
          }
        }
      }
      if (left) { begin(); start.pinched = true; } else { start = null; }
    }
    el.stage.addEventListener("pointerup", end);
    el.stage.addEventListener("pointercancel", end);
    el.stage.addEventListener("wheel", function (event) {
      event.preventDefault();
      var p = local(event);
      zoomAt(Math.exp(-event.deltaY * 0.002), p.x, p.y);
    }, { passive: false });
    window.addEventListener("resize", function () {
      if (root && !root.hidden) { layout(); showBox(); }
    });
  }

  // ------------------------------------------------------------ the ways in and out

  // a tap on a page's picture opens it; its caption still opens the page's actions
  document.addEventListener("click", function (event) {
    // the picture, or the page's own ⤢ button (the way in from the keyboard)
    var picture = event.target.closest
      ? event.target.closest("figure.thumb[data-full] summary img, figure.thumb[data-full] button.open-page")
      : null;
    if (!picture) { return; }
    event.preventDefault();
    var figure = picture.closest("figure.thumb");
    returnTo = picture.tagName === "BUTTON" ? picture : figure.querySelector("summary");
    open(figure.dataset.page, true);
  });

  // a field's crop in the form: its page, zoomed onto the place it was read from
  document.addEventListener("click", function (event) {
    var crop = event.target.closest ? event.target.closest("form.fields button.crop-open") : null;
    if (!crop) { return; }
    event.preventDefault();
    returnTo = crop;
    open(crop.dataset.page, true);
    if (root && !root.hidden) { choose(crop.dataset.field); }
  });

  document.addEventListener("keydown", function (event) {
    if (!root || root.hidden || event.altKey || event.ctrlKey || event.metaKey) { return; }
    var keys = {
      Escape: close, ArrowLeft: function () { go(at - 1); }, ArrowRight: function () { go(at + 1); },
      "+": function () { zoomBy(1.5); }, "=": function () { zoomBy(1.5); },
      "-": function () { zoomBy(1 / 1.5); }, "0": fit
    };
    if (keys[event.key]) { event.preventDefault(); keys[event.key](); }
  });

  window.addEventListener("popstate", function (event) {
    var wanted = event.state && event.state.viewer;
    if (wanted && (!root || root.hidden)) { open(wanted, false); }
    else if (!wanted) { hide(); }
  });

  // a refresh of the screen while the viewer was open: it opens again
  if (history.state && history.state.viewer) { open(history.state.viewer, false); }
}());
