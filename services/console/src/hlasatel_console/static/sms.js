// How long an SMS is on the wire, as hlasatel_contracts.sms measures it (GSM 03.38 default alphabet and
// its extension table; anything else makes the text UCS-2), and the transliteration that makes Czech text
// GSM-7. A browser test checks both against the Python module on the same texts.
(function (global) {
  "use strict";
  var BASIC = "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§" +
    "¿abcdefghijklmnopqrstuvwxyzäöñüà";
  var EXTENDED = "\f^{}\\[~]|€";
  var LOOKALIKES = {};
  function alike(chars, to) { Array.from(chars).forEach(function (c) { LOOKALIKES[c] = to; }); }
  alike("„“”‟«»", "\""); alike("‚‘’‛‹›`´", "'"); alike("‐‑‒–—―−•", "-");
  alike("\u00ad\u200b\u2060\ufeff", ""); alike("\u2028\u2029", "\n");
  LOOKALIKES["\t"] = " "; LOOKALIKES["…"] = "..."; LOOKALIKES["×"] = "x";
  var from = Array.from("łŁđĐðÐħĦŧŦıŀĿſ"), to = Array.from("lLdDdDhHtTilLs");
  from.forEach(function (c, i) { LOOKALIKES[c] = to[i]; });
  LOOKALIKES["þ"] = "th"; LOOKALIKES["Þ"] = "Th"; LOOKALIKES["œ"] = "oe"; LOOKALIKES["Œ"] = "OE";
  LOOKALIKES["ĳ"] = "ij"; LOOKALIKES["Ĳ"] = "IJ";
  // Python's str counts code points: so do these (Array.from splits by code point, not UTF-16 unit)
  function isBasic(c) { return BASIC.indexOf(c) >= 0; }
  function isExtended(c) { return EXTENDED.indexOf(c) >= 0; }
  function isGsm7(text) { return Array.from(text).every(function (c) { return isBasic(c) || isExtended(c); }); }

  function segments(costs, single, part) {
    var total = costs.reduce(function (a, b) { return a + b; }, 0);
    if (total === 0) { return [0, single]; }
    if (total <= single) { return [1, single]; }
    var count = 1, used = 0;
    costs.forEach(function (cost) { if (used + cost > part) { count += 1; used = 0; } used += cost; });
    return [count, part];
  }

  function measure(text) {
    var chars = Array.from(text), nonGsm = [];
    chars.forEach(function (c) { if (!isBasic(c) && !isExtended(c) && nonGsm.indexOf(c) < 0) { nonGsm.push(c); } });
    var gsm = nonGsm.length === 0, costs;
    if (gsm) { costs = chars.map(function (c) { return isExtended(c) ? 2 : 1; }); }
    else { costs = chars.map(function (c) { return c.codePointAt(0) > 0xFFFF ? 2 : 1; }); }
    var counted = gsm ? segments(costs, 160, 153) : segments(costs, 70, 67);
    return { characters: chars.length, encoding: gsm ? "GSM-7" : "UCS-2", segments: counted[0],
             per_segment: counted[1], non_gsm: nonGsm };
  }

  var COMBINING = /\p{Mn}/u, SPACE = /^\p{Zs}$/u;
  function clusters(text) {
    var found = [], current = "";
    Array.from(text).forEach(function (c) {
      if (current && !COMBINING.test(c)) { found.push(current); current = ""; }
      current += c;
    });
    if (current) { found.push(current); }
    return found;
  }
  function withoutMarks(cluster) {
    var decomposed = Array.from(cluster.normalize("NFD"));
    var letters = decomposed.filter(function (c) { return !COMBINING.test(c); }).join("");
    var marks = decomposed.filter(function (c) { return COMBINING.test(c); });
    for (var kept = marks.length - 1; kept >= 0; kept -= 1) {
      var candidate = (letters + marks.slice(0, kept).join("")).normalize("NFC");
      if (isGsm7(candidate)) { return candidate; }
    }
    return null;
  }
  function transliterateCluster(cluster) {
    if (isGsm7(cluster)) { return cluster; }
    if (Object.prototype.hasOwnProperty.call(LOOKALIKES, cluster)) { return LOOKALIKES[cluster]; }
    if (Array.from(cluster).length === 1 && SPACE.test(cluster)) { return " "; }
    var plain = withoutMarks(cluster);
    return plain === null ? cluster : plain;
  }
  function transliterate(text) { return clusters(text.normalize("NFC")).map(transliterateCluster).join(""); }

  global.HlasatelSms = { measure: measure, transliterate: transliterate };
})(window);
