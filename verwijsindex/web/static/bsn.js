/* Instant help on the signal form. Nothing here is needed: the server checks everything
 * again, and without this script the page shows the same rules as plain text.
 * - Fields with `data-bsn` get the elfproef while typing; the verdict is announced through
 *   an aria-live message below the field. The BSN itself is never sent anywhere.
 * - The birth date (`data-birth-date`: a group of three fields dag, maand, jaar, or one
 *   field) turns the informatieplicht rules into advice for this child's age (12+: inform
 *   the child; under 16: inform the parents).
 */
(function () {
  "use strict";

  var CHILD_FROM = 12, PARENTS_BELOW = 16, MAX_AGE = 23;

  function compact(value) { return value.replace(/[\s.]/g, ""); }

  function elfproef(digits) {
    if (!/^[0-9]{9}$/.test(digits) || /^0+$/.test(digits)) { return false; }
    var sum = 0;
    for (var i = 0; i < 8; i++) { sum += (9 - i) * Number(digits.charAt(i)); }
    sum -= Number(digits.charAt(8));
    return sum % 11 === 0;
  }

  function setupBsn(input) {
    var message = document.createElement("p");
    message.id = input.id + "-check";
    message.className = "bsn-check";
    message.setAttribute("aria-live", "polite");
    input.parentNode.appendChild(message);
    var described = input.getAttribute("aria-describedby");
    input.setAttribute("aria-describedby", (described ? described + " " : "") + message.id);

    function show(text, kind) {
      message.textContent = text;
      message.className = "bsn-check" + (kind ? " " + kind : "");
    }
    function check(final) {
      var value = compact(input.value);
      if (!value) { show("", ""); return; }
      if (/[^0-9]/.test(value)) { show("Een BSN bestaat alleen uit cijfers.", "bad"); return; }
      if (value.length < 9) {
        if (final) { show("Een BSN heeft 9 cijfers; u heeft er " + value.length + " ingevuld.", "bad"); }
        else { show("", ""); }
        return;
      }
      if (value.length > 9) { show("Een BSN heeft 9 cijfers; u heeft er meer ingevuld.", "bad"); return; }
      if (elfproef(value)) { show("Dit BSN voldoet aan de elfproef.", "ok"); }
      else { show("Dit BSN klopt niet (elfproef). Controleer de cijfers.", "bad"); }
    }
    input.addEventListener("input", function () { check(false); });
    input.addEventListener("blur", function () { check(true); });
  }

  function parseDate(value) {
    var m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(value) || null, y, mo, d;
    if (m) { y = +m[1]; mo = +m[2]; d = +m[3]; }
    else {
      m = /^(\d{1,2})-(\d{1,2})-(\d{4})$/.exec(value);
      if (!m) { return null; }
      d = +m[1]; mo = +m[2]; y = +m[3];
    }
    var date = new Date(y, mo - 1, d);
    if (date.getFullYear() !== y || date.getMonth() !== mo - 1 || date.getDate() !== d) { return null; }
    return { y: y, m: mo, d: d };
  }

  // Completed years on `today`; born on 29 February, the birthday is 28 February in a
  // common year (as on the server).
  function ageOn(birth, today) {
    var years = today.y - birth.y;
    var leap = (today.y % 4 === 0 && today.y % 100 !== 0) || today.y % 400 === 0;
    var bm = birth.m, bd = birth.d;
    if (bm === 2 && bd === 29 && !leap) { bd = 28; }
    if (today.m < bm || (today.m === bm && today.d < bd)) { years -= 1; }
    return years;
  }

  function setupGuidance(form) {
    var birth = form.querySelector("[data-birth-date]");
    var box = form.querySelector("[data-guidance]");
    if (!birth || !box) { return; }
    var staticText = box.querySelector("[data-guidance-static]");
    var live = box.querySelector("[data-guidance-live]");
    var childDuty = form.querySelector('[data-duty="child"]');
    var parentsDuty = form.querySelector('[data-duty="parents"]');

    // The three-part date (dag, maand, jaar) read as the "d-m-yyyy" parseDate knows.
    function typed() {
      var parts = birth.querySelectorAll("[data-date-part]");
      if (!parts.length) { return birth.value.trim(); }
      var v = {};
      for (var i = 0; i < parts.length; i++) { v[parts[i].getAttribute("data-date-part")] = parts[i].value.trim(); }
      return v.dag + "-" + v.maand + "-" + v.jaar;
    }

    function update() {
      var born = parseDate(typed());
      var now = new Date();
      var today = { y: now.getFullYear(), m: now.getMonth() + 1, d: now.getDate() };
      childDuty.classList.remove("required");
      parentsDuty.classList.remove("required");
      if (!born) { staticText.hidden = false; live.hidden = true; live.textContent = ""; return; }
      var age = ageOn(born, today);
      var text;
      if (age < 0) {
        text = "Deze geboortedatum ligt in de toekomst.";
      } else if (age >= MAX_AGE) {
        text = "De jeugdige is " + age + " jaar. Een signaal kan alleen op iemand jonger dan 23 jaar.";
      } else {
        var child = age >= CHILD_FROM, parents = age < PARENTS_BELOW;
        childDuty.classList.toggle("required", child);
        parentsDuty.classList.toggle("required", parents);
        var who = child && parents ? "de jeugdige én de ouders" : child ? "de jeugdige" : "de ouders";
        text = "De jeugdige is " + age + " jaar: informeer " + who + ". " +
          (child && !parents ? "De ouders hoeft u niet te informeren. " : "") +
          (!child ? "De jeugdige hoeft u niet te informeren. " : "") +
          "Kan dat (nog) niet? Vul dan hieronder een uitstel in.";
      }
      live.textContent = text;
      live.hidden = false;
      staticText.hidden = true;
    }
    birth.addEventListener("change", update);
    birth.addEventListener("input", update);
    update();
  }

  function start() {
    var inputs = document.querySelectorAll("input[data-bsn]");
    for (var i = 0; i < inputs.length; i++) { setupBsn(inputs[i]); }
    var forms = document.querySelectorAll("form.signal-form");
    for (var j = 0; j < forms.length; j++) { setupGuidance(forms[j]); }
  }

  if (document.readyState === "loading") { document.addEventListener("DOMContentLoaded", start); }
  else { start(); }
})();
