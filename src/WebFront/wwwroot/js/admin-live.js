// Admin pages that list tenants or nodes follow /api/events (Server-Sent Events). On a change the page fetches
// itself again and swaps every [data-live-region] (matched by id), so the server keeps the one rendering of each
// list. A form marked [data-pending-tenant] says "Enviado, esperando…" until that tenant's next event arrives.
(() => {
  const island = document.getElementById("status-labels");
  const labels = island ? JSON.parse(island.textContent) : {};
  let timer = null;
  let busy = false;

  async function refresh() {
    if (busy) { schedule(); return; }
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
    }
  }

  function schedule() {
    clearTimeout(timer);
    timer = setTimeout(refresh, 250);
  }

  function markPending(tenant, text) {
    document.querySelectorAll("[data-pending-for]").forEach((el) => {
      if (el.dataset.pendingFor === tenant) {
        el.textContent = text;
        el.hidden = false;
      }
    });
  }

  // Submitting a resolution: disable the button so it is not sent twice, and say it is on its way.
  document.addEventListener("submit", (e) => {
    const form = e.target;
    if (!(form instanceof HTMLFormElement) || !form.dataset.tenantAction) return;
    const button = form.querySelector("button[type=submit]");
    if (button) button.disabled = true;
    markPending(form.dataset.tenantAction, "Enviando…");
  });

  const pending = document.querySelector("[data-pending-tenant]");
  if (!document.querySelector("[data-live-region]") && !pending) return;
  if (!window.EventSource) return;
  const events = new EventSource("/api/events");
  events.addEventListener("tenant", (e) => {
    let data = null;
    try { data = JSON.parse(e.data); } catch (err) { data = null; }
    if (pending && data && data.key === pending.dataset.pendingTenant) {
      pending.textContent = "Hecho: " + (data.to ? (labels[data.to] || data.to) : "mensaje procesado") + ".";
      pending.classList.remove("alert-info");
      pending.classList.add("alert-ok");
      pending.dataset.state = "done";
    }
    schedule();
  });
  events.addEventListener("alert", schedule);
})();
