// The counter's on-screen keyboard: Vietnamese by Telex, digits and the
// punctuation of a document number and subject, for a touchscreen without a
// keyboard of its own. It types into the focused text field at the caret and
// fires "input" as typing would. Only pages whose <body> has data-keyboard load
// it: "touch" opens it when a field is focused on a touchscreen, "always" on any
// screen, "button" only from the ⌨ button.
(function () {
  "use strict";

  // ------------------------------------------------------------------ Telex

  // each vowel with its tones: none, sắc (s), huyền (f), hỏi (r), ngã (x), nặng (j)
  var VOWELS = {
    a: "aáàảãạ", "ă": "ăắằẳẵặ", "â": "âấầẩẫậ", e: "eéèẻẽẹ", "ê": "êếềểễệ",
    i: "iíìỉĩị", o: "oóòỏõọ", "ô": "ôốồổỗộ", "ơ": "ơớờởỡợ", u: "uúùủũụ",
    "ư": "ưứừửữự", y: "yýỳỷỹỵ"
  };
  var TONE_KEYS = { s: 1, f: 2, r: 3, x: 4, j: 5 };
  // the plain vowel and its mark: ^ (â ê ô), ( (ă), + (ơ ư)
  var PLAIN = { "ă": ["a", "("], "â": ["a", "^"], "ê": ["e", "^"], "ô": ["o", "^"], "ơ": ["o", "+"], "ư": ["u", "+"] };
  var ONSETS = ["", "b", "c", "ch", "d", "đ", "g", "gh", "gi", "h", "k", "kh", "l", "m", "n", "ng",
    "ngh", "nh", "p", "ph", "qu", "r", "s", "t", "th", "tr", "v", "x"];
  var CODAS = ["", "c", "ch", "m", "n", "ng", "nh", "p", "t"];
  var TONED = {};  // á → {vowel: "a", tone: 1}
  Object.keys(VOWELS).forEach(function (v) {
    for (var t = 0; t < 6; t++) { TONED[VOWELS[v][t]] = { vowel: v, tone: t }; }
  });
  var LETTER = /[a-zđ\u00c0-\u024f\u1e00-\u1eff]/i;

  function isLetter(ch) { return LETTER.test(ch); }

  // a word as letters: {ch: lower-case letter without tone, up: upper case}, and its tone
  function parse(word) {
    var letters = [], tone = 0;
    for (var i = 0; i < word.length; i++) {
      var ch = word[i], low = ch.toLowerCase(), toned = TONED[low];
      if (toned) {
        if (toned.tone) { tone = toned.tone; }
        low = toned.vowel;
      }
      letters.push({ ch: low, up: ch !== ch.toLowerCase() });
    }
    return { letters: letters, tone: tone };
  }

  function isVowel(letter) { return Object.prototype.hasOwnProperty.call(VOWELS, letter.ch); }

  // onset, vowels and coda of a Vietnamese syllable, as indexes; null when the
  // letters are not one (an abbreviation, a foreign word): no marks then
  function syllable(letters) {
    var text = letters.map(function (l) { return l.ch; }).join("");
    var first = 0;
    while (first < letters.length && !isVowel(letters[first])) { first++; }
    var onset = text.slice(0, first);
    // "qu" and "gi" before another vowel are the onset
    if (onset === "q" && text[first] === "u" && first + 1 < letters.length && isVowel(letters[first + 1])) {
      onset = "qu"; first++;
    } else if (onset === "g" && text[first] === "i" && first + 1 < letters.length && isVowel(letters[first + 1])) {
      onset = "gi"; first++;
    }
    if (ONSETS.indexOf(onset) < 0 || first === letters.length) { return null; }
    var last = first;
    while (last < letters.length && isVowel(letters[last])) { last++; }
    if (last - first > 3 || CODAS.indexOf(text.slice(last)) < 0) { return null; }
    return { first: first, end: last, coda: last < letters.length };
  }

  // where the tone goes: a vowel with a mark (the last of ươ, iê…); one vowel;
  // the middle of three; of two, the second before a final consonant, else the
  // first, as the administrative documents write it (hòa, thủy, khỏe)
  function toneIndex(letters, syl) {
    var marked = -1;
    for (var i = syl.first; i < syl.end; i++) {
      if (PLAIN[letters[i].ch]) { marked = i; }
    }
    if (marked >= 0) { return marked; }
    var count = syl.end - syl.first;
    if (count === 1) { return syl.first; }
    if (count === 3) { return syl.first + 1; }
    return syl.coda ? syl.first + 1 : syl.first;
  }

  function render(letters, tone) {
    var syl = tone ? syllable(letters) : null;
    var at = syl ? toneIndex(letters, syl) : -1;
    return letters.map(function (l, i) {
      var ch = i === at ? VOWELS[l.ch][tone] : l.ch;
      return l.up ? ch.toUpperCase() : ch;
    }).join("");
  }

  function withMark(ch, mark) {
    var plain = PLAIN[ch] ? PLAIN[ch][0] : ch;
    if (!mark) { return plain; }
    var found = Object.keys(PLAIN).filter(function (v) { return PLAIN[v][0] === plain && PLAIN[v][1] === mark; });
    return found.length ? found[0] : ch;
  }

  function markOf(ch) { return PLAIN[ch] ? PLAIN[ch][1] : ""; }

  // one key on the word before the caret: the new word, or null when the key is
  // only added; `undone` when a doubled key took its own effect back ("ss" → "s")
  function transform(word, key) {
    var k = key.toLowerCase();
    var parsed = parse(word), letters = parsed.letters, tone = parsed.tone;
    var up = key !== k;

    if (k === "d") {
      var end = letters.length - 1;
      var onsetD = letters.length && letters[0].ch === "d" && syllable(letters) ? 0 : -1;
      var at = end >= 0 && (letters[end].ch === "d" || letters[end].ch === "đ") ? end : onsetD;
      if (at < 0 && letters.length && letters[0].ch === "đ") { at = 0; }
      if (at < 0) { return null; }
      if (letters[at].ch === "đ") {
        letters[at].ch = "d";
        return { word: render(letters, tone) + key, undone: true };
      }
      letters[at].ch = "đ";
      return { word: render(letters, tone), undone: false };
    }

    var syl = syllable(letters);
    if (!syl) {
      if (k === "w" && letters.every(function (l) { return !isVowel(l); })) {
        // a lone w is ư: "nhw" → "như"
        var withU = letters.concat([{ ch: "ư", up: up }]);
        if (syllable(withU)) { return { word: render(withU, tone), undone: false }; }
      }
      return null;
    }

    if (TONE_KEYS[k] || k === "z") {
      var wanted = TONE_KEYS[k] || 0;
      if (k === "z" && !tone) { return null; }
      if (wanted && tone === wanted) { return { word: render(letters, 0) + key, undone: true }; }
      return { word: render(letters, wanted), undone: false };
    }

    var marked = vowel(letters, syl, k, key, tone);
    if (marked) { return marked; }
    // a letter that moves the tone: "hòa" + n → "hoàn"
    if (tone && isLetter(key)) {
      var longer = letters.concat([{ ch: k, up: up }]);
      if (syllable(longer)) { return { word: render(longer, tone), undone: false }; }
    }
    return null;
  }

  // aa ee oo (â ê ô), aw ow uw (ă ơ ư), uow (ươ); the same again takes it back
  function vowel(letters, syl, k, key, tone) {
    var vowels = [];
    for (var i = syl.first; i < syl.end; i++) { vowels.push(i); }
    if (k === "a" || k === "e" || k === "o") {
      var target = -1;
      vowels.forEach(function (j) { if (withMark(letters[j].ch, "") === k) { target = j; } });
      if (target < 0) { return null; }
      if (markOf(letters[target].ch) === "^") {
        letters[target].ch = k;
        return { word: render(letters, tone) + key, undone: true };
      }
      letters[target].ch = withMark(letters[target].ch, "^");
      return { word: render(letters, tone), undone: false };
    }
    if (k === "w") {
      var plain = vowels.map(function (j) { return withMark(letters[j].ch, ""); }).join("");
      var hooked = vowels.filter(function (j) { return markOf(letters[j].ch) === "+" || markOf(letters[j].ch) === "("; });
      var uo = plain.indexOf("uo");
      var targets = [];
      if (uo >= 0 && syl.end - syl.first > uo + 1) {
        targets = [vowels[uo], vowels[uo + 1]];  // uo → ươ
      } else {
        vowels.forEach(function (j) {
          var p = withMark(letters[j].ch, "");
          if (p === "a" || p === "o" || p === "u") { targets = [j]; }
        });
      }
      if (!targets.length) { return null; }
      var done = targets.every(function (j) { return hooked.indexOf(j) >= 0; });
      if (done) {
        targets.forEach(function (j) { letters[j].ch = withMark(letters[j].ch, ""); });
        return { word: render(letters, tone) + key, undone: true };
      }
      targets.forEach(function (j) {
        letters[j].ch = withMark(letters[j].ch, withMark(letters[j].ch, "") === "a" ? "(" : "+");
      });
      return { word: render(letters, tone), undone: false };
    }
    return null;
  }

  // the text before the caret after one key; `literal` keeps a word as typed
  // after a doubled key undid its mark, until the word ends
  function press(before, key, literal) {
    if (!isLetter(key)) { return { text: before + key, literal: false }; }
    if (literal) { return { text: before + key, literal: true }; }
    var start = before.length;
    while (start > 0 && isLetter(before[start - 1])) { start--; }
    var changed = transform(before.slice(start), key);
    if (!changed) { return { text: before + key, literal: false }; }
    return { text: before.slice(0, start) + changed.word, literal: changed.undone };
  }

  // a whole key sequence, as the keyboard types it: telex("Veef vieecj") → "Về việc"
  function telex(keys) {
    var state = { text: "", literal: false };
    for (var i = 0; i < keys.length; i++) { state = press(state.text, keys[i], state.literal); }
    return state.text.normalize("NFC");
  }

  // ------------------------------------------------------------------ keyboard

  var body = document.body;
  var mode = body ? body.dataset.keyboard : null;
  window.telex = telex;
  if (!mode) { return; }
  var TEXT_TYPES = ["text", "search", "password", "tel", "url"];  // those with a caret to set
  var coarse = window.matchMedia && window.matchMedia("(pointer: coarse)").matches;
  var target = null, shift = false, caps = false, vietnamese = true;
  var literal = null;  // {field, at}: the word at that caret is typed as is
  var lang = document.documentElement.lang === "en" ? 1 : 0;
  function say(vi, en) { return lang ? en : vi; }

  function editable(el) {
    if (!el || el.disabled || el.readOnly) { return false; }
    if (el.tagName === "TEXTAREA") { return true; }
    return el.tagName === "INPUT" && TEXT_TYPES.indexOf(el.type) >= 0;
  }

  // rows of [key, width]; a key is a character or a named action
  var ROWS = [
    [["1"], ["2"], ["3"], ["4"], ["5"], ["6"], ["7"], ["8"], ["9"], ["0"], ["back", 1.5]],
    [["q"], ["w"], ["e"], ["r"], ["t"], ["y"], ["u"], ["i"], ["o"], ["p"], ["/"], ["-"]],
    [["a"], ["s"], ["d"], ["f"], ["g"], ["h"], ["j"], ["k"], ["l"], [":"], ["enter", 1.5]],
    [["shift", 1.5], ["z"], ["x"], ["c"], ["v"], ["b"], ["n"], ["m"], [","], ["."], ["\""]],
    [["hide", 1.5], ["telex", 1.5], ["("], ["space", 5], [")"], [";"]]
  ];
  var NAMES = {
    back: ["⌫", "Xóa", "Delete"], enter: ["↵", "Xuống dòng / gửi", "Enter"],
    shift: ["⇧", "Chữ hoa", "Shift"], hide: ["⌨▾", "Ẩn bàn phím", "Hide the keyboard"],
    telex: ["", "Gõ tiếng Việt (Telex)", "Vietnamese typing (Telex)"],
    space: ["", "Dấu cách", "Space"]
  };

  var board = document.createElement("div");
  board.id = "keyboard";
  board.className = "keyboard";
  board.hidden = true;
  board.setAttribute("role", "region");  // a landmark of its own, outside <main>
  board.setAttribute("aria-label", say("Bàn phím tiếng Việt", "Vietnamese keyboard"));
  ROWS.forEach(function (row) {
    var line = document.createElement("div");
    line.className = "kb-row";
    row.forEach(function (spec) {
      var key = document.createElement("button");
      key.type = "button";
      key.tabIndex = -1;
      key.className = "kb-key";
      key.dataset.key = spec[0];
      key.style.flexGrow = String(spec[1] || 1);
      var name = NAMES[spec[0]];
      if (name) {
        key.classList.add("kb-" + spec[0]);
        key.textContent = name[0];
        key.setAttribute("aria-label", say(name[1], name[2]));
        key.title = say(name[1], name[2]);
      } else {
        key.textContent = spec[0];
      }
      line.appendChild(key);
    });
    board.appendChild(line);
  });
  var opener = document.createElement("button");
  opener.type = "button";
  opener.id = "keyboard-open";
  opener.className = "keyboard-open";
  opener.textContent = "⌨";
  opener.hidden = true;
  opener.setAttribute("aria-label", say("Mở bàn phím", "Open the keyboard"));
  opener.title = opener.getAttribute("aria-label");
  body.appendChild(board);
  body.appendChild(opener);

  function labels() {
    var upper = shift || caps;
    board.querySelectorAll(".kb-key").forEach(function (key) {
      var k = key.dataset.key;
      if (k.length === 1 && /[a-z]/.test(k)) { key.textContent = upper ? k.toUpperCase() : k; }
    });
    var shiftKey = board.querySelector(".kb-shift");
    shiftKey.classList.toggle("on", upper);
    shiftKey.classList.toggle("locked", caps);
    shiftKey.setAttribute("aria-pressed", upper ? "true" : "false");
    var telexKey = board.querySelector(".kb-telex");
    telexKey.textContent = vietnamese ? "VI" : "ABC";
    var spaceKey = board.querySelector(".kb-space");
    spaceKey.textContent = vietnamese ? "Telex" : "";
    telexKey.setAttribute("aria-pressed", vietnamese ? "true" : "false");
    // a screen reader says what the key shows, then what it does
    telexKey.setAttribute("aria-label", telexKey.textContent + ": " + say(NAMES.telex[1], NAMES.telex[2]));
    spaceKey.setAttribute("aria-label", (vietnamese ? "Telex: " : "") + say(NAMES.space[1], NAMES.space[2]));
  }

  function fields() {
    return Array.prototype.filter.call(document.querySelectorAll("input, textarea"), function (el) {
      return editable(el) && el.offsetParent !== null;
    });
  }

  function refreshOpener() {
    opener.hidden = !board.hidden || !fields().length;
    body.classList.toggle("keyboard-button-shown", !opener.hidden);
  }

  // the field just above the keyboard, and room to scroll the last one up
  function keepVisible() {
    if (board.hidden || !target) { return; }
    var height = board.offsetHeight;
    body.style.paddingBottom = height + "px";
    var room = window.innerHeight - height - 8;
    // the field with its label when both fit, else the field alone
    var rect = target.getBoundingClientRect();
    var label = target.closest("label");
    var whole = label ? label.getBoundingClientRect() : rect;
    var shown = whole.height <= room ? whole : rect;
    if (shown.bottom <= room && shown.top >= 0) { return; }
    var top = Math.max(0, Math.min(shown.top, room - shown.height));
    window.scrollBy(0, shown.top - top);
  }

  function open(field) {
    target = field;
    board.hidden = false;
    refreshOpener();
    labels();
    keepVisible();
  }

  function close() {
    board.hidden = true;
    body.style.paddingBottom = "";
    shift = false;
    refreshOpener();
  }

  function replace(field, start, end, text) {
    field.setRangeText(text, start, end, "end");
    field.dispatchEvent(new InputEvent("input", {
      bubbles: true, inputType: text ? "insertText" : "deleteContentBackward", data: text || null
    }));
  }

  function type(ch) {
    var field = target;
    var start = field.selectionStart, end = field.selectionEnd;
    var before = field.value.slice(0, start);
    var raw = !vietnamese || field.type === "password";
    var keep = literal && literal.field === field && literal.at === start;
    if (raw || start !== end) {
      replace(field, start, end, ch);
      literal = null;
      return;
    }
    var next = press(before, ch, keep);
    // only the changed tail is replaced, so the rest of the field is untouched
    var common = 0;
    while (common < before.length && common < next.text.length && before[common] === next.text[common]) { common++; }
    replace(field, common, start, next.text.slice(common));
    literal = next.literal ? { field: field, at: field.selectionStart } : null;
  }

  function backspace() {
    var field = target;
    var start = field.selectionStart, end = field.selectionEnd;
    literal = null;
    if (start !== end) { replace(field, start, end, ""); return; }
    if (start === 0) { return; }
    // one character, also a surrogate pair
    var cut = /[\udc00-\udfff]/.test(field.value[start - 1]) && start > 1 ? 2 : 1;
    replace(field, start - cut, start, "");
  }

  function enter() {
    var field = target;
    literal = null;
    if (field.tagName === "TEXTAREA") { type("\n"); return; }
    var form = field.form;
    if (!form) { return; }
    // as the Enter key would: the form's default button submits it
    var button = form.querySelector("button:not([type]), button[type=submit], input[type=submit]");
    if (button && button.disabled) { return; }
    if (button) { form.requestSubmit(button); } else { form.requestSubmit(); }
    // done with the field, as a phone's keyboard is: the page may draw it again
    close();
    field.blur();
  }

  function act(key) {
    if (key === "hide") { close(); return; }
    if (key === "shift") {
      if (caps) { caps = false; shift = false; } else if (shift) { caps = true; } else { shift = true; }
      labels();
      return;
    }
    if (key === "telex") { vietnamese = !vietnamese; literal = null; labels(); return; }
    if (!target || !target.isConnected) { close(); return; }
    if (document.activeElement !== target) { target.focus({ preventScroll: true }); }
    if (key === "back") { backspace(); } else if (key === "enter") { enter(); } else {
      var ch = key === "space" ? " " : key;
      if (shift || caps) { ch = ch.toUpperCase(); }
      type(ch);
      if (shift && !caps) { shift = false; labels(); }
    }
    keepVisible();
  }

  var repeat = null, repeated = false;  // ⌫ held down
  function stopRepeat() { clearTimeout(repeat); repeat = null; }

  // keys never take the focus from the field
  board.addEventListener("mousedown", function (event) { event.preventDefault(); });
  board.addEventListener("click", function (event) {
    var key = event.target.closest ? event.target.closest(".kb-key") : null;
    if (!key) { return; }
    if (key.dataset.key === "back" && repeated) { repeated = false; return; }  // held: done
    act(key.dataset.key);
  });
  // ⌫ held down goes on deleting, as a keyboard's does
  board.addEventListener("pointerdown", function (event) {
    stopRepeat();
    repeated = false;
    if (!event.target.closest || !event.target.closest(".kb-back")) { return; }
    repeat = setTimeout(function again() {
      repeated = true;
      act("back");
      repeat = setTimeout(again, 80);
    }, 500);
  });
  document.addEventListener("pointerup", stopRepeat);
  document.addEventListener("pointercancel", stopRepeat);
  opener.addEventListener("mousedown", function (event) { event.preventDefault(); });
  opener.addEventListener("click", function () {
    var field = target && target.isConnected && editable(target) ? target : fields()[0];
    if (!field) { return; }
    field.focus({ preventScroll: true });
    open(field);
  });

  function opensItself() { return mode === "always" || (mode === "touch" && coarse); }

  document.addEventListener("focusin", function (event) {
    var field = event.target;
    if (!editable(field)) { return; }
    if (field !== target) { literal = null; }
    if (!board.hidden) { open(field); return; }
    target = field;
    if (opensItself()) { open(field); }
  });
  // a tap on a field that already has the focus (after ⌨▾, or autofocus) opens it
  document.addEventListener("click", function (event) {
    if (board.hidden && event.target === document.activeElement && editable(event.target) &&
        opensItself()) { open(event.target); }
  });
  // fields folded away in <details> show when it opens
  document.addEventListener("toggle", refreshOpener, true);
  document.addEventListener("focusout", function () {
    setTimeout(function () {
      var now = document.activeElement;
      if (board.hidden || editable(now)) { return; }
      close();
    }, 0);
  });
  window.addEventListener("resize", keepVisible);
  // the page's own scripts replace parts of it: the field may be gone
  new MutationObserver(function () {
    if (!board.hidden && (!target || !target.isConnected)) { close(); }
    refreshOpener();
  }).observe(document.querySelector("main") || body, { childList: true, subtree: true });
  refreshOpener();
  labels();
  if (editable(document.activeElement)) {  // autofocus, before this script ran
    target = document.activeElement;
    if (opensItself()) { open(target); }
  }
}());
