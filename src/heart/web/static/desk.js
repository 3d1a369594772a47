/* The board's note, message and out-of-service boxes keep what is typed while the board redraws (hx-preserve);
   once the server has taken it, the box is emptied here. */
(function () {
  "use strict";
  document.addEventListener("htmx:afterRequest", function (evt) {
    var form = evt.detail && evt.detail.elt;
    if (!form || form.tagName !== "FORM" || !evt.detail.successful) { return; }
    if (form.matches(".note-form, .message-form, .oos-form")) { form.reset(); }
  });
})();
