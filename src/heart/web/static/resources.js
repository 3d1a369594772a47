// Resource directory: fill the search's latitude and longitude from the device's position, on request.
// No markup is built here; the only text set is a fixed message.
(function () {
  "use strict";
  var button = document.getElementById("use-my-location");
  var message = document.getElementById("location-message");
  if (!button || !navigator.geolocation) {
    return;
  }
  button.hidden = false;
  button.addEventListener("click", function () {
    message.textContent = "Finding your position…";
    navigator.geolocation.getCurrentPosition(function (position) {
      document.getElementById("lat").value = position.coords.latitude.toFixed(5);
      document.getElementById("lon").value = position.coords.longitude.toFixed(5);
      message.textContent = "Position filled in.";
    }, function () {
      message.textContent = "Your position is not available; type a latitude and longitude.";
    }, { timeout: 10000, maximumAge: 60000 });
  });
})();
