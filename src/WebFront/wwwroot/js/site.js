// Behaviour shared by every page. No inline script anywhere: the CSP only allows files from our origin.
(function () {
  "use strict";

  var THEME_KEY = "sajet-theme";

  function currentTheme() {
    return document.documentElement.getAttribute("data-theme") === "dark" ? "dark" : "light";
  }

  function renderToggle(button) {
    var dark = currentTheme() === "dark";
    button.setAttribute("aria-pressed", dark ? "true" : "false");
    var label = button.querySelector(".theme-label");
    if (label) {
      label.textContent = dark ? "Modo claro" : "Modo oscuro";
    }
    button.setAttribute("title", dark ? "Cambiar a modo claro" : "Cambiar a modo oscuro");
  }

  function setupThemeToggle() {
    var button = document.getElementById("theme-toggle");
    if (!button) {
      return;
    }
    renderToggle(button);
    button.addEventListener("click", function () {
      var next = currentTheme() === "dark" ? "light" : "dark";
      document.documentElement.setAttribute("data-theme", next);
      try {
        window.localStorage.setItem(THEME_KEY, next);
      } catch (e) {
        // Not persisted when storage is blocked; the choice still holds for this page.
      }
      renderToggle(button);
    });
  }

  // On a phone the admin menu scrolls sideways; the section being shown is brought into view, or the later entries
  // ("Ajustes") would sit off screen on their own page.
  function revealCurrentSection() {
    var current = document.querySelector(".admin-nav [aria-current='page']");
    if (!current) {
      return;
    }
    var list = current.closest("ul");
    var box = current.getBoundingClientRect();
    var frame = list.getBoundingClientRect();
    if (box.right > frame.right || box.left < frame.left) {
      list.scrollLeft += box.left - frame.left - (frame.width - box.width) / 2;
    }
  }

  function refresh() {
    return fetch("/api/auth/refresh", {
      method: "POST",
      credentials: "same-origin",
      headers: { "Accept": "application/json" }
    }).then(function (response) {
      return response.ok ? response.json() : null;
    }).catch(function () {
      return null;
    });
  }

  // The access token lives 15 minutes; an open page renews it before then so work is not interrupted.
  function keepSessionAlive() {
    if (document.body.getAttribute("data-signed-in") !== "true") {
      return;
    }
    var last = Date.now();
    var every = 10 * 60 * 1000;
    window.setInterval(function () {
      if (document.visibilityState === "visible") {
        last = Date.now();
        refresh();
      }
    }, every);
    document.addEventListener("visibilitychange", function () {
      if (document.visibilityState === "visible" && Date.now() - last > every) {
        last = Date.now();
        refresh();
      }
    });
  }

  // On a login page, a still-valid refresh cookie (a returning visitor) signs in without typing again.
  function resumeSession() {
    var form = document.querySelector("form[data-resume-role]");
    if (!form) {
      return;
    }
    // Only a browser that signed in before can have a refresh cookie (httpOnly, so the readable hint tells us).
    if (document.cookie.split("; ").indexOf("sajet_session=1") < 0) {
      return;
    }
    var role = form.getAttribute("data-resume-role");
    refresh().then(function (session) {
      if (session && session.role === role) {
        var params = new URLSearchParams(window.location.search);
        var target = params.get("returnUrl");
        var home = form.getAttribute("data-resume-home");
        var area = home.split("/")[1];
        var safe = target && target.charAt(0) === "/" && target.charAt(1) !== "/" && target.charAt(1) !== "\\" &&
          (target === "/" + area || target.indexOf("/" + area + "/") === 0 || target.indexOf("/" + area + "?") === 0);
        window.location.assign(safe ? target : home);
      }
    });
  }

  document.addEventListener("DOMContentLoaded", function () {
    setupThemeToggle();
    revealCurrentSection();
    keepSessionAlive();
    resumeSession();
  });
})();
