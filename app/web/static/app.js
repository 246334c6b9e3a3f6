// Vouch's one script. Every page works without it; this only makes things quicker.
// No inline script anywhere (the Content-Security-Policy forbids it): behaviour hangs on
// data- attributes of the markup. Sections follow the template folders.
"use strict";

(function () {
  // ---- Keyboard shortcuts: elements with data-shortcut="key" are clicked by that key.
  function typing(target) {
    return target.closest("input, textarea, select, [contenteditable]") !== null;
  }
  document.addEventListener("keydown", function (event) {
    if (event.ctrlKey || event.metaKey || event.altKey || typing(event.target)) return;
    var control = document.querySelector('[data-shortcut="' + CSS.escape(event.key) + '"]');
    if (control) {
      event.preventDefault();
      control.click();
    }
  });
})();
