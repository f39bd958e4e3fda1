// Admin pages follow /api/events (Server-Sent Events) through one stream per browser (live-worker.js, a
// SharedWorker), or their own stream where SharedWorker is missing. On a change the page fetches itself again and
// swaps every [data-live-region] (matched by id), so the server keeps the one rendering of each page. Each time the
// stream (re)opens the page is read again, so an event sent before it opened is never missed.
//
// Tenant action forms ([data-tenant-action]) are sent with fetch and answered with their outcome, shown at once in
// [data-action-status]: done, refused with the reason, or in progress (queued; the tenant's next event says "Hecho").
(() => {
  const island = document.getElementById("status-labels");
  const labels = island ? JSON.parse(island.textContent) : {};
  const label = (s) => (s ? labels[s] || s : "mensaje procesado");
  let timer = null;
  let busy = false;
  let again = false;

  async function refresh() {
    if (busy) { again = true; return; }
    busy = true;
    try {
      const r = await fetch(location.href, { headers: { Accept: "text/html" }, credentials: "same-origin" });
      if (!r.ok) return;
      const doc = new DOMParser().parseFromString(await r.text(), "text/html");
      document.querySelectorAll("[data-live-region]").forEach((region) => {
        // A region in which the operator is typing or choosing is left alone until they are done.
        const active = document.activeElement;
        if (!region.id || (active && region.contains(active) && active.matches("input, select, textarea"))) return;
        const fresh = doc.getElementById(region.id);
        if (fresh) region.replaceWith(document.importNode(fresh, true));
      });
      document.dispatchEvent(new CustomEvent("sajet:refreshed"));
    } catch (e) {
      // The stream stays open; the next event tries again.
    } finally {
      busy = false;
      if (again) { again = false; schedule(); }
    }
  }

  function schedule() {
    clearTimeout(timer);
    timer = setTimeout(refresh, 150);
  }

  // ── outcome of an action ────────────────────────────────────────────────────────────────────────────────
  function show(outcome, text, tenant) {
    const status = document.querySelector("[data-action-status]");
    if (!status) return;
    status.textContent = text;
    status.hidden = false;
    status.dataset.outcome = outcome;
    status.dataset.pendingFor = outcome === "in_progress" ? tenant : "";
    status.classList.remove("alert-ok", "alert-error", "alert-info");
    status.classList.add(outcome === "done" ? "alert-ok" : outcome === "refused" ? "alert-error" : "alert-info");
  }

  function pendingDone(tenant, to) {
    document.querySelectorAll("[data-pending-for]").forEach((el) => {
      if (!tenant || el.dataset.pendingFor !== tenant) return;
      el.textContent = "Hecho: " + label(to) + ".";
      el.dataset.pendingFor = "";
      el.dataset.outcome = "done";
      el.classList.remove("alert-info");
      el.classList.add("alert-ok");
    });
  }

  document.addEventListener("submit", async (e) => {
    const form = e.target;
    if (!(form instanceof HTMLFormElement) || !form.dataset.tenantAction || !window.fetch) return;
    e.preventDefault();
    const button = form.querySelector("button[type=submit]");
    if (button) button.disabled = true;
    const tenant = form.dataset.tenantAction;
    show("in_progress", "Enviando…", tenant);
    try {
      // getAttribute: the forms have an input named "action", which shadows form.action.
      const r = await fetch(form.getAttribute("action") || location.href, {
        method: "POST",
        body: new FormData(form),
        headers: { Accept: "application/json" },
        credentials: "same-origin",
      });
      const answer = await r.json().catch(() => null);
      if (answer && answer.message) {
        show(answer.outcome, answer.message, tenant);
      } else {
        show("refused", "No se pudo enviar la acción (" + r.status + "). Recarga la página e inténtalo de nuevo.", tenant);
      }
    } catch (err) {
      show("refused", "Sin conexión con el servidor: la acción no se envió.", tenant);
    } finally {
      if (button) button.disabled = false;
    }
    refresh();
  });

  // ── the live stream ─────────────────────────────────────────────────────────────────────────────────────
  function onEvent(type, raw) {
    if (type === "ready") { schedule(); return; }
    if (type === "down") return;
    let data = null;
    try { data = JSON.parse(raw); } catch (err) { data = null; }
    if (type === "tenant" && data) pendingDone(data.key, data.to);
    schedule();
  }

  if (!document.querySelector("[data-live-region]")) return;
  const script = document.currentScript;
  const version = script ? new URL(script.src, location.href).searchParams.get("v") || "" : "";
  if (window.SharedWorker) {
    try {
      const worker = new SharedWorker("/js/live-worker.js?v=" + encodeURIComponent(version), { name: "sajet-live" });
      worker.port.addEventListener("message", (m) => onEvent(m.data.type, m.data.data));
      worker.port.start();
      window.addEventListener("pagehide", () => worker.port.postMessage("bye"));
      window.addEventListener("pageshow", (e) => { if (e.persisted) location.reload(); });
      return;
    } catch (err) {
      // Falls back to a stream of this tab's own.
    }
  }

  if (!window.EventSource) return;
  const events = new EventSource("/api/events");
  events.addEventListener("open", () => onEvent("ready"));
  for (const type of ["tenant", "alert"]) events.addEventListener(type, (e) => onEvent(type, e.data));
})();
