// Keeps the board current without a reload: asks for its live part every second and swaps it in
// when it changed (the server answers 304 otherwise). No framework, no build step.
(function () {
  "use strict";
  var live = document.getElementById("board-live");
  if (!live) { return; }
  var etag = null;
  function refresh() {
    var headers = etag ? { "If-None-Match": etag } : {};
    fetch(live.dataset.src, { headers: headers, credentials: "same-origin", cache: "no-store" })
      .then(function (response) {
        if (response.redirected || response.status === 401) { window.location.reload(); return null; }
        if (response.status !== 200) { return null; }
        etag = response.headers.get("ETag");
        return response.text();
      })
      .then(function (html) { if (html !== null && html !== undefined) { live.innerHTML = html; } })
      .catch(function () { /* the server restarts: try again on the next tick */ })
      .finally(function () { window.setTimeout(refresh, 1000); });
  }
  window.setTimeout(refresh, 1000);
}());
