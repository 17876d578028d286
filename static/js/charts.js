// Charts of the evaluation, drawn from data-* attributes (no inline script: strict CSP).
// Each canvas has a table beside it that says the same for screen readers and print.
(function () {
  "use strict";
  if (typeof Chart === "undefined") return;
  Chart.defaults.font.family = "system-ui, sans-serif";
  Chart.defaults.animation = false;

  // A radar's point labels are the criteria's titles, often 70 characters long. Wider
  // than the canvas (about 360 px in the dossier page's column between 992 and 1399 px),
  // they left Chart.js's radial scale no room: its centre came out infinite and nothing
  // was drawn. They are wrapped into short lines, at most three; the table beside the
  // chart gives each title in full.
  var LINE = 16, LINES = 3;

  function wrap(label) {
    var lines = [], line = "";
    String(label).split(/\s+/).forEach(function (word) {
      if (line && (line + " " + word).length > LINE) { lines.push(line); line = word; }
      else { line = line ? line + " " + word : word; }
    });
    if (line) lines.push(line);
    if (lines.length > LINES) {
      lines = lines.slice(0, LINES);
      lines[LINES - 1] = lines[LINES - 1].replace(/[\s,.;:]*$/, "") + "…";
    }
    return lines;
  }

  function radar(canvas, data) {
    var chart = new Chart(canvas, {
      type: "radar",
      data: {
        labels: data.labels.map(wrap),
        datasets: [{ label: canvas.getAttribute("aria-label"), data: data.values,
                     backgroundColor: "rgba(11, 79, 138, 0.2)", borderColor: "#0b4f8a" }]
      },
      options: {
        maintainAspectRatio: true,
        aspectRatio: 1,
        // The radial scale places its side labels a few pixels too far out.
        layout: { padding: { left: 14, right: 14 } },
        scales: { r: { min: 0, max: data.max, ticks: { stepSize: 25 },
                       pointLabels: { font: { size: 11 } } } },
        plugins: {
          legend: { display: false },
          tooltip: { callbacks: { title: function (items) {
            return items.length ? data.labels[items[0].dataIndex] : "";
          } } }
        }
      }
    });
    // Still too narrow (a phone, a long word): number the criteria, as the table does.
    if (!isFinite(chart.scales.r.xCenter) || chart.scales.r.drawingArea < 40) {
      chart.data.labels = data.labels.map(function (_label, index) { return "C" + (index + 1); });
      chart.update();
    }
  }

  function draw(canvas) {
    var data = JSON.parse(canvas.getAttribute("data-chart"));
    var kind = canvas.getAttribute("data-kind");
    if (kind === "radar") {
      radar(canvas, data);
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
