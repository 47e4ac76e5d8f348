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
  function refresh() {
    fetch(live.dataset.liveReport, { credentials: "same-origin" })
      .then(function (r) { return r.ok ? r.json() : null; })
      .then(function (data) {
        if (!data) { return; }
        var body = live.querySelector("#report-body");
        if (body) { body.outerHTML = data.html; }
        if (data.live) { window.setTimeout(refresh, 2000); }
      });
  }
  window.setTimeout(refresh, 2000);
})();
