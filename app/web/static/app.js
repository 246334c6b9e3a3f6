// Vouch's one script. Every page works without it; this only makes things quicker.
// No inline script anywhere (the Content-Security-Policy forbids it): behaviour hangs on
// data- attributes of the markup. Sections follow the template folders.
"use strict";

(function () {
  // ---- Keyboard shortcuts, shared by every page ----
  // A page section registers its keys with `onKeys`; elements with data-shortcut="key" are
  // clicked by that key. Keys are left alone while the person types in a field, and when
  // a modifier (other than Shift, for "?") is held.
  var handlers = [];

  function onKeys(keys) {
    handlers.push(keys);
  }

  function typing(target) {
    return target instanceof Element && target.closest("input, textarea, select, [contenteditable]") !== null;
  }

  document.addEventListener("keydown", function (event) {
    if (event.defaultPrevented || event.ctrlKey || event.metaKey || event.altKey) return;
    if (typing(event.target)) return;
    for (var i = 0; i < handlers.length; i++) {
      var handler = handlers[i][event.key];
      if (handler && handler(event) !== false) {
        event.preventDefault();
        return;
      }
    }
    var control = document.querySelector('[data-shortcut="' + CSS.escape(event.key) + '"]');
    if (control) {
      event.preventDefault();
      control.click();
    }
  });

  // ---- Review queue (templates/reviews) ----
  // One answer is current (aria-current="true"): j / k move it, e endorses it, c / r open
  // its correct / reject form at the rationale, ? shows the list of shortcuts.
  function reviewQueue(queue) {
    var items = Array.prototype.slice.call(queue.querySelectorAll("[data-queue-item]"));
    if (items.length === 0) return;
    var current = null;

    function makeCurrent(item, focus) {
      if (current && current !== item) current.removeAttribute("aria-current");
      current = item;
      item.setAttribute("aria-current", "true");
      if (focus) {
        item.focus({ preventScroll: true });
        item.scrollIntoView({ block: "nearest" });
      }
    }

    function move(step) {
      var index = items.indexOf(current) + step;
      if (index < 0 || index >= items.length) return;
      makeCurrent(items[index], true);
    }

    function openForm(verdict) {
      var details = current.querySelector('[data-review-form="' + verdict + '"]');
      if (!details) return false;
      details.open = true;
      var field = details.querySelector("[data-review-focus]");
      if (field) {
        field.focus({ preventScroll: true });
        field.scrollIntoView({ block: "nearest" });
      }
    }

    // After a review the page comes back at the next answer (#answer-N); else the first.
    var target = location.hash ? document.getElementById(location.hash.slice(1)) : null;
    if (target && items.indexOf(target) >= 0) {
      makeCurrent(target, true);
    } else {
      makeCurrent(items[0], false);
    }
    // Working with the mouse or Tab inside an answer makes it the current one.
    queue.addEventListener("focusin", function (event) {
      var item = event.target.closest("[data-queue-item]");
      if (item) makeCurrent(item, false);
    });

    onKeys({
      j: function () { move(1); },
      k: function () { move(-1); },
      e: function () {
        var form = current.querySelector("[data-review-endorse]");
        if (!form || form.dataset.sent) return false;
        form.dataset.sent = "true";
        form.requestSubmit();
      },
      c: function () { return openForm("correct"); },
      r: function () { return openForm("reject"); },
      "?": function () {
        var list = document.getElementById("shortcuts");
        if (!list) return false;
        list.scrollIntoView({ block: "nearest" });
        list.focus({ preventScroll: true });
      }
    });
  }

  var queue = document.querySelector("[data-review-queue]");
  if (queue) reviewQueue(queue);
})();
