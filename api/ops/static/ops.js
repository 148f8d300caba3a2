// The ops console's live pages: one server-sent event stream (/ops/live) per tab; each
// "changed" event makes every htmx element listening for "ops:changed from:body"
// re-fetch its part of the page. The browser reconnects by itself when a stream ends.
(function () {
  "use strict";
  var version = document.body.getAttribute("data-live-version");
  if (!version || !window.EventSource) {
    return;
  }
  var source = new EventSource("/ops/live?since=" + encodeURIComponent(version));
  source.addEventListener("changed", function () {
    document.body.dispatchEvent(new CustomEvent("ops:changed"));
  });
  window.addEventListener("pagehide", function () {
    source.close();
  });
})();
