/* Kiln's web UI behaviour: metric charts (Plotly), run selection for comparison, the params diff toggle,
   the account menu, copy buttons and the live refresh (monitoring pages, pipeline runs).
   Hand-written, no dependencies besides Plotly (served by Kiln from the installed plotly package). */
(function () {
  "use strict";

  // Distinct, colour-blind friendly hues (Okabe-Ito, darkened for a white background).
  var PALETTE = ["#c2410c", "#0072b2", "#009e73", "#cc79a7", "#d55e00", "#56b4e9", "#7a5195", "#e69f00", "#4d4d4d"];

  function rgba(hex, alpha) {
    var n = parseInt(hex.slice(1), 16);
    return "rgba(" + ((n >> 16) & 255) + "," + ((n >> 8) & 255) + "," + (n & 255) + "," + alpha + ")";
  }

  function tracesFor(chart) {
    var traces = [];
    // Some series stand out (drift: the features that drifted now); the others step back.
    var emphasised = chart.series.some(function (series) { return series.emphasis; });
    chart.series.forEach(function (series, index) {
      var color = PALETTE[index % PALETTE.length];
      // Plotly reads a subset of HTML in names (links, bold): a run's name is text, so escape it.
      var name = escapeHtml(series.name);
      if (chart.type === "bar") {
        traces.push({ x: series.x, y: series.y, type: "bar", name: name, marker: { color: color },
          hovertemplate: "%{y:.3g}<extra>" + name + "</extra>" });
        return;
      }
      if (series.dash) {
        // A threshold: a flat dashed line, no markers.
        traces.push({ x: series.x, y: series.y, type: "scatter", mode: "lines", name: name,
          line: { width: 1.5, color: "#4d4d4d", dash: "dash" }, hovertemplate: "%{y:.3g}<extra>" + name + "</extra>" });
        return;
      }
      var width = emphasised ? (series.emphasis ? 3.5 : 1.25) : null;
      // Marked points (drift: the windows where the feature drifted) are drawn larger.
      var sizes = series.marked ? series.marked.map(function (flag) { return flag ? 11 : 5; }) : 5;
      var few = series.x.length <= 60;
      if (series.lo && series.hi) {
        // The downsampled band: an invisible upper edge, then the lower edge filled up to it.
        traces.push({ x: series.x, y: series.hi, type: "scatter", mode: "lines", line: { width: 0, color: color },
          hoverinfo: "skip", showlegend: false, connectgaps: false });
        traces.push({ x: series.x, y: series.lo, type: "scatter", mode: "lines", line: { width: 0, color: color },
          fill: "tonexty", fillcolor: rgba(color, 0.25), name: name + " (min–max)", hoverinfo: "skip",
          showlegend: false, connectgaps: false });
      }
      traces.push({
        x: series.x, y: series.y, type: "scatter", mode: few ? "lines+markers" : "lines", name: name,
        line: { width: width || (series.x.length > 300 ? 1.25 : 2), color: color }, marker: { size: sizes, color: color },
        opacity: emphasised && !series.emphasis ? 0.6 : 1, connectgaps: false,
        hovertemplate: "%{y:.6g}<extra>" + name + "</extra>"
      });
    });
    return traces;
  }

  function escapeHtml(text) {
    return String(text).replace(/[&<>"']/g, function (c) {
      // Numeric entities for quotes: Plotly's text renderer decodes those but not &quot;.
      return { "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&#34;", "'": "&#39;" }[c];
    });
  }

  function layoutFor(chart) {
    var several = chart.series.length > 1;
    return {
      margin: { l: 56, r: 16, t: 8, b: several ? 72 : 44 },
      font: { family: "system-ui, -apple-system, Segoe UI, Roboto, sans-serif", size: 12, color: "#1d2430" },
      paper_bgcolor: "rgba(0,0,0,0)",
      plot_bgcolor: "#ffffff",
      hovermode: "x unified",
      showlegend: several,
      legend: { orientation: "h", x: 0, y: -0.28, yanchor: "top" },
      barmode: "group",
      xaxis: { title: { text: chart.x_title, standoff: 6 }, gridcolor: "#eef0f3", zeroline: false, automargin: true,
        type: chart.type === "bar" ? "category" : "-" },
      yaxis: { title: { text: chart.y_title || "" }, gridcolor: "#eef0f3", zeroline: false, automargin: true, exponentformat: "e" }
    };
  }

  // The newest payload of each chart by element id: the live refresh replaces it before drawing.
  var latestCharts = {};

  function draw(element, chart) {
    if (element.dataset.drawn) { return; }
    element.dataset.drawn = "1";
    chart = latestCharts[element.id] || chart;
    window.Plotly.newPlot(element, tracesFor(chart), layoutFor(chart), {
      responsive: true, displaylogo: false,
      modeBarButtonsToRemove: ["select2d", "lasso2d", "autoScale2d", "toggleSpikelines"]
    });
  }

  function initCharts() {
    var blob = document.getElementById("kiln-charts");
    if (!blob) { return; }
    var charts = JSON.parse(blob.textContent);
    var pending = [];
    charts.forEach(function (chart) {
      var element = document.getElementById(chart.element);
      if (element) { pending.push([element, chart]); }
    });
    if (!window.Plotly) {
      pending.forEach(function (item) {
        item[0].innerHTML = '<div class="chart__unavailable">The chart library did not load (/static/vendor/plotly.min.js).</div>';
      });
      return;
    }
    if (!("IntersectionObserver" in window)) {
      pending.forEach(function (item) { draw(item[0], item[1]); });
      return;
    }
    // Draw charts as they scroll into view: a run with dozens of metrics opens without a long freeze.
    var byElement = new Map(pending);
    var observer = new IntersectionObserver(function (entries) {
      entries.forEach(function (entry) {
        if (entry.isIntersecting) {
          observer.unobserve(entry.target);
          draw(entry.target, byElement.get(entry.target));
        }
      });
    }, { rootMargin: "300px 0px" });
    pending.forEach(function (item) { observer.observe(item[0]); });
  }

  function redraw(chart) {
    latestCharts[chart.element] = chart;
    var element = document.getElementById(chart.element);
    // A chart not drawn yet (scrolled out of view) picks the new payload up when it is drawn.
    if (!element || !element.dataset.drawn || !window.Plotly) { return; }
    window.Plotly.react(element, tracesFor(chart), layoutFor(chart));
  }

  function initLiveRefresh() {
    var status = document.querySelector("[data-live-url]");
    if (!status || !window.fetch) { return; }
    var url = status.getAttribute("data-live-url");
    var seconds = Math.max(1, parseInt(status.getAttribute("data-live-seconds"), 10) || 5);
    var updated = status.querySelector("[data-live-updated]");

    function stop(message) {
      status.textContent = message;
      status.classList.add("alert", "alert--error");
    }

    function selector(attribute, key) {
      return "[" + attribute + '="' + key.replace(/["\\]/g, "\\$&") + '"]';
    }

    // The markup each fragment last received: the browser's own serialisation of innerHTML differs
    // from the server's, so compare with what was sent, and leave an unchanged part alone.
    var fragments = {};

    function apply(body) {
      Object.keys(body.values || {}).forEach(function (key) {
        document.querySelectorAll(selector("data-live-key", key)).forEach(function (cell) {
          if (cell.textContent !== body.values[key]) { cell.textContent = body.values[key]; }
        });
      });
      // Server-rendered parts (a table's rows, an SVG drawing), escaped by the same templates as the page.
      Object.keys(body.fragments || {}).forEach(function (key) {
        if (fragments[key] === body.fragments[key]) { return; }
        fragments[key] = body.fragments[key];
        document.querySelectorAll(selector("data-live-fragment", key)).forEach(function (part) {
          // A box the reader scrolled (a wide DAG) stays where it was.
          var left = part.scrollLeft, top = part.scrollTop;
          part.innerHTML = body.fragments[key];
          part.scrollLeft = left;
          part.scrollTop = top;
        });
      });
      (body.charts || []).forEach(redraw);
      if (updated) { updated.textContent = "; last updated " + new Date().toLocaleTimeString(); }
    }

    function tick() {
      if (document.hidden) { window.setTimeout(tick, seconds * 1000); return; }
      window.fetch(url, { credentials: "same-origin", headers: { accept: "application/json" } })
        .then(function (response) {
          var type = response.headers.get("content-type") || "";
          // A lapsed session answers with the login page, a removed deployment with a 404 page.
          if (!response.ok || type.indexOf("application/json") !== 0) { throw new Error(String(response.status)); }
          return response.json();
        })
        .then(function (body) {
          apply(body);
          // Nothing on the page will change any more (a run that ended): stop asking.
          if (body.final) { status.textContent = body.final; return; }
          window.setTimeout(tick, seconds * 1000);
        })
        .catch(function (error) {
          // fetch rejects with a TypeError when the server cannot be reached (a restart): try again later.
          if (error instanceof TypeError) {
            if (updated) { updated.textContent = "; the server is not answering, trying again"; }
            window.setTimeout(tick, seconds * 4000);
            return;
          }
          stop("Live updates stopped: reload the page.");
        });
    }
    window.setTimeout(tick, seconds * 1000);
  }

  function initRunSelection() {
    var button = document.querySelector("[data-compare-button]");
    var boxes = Array.prototype.slice.call(document.querySelectorAll("[data-run-checkbox]"));
    var all = document.querySelector("[data-select-all]");
    if (!button) { return; }
    var counter = button.querySelector("[data-selected-count]");

    function update() {
      var selected = boxes.filter(function (box) { return box.checked; });
      boxes.forEach(function (box) {
        var row = box.closest("tr");
        if (row) { row.classList.toggle("is-selected", box.checked); }
      });
      button.disabled = selected.length < 2;
      button.title = selected.length < 2 ? "Select two or more runs to compare" : "";
      if (counter) { counter.textContent = selected.length ? " (" + selected.length + ")" : ""; }
      if (all) {
        all.checked = selected.length > 0 && selected.length === boxes.length;
        all.indeterminate = selected.length > 0 && selected.length < boxes.length;
      }
    }

    boxes.forEach(function (box) { box.addEventListener("change", update); });
    if (all) {
      all.addEventListener("change", function () {
        boxes.forEach(function (box) { box.checked = all.checked; });
        update();
      });
    }
    update();
  }

  function initDiffToggle() {
    var toggle = document.querySelector("[data-only-differing]");
    var table = document.getElementById("params-table");
    if (!toggle || !table) { return; }
    toggle.addEventListener("change", function () { table.classList.toggle("only-differing", toggle.checked); });
  }

  function initAccountMenu() {
    var menu = document.querySelector("[data-account-menu]");
    if (!menu) { return; }
    // A <details> menu opens and closes without script; this closes it on a click elsewhere or Escape.
    document.addEventListener("click", function (event) {
      if (menu.open && !menu.contains(event.target)) { menu.open = false; }
    });
    document.addEventListener("keydown", function (event) {
      if (event.key === "Escape" && menu.open) {
        menu.open = false;
        menu.querySelector("summary").focus();
      }
    });
  }

  function initCopyButtons() {
    document.querySelectorAll("[data-copy-target]").forEach(function (button) {
      var target = document.getElementById(button.getAttribute("data-copy-target"));
      if (!target || !navigator.clipboard) { button.hidden = true; return; }
      button.addEventListener("click", function () {
        navigator.clipboard.writeText(target.textContent.trim()).then(function () {
          button.textContent = "Copied";
        }, function () {
          button.textContent = "Select and copy it";
        });
      });
    });
  }

  function start() {
    initAccountMenu();
    initCopyButtons();
    initRunSelection();
    initDiffToggle();
    initCharts();
    initLiveRefresh();
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
