// Shared helpers for every desk page (no dependencies):
//   desk.api(path, {method, json}) - fetch() with the session's CSRF token; a 401 goes to /login.
//   desk.el(tag, {text, className, attribute: value}, [children]) - builds an element (text, never HTML).
//   Forms: the submit button is disabled while the form is being sent (no double submits).
(function () {
  "use strict";
  const meta = document.querySelector('meta[name="csrf-token"]');
  const csrfToken = meta ? meta.getAttribute("content") : null;

  async function api(path, options) {
    const opts = Object.assign({ method: "GET" }, options || {});
    const headers = new Headers(opts.headers || {});
    headers.set("Accept", "application/json");
    if (opts.method.toUpperCase() !== "GET" && csrfToken) headers.set("X-CSRF-Token", csrfToken);
    if (opts.json !== undefined) {
      headers.set("Content-Type", "application/json");
      opts.body = JSON.stringify(opts.json);
      delete opts.json;
    }
    opts.headers = headers;
    opts.credentials = "same-origin";
    const response = await fetch(path, opts);
    if (response.status === 401) {
      window.location.assign("/login?next=" + encodeURIComponent(window.location.pathname));
    }
    return response;
  }

  function el(tag, attrs, children) {
    const node = document.createElement(tag);
    Object.entries(attrs || {}).forEach(([name, value]) => {
      if (value === null || value === undefined || value === false) return;
      if (name === "text") node.textContent = value;
      else if (name === "className") node.className = value;
      else node.setAttribute(name, value === true ? "" : value);
    });
    (children || []).forEach((child) => { if (child) node.append(child); });
    return node;
  }

  document.addEventListener("submit", function (event) {
    const form = event.target;
    if (!(form instanceof HTMLFormElement) || event.defaultPrevented) return;
    form.setAttribute("aria-busy", "true");
    form.querySelectorAll('button[type="submit"]').forEach(function (button) {
      window.setTimeout(function () { button.disabled = true; }, 0);
    });
  });
  // Coming back with the browser's Back button re-enables the forms.
  window.addEventListener("pageshow", function () {
    document.querySelectorAll('form[aria-busy="true"]').forEach(function (form) {
      form.removeAttribute("aria-busy");
      form.querySelectorAll('button[type="submit"]').forEach(function (button) { button.disabled = false; });
    });
  });

  window.desk = { api: api, el: el, csrfToken: csrfToken };
})();
