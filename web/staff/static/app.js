/* Staff pages' behaviour: everything here, nothing inline (the CSP forbids it). */
(function () {
  "use strict";
  document.documentElement.classList.add("js-enabled");

  function focusSummary(root) {
    var summary = root.querySelector("[data-focus-on-load]");
    if (summary) { summary.focus(); }
  }

  function disableOnSubmit(root) {
    root.querySelectorAll("form[data-disable-on-submit]").forEach(function (form) {
      form.addEventListener("submit", function () {
        form.querySelectorAll("button[type=submit]").forEach(function (b) {
          b.setAttribute("aria-disabled", "true");
          b.classList.add("button--busy");
          window.setTimeout(function () { b.disabled = true; }, 0);
        });
      });
    });
  }

  function startMap(root) {
    var el = root.querySelector("#ticket-map");
    if (!el || el.dataset.started || typeof L === "undefined") { return; }
    el.dataset.started = "1";
    var lat = parseFloat(el.dataset.lat), lon = parseFloat(el.dataset.lon);
    var map = L.map(el, { scrollWheelZoom: false }).setView([lat, lon], 16);
    if (el.dataset.tiles) {
      // Leaflet writes the attribution as HTML: the tenant's text goes in as text
      var credit = (el.dataset.attribution || "").replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");
      L.tileLayer(el.dataset.tiles, { attribution: credit, maxZoom: 19 }).addTo(map);
    } else {
      el.classList.add("map--no-tiles");
    }
    var icon = L.icon({
      iconUrl: el.dataset.marker, iconRetinaUrl: el.dataset.marker2x, shadowUrl: el.dataset.shadow,
      iconSize: [25, 41], iconAnchor: [12, 41], shadowSize: [41, 41]
    });
    var latInput = document.getElementById("edit-lat"), lonInput = document.getElementById("edit-lon");
    var marker = L.marker([lat, lon], {
      icon: icon, alt: el.dataset.pinLabel, title: el.dataset.pinLabel, keyboard: true,
      draggable: Boolean(latInput && lonInput)
    }).addTo(map);
    if (latInput && lonInput) {
      // moving the pin fills the edit form's fields (which can also be typed in)
      marker.on("dragend", function () {
        var at = marker.getLatLng();
        latInput.value = at.lat.toFixed(6);
        lonInput.value = at.lng.toFixed(6);
        var details = latInput.closest("details");
        if (details) { details.open = true; }
      });
    }
  }

  // a task handed to a person: only the people who handle the chosen unit's tasks (else the task's unit's)
  function filterPeople(root) {
    root.querySelectorAll("select[data-person-picker]").forEach(function (picker) {
      var unitSelect = picker.form ? picker.form.querySelector("select[name=to_unit]") : null;
      function apply() {
        var unit = (unitSelect && unitSelect.value) || picker.dataset.taskUnit;
        Array.prototype.forEach.call(picker.options, function (option) {
          if (!option.dataset.units) { return; }
          var fits = !unit || option.dataset.units.split(" ").indexOf(unit) !== -1;
          option.hidden = !fits;
          option.disabled = !fits;
          if (!fits && option.selected) { picker.value = ""; }
        });
      }
      if (unitSelect) { unitSelect.addEventListener("change", apply); }
      apply();
    });
  }

  function start(root) {
    focusSummary(root);
    disableOnSubmit(root);
    filterPeople(root);
    startMap(document);
  }

  if (window.htmx) {
    htmx.onLoad(start);
  } else {
    document.addEventListener("DOMContentLoaded", function () { start(document); });
  }
})();
