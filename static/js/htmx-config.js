// htmx under the strict Content-Security-Policy: no style element of its own, no eval
// (no hx-on, no js: values), no script run from a fragment. Loaded after htmx, deferred:
// htmx reads its configuration when the document is parsed.
(function () {
  "use strict";
  if (!window.htmx) return;
  window.htmx.config.includeIndicatorStyles = false;
  window.htmx.config.allowEval = false;
  window.htmx.config.allowScriptTags = false;
  window.htmx.config.selfRequestsOnly = true;
})();
