/* Offline drafts of reports (UI.md §6): kept in IndexedDB on this device (text and the already shrunk photos)
 * and sent when the network returns ("online") or the next time a portal page opens. Every draft keeps the
 * Idempotency-Key its form was drawn with, so sending it twice (two tabs, a lost answer) makes one ticket.
 * Browsers without Background Sync (Safari, Firefox) are served the same way: nothing here needs it.
 *
 * window.KomunikatorDrafts: save(draft), remove(key), all(), send(draft) → Promise<{state, url?}>,
 * sendPending() — states: "sent" (url: the report's page), "offline" (kept), "refused" (kept, marked). */
(function () {
  "use strict";
  var DB = "komunikator", STORE = "drafts";

  function open() {
    return new Promise(function (resolve, reject) {
      if (!window.indexedDB) { reject(new Error("no IndexedDB")); return; }
      var request = indexedDB.open(DB, 1);
      request.onupgradeneeded = function () { request.result.createObjectStore(STORE, { keyPath: "key" }); };
      request.onsuccess = function () { resolve(request.result); };
      request.onerror = function () { reject(request.error); };
    });
  }
  function run(mode, work) {
    return open().then(function (db) {
      return new Promise(function (resolve, reject) {
        var tx = db.transaction(STORE, mode), result;
        var req = work(tx.objectStore(STORE));
        if (req) req.onsuccess = function () { result = req.result; };
        tx.oncomplete = function () { db.close(); resolve(result); };
        tx.onerror = tx.onabort = function () { db.close(); reject(tx.error); };
      });
    });
  }
  function save(draft) { return run("readwrite", function (s) { return s.put(draft); }); }
  function remove(key) { return run("readwrite", function (s) { return s["delete"](key); }); }
  function all() { return run("readonly", function (s) { return s.getAll(); }).then(function (r) { return r || []; }); }

  function currentToken() {
    try { return JSON.parse(document.body.getAttribute("hx-headers") || "{}")["X-CSRF-Token"] || null; }
    catch (e) { return null; }
  }

  function body(draft) {
    var data = new FormData(), token = currentToken();
    draft.fields.forEach(function (pair) {
      data.append(pair[0], pair[0] === "csrf_token" && token ? token : pair[1]);
    });
    (draft.photos || []).forEach(function (photo) { data.append("photos", photo.blob, photo.name); });
    return data;
  }

  /* One POST of the draft to /zglos: the answer says what became of it. */
  function send(draft) {
    if (!navigator.onLine) return Promise.resolve({ state: "offline" });
    return fetch("/zglos", { method: "POST", body: body(draft), credentials: "same-origin", redirect: "follow" })
      .then(function (response) {
        var path = new URL(response.url).pathname;
        if (response.ok && response.redirected && path.indexOf("/zgloszenia/") === 0) {
          return remove(draft.key).then(function () { return { state: "sent", url: response.url }; });
        }
        if (response.status === 409 || response.status === 429 || response.status >= 500) {
          return { state: "offline" };  // busy, limited or failing: try again later
        }
        draft.refused = true;
        return save(draft).then(function () { return { state: "refused", status: response.status }; });
      }, function () { return { state: "offline" }; });
  }

  function notice(text, url, label) {
    var box = document.getElementById("draft-notices");
    if (!box) return;
    var p = document.createElement("p");
    p.className = "notice notice--success";
    p.appendChild(document.createTextNode(text + " "));
    if (url) {
      var a = document.createElement("a");
      a.href = url;
      a.textContent = label || url;
      p.appendChild(a);
    }
    box.hidden = false;
    box.appendChild(p);
  }

  var sending = null;
  function sendPending() {
    if (sending || !navigator.onLine) return sending || Promise.resolve([]);
    var box = document.getElementById("draft-notices");
    var work = function () {
      return all().then(function (drafts) {
        return drafts.filter(function (d) { return !d.refused; }).reduce(function (chain, draft) {
          return chain.then(function (done) {
            return send(draft).then(function (result) {
              if (box && result.state === "sent") {
                notice(box.dataset.sent, result.url, new URL(result.url).pathname.split("/").pop());
              }
              if (box && result.state === "refused") notice(box.dataset.refused, "/zglos", box.dataset.again);
              return done.concat([result]);
            });
          });
        }, Promise.resolve([]));
      });
    };
    var locked = navigator.locks && navigator.locks.request ? navigator.locks.request("komunikator-drafts", work) : work();
    sending = locked.then(function (r) { sending = null; return r; }, function () { sending = null; return []; });
    return sending;
  }

  window.KomunikatorDrafts = { save: save, remove: remove, all: all, send: send, sendPending: sendPending };
  window.addEventListener("online", sendPending);
  if (navigator.serviceWorker) {
    navigator.serviceWorker.addEventListener("message", function (event) {
      if (event.data && event.data.type === "sync-drafts") sendPending();
    });
  }
  document.addEventListener("DOMContentLoaded", function () { sendPending(); });
})();
