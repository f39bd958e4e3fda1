// The API reader (/docs, Swagger UI): a bar with the way back to Sajet and the same light/dark switch as every page,
// stored under the same key, so the reader follows the choice made anywhere on the site.
(function () {
  "use strict";

  var THEME_KEY = "sajet-theme";

  function dark() {
    return document.documentElement.getAttribute("data-theme") === "dark";
  }

  function render(button) {
    button.textContent = dark() ? "Modo claro" : "Modo oscuro";
    button.setAttribute("aria-pressed", dark() ? "true" : "false");
  }

  function setup() {
    document.documentElement.setAttribute("lang", "es");
    var bar = document.createElement("header");
    bar.className = "sajet-docs-bar";
    var back = document.createElement("a");
    back.href = "/";
    back.className = "sajet-docs-brand";
    back.textContent = "Sajet";
    var title = document.createElement("span");
    title.className = "sajet-docs-title";
    title.textContent = "Documentación de la API";
    var button = document.createElement("button");
    button.type = "button";
    button.id = "theme-toggle";
    button.className = "sajet-docs-toggle";
    button.setAttribute("data-testid", "theme-toggle");
    render(button);
    button.addEventListener("click", function () {
      var next = dark() ? "light" : "dark";
      document.documentElement.setAttribute("data-theme", next);
      try {
        window.localStorage.setItem(THEME_KEY, next);
      } catch (e) {
        // Not persisted when storage is blocked; the choice still holds for this page.
      }
      render(button);
    });
    bar.appendChild(back);
    bar.appendChild(title);
    bar.appendChild(button);
    document.body.insertBefore(bar, document.body.firstChild);
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", setup);
  } else {
    setup();
  }
})();
