// /admin/tenants/{id}: when an event for this tenant arrives, fetch /api/tenants/{id} and re-render the status and
// the history, so an operator watching a retry sees each step without reloading.
(() => {
  const root = document.getElementById("tenant");
  if (!root || !window.EventSource) return;
  const id = root.dataset.tenantId;
  const island = document.getElementById("status-labels");
  const labels = island ? JSON.parse(island.textContent) : {};
  const label = (s) => (s ? labels[s] || s : "—");
  const pad = (n) => String(n).padStart(2, "0");
  const utc = (iso) => {
    const d = new Date(iso);
    return `${d.getUTCFullYear()}-${pad(d.getUTCMonth() + 1)}-${pad(d.getUTCDate())} ${pad(d.getUTCHours())}:${pad(d.getUTCMinutes())}:${pad(d.getUTCSeconds())} UTC`;
  };

  function cell(...children) {
    const td = document.createElement("td");
    td.append(...children);
    return td;
  }

  function correlation(c) {
    if (!c) return "";
    const kind = c.startsWith("evt_") ? "stripe" : c.startsWith("UPID:") ? "proxmox" : "other";
    const text = { stripe: "Evento de Stripe", proxmox: "Tarea de Proxmox (UPID)", other: "Correlación" }[kind];
    const span = document.createElement("span");
    span.className = "correlation correlation-" + kind;
    span.dataset.kind = kind;
    const name = document.createElement("span");
    name.className = "correlation-label";
    name.textContent = text;
    const code = document.createElement("code");
    code.textContent = c;
    span.append(name, " ", code);
    return span;
  }

  function render(t) {
    const badge = document.getElementById("tenant-status");
    badge.textContent = label(t.status);
    badge.dataset.status = t.status;
    document.getElementById("history-rows").replaceChildren(...t.history.map((h) => {
      const tr = document.createElement("tr");
      tr.setAttribute("data-testid", "history-row");
      tr.dataset.eventId = h.id;
      const time = document.createElement("time");
      time.dateTime = h.at;
      time.textContent = utc(h.at);
      let transition;
      if (h.to && h.from !== h.to) {
        transition = document.createElement("span");
        transition.textContent = `${label(h.from)} → ${label(h.to)}`;
      } else {
        transition = document.createElement("span");
        transition.className = "muted";
        transition.textContent = "nota";
      }
      tr.append(cell(time), cell(transition), cell(h.reason), cell(h.actor), cell(correlation(h.correlationId)));
      return tr;
    }));
  }

  async function refresh() {
    try {
      const r = await fetch("/api/tenants/" + encodeURIComponent(id), { headers: { Accept: "application/json" }, credentials: "same-origin" });
      if (r.ok) render(await r.json());
    } catch (e) {
      // The stream stays open; the next event tries again.
    }
  }

  const events = new EventSource("/api/events");
  events.addEventListener("tenant", (e) => {
    let data = null;
    try { data = JSON.parse(e.data); } catch (err) { data = null; }
    if (!data || data.key !== id) return;
    const pending = document.querySelector("[data-pending-for]");
    if (pending && !pending.hidden) pending.textContent = "Hecho: " + label(data.to) + ".";
    refresh();
  });
  document.addEventListener("submit", (e) => {
    const form = e.target;
    if (!(form instanceof HTMLFormElement) || !form.dataset.tenantAction) return;
    const button = form.querySelector("button[type=submit]");
    if (button) button.disabled = true;
  });
})();
