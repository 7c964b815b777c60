/* The invitation page: the code comes in the link's #-part (`/uitnodiging#<code>`), which
 * the browser never sends to the server, so it appears in no access log. This script copies
 * it into the form's code field, hides that field (nothing to type) and removes the #-part
 * from the address bar and history. Without this script the field stays visible and the
 * person pastes the code. The code then travels only in the POST body. A code taken from
 * the link is sent at once, so the page says whether the invitation still works before it
 * asks for a password. */
(function () {
  "use strict";

  var CODE = /^[A-Za-z0-9_-]{20,200}$/;

  function start() {
    var box = document.querySelector("[data-invitation-code]");
    var input = box ? box.querySelector("input") : null;
    if (!input) { return; }
    var fragment = window.location.hash.replace(/^#/, "");
    if (CODE.test(fragment)) {
      input.value = fragment;
      window.history.replaceState(null, "", window.location.pathname + window.location.search);
      var form = box.closest("form[data-invitation-check]");
      if (form) { box.hidden = true; form.submit(); return; }
    }
    // Keep the field in view when the server pointed out a problem with it.
    if (input.value && !box.querySelector(".error")) { box.hidden = true; }
  }

  if (document.readyState === "loading") { document.addEventListener("DOMContentLoaded", start); }
  else { start(); }
})();
