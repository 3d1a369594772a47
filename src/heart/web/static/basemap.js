/* The map's base layers, for every map of HEART: tiles fetched through HEART (/map/tiles/{z}/{x}/{y}, which
   answers 204 when the tile source cannot be reached, so the browser logs no network error), and the city's
   outline and beats (GeoJSON from its configuration). When tiles cannot load, the map says so once, in the page.
   Data reaches the page only as text (textContent, tooltips given an element); no markup is built here. */
(function () {
  "use strict";

  function textOnly(text) {
    var span = document.createElement("span");
    span.textContent = text || "";
    return span;
  }

  function say(note, text) {
    if (!note || note.getAttribute("data-said")) { return; }
    note.textContent = text;
    note.hidden = false;
    note.setAttribute("data-said", "yes");
  }

  function layer(map, url, style, label, fit) {
    return fetch(url, {credentials: "same-origin"}).then(function (answer) {
      return answer.ok ? answer.json() : null;
    }).then(function (doc) {
      if (!doc || !doc.features || !doc.features.length) { return null; }
      var drawn = L.geoJSON(doc, {
        style: function () { return style; },
        interactive: !!label,
        onEachFeature: function (feature, shape) {
          if (label && feature.properties && feature.properties[label]) {
            shape.bindTooltip(textOnly("Beat " + feature.properties[label]), {sticky: true});
          }
        }
      }).addTo(map);
      drawn.bringToBack();
      if (fit) { map.fitBounds(drawn.getBounds(), {padding: [8, 8]}); }
      return drawn;
    }).catch(function () { return null; });
  }

  /* Add tiles (``tiles`` empty: none), the outline and the beats to ``map``; ``note`` is where the map speaks.
     ``fit``: zoom to the city's outline once it is drawn (a map with nothing else to show yet). */
  function add(map, tiles, note, fit) {
    var container = map.getContainer();
    if (tiles) {
      var failed = false;
      var tileLayer = L.tileLayer(tiles, {maxZoom: 19, attribution: "&copy; OpenStreetMap contributors"});
      tileLayer.on("tileerror", function () {
        if (failed) { return; }
        failed = true;
        container.classList.add("no-tiles");
        say(note, "Map tiles could not be loaded (no connection to the tile source): the city's outline, " +
            "beats and markers still show.");
      });
      tileLayer.addTo(map);
    } else {
      container.classList.add("no-tiles");
      say(note, "No map tiles are configured: the map shows the city's outline, beats and markers.");
    }
    layer(map, "/map/layers/beats", {color: "#1f5fbf", weight: 1, opacity: 0.6, fillOpacity: 0.03}, "beat", false);
    return layer(map, "/map/layers/outline", {color: "#444", weight: 2, fill: false}, null, fit);
  }

  window.HeartBasemap = {add: add, textOnly: textOnly};
})();
