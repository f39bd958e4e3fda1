// /success: follows the onboarding live. A Server-Sent Event from the server triggers a refresh at once; a slow
// poll of the status API covers a dropped stream. Updates the page without a reload until the Odoo is ready.
// Every text comes from the status API, already in the customer's words.
// No password ever reaches this page: the welcome mail carries a single-use link to choose one. Requests go one at a
// time, so a late answer never overwrites a newer one.
(() => {
  const root = document.getElementById("onboarding");
  if (!root) return;
  const $ = (id) => document.getElementById(id);
  const stepStates = { done: "(hecho)", current: "(en curso)", todo: "(pendiente)" };
  if (!root.dataset.session || root.dataset.done === "true") return;
  const session = encodeURIComponent(root.dataset.session);
  let done = false;
  let timer = null;
  let live = false;
  let events = null;
  let inFlight = false;
  let again = false;
  let status = root.querySelector("#onboarding-status") ? root.querySelector("#onboarding-status").dataset.status : "";

  function render(s) {
    $("success-title").textContent = s.heading;
    document.title = s.heading + " · Sajet";
    const badge = $("onboarding-status");
    badge.textContent = s.badge;
    badge.dataset.status = s.status;
    badge.dataset.tone = s.tone;
    $("onboarding-progress").value = s.percent;
    const message = $("onboarding-message");
    message.textContent = s.message;
    message.dataset.tone = s.tone;
    $("onboarding-steps").replaceChildren(...s.steps.map((step) => {
      const li = document.createElement("li");
      li.dataset.state = step.state;
      const state = document.createElement("span");
      state.className = "visually-hidden";
      state.textContent = stepStates[step.state] || "";
      li.append(step.label + " ", state);
      return li;
    }));
    if (s.ready) {
      const link = $("onboarding-url");
      link.href = s.url || "";
      link.textContent = s.url || "";
      if (s.login) {
        $("onboarding-login").textContent = s.login;
        $("onboarding-login").hidden = false;
        $("onboarding-login-hint").hidden = true;
      }
      $("onboarding-signin-note").textContent = s.signInNote || "";
      $("onboarding-ready").hidden = false;
    }
    status = s.status;
    done = s.ready || s.tone === "closed";
  }

  async function refresh() {
    clearTimeout(timer);
    if (inFlight) {
      again = true;
      return;
    }
    inFlight = true;
    try {
      const r = await fetch("/api/onboarding/status?session_id=" + session, { headers: { Accept: "application/json" }, cache: "no-store" });
      if (r.ok) render(await r.json());
    } catch (e) {
      // A network hiccup: the next tick tries again.
    } finally {
      inFlight = false;
    }
    if (done) {
      if (events) events.close();
      return;
    }
    if (again) {
      again = false;
      refresh();
      return;
    }
    // Poll while the live stream is down; while it is up, each event triggers one read. The stream announces changes
    // of status only, so during provisioning a slow poll still moves the steps on (server, then database).
    if (!live) timer = setTimeout(refresh, 3000);
    else if (status === "provisioning") timer = setTimeout(refresh, 5000);
  }

  if (window.EventSource) {
    events = new EventSource("/api/events/onboarding?session_id=" + session);
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
