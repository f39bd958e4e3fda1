// /admin/nodes/{id}: draws CPU, RAM and disk history with chart.js from the page's JSON data island. Colours come
// from the theme's CSS variables, and charts are redrawn when the operator switches light/dark mode.
(() => {
  const island = document.getElementById("node-metrics");
  if (!island || !window.Chart) return;
  const data = JSON.parse(island.textContent);
  const labels = (data.at || []).map((t) => new Date(t).toLocaleString("es-ES", { hour: "2-digit", minute: "2-digit", day: "2-digit", month: "2-digit" }));
  const charts = [];

  function draw() {
    charts.splice(0).forEach((c) => c.destroy());
    const css = getComputedStyle(document.documentElement);
    const primary = css.getPropertyValue("--primary").trim();
    const text = css.getPropertyValue("--muted").trim();
    const grid = css.getPropertyValue("--border").trim();
    document.querySelectorAll("canvas[data-series]").forEach((canvas) => {
      charts.push(new window.Chart(canvas, {
        type: "line",
        data: { labels, datasets: [{ label: canvas.getAttribute("aria-label"), data: data[canvas.dataset.series] || [], borderColor: primary, backgroundColor: primary, pointRadius: 0, tension: 0.2 }] },
        options: {
          responsive: true,
          maintainAspectRatio: false,
          animation: false,
          plugins: { legend: { display: false } },
          scales: {
            x: { ticks: { color: text, maxTicksLimit: 6 }, grid: { color: grid } },
            y: { min: 0, max: 100, ticks: { color: text }, grid: { color: grid } },
          },
        },
      }));
    });
  }

  draw();
  new MutationObserver(draw).observe(document.documentElement, { attributes: true, attributeFilter: ["data-theme"] });
})();
