/* The responder's phone: redraw the panel only when someone else changed the unit's call (a new
   assignment, a cancellation) - never under the crew's fingers while they type. Timers tick. */
(function () {
  "use strict";
  document.addEventListener("htmx:sseMessage", function (evt) {
    if (!evt.target || evt.target.id !== "unit-state") { return; }
    var panel = document.getElementById("panel");
    if (panel && panel.dataset.state !== evt.detail.data) {
      htmx.ajax("GET", "/responder/panel", {target: "#panel", swap: "outerHTML"});
    }
  });
  // The stream's last word when this sign-in ended (signed out elsewhere, expired, revoked): leave the page, so
  // that nothing it showed stays on screen, and sign in again.
  document.addEventListener("htmx:sseClose", function (evt) {
    if (evt.detail && evt.detail.type === "message") {
      window.location.replace("/login?next=" + encodeURIComponent(window.location.pathname));
    }
  });
  function tick() {
    var now = Date.now();
    document.querySelectorAll("[data-since]").forEach(function (el) {
      var since = Date.parse(el.getAttribute("data-since"));
      if (isNaN(since)) { return; }
      var minutes = Math.max(0, Math.floor((now - since) / 60000));
      el.textContent = minutes + " min";
      var limit = parseFloat(el.getAttribute("data-limit"));
      if (!isNaN(limit)) { el.classList.toggle("overdue", minutes >= limit); }
    });
  }
  window.setInterval(tick, 15000);
})();
