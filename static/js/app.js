// Behaviour of the pages, loaded as a static file: no inline script (strict CSP).
(function () {
  "use strict";

  function plural(n, one, many) {
    return n + " " + (n > 1 ? many : one);
  }

  // "Il reste 12 jours et 3 heures": the server writes the first text, this keeps it fresh.
  function remaining(deadline) {
    var seconds = Math.floor((deadline - Date.now()) / 1000);
    if (seconds <= 0) return "délai écoulé";
    var days = Math.floor(seconds / 86400);
    var hours = Math.floor((seconds % 86400) / 3600);
    var minutes = Math.floor((seconds % 3600) / 60);
    var parts = [];
    if (days) parts.push(plural(days, "jour", "jours"));
    if (hours && days < 7) parts.push(plural(hours, "heure", "heures"));
    if (minutes && !days) parts.push(plural(minutes, "minute", "minutes"));
    return parts.length ? parts.join(" et ") : "moins d'une minute";
  }

  function updateCountdowns() {
    document.querySelectorAll("[data-deadline]").forEach(function (el) {
      var deadline = Date.parse(el.getAttribute("data-deadline"));
      if (!isNaN(deadline)) el.textContent = remaining(deadline);
    });
  }

  // Buttons that ask before acting: <button data-confirm="Publier cet appel ?">
  document.addEventListener("submit", function (event) {
    var button = event.submitter;
    var message = button && button.getAttribute("data-confirm");
    if (message && !window.confirm(message)) event.preventDefault();
  });

  // A form submits once: a second click while the first request runs does nothing.
  document.addEventListener("submit", function (event) {
    var form = event.target;
    if (event.defaultPrevented) return;
    if (form.dataset.submitting === "1") {
      event.preventDefault();
      return;
    }
    form.dataset.submitting = "1";
    window.setTimeout(function () { delete form.dataset.submitting; }, 8000);
  });

  // A box that ticks every box of a list: <input type="checkbox" data-check-all="dossiers">
  document.addEventListener("change", function (event) {
    var name = event.target.getAttribute("data-check-all");
    if (!name) return;
    document.querySelectorAll('input[type="checkbox"][name="' + name + '"]').forEach(function (box) {
      box.checked = event.target.checked;
    });
  });

  // Tabs (Bootstrap's): a link to "#messages" opens the pane that holds it, and the open
  // pane is kept in the address, so that a reload or a redirection after a form comes back
  // to it.
  function openTabHolding(target) {
    var pane = target && target.closest(".tab-pane");
    if (!pane || !window.bootstrap) return;
    var button = document.querySelector('[data-bs-target="#' + pane.id + '"]');
    if (button) window.bootstrap.Tab.getOrCreateInstance(button).show();
  }

  function openTabFromHash() {
    if (!location.hash) return;
    var target = document.getElementById(decodeURIComponent(location.hash.slice(1)));
    openTabHolding(target);
    if (target) target.scrollIntoView();
  }

  window.addEventListener("hashchange", openTabFromHash);
  document.addEventListener("shown.bs.tab", function (event) {
    var pane = document.querySelector(event.target.getAttribute("data-bs-target"));
    if (pane && history.replaceState) history.replaceState(null, "", "#" + pane.id);
  });

  document.addEventListener("DOMContentLoaded", function () {
    openTabFromHash();
    updateCountdowns();
    window.setInterval(updateCountdowns, 30000);
  });
})();
