// One Server-Sent Events stream for every admin tab of this browser. A browser opens at most six HTTP/1.1
// connections per host, and each open SSE stream holds one: with a stream per tab, a seventh tab never loaded over
// plain http. This SharedWorker holds the only stream and passes each event to every tab (admin-live.js).
"use strict";

const ports = new Set();
let source = null;
let open = false;
let failures = 0;

function broadcast(message) {
  for (const port of ports) port.postMessage(message);
}

function connect() {
  if (source) return;
  source = new EventSource("/api/events");
  source.addEventListener("open", () => {
    open = true;
    failures = 0;
    // Each tab re-reads its page on "ready": whatever changed while the stream was down is shown, nothing is missed.
    broadcast({ type: "ready" });
  });
  source.addEventListener("error", () => {
    open = false;
    broadcast({ type: "down" });
    // EventSource retries by itself after a dropped connection; after a refusal (signed out: 401) it gives up.
    if (source.readyState === EventSource.CLOSED) {
      source = null;
      failures += 1;
      setTimeout(() => { if (ports.size > 0) connect(); }, Math.min(30000, 1000 * 2 ** failures));
    }
  });
  for (const type of ["tenant", "alert"]) {
    source.addEventListener(type, (e) => broadcast({ type, data: e.data }));
  }
}

self.addEventListener("connect", (e) => {
  const port = e.ports[0];
  ports.add(port);
  port.addEventListener("message", (m) => {
    if (m.data === "bye") {
      ports.delete(port);
      if (ports.size === 0 && source) {
        source.close();
        source = null;
        open = false;
      }
    }
  });
  port.start();
  connect();
  if (open) port.postMessage({ type: "ready" });
});
