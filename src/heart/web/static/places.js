/* The call-taker's place: matches of the typed address, the pin (click the map or drag the pin), the beat, and
   what is known at the pin (loaded by htmx on the "place-set" event). A sure match places the pin by itself; the
   call-taker can pick another match or drag the pin. Enter in the address field picks the first match (it never
   submits the call). Text only: values are set with .value and .textContent, never as markup. */
(function () {
  "use strict";
  var map = null, pin = null, pickOnArrival = false;

  function byId(id) { return document.getElementById(id); }

  function picked(text) {
    var line = byId("place-picked");
    if (line) { line.textContent = text; }
  }

  function record(lat, lon) {
    byId("place-lat").value = lat.toFixed(6);
    byId("place-lon").value = lon.toFixed(6);
    document.body.dispatchEvent(new CustomEvent("place-set"));
  }

  function placePin(lat, lon) {
    if (!map) { return; }
    if (!pin) {
      pin = L.marker([lat, lon], {draggable: true, keyboard: true, title: "The call's place: drag to move",
                                  alt: "The call's pin"}).addTo(map);
      pin.on("dragend", function () {
        var at = pin.getLatLng();
        picked("Pin moved by hand to " + at.lat.toFixed(5) + ", " + at.lng.toFixed(5) + ".");
        record(at.lat, at.lng);
      });
    } else {
      pin.setLatLng([lat, lon]);
    }
    map.setView([lat, lon], Math.max(map.getZoom(), 16));
    record(lat, lon);
  }

  function pick(button, byHand) {
    var lat = parseFloat(button.getAttribute("data-place-lat"));
    var lon = parseFloat(button.getAttribute("data-place-lon"));
    if (isNaN(lat) || isNaN(lon)) { return; }
    var address = button.getAttribute("data-place-address") || "";
    var beat = byId("beat");
    if (beat) { beat.value = button.getAttribute("data-place-beat") || ""; }
    if (byHand) { byId("address").value = address; }
    picked("Matched: " + address + " (" + button.getAttribute("data-place-confidence") + "% sure)" +
           (byHand ? "." : " — if it is not the place, pick another match or drag the pin."));
    placePin(lat, lon);
  }

  function start() {
    var el = byId("place-map");
    if (!el || !window.L || map) { return; }
    var holder = byId("place");
    map = L.map(el, {zoomControl: true}).setView([20, 0], 2);
    var lat = parseFloat(byId("place-lat").value), lon = parseFloat(byId("place-lon").value);
    var known = !isNaN(lat) && !isNaN(lon);
    if (window.HeartBasemap) {
      window.HeartBasemap.add(map, holder.getAttribute("data-tiles"), byId("place-map-note"), !known);
    }
    if (known) { placePin(lat, lon); }
    map.on("click", function (evt) {
      picked("Pin placed on the map at " + evt.latlng.lat.toFixed(5) + ", " + evt.latlng.lng.toFixed(5) + ".");
      placePin(evt.latlng.lat, evt.latlng.lng);
    });
  }

  document.addEventListener("click", function (evt) {
    var button = evt.target && evt.target.closest ? evt.target.closest("[data-place-lat]") : null;
    if (!button) { return; }
    evt.preventDefault();
    pick(button, true);
  });

  document.addEventListener("keydown", function (evt) {
    if (evt.key !== "Enter" || !evt.target || evt.target.id !== "address") { return; }
    evt.preventDefault();  // Enter in the address field never submits the call
    var first = document.querySelector("#place-matches [data-place-lat]");
    if (first && !pickOnArrival && first.closest("#place-matches").getAttribute("data-for") === evt.target.value) {
      pick(first, true);
    } else {  // the matches of what is typed now are not here yet: ask, and pick the first when they come
      pickOnArrival = true;
      evt.target.dispatchEvent(new CustomEvent("place-search"));
    }
  });

  document.addEventListener("htmx:afterSwap", function (evt) {
    var target = evt.detail && evt.detail.target;
    if (!target) { return; }
    if (target.id === "place-matches") {
      var list = target.querySelector("[data-auto]");
      var first = target.querySelector("[data-place-lat]");
      target.setAttribute("data-for", byId("address").value);
      if (first && pickOnArrival) { pick(first, true); }
      else if (list && first && list.getAttribute("data-auto") === "yes") { pick(first, false); }
      pickOnArrival = false;
    } else if (target.id === "place-context") {
      var found = target.querySelector("#place-beat");
      var beat = byId("beat");
      if (found && beat && found.getAttribute("data-beat")) { beat.value = found.getAttribute("data-beat"); }
    }
  });

  document.addEventListener("DOMContentLoaded", start);
})();
