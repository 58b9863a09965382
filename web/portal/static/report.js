/* The report pages' behaviour (CSP: no inline code): the category search, the map pin (Leaflet; tiles only when
 * the city names a tile server, else a plain background with the city's bounds), the device's location, nearby
 * open reports ("Is this yours?"), the city's address search (an ARIA combobox over /api/v1/addresses: choosing
 * an address puts the pin there) and the nearest address under a pin (/api/v1/addresses/nearest, also typed into
 * an empty address field), photos shrunk on this device (longest side 2048 px, JPEG quality 0.6) and the send
 * that keeps a draft on the device when there is no network (drafts.js). Without JavaScript the form works as
 * plain HTML: an address instead of the pin, photos as they are. */
(function () {
  "use strict";
  var MAX_SIDE = 2048, QUALITY = 0.6;

  function plain(text) {
    return (text || "").toLowerCase().replace(/ł/g, "l").normalize("NFKD").replace(/[\u0300-\u036f]/g, "");
  }

  /* -- the category search: filters the radios as one types -- */
  function categorySearch() {
    var input = document.querySelector("input[data-filter]");
    if (!input) return;
    var form = document.querySelector(input.dataset.filter);
    var count = document.getElementById("category-count");
    var timer = null;
    input.addEventListener("input", function () {
      var wanted = plain(input.value.trim()), shown = 0;
      form.querySelectorAll("[data-group]").forEach(function (group) {
        var inGroup = 0;
        group.querySelectorAll("[data-search]").forEach(function (label) {
          var match = !wanted || plain(label.dataset.search).indexOf(wanted) !== -1;
          label.hidden = !match;
          if (match) inGroup += 1;
        });
        group.hidden = inGroup === 0;
        shown += inGroup;
      });
      clearTimeout(timer);
      timer = setTimeout(function () { count.textContent = count.dataset.template.replace("NUM", shown); }, 600);
    });
    form.addEventListener("change", function (event) {
      if (event.target.name === "category") form.submit();
    });
  }

  /* -- the map -- */
  var map = null, mapEl = null, pin = null, nearbyLayer = null;

  function pinIcon() {
    var base = "/static/vendor/leaflet@1.9.4/images/";
    return L.icon({ iconUrl: base + "marker-icon.png", iconRetinaUrl: base + "marker-icon-2x.png",
      shadowUrl: base + "marker-shadow.png", iconSize: [25, 41], iconAnchor: [12, 41], shadowSize: [41, 41] });
  }

  function inside(bounds, latlng) {
    return latlng.lat >= bounds[0][0] && latlng.lat <= bounds[1][0] && latlng.lng >= bounds[0][1] && latlng.lng <= bounds[1][1];
  }

  function setPin(el, latlng, quiet, known) {
    var status = document.getElementById("pin-status");
    var bounds = JSON.parse(el.dataset.bounds);
    if (!inside(bounds, latlng)) {
      status.textContent = el.dataset.outside;
      return;
    }
    var lat = latlng.lat.toFixed(6), lon = latlng.lng.toFixed(6);
    document.getElementById("lat").value = lat;
    document.getElementById("lon").value = lon;
    if (pin) {
      pin.setLatLng(latlng);
    } else {
      pin = L.marker(latlng, { icon: pinIcon(), alt: el.dataset.pinLabel, title: el.dataset.pinLabel,
        draggable: true, keyboard: true }).addTo(map);
      pin.on("dragend", function () { setPin(el, pin.getLatLng()); });
    }
    status.textContent = status.dataset.set.replace("LAT", lat.replace(".", ",")).replace("LON", lon.replace(".", ","));
    if (!quiet) loadNearby(lat, lon);
    if (known) { nearestAsked += 1; showNearest(known); }
    else nearestAddress(lat, lon);
  }

  /* -- the nearest address under the pin; typed into the address field while the resident has typed none -- */
  var nearestAsked = 0;

  function showNearest(hit) {
    var label = document.getElementById("nearest-address"), input = document.getElementById("address");
    if (!label || !input) return;
    if (!hit) {
      label.textContent = label.dataset.none;
      label.hidden = false;
      return;
    }
    var place = hit.street ? hit.street + " " + hit.number : hit.place + " " + hit.number;
    label.textContent = label.dataset.template.replace("ADDRESS", place)
      .replace("METRES", String(Math.round(hit.distance_m || 0)));
    label.hidden = false;
    if (!input.value.trim() || input.dataset.auto === "1") {
      input.value = hit.label;
      input.dataset.auto = "1";
    }
  }

  function nearestAddress(lat, lon) {
    var input = document.getElementById("address");
    if (!input || !input.dataset.nearest || !navigator.onLine) return;
    var asked = ++nearestAsked;
    fetch(input.dataset.nearest + "?lat=" + encodeURIComponent(lat) + "&lon=" + encodeURIComponent(lon),
      { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then(function (response) { return response.ok ? response.json() : null; })
      .then(function (body) { if (body && asked === nearestAsked) showNearest(body.address); })
      .catch(function () { /* offline or too many lookups: no label */ });
  }

  /* -- the address search: an ARIA 1.2 combobox (list autocomplete) over the city's address points -- */
  function addressSearch() {
    var input = document.getElementById("address"), list = document.getElementById("address-options");
    var status = document.getElementById("address-status");
    if (!input || !list || !input.dataset.search || !window.fetch) return;
    var hits = [], active = -1, timer = null, asked = 0;
    var found = input.dataset.found.split("|");
    input.setAttribute("role", "combobox");
    input.setAttribute("aria-autocomplete", "list");
    input.setAttribute("aria-expanded", "false");
    input.setAttribute("aria-controls", list.id);
    input.setAttribute("autocomplete", "off");
    list.setAttribute("aria-label", input.dataset.optionsLabel);

    function close() {
      list.hidden = true;
      input.setAttribute("aria-expanded", "false");
      input.removeAttribute("aria-activedescendant");
      active = -1;
    }
    function mark(index) {
      active = index;
      Array.prototype.forEach.call(list.children, function (item, i) {
        item.setAttribute("aria-selected", i === index ? "true" : "false");
      });
      if (index < 0) { input.removeAttribute("aria-activedescendant"); return; }
      input.setAttribute("aria-activedescendant", list.children[index].id);
      if (list.children[index].scrollIntoView) list.children[index].scrollIntoView({ block: "nearest" });
    }
    function choose(index) {
      var hit = hits[index];
      if (!hit) return;
      input.value = hit.label;
      delete input.dataset.auto;
      close();
      status.textContent = "";
      if (map && mapEl) {
        var here = L.latLng(hit.lat, hit.lon);
        map.setView(here, 17);
        setPin(mapEl, here, false, hit);
      } else {
        document.getElementById("lat").value = hit.lat.toFixed(6);
        document.getElementById("lon").value = hit.lon.toFixed(6);
      }
    }
    function show(items) {
      hits = items;
      list.textContent = "";
      items.forEach(function (hit, i) {
        var item = document.createElement("li");
        item.id = "address-option-" + i;
        item.setAttribute("role", "option");
        item.setAttribute("aria-selected", "false");
        item.textContent = hit.label;
        item.addEventListener("mousedown", function (event) { event.preventDefault(); });  // keep the focus
        item.addEventListener("click", function () { choose(i); });
        list.appendChild(item);
      });
      active = -1;
      list.hidden = items.length === 0;
      input.setAttribute("aria-expanded", items.length ? "true" : "false");
      input.removeAttribute("aria-activedescendant");
      clearTimeout(status.timer);
      status.timer = setTimeout(function () {  // after the typing settles, once
        status.textContent = items.length ? found[Math.min(items.length, found.length) - 1] : input.dataset.nothing;
      }, 500);
    }
    input.addEventListener("input", function () {
      delete input.dataset.auto;  // typed by the resident: the nearest address no longer replaces it
      clearTimeout(timer);
      var q = input.value.trim();
      if (q.length < 2 || !navigator.onLine) { hits = []; close(); return; }
      timer = setTimeout(function () {
        var mine = ++asked;
        fetch(input.dataset.search + "?limit=" + found.length + "&q=" + encodeURIComponent(q),
          { credentials: "same-origin", headers: { Accept: "application/json" } })
          .then(function (response) { return response.ok ? response.json() : null; })
          .then(function (body) { if (body && mine === asked) show(body.items || []); })
          .catch(function () { /* offline or too many lookups: the field stays a plain text field */ });
      }, 250);
    });
    input.addEventListener("keydown", function (event) {
      var open = !list.hidden && hits.length > 0;
      if (event.key === "ArrowDown" || event.key === "ArrowUp") {
        if (!hits.length) return;
        event.preventDefault();
        if (!open) { list.hidden = false; input.setAttribute("aria-expanded", "true"); }
        var step = event.key === "ArrowDown" ? 1 : -1;
        mark(active < 0 ? (step > 0 ? 0 : hits.length - 1) : (active + step + hits.length) % hits.length);
      } else if (event.key === "Enter" && open && active >= 0) {
        event.preventDefault();  // choosing, not sending the form
        choose(active);
      } else if (event.key === "Escape" && open) {
        event.preventDefault();
        close();
      }
    });
    input.addEventListener("blur", close);
  }

  function loadNearby(lat, lon) {
    var box = document.getElementById("nearby");
    if (!box || !navigator.onLine) return;
    fetch(box.dataset.url + "&lat=" + encodeURIComponent(lat) + "&lon=" + encodeURIComponent(lon),
      { headers: { "X-Fragment": "1" }, credentials: "same-origin" })
      .then(function (response) { return response.ok ? response.text() : ""; })
      .then(function (html) {
        box.innerHTML = html;  // the server's template, autoescaped
        if (nearbyLayer) nearbyLayer.clearLayers();
        else nearbyLayer = L.layerGroup().addTo(map);
        box.querySelectorAll("[data-lat]").forEach(function (item) {
          var point = [parseFloat(item.dataset.lat), parseFloat(item.dataset.lon)];
          if (isNaN(point[0]) || isNaN(point[1])) return;
          L.circleMarker(point, { radius: 9, color: "#1b1b1b", weight: 2, fillColor: "#f2a900", fillOpacity: 0.9 })
            .bindTooltip(item.dataset.number).addTo(nearbyLayer);
        });
      })
      .catch(function () { /* offline: nothing to show */ });
  }

  function reportMap() {
    var el = document.getElementById("report-map");
    if (!el || !window.L) return;
    el.hidden = false;
    document.getElementById("map-tools").hidden = false;
    var bounds = JSON.parse(el.dataset.bounds);
    mapEl = el;
    map = L.map(el, { scrollWheelZoom: false, maxBounds: L.latLngBounds(bounds).pad(0.2), keyboard: true })
      .setView(JSON.parse(el.dataset.center), parseInt(el.dataset.zoom, 10));
    if (el.dataset.tiles) {
      var credit = document.createElement("span");
      credit.textContent = el.dataset.attribution;  // Leaflet writes attributions as HTML: the city's text as text
      L.tileLayer(el.dataset.tiles, { attribution: credit.innerHTML, maxZoom: 19 }).addTo(map);
    } else {
      el.classList.add("map--no-tiles");
      L.rectangle(bounds, { className: "map-bounds", fill: false, weight: 2, interactive: false }).addTo(map);
      var note = document.createElement("p");
      note.className = "map-note";
      note.textContent = el.dataset.noTiles;
      el.appendChild(note);
    }
    var cross = document.createElement("div");
    cross.className = "map-crosshair";
    el.appendChild(cross);
    map.on("click", function (event) { setPin(el, event.latlng); });
    el.addEventListener("keydown", function (event) {
      if (event.target === el && (event.key === "Enter" || event.key === " ")) {
        event.preventDefault();
        setPin(el, map.getCenter());
      }
    });
    var lat = parseFloat(document.getElementById("lat").value), lon = parseFloat(document.getElementById("lon").value);
    if (!isNaN(lat) && !isNaN(lon)) {
      setPin(el, L.latLng(lat, lon));
      map.setView([lat, lon], 16);
    }
    var locate = document.getElementById("locate");
    if (!navigator.geolocation) { locate.hidden = true; return; }
    locate.addEventListener("click", function () {
      navigator.geolocation.getCurrentPosition(function (position) {
        var here = L.latLng(position.coords.latitude, position.coords.longitude);
        map.setView(here, 17);
        setPin(el, here);
      }, function () {
        document.getElementById("pin-status").textContent = locate.dataset.denied;
      }, { enableHighAccuracy: true, timeout: 15000, maximumAge: 60000 });
    });
  }

  /* -- photos: previews, count, shrinking -- */
  function shrink(file) {
    if (!/^image\/(jpeg|png|webp)$/.test(file.type) || !window.createImageBitmap) return Promise.resolve(file);
    return createImageBitmap(file).then(function (bitmap) {
      var scale = Math.min(1, MAX_SIDE / Math.max(bitmap.width, bitmap.height));
      if (scale === 1 && file.size <= 1024 * 1024) return file;
      var canvas = document.createElement("canvas");
      canvas.width = Math.round(bitmap.width * scale);
      canvas.height = Math.round(bitmap.height * scale);
      canvas.getContext("2d").drawImage(bitmap, 0, 0, canvas.width, canvas.height);
      return new Promise(function (resolve) {
        canvas.toBlob(function (blob) {
          if (!blob || blob.size >= file.size) { resolve(file); return; }
          resolve(new File([blob], file.name.replace(/\.[^.]*$/, "") + ".jpg", { type: "image/jpeg" }));
        }, "image/jpeg", QUALITY);
      });
    }).catch(function () { return file; });
  }

  function photos(form) {
    var input = form.querySelector("#photos");
    if (!input) return;
    var list = document.getElementById("photo-previews");
    input.addEventListener("change", function () {
      list.querySelectorAll("img").forEach(function (img) { URL.revokeObjectURL(img.src); });
      list.textContent = "";
      var max = parseInt(input.dataset.max, 10);
      input.setCustomValidity("");
      Array.prototype.forEach.call(input.files, function (file) {
        var item = document.createElement("li"), img = document.createElement("img");
        img.src = URL.createObjectURL(file);
        img.alt = file.name;
        item.appendChild(img);
        list.appendChild(item);
      });
      list.hidden = input.files.length === 0;
      var status = document.getElementById("pin-status");
      if (input.files.length > max && status) {
        var note = document.createElement("span");
        note.className = "error-message";
        note.textContent = input.dataset.tooMany;
        list.appendChild(note);
      }
    });
  }

  /* -- sending: shrink, keep a draft, send; without network the draft waits (drafts.js) -- */
  function sending(form) {
    var drafts = window.KomunikatorDrafts;
    if (!drafts || !window.FormData) return;
    form.addEventListener("submit", function (event) {
      if (form.dataset.native === "1") return;
      event.preventDefault();
      var button = form.querySelector("button[type=submit]");
      button.setAttribute("aria-disabled", "true");
      button.classList.add("button--busy");
      var input = form.querySelector("#photos");
      var files = input ? Array.prototype.slice.call(input.files) : [];
      Promise.all(files.map(shrink)).then(function (small) {
        var fields = [];
        new FormData(form).forEach(function (value, name) {
          if (typeof value === "string") fields.push([name, value]);
        });
        var draft = { key: form.querySelector("[name=idempotency_key]").value, fields: fields, savedAt: Date.now(),
          label: form.dataset.categoryLabel, photos: small.map(function (f) { return { name: f.name, blob: f }; }) };
        var native = function () {
          if (input && window.DataTransfer) {
            try {
              var transfer = new DataTransfer();
              small.forEach(function (f) { transfer.items.add(f); });
              input.files = transfer.files;
            } catch (e) { /* the originals go */ }
          }
          form.dataset.native = "1";
          form.submit();
        };
        return drafts.save(draft).then(function () { return drafts.send(draft); }, function () { return { state: "nodb" }; })
          .then(function (result) {
            if (result.state === "sent") { window.location.assign(result.url); return; }
            if (result.state === "offline") {
              var status = document.getElementById("draft-status");
              status.textContent = form.dataset.savedText;
              status.hidden = false;
              status.setAttribute("tabindex", "-1");
              status.focus();
              button.classList.remove("button--busy");
              button.removeAttribute("aria-disabled");
              return;
            }
            // refused (the form has something to fix) or no storage: the server draws the answer
            return drafts.remove(draft.key).catch(function () {}).then(native);
          });
      });
    });
  }

  document.addEventListener("DOMContentLoaded", function () {
    categorySearch();
    var form = document.getElementById("report-form");
    if (!form) return;
    reportMap();
    addressSearch();
    photos(form);
    sending(form);
  });
})();
