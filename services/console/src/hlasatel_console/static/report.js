// A message's page: its households on the map, and its report refreshed while it goes out.
(function () {
  "use strict";
  var mapElement = document.querySelector("[data-message-map]");
  var drawn = mapElement && window.HlasatelMap ? window.HlasatelMap.create(mapElement) : null;
  function drawMap() {
    if (!drawn) { return; }
    fetch(mapElement.dataset.messageMap, { credentials: "same-origin" })
      .then(function (r) { return r.ok ? r.json() : null; })
      .then(function (data) { if (data) { drawn.show(data, true); } })
      .catch(function () { /* the map is drawn again with the next change */ });
  }
  drawMap();
  var live = document.querySelector("[data-live-report]");
  if (!live) { return; }
  // every 2 seconds while figures change, slower (up to 30 s) while they do not or the console does not
  // answer; it stops once nothing more can arrive
  var wait = 2000, last = null;
  function later(changed) {
    wait = changed ? 2000 : Math.min(wait * 1.5, 30000);
    window.setTimeout(refresh, wait);
  }
  function refresh() {
    fetch(live.dataset.liveReport, { credentials: "same-origin" })
      .then(function (r) { return r.ok ? r.json() : null; })
      .then(function (data) {
        if (!data) { later(false); return; }
        var changed = data.html !== last;
        last = data.html;
        var body = live.querySelector("#report-body");
        var unreached = document.getElementById("unreached-body");
        if (changed) {
          if (body) { body.outerHTML = data.html; }
          if (unreached) { unreached.outerHTML = data.unreached; }
          drawMap();
        }
        if (data.live) { later(changed); }
      })
      .catch(function () { later(false); });
  }
  window.setTimeout(refresh, wait);
})();
