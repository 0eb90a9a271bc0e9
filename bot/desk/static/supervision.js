// Supervision (/cola/supervision): queue length, waits and load per advisor, from /api/cola/estadisticas.
(function () {
  "use strict";
  const POLL_MS = 5000;
  let timer = null;

  function duration(seconds) {
    if (seconds === null || seconds === undefined) return "—";
    seconds = Math.max(0, Math.round(seconds));
    if (seconds < 60) return seconds + " s";
    const minutes = Math.floor(seconds / 60);
    if (minutes < 60) return minutes + " min";
    return Math.floor(minutes / 60) + " h " + (minutes % 60) + " min";
  }

  function set(name, value) { document.getElementById("s-" + name).textContent = value; }

  function cell(text) { const td = document.createElement("td"); td.textContent = text; return td; }

  function render(data) {
    set("waiting", String(data.waiting));
    set("priority", String(data.waiting_priority));
    set("longest", duration(data.longest_wait_seconds));
    set("average-now", duration(data.average_wait_now_seconds));
    set("average-taken", duration(data.average_wait_taken_seconds));
    set("active", String(data.active));
    set("online", String(data.online));
    set("rating", data.rating === null ? "—" : data.rating.toFixed(1) + " (" + data.ratings + ")");
    const body = document.querySelector("#s-advisors tbody");
    body.replaceChildren(...data.advisors.map((a) => {
      const row = document.createElement("tr");
      row.append(cell(a.name), cell(a.online ? "Sí" : "No"), cell(String(a.active)), cell(String(a.closed)),
        cell(duration(a.first_response_seconds)), cell(a.rating === null ? "—" : a.rating.toFixed(1)));
      return row;
    }));
  }

  async function refresh() {
    clearTimeout(timer);
    const error = document.getElementById("s-error");
    try {
      const response = await desk.api("/api/cola/estadisticas");
      if (response.ok) { render(await response.json()); error.hidden = true; }
      else if (response.status !== 401) { error.textContent = "No se pudo actualizar (" + response.status + ")."; error.hidden = false; }
    } catch (e) {
      error.textContent = "Sin conexión con la mesa; se reintentará.";
      error.hidden = false;
    }
    timer = setTimeout(refresh, POLL_MS);
  }

  refresh();
})();
