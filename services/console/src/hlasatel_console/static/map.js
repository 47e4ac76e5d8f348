// The console's map: the districts' outlines and the register's address points drawn with Leaflet, on a
// plain background unless a tile server is configured; no request leaves the console's own origin.
(function (global) {
  "use strict";
  var COLOURS = {
    targeted: "#0b3d91", other: "#b8bec5", reached: "#0b3d91",
    subscribed_not_reached: "#d4351c", not_subscribed: "#f9c74f"
  };

  function create(element) {
    if (!global.L) { return null; }
    element.hidden = false;
    var legend = element.parentElement.querySelector(".map-legend");
    if (legend) { legend.hidden = false; }
    var map = global.L.map(element, { preferCanvas: true, zoomSnap: 0.5, attributionControl: true });
    if (element.dataset.tiles) {
      global.L.tileLayer(element.dataset.tiles, { attribution: element.dataset.attribution || "" }).addTo(map);
    }
    // no link out of the console: the attribution names its sources in plain text
    map.attributionControl.setPrefix("Leaflet");
    map.attributionControl.addAttribution("RÚIAN © ČÚZK");
    map.setView([50.767, 15.056], 12);
    var outlines = global.L.geoJSON(null, {
      style: { color: "#062a66", weight: 1.5, fill: false }
    }).addTo(map);
    var points = global.L.layerGroup().addTo(map);
    var drawn = global.L.layerGroup().addTo(map);
    var fitted = false;

    // keepView: redrawn with fresher data (a live report), the reader's zoom and position stay
    function show(data, keepView) {
      outlines.clearLayers();
      points.clearLayers();
      outlines.addData(data.outlines);
      var bounds = [];
      data.points.forEach(function (p) {
        var state = p[3] === true ? "targeted" : (p[3] === false ? "other" : p[3]);
        var marker = global.L.circleMarker([p[1], p[0]], {
          radius: state === "other" ? 2.5 : 4.5, color: "#1b1b1b", weight: state === "other" ? 0 : 1,
          fillColor: COLOURS[state] || "#0b3d91", fillOpacity: 0.9
        });
        if (p[2]) { marker.bindTooltip(p[2]); }
        marker.addTo(points);
        if (state !== "other") { bounds.push([p[1], p[0]]); }
      });
      if (keepView && fitted) { return; }
      if (bounds.length) { map.fitBounds(bounds, { maxZoom: 17, padding: [30, 30] }); fitted = true; }
      else if (!fitted && outlines.getLayers().length) { map.fitBounds(outlines.getBounds()); fitted = true; }
    }
    return { map: map, show: show, drawn: drawn };
  }

  global.HlasatelMap = { create: create };
})(window);
