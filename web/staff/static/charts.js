/* Reports' and dashboard's charts (uPlot) and the dashboard's map of open reports (Leaflet).
   Data comes from data-attributes written by the server; nothing inline (the CSP forbids it).
   Every chart has the same numbers in a table beside it: the chart is for the eye only. */
(function () {
  "use strict";

  var COUNT_STEPS = [1, 2, 5, 10, 20, 50, 100, 200, 500, 1e3, 2e3, 5e3, 1e4, 2e4, 5e4, 1e5, 2e5, 5e5, 1e6];
  var COLOURS = ["#1d70b8", "#d4351c", "#00703c", "#6f72af", "#f47738", "#28a197", "#912b88", "#505a5f"];

  function short(label, max) {
    return label.length > max ? label.slice(0, max - 1) + "…" : label;
  }

  function numberFormat(unit) {
    var lang = document.documentElement.lang || "pl";
    var digits = unit === "" ? 0 : 1;
    var nf = new Intl.NumberFormat(lang, { maximumFractionDigits: digits });
    return function (v) { return v == null ? "—" : nf.format(v) + (unit === "%" ? " %" : unit === "h" ? " h" : ""); };
  }

  // Parts of a whole (a second dimension's counts) are stacked; several measures stand side by side.
  function buildSeries(spec, raw, fmt, xs) {
    var stacked = spec.type === "bar" && spec.stacked && raw.length > 1;
    var data = raw;
    if (stacked) {
      var sums = spec.x.map(function () { return 0; });
      data = raw.map(function (values) {
        return values.map(function (v, i) { sums[i] += v || 0; return sums[i]; });
      });
    }
    var series = [{ label: spec.xLabel, value: function (u, v) { return v == null ? "—" : spec.x[v]; } }];
    // stacked: the tallest (the whole) first, each part drawn over it
    var order = data.map(function (_, i) { return stacked ? data.length - 1 - i : i; });
    var width = 0.8 / data.length;
    order.forEach(function (i) {
      var colour = COLOURS[i % COLOURS.length];
      var s = { label: spec.series[i].label, stroke: colour, width: 2,
                value: function (u, v, si, idx) { return idx == null ? "—" : fmt(raw[i][idx]); } };
      if (spec.type === "bar") {
        s.fill = colour;
        s.points = { show: false };
        if (stacked || raw.length === 1) {
          s.paths = uPlot.paths.bars({ size: [0.7, 60] });
        } else {  // grouped: series i takes its slice of the 0.8 wide group
          s.paths = uPlot.paths.bars({ disp: {
            x0: { unit: 1, values: function () { return xs.map(function (x) { return x - 0.4 + i * width; }); } },
            size: { unit: 1, values: function () { return [width]; } } } });
        }
      } else {
        s.points = { show: spec.x.length <= 40 };
      }
      series.push(s);
    });
    return { series: series, data: order.map(function (i) { return data[i]; }) };
  }

  function drawChart(el) {
    if (el.dataset.drawn || typeof uPlot === "undefined") { return; }
    el.dataset.drawn = "1";
    var spec = JSON.parse(el.dataset.chart);
    var fmt = numberFormat(spec.unit);
    var raw = spec.series.map(function (s) { return s.values; });
    var xs = spec.x.map(function (_, i) { return i; });
    var built = buildSeries(spec, raw, fmt, xs);
    var width = Math.max(280, el.clientWidth || 600);
    var opts = {
      width: width,
      height: width < 500 ? 220 : 280,
      series: built.series,
      scales: { x: { time: false, range: function () { return [-0.6, xs.length - 0.4]; } },
                y: { range: function (u, min, max) { return [0, max > 0 ? max * 1.1 : 1]; } } },
      axes: [
        { splits: function () { return xs; }, rotate: spec.x.length > 3 ? -35 : 0, size: spec.x.length > 3 ? 90 : 40,
          values: function (u, splits) {
            var every = Math.ceil(splits.length / Math.max(1, Math.floor(width / 70)));
            return splits.map(function (i, n) { return n % every === 0 && spec.x[i] != null ? short(spec.x[i], 18) : ""; });
          } },
        { values: function (u, splits) { return splits.map(fmt); }, size: 60,
          incrs: spec.unit === "" ? COUNT_STEPS : undefined }  // counts: whole-number ticks only
      ],
      legend: { show: true },
      cursor: { drag: { x: false, y: false } }
    };
    var plot = new uPlot(opts, [xs].concat(built.data), el);
    if (typeof ResizeObserver !== "undefined") {  // follows the page's width (a phone turned, a window resized)
      new ResizeObserver(function () {
        var w = Math.max(280, el.clientWidth);
        if (Math.abs(w - plot.width) > 2) { width = w; plot.setSize({ width: w, height: w < 500 ? 220 : 280 }); }
      }).observe(el);
    }
  }

  function pluralForm(el, n) {
    var rule = new Intl.PluralRules(document.documentElement.lang || "pl").select(n);
    var text = rule === "one" ? el.dataset.one : rule === "few" ? el.dataset.few : el.dataset.many;
    return (text || String(n)).replace("{n}", String(n));
  }

  function drawMap(el) {
    if (el.dataset.drawn || typeof L === "undefined") { return; }
    el.dataset.drawn = "1";
    var map = L.map(el, { scrollWheelZoom: false }).setView([parseFloat(el.dataset.lat), parseFloat(el.dataset.lon)],
                                                             parseInt(el.dataset.zoom, 10) || 13);
    if (el.dataset.tiles) {
      var credit = (el.dataset.attribution || "").replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");
      L.tileLayer(el.dataset.tiles, { attribution: credit, maxZoom: 19 }).addTo(map);
    } else {
      el.classList.add("map--no-tiles");  // works without tiles: the clusters on a plain background
    }
    var markers = JSON.parse(el.dataset.markers || "[]");
    var biggest = markers.reduce(function (m, c) { return Math.max(m, c[2]); }, 1);
    var bounds = [];
    var clusters = L.layerGroup().addTo(map);
    var heat = L.layerGroup();  // each square shaded by its count: where the open reports pile up
    markers.forEach(function (c) {
      var name = pluralForm(el, c[2]);
      var icon = L.divIcon({ className: "cluster", html: "<span>" + c[2] + "</span>",
                             iconSize: [1, 1].map(function () { return 24 + Math.round(24 * Math.sqrt(c[2] / biggest)); }) });
      var marker = L.marker([c[0], c[1]], { icon: icon, title: name, keyboard: true }).addTo(clusters);
      marker.getElement().setAttribute("aria-label", name);
      if (c.length >= 7) {
        L.rectangle([[c[3], c[4]], [c[5], c[6]]], { stroke: false, fillColor: "#d4351c",
          fillOpacity: 0.15 + 0.7 * Math.sqrt(c[2] / biggest), interactive: false }).addTo(heat);
      }
      bounds.push([c[0], c[1]]);
    });
    var layers = {};
    layers[el.dataset.clustersLabel || "clusters"] = clusters;
    layers[el.dataset.heatLabel || "heatmap"] = heat;
    L.control.layers(null, layers, { collapsed: false }).addTo(map);
    if (bounds.length > 1) { map.fitBounds(bounds, { padding: [20, 20], maxZoom: 15 }); }
  }

  function start() {
    document.querySelectorAll("[data-chart]").forEach(drawChart);
    document.querySelectorAll("details.tile__data").forEach(function (d) {
      d.addEventListener("toggle", function () { d.querySelectorAll("[data-chart]").forEach(drawChart); });
    });
    var map = document.getElementById("open-map");
    if (map) { drawMap(map); }
  }

  if (document.readyState === "loading") { document.addEventListener("DOMContentLoaded", start); } else { start(); }
}());
