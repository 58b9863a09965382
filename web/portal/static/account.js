/* The settings page's push offer (web/portal/templates/account/settings.html). CSP: no inline code.
 * - the browser's permission prompt only ever follows the resident's click on the button;
 * - on an iPhone or iPad outside the installed app (Safari tab), Web Push cannot work: the page shows how to
 *   add the app to the home screen instead of the button; inside the installed app the button is offered;
 * - the subscription (endpoint + keys) goes to POST /konto/push with the page's CSRF token. */
(function () {
  "use strict";

  function keyBytes(base64url) {
    var padded = (base64url + "===".slice((base64url.length + 3) % 4)).replace(/-/g, "+").replace(/_/g, "/");
    var raw = atob(padded);
    var bytes = new Uint8Array(raw.length);
    for (var i = 0; i < raw.length; i++) bytes[i] = raw.charCodeAt(i);
    return bytes;
  }

  function installed() {
    return window.navigator.standalone === true ||
      (window.matchMedia && window.matchMedia("(display-mode: standalone)").matches);
  }

  function ios(offer) {
    var touchMac = /Macintosh/.test(navigator.userAgent) && navigator.maxTouchPoints > 1;  // iPadOS asks as a Mac
    return offer.dataset.ios === "yes" || /iPhone|iPad|iPod/.test(navigator.userAgent) || touchMac;
  }

  function csrfToken() {
    var field = document.querySelector("input[name=csrf_token]");
    return field ? field.value : "";
  }

  function show(offer, part) {
    ["button", "ios", "unsupported"].forEach(function (name) {
      var el = offer.querySelector("[data-push-" + name + "]");
      if (el) el.hidden = name !== part;
    });
  }

  function subscribe(offer, status) {
    var label = offer.querySelector("#push-label");
    return Notification.requestPermission().then(function (permission) {
      if (permission !== "granted") throw new Error("refused");
      return navigator.serviceWorker.register("/sw.js", { scope: "/" }).then(function () {
        return navigator.serviceWorker.ready;
      });
    }).then(function (registration) {
      return registration.pushManager.subscribe({ userVisibleOnly: true, applicationServerKey: keyBytes(offer.dataset.key) });
    }).then(function (subscription) {
      return fetch("/konto/push", {
        method: "POST", credentials: "same-origin",
        headers: { "Content-Type": "application/json", "X-CSRF-Token": csrfToken() },
        body: JSON.stringify({ subscription: subscription.toJSON(), label: label ? label.value : "" })
      });
    }).then(function (answer) {
      if (!answer.ok) throw new Error("server " + answer.status);
      status.textContent = offer.dataset.done;
      window.setTimeout(function () { window.location.assign("/konto/ustawienia?zapisano=1#devices"); }, 600);
    }).catch(function (error) {
      status.textContent = error && error.message === "refused" ? offer.dataset.refused : offer.dataset.failed;
    });
  }

  function start() {
    var offer = document.querySelector("[data-push-offer]");
    if (!offer) return;
    var status = offer.querySelector("[data-push-status]");
    if (ios(offer) && !installed()) { show(offer, "ios"); return; }
    if (!("serviceWorker" in navigator) || !("PushManager" in window) || !("Notification" in window) ||
        !window.isSecureContext) { show(offer, "unsupported"); return; }
    if (Notification.permission === "denied") { show(offer, "button"); status.textContent = offer.dataset.refused; }
    else show(offer, "button");
    offer.querySelector("[data-push-subscribe]").addEventListener("click", function () {
      subscribe(offer, status);  // the permission prompt follows this click, never a page load
    });
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
  else start();
})();
