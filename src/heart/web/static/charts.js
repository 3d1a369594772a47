/* Charts of the dashboard and the capacity planner: Plotly (served from the installed package) draws each
   specification of the page's JSON data block (<script type="application/json" id="chart-specs">) into
   #chart-<name>. Plotly builds its SVG from the numbers and labels; no markup is made from data here. */
(function () {
  "use strict";
  function draw() {
    var specs = document.getElementById("chart-specs");
    if (!specs || !window.Plotly) { return; }
    var charts = JSON.parse(specs.textContent);
    Object.keys(charts).forEach(function (name) {
      var target = document.getElementById("chart-" + name);
      if (target) {
        window.Plotly.newPlot(target, charts[name].data, charts[name].layout, {displaylogo: false, responsive: true});
      }
    });
  }
  window.addEventListener("DOMContentLoaded", draw);
})();
