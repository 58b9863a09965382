/* The public map (/mapa): the reports listed beside it as named pins (alt: category and number; Enter opens
 * the link). Tiles only when the city names a tile server; else a plain background with the city's bounds.
 * Pins of categories marked `blurred` arrive rounded from the server; hidden ones never arrive. */
(function () {
  "use strict";
  document.addEventListener("DOMContentLoaded", function () {
    var el = document.getElementById("reports-map");
    if (!el || !window.L) return;
    el.hidden = false;
    var bounds = JSON.parse(el.dataset.bounds);
    var map = L.map(el, { scrollWheelZoom: false, maxBounds: L.latLngBounds(bounds).pad(0.2) })
      .setView(JSON.parse(el.dataset.center), parseInt(el.dataset.zoom, 10));
    if (el.dataset.tiles) {
      var credit = document.createElement("span");
      credit.textContent = el.dataset.attribution;
      L.tileLayer(el.dataset.tiles, { attribution: credit.innerHTML, maxZoom: 19 }).addTo(map);
    } else {
      el.classList.add("map--no-tiles");
      L.rectangle(bounds, { className: "map-bounds", fill: false, weight: 2, interactive: false }).addTo(map);
    }
    var base = "/static/vendor/leaflet@1.9.4/images/";
    var icon = L.icon({ iconUrl: base + "marker-icon.png", iconRetinaUrl: base + "marker-icon-2x.png",
      shadowUrl: base + "marker-shadow.png", iconSize: [25, 41], iconAnchor: [12, 41], popupAnchor: [1, -34],
      shadowSize: [41, 41] });
    var points = JSON.parse(el.dataset.points || "[]");
    var shown = [];
    points.forEach(function (p) {
      var name = p.c + ", " + p.n;
      var marker = L.marker([p.lat, p.lon], { icon: icon, alt: name, title: name, keyboard: true }).addTo(map);
      var link = document.createElement("a");
      link.href = "/zgloszenia/" + encodeURIComponent(p.n);
      link.textContent = name;
      marker.bindPopup(link);
      marker.on("keypress", function (event) {
        if (event.originalEvent.key === "Enter") window.location.assign(link.href);
      });
      shown.push([p.lat, p.lon]);
    });
    if (shown.length > 1) map.fitBounds(shown, { padding: [30, 30], maxZoom: 16 });
    else if (shown.length === 1) map.setView(shown[0], 16);
  });
})();
