/* The portal's behaviour that every page shares (CSP: no inline scripts, no eval).
 * - marks <html> with js-enabled; registers the service worker (/sw.js: offline page, drafts, push), again
 *   when the network returns if it could not be registered without it;
 * - shows the offline banner while the browser has no network;
 * - focuses an error summary on load (after a refused form) and disables a form's button while it is sent. */
(function () {
  "use strict";
  document.documentElement.classList.add("js-enabled");

  if ("serviceWorker" in navigator && window.isSecureContext) {
    var retryWhenOnline = function () {
      // the site works without the worker meanwhile; registering again starts a fresh install
      window.addEventListener("online", register, { once: true });
    };
    var register = function () {
      navigator.serviceWorker.register("/sw.js", { scope: "/" }).then(function (registration) {
        // register() resolves before the install: an install that fails (the network went away while the
        // shell was being cached) leaves no worker at all, so try again when the network returns
        var worker = registration.installing;
        if (worker) {
          worker.addEventListener("statechange", function () {
            if (worker.state === "redundant" && !registration.active && !registration.waiting) retryWhenOnline();
          });
        } else if (!registration.active && !registration.waiting) {
          retryWhenOnline();
        }
      }).catch(retryWhenOnline);  // no network when the page finished loading
    };
    window.addEventListener("load", register);
  }

  function showOnline() {
    var banner = document.getElementById("offline-banner");
    if (banner) banner.hidden = navigator.onLine;
  }
  window.addEventListener("online", showOnline);
  window.addEventListener("offline", showOnline);

  function start(root) {
    var summary = root.querySelector(".error-summary");
    if (summary) summary.focus();
    root.querySelectorAll("form[data-busy-text]").forEach(function (form) {
      form.addEventListener("submit", function () {
        var button = form.querySelector("button[type=submit]");
        if (button && !form.dataset.offline) {
          button.classList.add("button--busy");
          button.setAttribute("aria-disabled", "true");
          button.textContent = form.dataset.busyText;
        }
      });
    });
  }
  document.addEventListener("DOMContentLoaded", function () {
    showOnline();
    start(document);
  });
  if (window.htmx) window.htmx.onLoad(function (el) { if (el !== document.body) start(el); });
})();
