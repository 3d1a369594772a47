/* The capacity planner's run page: the progress bar while a run goes, then the finished page, whose charts
   charts.js draws. Text only through textContent; no markup is built from data. */
(function () {
  "use strict";

  function poll(card) {
    var url = card.getAttribute("data-status-url");
    var bar = document.getElementById("run-progress");
    var done = document.getElementById("run-done");
    var total = document.getElementById("run-total");
    function ask() {
      fetch(url, {headers: {"Accept": "application/json"}, credentials: "same-origin", cache: "no-store"})
        .then(function (response) { return response.ok ? response.json() : null; })
        .then(function (state) {
          if (!state) { window.setTimeout(ask, 2000); return; }
          if (state.total) { bar.max = state.total; total.textContent = String(state.total); }
          bar.value = state.done || 0;
          bar.textContent = String(state.done || 0);
          done.textContent = String(state.done || 0);
          if (state.state === "finished" || state.state === "failed") { window.location.reload(); return; }
          window.setTimeout(ask, 500);
        })
        .catch(function () { window.setTimeout(ask, 2000); });
    }
    ask();
  }

  window.addEventListener("DOMContentLoaded", function () {
    var card = document.getElementById("run-progress-card");
    if (card) { poll(card); }
  });
})();
