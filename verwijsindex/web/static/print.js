/* The "Afdrukken" button of printable pages. Without this script the button stays hidden
 * and the page says to print with Ctrl+P instead; with it, the hint goes and the button
 * opens the browser's print dialogue. The print layout itself is CSS (@media print). */
(function () {
  "use strict";

  function start() {
    var buttons = document.querySelectorAll("[data-print]");
    for (var i = 0; i < buttons.length; i++) {
      buttons[i].hidden = false;
      buttons[i].addEventListener("click", function () { window.print(); });
    }
    var hints = document.querySelectorAll("[data-print-hint]");
    for (var j = 0; j < hints.length; j++) { hints[j].hidden = true; }
  }

  if (document.readyState === "loading") { document.addEventListener("DOMContentLoaded", start); }
  else { start(); }
})();
