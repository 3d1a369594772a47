/* The call-taker's screen: picking a suggested incident type fills the "Incident type" field, and the
   recommendation follows as for any change. Without JavaScript the same field is there to pick from. */
(function () {
  "use strict";
  document.addEventListener("click", function (evt) {
    var button = evt.target && evt.target.closest ? evt.target.closest("[data-pick-type]") : null;
    var select = document.getElementById("incident_type");
    if (!button || !select) { return; }
    evt.preventDefault();
    select.value = button.getAttribute("data-pick-type");
    select.dispatchEvent(new Event("change", {bubbles: true}));
    select.focus();
  });
})();
