/* Process diagrams of the administration (`/staff/admin/config/processes/…`): the page holds the
   diagram as Mermaid text (`komunikator graph`'s output, in a <pre>); the vendored Mermaid draws it
   here. No inline script: this file is the page's only behaviour besides app.js. */
(function () {
  "use strict";

  function draw(canvas) {
    var source = document.getElementById(canvas.dataset.diagramFor);
    if (!source || canvas.dataset.drawn || typeof mermaid === "undefined") { return; }
    canvas.dataset.drawn = "1";
    mermaid.initialize({ startOnLoad: false, securityLevel: "strict", theme: "neutral",
                         fontFamily: "system-ui, -apple-system, 'Segoe UI', Roboto, sans-serif" });
    mermaid.render("diagram-svg", source.textContent).then(function (result) {
      canvas.innerHTML = result.svg;
      canvas.classList.add("diagram__canvas--drawn");
    }).catch(function () {
      canvas.textContent = canvas.dataset.failed || "";
      canvas.classList.add("diagram__canvas--failed");
    });
  }

  function start() {
    document.querySelectorAll("[data-diagram-for]").forEach(draw);
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
