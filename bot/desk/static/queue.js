// The queue (/cola): refreshed every few seconds from /api/cola; new conversations appear without reloading.
(function () {
  "use strict";
  const POLL_MS = 3000;
  const seen = new Set();
  let firstLoad = true;
  let timer = null;
  let severalOffices = false;
  const filter = document.getElementById("q-filter"); // supervisors: one office's queue, or all

  const el = desk.el;

  function duration(seconds) {
    seconds = Math.max(0, Math.round(seconds));
    if (seconds < 60) return seconds + " s";
    const minutes = Math.floor(seconds / 60);
    if (minutes < 60) return minutes + " min";
    const hours = Math.floor(minutes / 60);
    if (hours < 48) return hours + " h " + (minutes % 60) + " min";
    return Math.floor(hours / 24) + " días";
  }

  function reason(ticket) {
    const cell = el("td", {}, [el("span", { className: "badge badge-" + ticket.reason, text: ticket.reason_label })]);
    if (ticket.priority) cell.append(" ", el("span", { className: "badge badge-priority", text: "Prioridad" }));
    return cell;
  }

  function channel(ticket) {
    const cell = el("td", {}, [el("span", { className: "badge badge-channel", text: ticket.channel_label })]);
    if (severalOffices) cell.append(el("small", { className: "q-office-name", text: ticket.office_label }));
    return cell;
  }

  function where(ticket) {
    return el("td", { text: ticket.line_label + " · " + ticket.country_label });
  }

  function preview(ticket) {
    const cell = el("td", {}, [el("span", { className: "q-preview", text: ticket.preview || "—" })]);
    (ticket.tags || []).forEach((tag) => cell.append(" ", el("span", { className: "badge badge-tag", text: tag })));
    return cell;
  }

  function showError(text) {
    const box = document.getElementById("q-error");
    box.textContent = text || "";
    box.hidden = !text;
  }

  async function take(ticket, button) {
    button.disabled = true;
    const response = await desk.api("/api/cola/" + ticket.id + "/tomar", { method: "POST" });
    if (response.ok) {
      window.location.assign("/cola/" + ticket.id);
      return;
    }
    const body = await response.json().catch(() => ({}));
    showError(body.message || "No se pudo tomar la conversación.");
    button.disabled = false;
    refresh();
  }

  function waitingRow(ticket) {
    const button = el("button", { type: "button", className: "button button-primary button-small", text: "Tomar",
      "aria-label": "Tomar la conversación " + ticket.id });
    button.addEventListener("click", () => take(ticket, button));
    const view = el("a", { href: "/cola/" + ticket.id, text: "Ver", "aria-label": "Ver la conversación " + ticket.id });
    const row = el("tr", { className: (ticket.priority ? "q-priority" : "") + (!firstLoad && !seen.has(ticket.id) ? " q-new" : ""),
      "data-ticket": ticket.id }, [
      el("td", { className: "q-num", text: String(ticket.position) }),
      reason(ticket),
      channel(ticket),
      where(ticket),
      preview(ticket),
      el("td", { className: "q-num", text: duration(ticket.waiting_seconds) }),
      el("td", {}, [button, " ", view]),
    ]);
    return row;
  }

  function handledRow(ticket, first) {
    const status = el("td", { text: ticket.status_label });
    if (!ticket.accepted) status.append(" ", el("span", { className: "badge badge-owes", text: "Transferida: ábrala" }));
    else if (ticket.owes_reply) status.append(" ", el("span", { className: "badge badge-owes", text: "Espera respuesta" }));
    return el("tr", { className: ticket.priority ? "q-priority" : "" }, [
      el("td", { text: first }),
      reason(ticket),
      channel(ticket),
      where(ticket),
      preview(ticket),
      status,
      el("td", {}, [el("a", { className: "button button-secondary button-small", href: "/cola/" + ticket.id, text: "Abrir",
        "aria-label": "Abrir la conversación " + ticket.id })]),
    ]);
  }

  function fill(name, tickets, makeRow) {
    const table = document.getElementById("q-" + name);
    if (!table) return;
    const body = table.querySelector("tbody");
    body.replaceChildren(...tickets.map(makeRow));
    table.hidden = tickets.length === 0;
    document.getElementById("q-" + name + "-empty").hidden = tickets.length > 0;
    const count = document.getElementById("q-" + name + "-count");
    count.textContent = String(tickets.length);
    count.classList.toggle("zero", tickets.length === 0);
  }

  function offices(data) {
    if (!filter || filter.options.length > 1 || !data.several_offices) return;
    data.offices.forEach((office) => filter.append(el("option", { value: String(office.id), text: office.name })));
    document.getElementById("q-filter-row").hidden = false;
  }

  function render(data) {
    severalOffices = data.several_offices;
    offices(data);
    const fresh = data.waiting.filter((t) => !seen.has(t.id));
    fill("waiting", data.waiting, waitingRow);
    fill("mine", data.mine, (t) => handledRow(t, t.person));
    fill("others", data.others, (t) => handledRow(t, t.advisor_name || "—"));
    const closed = document.getElementById("q-closed");
    closed.replaceChildren(...data.closed.map((t) => el("li", {}, [
      el("a", { href: "/cola/" + t.id, text: "Conversación " + t.id }), " · " + t.channel_label + " · " + t.reason_label])));
    document.getElementById("q-closed-empty").hidden = data.closed.length > 0;
    document.getElementById("q-online").textContent = String(data.online);
    document.getElementById("q-office").textContent = data.office_open ? "En horario de atención" : "Fuera del horario";
    document.getElementById("q-office-dot").classList.toggle("on", data.office_open);
    if (!firstLoad && fresh.length) {
      document.getElementById("q-live").textContent =
        fresh.length === 1 ? "Una conversación nueva en la cola." : fresh.length + " conversaciones nuevas en la cola.";
    }
    data.waiting.forEach((t) => seen.add(t.id));
    document.title = (data.waiting.length ? "(" + data.waiting.length + ") " : "") + "Cola de conversaciones · PERÚ INFOMIGRA";
    firstLoad = false;
  }

  async function refresh() {
    clearTimeout(timer);
    try {
      const response = await desk.api("/api/cola" + (filter && filter.value ? "?oficina=" + encodeURIComponent(filter.value) : ""));
      if (response.ok) {
        render(await response.json());
        showError("");
      } else if (response.status !== 401) {
        showError("No se pudo actualizar la cola (" + response.status + "). Se reintentará.");
      }
    } catch (error) {
      showError("Sin conexión con la mesa. Se reintentará en unos segundos.");
    }
    timer = setTimeout(refresh, POLL_MS);
  }

  if (filter) filter.addEventListener("change", () => { seen.clear(); firstLoad = true; refresh(); });
  document.addEventListener("visibilitychange", () => { if (document.visibilityState === "visible") refresh(); });
  refresh();
})();
