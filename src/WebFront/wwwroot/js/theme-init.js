// Loaded synchronously in <head>: applies the saved or system colour scheme before the first paint.
(function () {
  "use strict";
  var theme = null;
  try {
    theme = window.localStorage.getItem("sajet-theme");
  } catch (e) {
    // Storage can be blocked (privacy modes); the system preference still applies.
  }
  if (theme !== "light" && theme !== "dark") {
    theme = window.matchMedia && window.matchMedia("(prefers-color-scheme: dark)").matches ? "dark" : "light";
  }
  document.documentElement.setAttribute("data-theme", theme);
})();
