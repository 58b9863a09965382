/* The portal's service worker (served at /sw.js by web/portal/assets.py, which fills in the shell's URLs,
 * the cache version and the push handler's importScripts).
 * - precaches the shell (CSS, JS, vendored libraries) and the offline page of this city;
 * - pages: network first; without network the offline page (pages themselves are never stored: they may
 *   hold personal data); static files: cache first (their URLs carry a hash or a version);
 * - never touches the staff workspace, the API, photos or map tiles (other origins are not ours to cache);
 * - "sync-drafts" messages and the return of the network make open pages send the drafts kept in IndexedDB
 *   (drafts.js does the sending: a page has the form's CSRF token and the draft's Idempotency-Key). */
/*PUSH*/
var VERSION = "__VERSION__";
var CACHE = "komunikator-shell-" + VERSION;
var SHELL = /*SHELL*/[];
var OFFLINE = "/offline";

self.addEventListener("install", function (event) {
  event.waitUntil(caches.open(CACHE).then(function (cache) {
    return cache.addAll(SHELL.concat([OFFLINE]));
  }).then(function () { return self.skipWaiting(); }));
});

self.addEventListener("activate", function (event) {
  event.waitUntil(caches.keys().then(function (names) {
    return Promise.all(names.filter(function (name) {
      return name.indexOf("komunikator-shell-") === 0 && name !== CACHE;
    }).map(function (name) { return caches.delete(name); }));
  }).then(function () { return self.clients.claim(); }));
});

function ours(url) {
  return url.origin === self.location.origin && url.pathname.indexOf("/staff") !== 0 &&
    url.pathname.indexOf("/api/") !== 0;
}

self.addEventListener("fetch", function (event) {
  var request = event.request;
  if (request.method !== "GET") return;
  var url = new URL(request.url);
  if (!ours(url)) return;
  if (request.mode === "navigate") {
    event.respondWith(fetch(request).catch(function () {
      return caches.match(OFFLINE).then(function (page) {
        return page || new Response("offline", { status: 503, headers: { "Content-Type": "text/plain" } });
      });
    }));
    return;
  }
  if (url.pathname.indexOf("/static/") === 0) {
    event.respondWith(caches.match(request).then(function (hit) { return hit || fetch(request); }));
  }
});

self.addEventListener("message", function (event) {
  if (event.data && event.data.type === "sync-drafts") {
    self.clients.matchAll({ type: "window" }).then(function (clients) {
      clients.forEach(function (client) { client.postMessage({ type: "sync-drafts" }); });
    });
  }
});
