// The fleet's overview screens read again every data-seconds (30 s), as a
// wall display wants, but never from under a person at work: not while a
// control has the keyboard focus (a reload would throw it back to the top of
// the page) or text is selected, and not while the tab is hidden.
(function () {
  "use strict";
  var script = document.currentScript;
  var seconds = Number(script && script.dataset.seconds) || 30;

  function busy() {
    var active = document.activeElement;
    var selected = window.getSelection && String(window.getSelection());
    return (active && active !== document.body) || Boolean(selected) || document.hidden;
  }

  function later() {
    window.setTimeout(function () {
      if (busy()) { later(); } else { window.location.reload(); }
    }, seconds * 1000);
  }

  later();
})();
