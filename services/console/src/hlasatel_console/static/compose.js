// The compose page, enhanced: SMS and length counters as you type, the preview and the map following the
// form (debounced), polygons and circles drawn on the map into the form's own fields.
(function () {
  "use strict";
  var form = document.getElementById("compose") || document.querySelector("form[data-words]");
  if (!form) { return; }
  var words = JSON.parse(form.dataset.words || "{}");
  function say(key, values) {
    var text = words[key] || key;
    Object.keys(values || {}).forEach(function (name) { text = text.split("{" + name + "}").join(values[name]); });
    return text;
  }
  var numbers = new Intl.NumberFormat(document.documentElement.lang || "cs");

  // --- counters
  var transliterate = document.getElementById("sms_transliterate");
  function smsRecipients() {
    var figure = document.querySelector('[data-figure="deliveries-sms"]');
    var n = figure ? parseInt(figure.textContent.replace(/\D/g, ""), 10) : NaN;
    return isNaN(n) ? null : n;
  }
  function countSms(area) {
    var out = document.getElementById(area.id + "-counter");
    if (!out || !window.HlasatelSms) { return; }
    var text = area.value.replace(/\r\n/g, "\n");
    if (transliterate && transliterate.checked) { text = window.HlasatelSms.transliterate(text); }
    var m = window.HlasatelSms.measure(text);
    var parts = [say("characters", { n: numbers.format(m.characters) }), m.encoding,
                 say("segments", { n: numbers.format(m.segments), per: numbers.format(m.per_segment) })];
    // the composer adds an unsubscribe line to every SMS: the preview says how long the text is then
    var sent = document.querySelector('[data-sms-sent="' + area.dataset.smsCounter + '"]');
    var segments = m.segments;
    if (sent && m.segments) {
      segments = parseInt(sent.dataset.segments, 10) || m.segments;
      parts.push(say("as_sent", { n: numbers.format(segments) }));
    }
    var recipients = smsRecipients();
    if (recipients !== null && segments) {
      parts.push(say("times_recipients", { n: numbers.format(recipients), total: numbers.format(recipients * segments) }));
    }
    out.hidden = false;
    out.textContent = parts.join(" · ");
    if (m.non_gsm.length) {
      var why = document.createElement("span");
      why.textContent = " · " + say("forces_ucs2") + " ";
      var chars = document.createElement("span");
      chars.className = "chars";
      chars.textContent = m.non_gsm.join(" ");
      out.appendChild(why);
      out.appendChild(chars);
    }
  }
  function countLimit(field) {
    var id = field.id + "-counter", out = document.getElementById(id);
    if (!out) {
      out = document.createElement("div");
      out.id = id; out.className = "counter";
      field.insertAdjacentElement("afterend", out);
    }
    var limit = parseInt(field.dataset.limit, 10), used = Array.from(field.value).length;
    out.textContent = say("of_limit", { n: numbers.format(used), limit: numbers.format(limit) });
    out.classList.toggle("counter--over", used > limit);
  }
  // a screen reader hears the counter of the field being typed, and the preview's sentence, once typing
  // has paused for a second (GOV.UK's character count does the same)
  var announce = document.getElementById("announce"), announceTimer = null;
  function announceLater(said) {
    if (!announce) { return; }
    window.clearTimeout(announceTimer);
    announceTimer = window.setTimeout(function () { announce.textContent = said(); }, 1000);
  }
  form.addEventListener("input", function (event) {
    var out = event.target.id && document.getElementById(event.target.id + "-counter");
    if (out) { announceLater(function () { return out.textContent; }); }
  });
  // typing is using the console: a long e-mail text must not end the session (30 minutes without use)
  var lastPing = Date.now();
  form.addEventListener("input", function () {
    if (Date.now() - lastPing < 5 * 60 * 1000) { return; }
    lastPing = Date.now();
    fetch("/api/alive", { credentials: "same-origin", redirect: "manual" }).catch(function () { lastPing = 0; });
  });
  function recount() {
    form.querySelectorAll("[data-sms-counter]").forEach(countSms);
    form.querySelectorAll("[data-limit]").forEach(function (f) { if (f.value) { countLimit(f); } });
  }
  form.addEventListener("input", function (event) {
    var t = event.target;
    if (t.dataset && t.dataset.smsCounter !== undefined) { countSms(t); }
    if (t.dataset && t.dataset.limit) { countLimit(t); }
  });
  if (transliterate) { transliterate.addEventListener("change", recount); }
  recount();

  // --- Enter in a one-line field does what its section's button does, never a surprise submit
  form.addEventListener("keydown", function (event) {
    var t = event.target;
    if (event.key !== "Enter" || t.tagName !== "INPUT" || t.type === "checkbox" || t.type === "radio") { return; }
    event.preventDefault();
    if (t.id === "address_query") { document.getElementById("find-address").click(); }
  });

  if (!form.dataset.previewUrl) { return; }

  // --- live preview and map
  var preview = document.getElementById("preview");
  var mapElement = document.getElementById("map");
  var drawn = mapElement && window.HlasatelMap ? window.HlasatelMap.create(mapElement) : null;
  var listing = document.getElementById("map-list");
  var timer = null, asked = 0;
  function body() { var data = new FormData(form); data.delete("action"); return data; }
  var button = document.getElementById("update-preview");
  // a preview that could not be made says so, rather than showing the counts of an earlier target
  function failed(mine) {
    if (mine !== asked) { return; }
    preview.textContent = "";
    var said = document.createElement("p");
    said.className = "warning-text";
    said.textContent = say("preview_failed");
    preview.appendChild(said);
    if (button) { button.hidden = false; }
    recount();
  }
  function update() {
    var mine = ++asked;
    fetch(form.dataset.previewUrl, { method: "POST", body: body(), credentials: "same-origin" })
      .then(function (r) { return r.ok ? r.json() : null; })
      .then(function (data) {
        if (mine !== asked) { return; }
        if (!data) { failed(mine); return; }
        preview.innerHTML = data.html;
        if (button) { button.hidden = true; }
        var sentence = document.getElementById("preview-summary");
        if (sentence) { announceLater(function () { return sentence.textContent; }); }
        recount();
        if (data.target && drawn) { updateMap(mine); }
        else if (drawn) { drawn.show({ outlines: { type: "FeatureCollection", features: [] }, points: [] }); listing.textContent = ""; }
      })
      .catch(function () { failed(mine); });
  }
  function updateMap(mine) {
    fetch(form.dataset.mapUrl, { method: "POST", body: body(), credentials: "same-origin" })
      .then(function (r) { return r.ok ? r.json() : null; })
      .then(function (data) {
        if (!data || mine !== asked) { return; }
        drawn.show(data);
        listStreets(data);
      });
  }
  function listStreets(data) {
    listing.textContent = "";
    var heading = document.createElement("h3");
    heading.textContent = say("targeted_list", { n: numbers.format(data.targeted) });
    listing.appendChild(heading);
    var list = document.createElement("ul");
    list.className = "plain-list";
    data.streets.forEach(function (s) {
      var item = document.createElement("li");
      item.textContent = (s.street || "–") + ": " + s.numbers.join(", ");
      list.appendChild(item);
    });
    listing.appendChild(list);
  }
  function soon() { window.clearTimeout(timer); timer = window.setTimeout(update, 500); }
  form.addEventListener("input", function (event) {
    if (event.target.name && !/^(cs|en|de|pl|uk)\.(email|push)/.test(event.target.name)) { soon(); }
  });
  form.addEventListener("change", soon);
  if (button) { button.hidden = true; }
  update();

  // --- drawing polygons and circles into the form's fields
  if (!drawn) { return; }
  var tools = document.querySelector(".map-tools");
  tools.hidden = false;
  var hint = document.getElementById("draw-hint");
  var mode = null, corners = [], sketch = null, centre = null;
  function append(fieldId, line) {
    var field = document.getElementById(fieldId);
    field.value = (field.value.trim() ? field.value.trim() + "\n" : "") + line;
    field.dispatchEvent(new Event("input", { bubbles: true }));
  }
  function fixed(n) { return n.toFixed(6); }
  function stop() { mode = null; corners = []; centre = null; if (sketch) { drawn.drawn.removeLayer(sketch); sketch = null; } hint.textContent = ""; }
  tools.addEventListener("click", function (event) {
    var what = event.target.dataset && event.target.dataset.draw;
    if (!what) { return; }
    stop();
    if (what === "clear") {
      ["polygons", "circles"].forEach(function (id) { var f = document.getElementById(id); f.value = ""; });
      drawn.drawn.clearLayers();
      soon();
      return;
    }
    mode = what;
    hint.textContent = say(what === "polygon" ? "draw_polygon" : "draw_circle");
  });
  drawn.map.on("click", function (event) {
    var at = event.latlng;
    if (mode === "polygon") {
      if (corners.length >= 3 && drawn.map.distance(at, corners[0]) < 15 * Math.pow(2, 18 - drawn.map.getZoom())) {
        window.L.polygon(corners, { color: "#d4351c" }).addTo(drawn.drawn);
        append("polygons", corners.map(function (c) { return fixed(c.lat) + " " + fixed(c.lng); }).join("; "));
        stop();
        return;
      }
      corners.push(at);
      if (sketch) { drawn.drawn.removeLayer(sketch); }
      sketch = window.L.polyline(corners, { color: "#d4351c", dashArray: "4" }).addTo(drawn.drawn);
    } else if (mode === "circle") {
      if (!centre) { centre = at; hint.textContent = say("draw_circle_edge"); return; }
      var radius = Math.round(drawn.map.distance(centre, at));
      window.L.circle(centre, { radius: radius, color: "#d4351c" }).addTo(drawn.drawn);
      append("circles", fixed(centre.lat) + " " + fixed(centre.lng) + " " + radius);
      stop();
    }
  });
})();
