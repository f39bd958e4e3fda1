// /success: follows the onboarding live. A Server-Sent Event from the server triggers a refresh at once; a slow
// poll of the status API covers a dropped stream. Updates the page without a reload until the Odoo is ready.
(() => {
  const root = document.getElementById("onboarding");
  if (!root || !root.dataset.session) return;
  const session = encodeURIComponent(root.dataset.session);
  const labels = {
    pending: "Confirmando el pago", paid: "Pago confirmado", placing: "Buscando servidor", provisioning: "Preparando tu Odoo",
    active: "Listo", waiting_for_capacity: "En cola: esperando capacidad", failed: "Incidencia: nuestro equipo la está revisando", cancelled: "Cancelado",
  };
  const progress = { pending: 1, paid: 2, placing: 2, waiting_for_capacity: 2, provisioning: 3, active: 5 };
  let done = false;
  let timer = null;

  function render(s) {
    const badge = document.getElementById("onboarding-status");
    badge.textContent = labels[s.status] || s.status;
    badge.dataset.status = s.status;
    document.getElementById("onboarding-progress").value = progress[s.status] || 0;
    document.getElementById("onboarding-steps").replaceChildren(...s.steps.map((step) => {
      const li = document.createElement("li");
      const time = document.createElement("time");
      time.dateTime = step.at;
      time.textContent = new Date(step.at).toLocaleTimeString("es-ES");
      li.append(time, " " + step.reason);
      return li;
    }));
    if (s.url) {
      const link = document.getElementById("onboarding-url");
      link.href = s.url;
      link.textContent = s.url;
      document.getElementById("onboarding-login").textContent = s.login || "";
      document.getElementById("onboarding-password").textContent = s.password || "";
      document.getElementById("onboarding-ready").hidden = false;
    }
    done = s.status === "active" || s.status === "cancelled";
  }

  async function refresh() {
    clearTimeout(timer);
    try {
      const r = await fetch("/api/onboarding/status?session_id=" + session, { headers: { Accept: "application/json" } });
      if (r.ok) render(await r.json());
    } catch (e) {
      // A network hiccup: the next tick tries again.
    }
    // Poll only while the live stream is down; while it is up, each event triggers one read.
    if (!done && !live) timer = setTimeout(refresh, 3000);
  }

  let live = false;
  if (window.EventSource) {
    const events = new EventSource("/api/events/onboarding?session_id=" + session);
    // Read the state once the stream is open, so a change made before it opened is not missed.
    events.onopen = () => { live = true; if (!done) refresh(); };
    events.onerror = () => {
      live = false;
      if (!done) { clearTimeout(timer); timer = setTimeout(refresh, 3000); }
    };
    events.addEventListener("tenant", () => { if (!done) refresh(); });
  }
  timer = setTimeout(refresh, 1000);
})();
