// Charts of the evaluation, drawn from data-* attributes (no inline script: strict CSP).
// Each canvas has a table beside it that says the same for screen readers and print.
(function () {
  "use strict";
  if (typeof Chart === "undefined") return;
  Chart.defaults.font.family = "system-ui, sans-serif";
  Chart.defaults.animation = false;

  function draw(canvas) {
    var data = JSON.parse(canvas.getAttribute("data-chart"));
    var kind = canvas.getAttribute("data-kind");
    if (kind === "radar") {
      new Chart(canvas, {
        type: "radar",
        data: {
          labels: data.labels,
          datasets: [{ label: canvas.getAttribute("aria-label"), data: data.values,
                       backgroundColor: "rgba(11, 79, 138, 0.2)", borderColor: "#0b4f8a" }]
        },
        options: { scales: { r: { min: 0, max: data.max, ticks: { stepSize: 25 } } },
                   plugins: { legend: { display: false } } }
      });
    } else if (kind === "bars") {
      new Chart(canvas, {
        type: "bar",
        data: { labels: data.labels,
                datasets: [{ label: canvas.getAttribute("aria-label"), data: data.values,
                             backgroundColor: "#0b4f8a" }] },
        options: { scales: { y: { beginAtZero: true, ticks: { precision: 0 } } },
                   plugins: { legend: { display: false } } }
      });
    }
  }

  document.addEventListener("DOMContentLoaded", function () {
    document.querySelectorAll("canvas[data-chart]").forEach(draw);
  });
})();
