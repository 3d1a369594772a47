/* The dispatch board: ticking ages, the connection light and the map. Fragments arrive by SSE (htmx).
   Data reaches the page only as text (textContent, text nodes); no markup is built here. */
(function () {
  "use strict";

  function clock(seconds) {
    seconds = Math.max(0, Math.floor(seconds));
    var h = Math.floor(seconds / 3600), m = Math.floor((seconds % 3600) / 60), s = seconds % 60;
    var mm = (h && m < 10 ? "0" : "") + m, ss = (s < 10 ? "0" : "") + s;
    return (h ? h + ":" : "") + mm + ":" + ss;
  }

  function tick() {
    var now = Date.now();
    document.querySelectorAll("[data-since]").forEach(function (el) {
      var since = Date.parse(el.getAttribute("data-since"));
      if (isNaN(since)) { return; }
      var seconds = (now - since) / 1000;
      el.textContent = clock(seconds);
      var limit = parseFloat(el.getAttribute("data-limit"));
      if (!isNaN(limit)) { el.classList.toggle("overdue", seconds >= limit * 60); }
    });
  }

  var map = null, layer = null, fitted = false;
  var COLOURS = {waiting: "#b3261e", assigned: "#c26a00", available: "#1b6e3a", dispatched: "#6b3fa0",
                 en_route: "#1f5fbf", on_scene: "#7a1f3d", transporting: "#0b7285"};

  function startMap() {
    var el = document.getElementById("map");
    if (!el || !window.L || map) { return; }
    var board = el.closest("[data-tiles]");
    var center = (board.getAttribute("data-center") || "").split(",").map(parseFloat);
    var known = center.length === 2 && !isNaN(center[0]) && !isNaN(center[1]);
    map = L.map(el, {zoomControl: true, attributionControl: true})
      .setView(known ? center : [20, 0], known ? 12 : 2);  // the program's units' homes, else the world
    // Tiles (through HEART), the city's outline and beats (heart.places, basemap.js): without tiles (offline,
    // blocked) the markers still show over the outline, and the map says so once.
    if (window.HeartBasemap) {
      window.HeartBasemap.add(map, board.getAttribute("data-tiles"), document.getElementById("map-note"), false);
    }
    layer = L.layerGroup().addTo(map);
    drawMarkers();
  }

  // Leaflet reads a string tooltip as HTML: hand it an element holding the label as text, never markup.
  function textOnly(text) {
    var span = document.createElement("span");
    span.textContent = text || "";
    return span;
  }

  function drawMarkers() {
    if (!map) { return; }
    layer.clearLayers();
    var points = [];
    document.querySelectorAll("#mapdata li").forEach(function (li) {
      var lat = parseFloat(li.dataset.lat), lon = parseFloat(li.dataset.lon);
      if (isNaN(lat) || isNaN(lon)) { return; }
      var isUnit = li.dataset.kind === "unit";
      var marker = L.circleMarker([lat, lon], {
        radius: isUnit ? 7 : 9, weight: isUnit ? 2 : 3, color: COLOURS[li.dataset.state] || "#333",
        fillOpacity: isUnit ? 0.9 : 0.35
      }).bindTooltip(textOnly(li.dataset.label));
      marker.addTo(layer);
      points.push([lat, lon]);
    });
    if (!fitted && points.length) {
      map.fitBounds(points, {padding: [24, 24], maxZoom: 14});
      fitted = true;
    }
  }

  function setLive(state, text) {
    var live = document.getElementById("live");
    if (live) { live.dataset.state = state; live.textContent = text; }
  }

  document.addEventListener("htmx:sseOpen", function () { setLive("live", "live"); });
  document.addEventListener("htmx:sseError", function () { setLive("lost", "reconnecting…"); });
  document.addEventListener("htmx:sseMessage", function (evt) {
    if (evt.target && evt.target.id === "mapdata") { drawMarkers(); }
    tick();
  });
  // The stream's last word when this sign-in ended (signed out elsewhere, expired, revoked): leave the page, so
  // that nothing it showed stays on screen, and sign in again.
  document.addEventListener("htmx:sseClose", function (evt) {
    if (evt.detail && evt.detail.type === "message") {
      window.location.replace("/login?next=" + encodeURIComponent(window.location.pathname));
    }
  });
  document.addEventListener("DOMContentLoaded", function () { startMap(); tick(); });
  window.setInterval(tick, 1000);
})();
