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

/* The note, message and out-of-service boxes keep what is typed while their part of the page redraws
   (hx-preserve); once the server has taken it, the box is emptied before the answer is drawn. The boxes are named
   when the request leaves and found again by id: a redraw may have moved them into a new copy of their form. */
(function () {
  "use strict";
  var CLEARED = ".note-form, .message-form, .oos-form";
  document.addEventListener("htmx:beforeRequest", function (evt) {
    var form = evt.detail && evt.detail.elt;
    if (!form || !form.matches || !form.matches(CLEARED)) { return; }
    form.heartTyped = Array.prototype.map.call(form.querySelectorAll("input[type=text], textarea"),
                                               function (field) { return field.id; });
  });
  document.addEventListener("htmx:beforeSwap", function (evt) {
    var detail = evt.detail || {};
    var form = detail.requestConfig && detail.requestConfig.elt;
    if (!form || !form.heartTyped || !detail.xhr || detail.xhr.status >= 300) { return; }
    form.heartTyped.forEach(function (id) {
      var field = id && document.getElementById(id);
      if (field) { field.value = ""; }
    });
  });
})();
