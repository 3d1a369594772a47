/* Enter in a one-line field never sends a call's form: on the call-taker's screens (anything inside .triage, or a
   form marked data-enter="no-submit") it moves to the next field instead, so a half-typed call is never saved or
   decided by a reflex. Buttons and text areas keep their own Enter. */
(function () {
  "use strict";
  var TYPED = ["text", "search", "tel", "email", "url", "number", "date", "time", "datetime-local"];
  document.addEventListener("keydown", function (evt) {
    var field = evt.target;
    if (evt.key !== "Enter" || evt.isComposing || !field || field.tagName !== "INPUT") { return; }
    if (TYPED.indexOf((field.getAttribute("type") || "text").toLowerCase()) < 0) { return; }
    if (!field.closest(".triage, form[data-enter='no-submit']")) { return; }
    evt.preventDefault();
    var form = field.form;
    if (!form) { return; }
    var fields = Array.prototype.filter.call(form.elements, function (el) {
      return !el.disabled && el.type !== "hidden" && typeof el.focus === "function";
    });
    var next = fields[fields.indexOf(field) + 1];
    if (next && next.type !== "submit") { next.focus(); }
  });
})();
