/* The service worker's Web Push part (imported by /sw.js). The server sends JSON (engine/delivery/push.py):
 * {title, body, url, tag, lang}; the notification shows it, a newer one about the same report (same tag)
 * replaces the older, and a tap opens the report (only pages of this site). */
self.addEventListener("push", function (event) {
  var data = {};
  try { data = event.data ? event.data.json() : {}; } catch (error) { data = { body: event.data ? event.data.text() : "" }; }
  var title = data.title || self.location.hostname;
  var options = {
    body: data.body || "",
    tag: data.tag || undefined,
    renotify: Boolean(data.tag),
    lang: data.lang || "",
    icon: "/icon-192.png",
    badge: "/icon-192.png",
    data: { url: data.url || "/" }
  };
  event.waitUntil(self.registration.showNotification(title, options));
});

self.addEventListener("notificationclick", function (event) {
  event.notification.close();
  var target = new URL((event.notification.data && event.notification.data.url) || "/", self.location.origin);
  if (target.origin !== self.location.origin) target = new URL(target.pathname + target.search, self.location.origin);
  event.waitUntil(self.clients.matchAll({ type: "window", includeUncontrolled: true }).then(function (clients) {
    for (var i = 0; i < clients.length; i++) {
      if (clients[i].url === target.href && "focus" in clients[i]) return clients[i].focus();
    }
    return self.clients.openWindow(target.href);
  }));
});

self.addEventListener("pushsubscriptionchange", function () {
  // the browser renewed the subscription: open pages of the settings offer it again (a click re-subscribes)
  self.clients.matchAll({ type: "window" }).then(function (clients) {
    clients.forEach(function (client) { client.postMessage({ type: "push-subscription-changed" }); });
  });
});
