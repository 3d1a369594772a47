/* Cues for what just arrived: a new call waiting, a new alert, a message from a unit (the board), a new assignment
   or a note from dispatch (the responder's phone). Any element drawn with data-cue-key that was not on the page
   before is new: it flashes, the cue line says so in words (as text), and a short tone plays unless muted; on a
   phone that allows it, it vibrates too. The mute is remembered in this browser (localStorage "heart.cue.muted").
   No data becomes markup here: the cue line gets textContent only. */
(function () {
  "use strict";
  var KEY = "heart.cue.muted";
  var seen = null;  // keys on the page so far; null until the first look (what the page opened with is not new)
  var audio = null;

  function muted() {
    try { return window.localStorage.getItem(KEY) === "1"; } catch (e) { return false; }
  }

  function setMuted(value) {
    try { window.localStorage.setItem(KEY, value ? "1" : "0"); } catch (e) { /* private mode: this page only */ }
    showMute();
  }

  function showMute() {
    var button = document.getElementById("cue-mute");
    if (!button) { return; }
    var off = muted();
    button.setAttribute("aria-pressed", off ? "true" : "false");
    button.textContent = off ? "Sound off" : "Sound on";
  }

  // Browsers start audio only after a person has touched the page: make (or wake) the context on the first touch.
  function wakeAudio() {
    var Context = window.AudioContext || window.webkitAudioContext;
    if (!Context) { return null; }
    if (!audio) { audio = new Context(); }
    if (audio.state === "suspended" && audio.resume) { audio.resume(); }
    return audio;
  }

  function tone() {
    var context = wakeAudio();
    if (!context) { return "no audio"; }
    var start = context.currentTime;
    [880, 660].forEach(function (frequency, i) {
      var oscillator = context.createOscillator(), gain = context.createGain();
      oscillator.type = "sine";
      oscillator.frequency.value = frequency;
      gain.gain.setValueAtTime(0.0001, start + i * 0.18);
      gain.gain.exponentialRampToValueAtTime(0.3, start + i * 0.18 + 0.02);
      gain.gain.exponentialRampToValueAtTime(0.0001, start + i * 0.18 + 0.16);
      oscillator.connect(gain).connect(context.destination);
      oscillator.start(start + i * 0.18);
      oscillator.stop(start + i * 0.18 + 0.17);
    });
    return context.state === "running" ? "played" : "waiting for a touch";
  }

  function cue(fresh) {
    var line = document.getElementById("cue");
    var vibrate = false;
    fresh.forEach(function (el) {
      el.classList.remove("cue-flash");
      void el.offsetWidth;  // restart the animation
      el.classList.add("cue-flash");
      if (el.getAttribute("data-cue-vibrate") === "true") { vibrate = true; }
    });
    var words = fresh.map(function (el) { return el.getAttribute("data-cue-text") || "Something new"; });
    var sound = muted() ? "muted" : tone();
    if (vibrate || document.body.classList.contains("phone-cues")) {
      if (!muted() && navigator.vibrate) { navigator.vibrate([200, 100, 200]); }
    }
    if (line) {
      line.textContent = words.join(" · ");
      line.setAttribute("data-sound", sound);
      line.setAttribute("data-count", String(parseInt(line.getAttribute("data-count") || "0", 10) + 1));
      line.hidden = false;
    }
  }

  function look() {
    var now = {}, fresh = [];
    document.querySelectorAll("[data-cue-key]").forEach(function (el) {
      var key = el.getAttribute("data-cue-key");
      now[key] = true;
      if (seen !== null && !seen[key]) { fresh.push(el); }
    });
    if (seen !== null) {
      Object.keys(seen).forEach(function (key) { now[key] = true; });  // gone and back is not new again
    }
    seen = now;
    if (fresh.length) { cue(fresh); }
  }

  document.addEventListener("htmx:afterSettle", look);
  document.addEventListener("htmx:sseMessage", look);
  document.addEventListener("click", function (evt) {
    if (evt.target && evt.target.id === "cue-mute") { setMuted(!muted()); }
    if (!muted()) { wakeAudio(); }
  });
  document.addEventListener("DOMContentLoaded", function () { showMute(); look(); });
})();
