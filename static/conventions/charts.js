// Charts of agreements, drawn from data-* attributes (no inline script: strict CSP).
// Each canvas has a table beside it that says the same for screen readers and print.
(function () {
  "use strict";
  if (typeof Chart === "undefined") return;
  Chart.defaults.font.family = "system-ui, sans-serif";
  Chart.defaults.animation = false;

  var COLOURS = ["#0b4f8a", "#2e8540", "#b58100"];

  function euros(value) {
    return new Intl.NumberFormat("fr-FR", { style: "currency", currency: "EUR" }).format(value);
  }

  // Committed, paid and remaining side by side for each lot, call or year.
  function money(canvas, data) {
    new Chart(canvas, {
      type: "bar",
      data: {
        labels: data.labels,
        datasets: data.series.map(function (serie, index) {
          return { label: serie.label, data: serie.values, backgroundColor: COLOURS[index % 3] };
        })
      },
      options: {
        scales: { y: { beginAtZero: true, ticks: { callback: euros } } },
        plugins: { tooltip: { callbacks: { label: function (item) {
          return item.dataset.label + " : " + euros(item.parsed.y);
        } } } }
      }
    });
  }

  // An indicator's cumulated value quarter by quarter, against its annual target.
  function indicator(canvas, data) {
    new Chart(canvas, {
      type: "line",
      data: {
        labels: data.labels,
        datasets: [
          { label: data.valueLabel, data: data.values, borderColor: COLOURS[0],
            backgroundColor: COLOURS[0], spanGaps: true },
          { label: data.targetLabel, data: data.labels.map(function () { return data.target; }),
            borderColor: COLOURS[2], borderDash: [6, 4], pointRadius: 0 }
        ]
      },
      options: { scales: { y: { beginAtZero: true } } }
    });
  }

  function draw(canvas) {
    var data = JSON.parse(canvas.getAttribute("data-chart"));
    var kind = canvas.getAttribute("data-kind");
    if (kind === "money") money(canvas, data);
    else if (kind === "indicator") indicator(canvas, data);
  }

  document.addEventListener("DOMContentLoaded", function () {
    document.querySelectorAll("canvas[data-chart]").forEach(draw);
  });
})();
