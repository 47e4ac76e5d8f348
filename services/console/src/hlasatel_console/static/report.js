// A message's page: its households on the map, and its report refreshed while it goes out.
(function () {
  "use strict";
  var mapElement = document.querySelector("[data-message-map]");
  if (mapElement && window.HlasatelMap) {
    var drawn = window.HlasatelMap.create(mapElement);
    fetch(mapElement.dataset.messageMap, { credentials: "same-origin" })
      .then(function (r) { return r.ok ? r.json() : null; })
      .then(function (data) { if (data && drawn) { drawn.show(data); } });
  }
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
        if (body && changed) { body.outerHTML = data.html; }
        if (data.live) { later(changed); }
      })
      .catch(function () { later(false); });
  }
  window.setTimeout(refresh, wait);
})();
