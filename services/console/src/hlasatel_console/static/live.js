// The dashboard: the deliveries of the messages going out, counted again every few seconds.
(function () {
  "use strict";
  var section = document.querySelector("[data-live-progress]");
  if (!section || !section.querySelector("[data-progress]")) { return; }
  function refresh() {
    fetch(section.dataset.liveProgress, { credentials: "same-origin" })
      .then(function (r) { return r.ok ? r.json() : null; })
      .then(function (data) {
        if (!data) { window.setTimeout(refresh, 10000); return; }
        Object.keys(data.progress).forEach(function (id) {
          var cell = section.querySelector('[data-progress="' + id + '"]');
          if (cell) { cell.textContent = data.progress[id]; }
        });
        window.setTimeout(refresh, 3000);
      })
      .catch(function () { window.setTimeout(refresh, 10000); });
  }
  window.setTimeout(refresh, 3000);
})();
