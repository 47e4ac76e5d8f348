// Every page: move the focus to the error summary when a form came back with problems.
(function () {
  "use strict";
  var summary = document.querySelector("[data-focus]");
  if (summary) { summary.focus(); }
})();
