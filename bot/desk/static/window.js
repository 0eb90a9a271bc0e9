// The in-person window (/ventanilla, bot/desk/window.py): the form of a walk-in consultation (topics,
// articles searched and picked from the knowledge base, referral, contact only with consent), today's
// consultations, sending the articles by e-mail (retried by hand when the server refuses) or to WhatsApp, and the
// sheet's print button. Everything through /api/ventanilla/… with desk.api (CSRF token included).
(function () {
  "use strict";
  const el = desk.el;
  const API = "/api/ventanilla";

  async function send(path, options) {
    const response = await desk.api(path, options);
    const data = await response.json().catch(() => ({}));
    return { ok: response.ok, status: response.status, data: data };
  }

  function failure(result) {
    return (result.data && result.data.message) || "No se pudo completar la acción (" + result.status + ").";
  }

  function setStatus(node, message, kind) {
    node.textContent = message || "";
    node.classList.toggle("error", kind === "error");
    node.classList.toggle("ok", kind === "ok");
  }

  // Send a consultation's articles by e-mail; the button stays for a retry when the server refuses.
  async function emailArticles(visitId, button, status) {
    button.disabled = true;
    setStatus(status, "Enviando el correo…");
    const result = await send(API + "/registros/" + visitId + "/correo", { method: "POST", json: {} });
    button.disabled = false;
    if (result.ok) {
      setStatus(status, "Enviado por correo el " + result.data.visit.emailed_label + ".", "ok");
      button.textContent = "Enviar de nuevo por correo";
    } else {
      setStatus(status, failure(result), "error");
      button.textContent = "Reintentar envío por correo";
    }
    return result.ok;
  }

  // Send a consultation's articles to WhatsApp: at once (the person wrote in the last 24 hours) or after
  // an approved template, when the person answers it (bot/window/whatsapp.py).
  async function whatsappArticles(visitId, button, status) {
    button.disabled = true;
    setStatus(status, "Enviando por WhatsApp…");
    const result = await send(API + "/registros/" + visitId + "/whatsapp", { method: "POST", json: {} });
    if (!result.ok) {
      button.disabled = false;
      setStatus(status, failure(result), "error");
      return false;
    }
    const visit = result.data.visit;
    setStatus(status, result.data.outcome === "sent"
      ? "Enviado por WhatsApp el " + visit.whatsapp_sent_label + "."
      : "Mensaje de aviso enviado por WhatsApp el " + visit.whatsapp_waiting_label +
        ": la información sale en cuanto la persona responda.", "ok");
    return true;
  }

  // ---------------------------------------------------------------- the sheet
  const printButton = document.getElementById("w-print");
  if (printButton) printButton.addEventListener("click", () => window.print());

  // ---------------------------------------------------------------- one consultation
  const visitRoot = document.getElementById("w-visit");
  if (visitRoot) {
    const id = visitRoot.dataset.visit;
    const emailButton = document.getElementById("w-email-send");
    const status = document.getElementById("w-email-status");
    if (emailButton) emailButton.addEventListener("click", () => emailArticles(id, emailButton, status));
    const whatsappButton = document.getElementById("w-whatsapp-send");
    const whatsappStatus = document.getElementById("w-whatsapp-status");
    if (whatsappButton) whatsappButton.addEventListener("click", () => whatsappArticles(id, whatsappButton, whatsappStatus));
    const erase = document.getElementById("w-erase");
    erase.addEventListener("click", async () => {
      if (!document.getElementById("w-erase-confirm").checked) {
        setStatus(status, "Marque la casilla de confirmación para borrar la atención.", "error");
        return;
      }
      const result = await send(API + "/registros/" + id + "/borrar", { method: "POST", json: {} });
      if (result.ok) window.location.assign("/ventanilla");
      else setStatus(status, failure(result), "error");
    });
  }

  // ---------------------------------------------------------------- the form
  const root = document.getElementById("window");
  if (!root) return;
  const form = document.getElementById("w-form");
  const errorBox = document.getElementById("w-error");
  const topicInput = document.getElementById("w-topic");
  const topicList = document.getElementById("w-topics");
  const query = document.getElementById("w-article-query");
  const results = document.getElementById("w-article-results");
  const chosenList = document.getElementById("w-articles");
  const chosenEmpty = document.getElementById("w-articles-empty");
  const referred = document.getElementById("w-referred");
  const referredBox = document.getElementById("w-referred-box");
  const referredTo = document.getElementById("w-referred-to");
  const consent = document.getElementById("w-consent");
  const email = document.getElementById("w-email");
  const whatsapp = document.getElementById("w-whatsapp");
  const done = document.getElementById("w-done");
  const doneEmail = document.getElementById("w-done-email");
  const doneStatus = document.getElementById("w-done-status");
  const doneWhatsapp = document.getElementById("w-done-whatsapp");
  const whatsappNote = document.getElementById("w-whatsapp-note");
  let topics = [];
  let chosen = []; // {id, title}
  let lastResults = [];
  let searchSeq = 0;
  let searchTimer = null;
  let doneVisit = null;

  function showError(message) {
    errorBox.textContent = message || "";
    errorBox.hidden = !message;
  }

  // topics
  function drawTopics() {
    topicList.replaceChildren(...topics.map((topic) => el("li", {}, [
      document.createTextNode(topic),
      el("button", { type: "button", "aria-label": "Quitar el tema " + topic, text: "×", "data-topic": topic }),
    ])));
  }
  function addTopic() {
    const topic = topicInput.value.replace(/\s+/g, " ").trim();
    if (!topic) return;
    if (!topics.some((t) => t.toLowerCase() === topic.toLowerCase())) {
      if (topics.length >= 8) { showError("Como máximo 8 temas."); return; }
      topics.push(topic);
    }
    topicInput.value = "";
    drawTopics();
  }
  document.getElementById("w-topic-add").addEventListener("click", addTopic);
  topicInput.addEventListener("keydown", (event) => {
    if (event.key === "Enter") { event.preventDefault(); addTopic(); }
  });
  topicList.addEventListener("click", (event) => {
    const button = event.target.closest("button[data-topic]");
    if (!button) return;
    topics = topics.filter((t) => t !== button.dataset.topic);
    drawTopics();
    topicInput.focus();
  });

  // articles
  function drawChosen() {
    chosenList.replaceChildren(...chosen.map((article) => el("li", {}, [
      document.createTextNode(article.title + " "),
      el("button", { type: "button", "data-remove": article.id, "aria-label": "Quitar el artículo: " + article.title, text: "Quitar" }),
    ])));
    chosenEmpty.hidden = chosen.length > 0;
    drawResults();
  }
  function drawResults() {
    results.replaceChildren(...lastResults.map((article) => {
      const picked = chosen.some((c) => c.id === article.id);
      return el("li", {}, [
        el("span", {}, [el("a", { className: "w-title", href: article.url, target: "_blank", rel: "noopener",
                              text: article.title, "aria-label": "Abrir el artículo: " + article.title }),
                        el("span", { className: "w-summary", text: article.line + " · actualizado " + article.reviewed })]),
        el("button", { type: "button", className: "button w-button-secondary", "data-pick": article.id, disabled: picked,
                       "aria-label": (picked ? "Elegido: " : "Elegir el artículo: ") + article.title, text: picked ? "Elegido" : "Elegir" }),
      ]);
    }));
  }
  async function search() {
    const text = query.value.trim();
    const seq = ++searchSeq;
    if (!text) { lastResults = []; drawResults(); return; }
    const result = await send(API + "/articulos?q=" + encodeURIComponent(text));
    if (seq !== searchSeq) return; // a newer search is on its way
    if (!result.ok) { showError(failure(result)); return; }
    lastResults = result.data.articles || [];
    if (!lastResults.length) results.replaceChildren(el("li", { className: "muted", text: "Sin resultados." }));
    else drawResults();
  }
  query.addEventListener("input", () => {
    window.clearTimeout(searchTimer);
    searchTimer = window.setTimeout(search, 250);
  });
  query.addEventListener("keydown", (event) => {
    if (event.key === "Enter") { event.preventDefault(); window.clearTimeout(searchTimer); search(); }
  });
  results.addEventListener("click", (event) => {
    const button = event.target.closest("button[data-pick]");
    if (!button) return;
    const article = lastResults.find((a) => a.id === button.dataset.pick);
    if (article && !chosen.some((c) => c.id === article.id)) {
      if (chosen.length >= 10) { showError("Como máximo 10 artículos por atención."); return; }
      chosen.push({ id: article.id, title: article.title });
      drawChosen();
    }
  });
  chosenList.addEventListener("click", (event) => {
    const button = event.target.closest("button[data-remove]");
    if (!button) return;
    chosen = chosen.filter((c) => c.id !== button.dataset.remove);
    drawChosen();
    query.focus();
  });

  // referral and contact
  function syncReferral() {
    referredBox.hidden = !referred.checked;
    if (!referred.checked) referredTo.value = "";
  }
  function syncConsent() {
    [email, whatsapp].forEach((input) => {
      input.disabled = !consent.checked;
      if (!consent.checked) input.value = "";
    });
  }
  referred.addEventListener("change", () => { syncReferral(); if (referred.checked) referredTo.focus(); });
  consent.addEventListener("change", () => { syncConsent(); if (consent.checked) email.focus(); });

  // today's consultations
  function row(visit) {
    const mail = visit.emailed_at ? "Enviado" : visit.email_error && visit.email ? "Falló" : visit.email ? "Pendiente" : "—";
    const whatsapp = visit.whatsapp_sent_label ? "Enviado" : visit.whatsapp_waiting_label ? "Espera respuesta"
      : visit.whatsapp_error && visit.whatsapp ? "No enviado" : visit.whatsapp ? "Pendiente" : "—";
    return el("tr", {}, [
      el("td", { text: (visit.created_label || "").slice(-5) }),
      el("td", {}, [el("a", { href: visit.url, text: visit.reference })]),
      el("td", { text: visit.line_label }),
      el("td", { text: mail }),
      el("td", { text: whatsapp }),
    ]);
  }
  async function loadToday() {
    const result = await send(API + "/registros");
    if (!result.ok) return;
    const visits = result.data.visits || [];
    const table = document.getElementById("w-today");
    table.tBodies[0].replaceChildren(...visits.map(row));
    table.hidden = visits.length === 0;
    document.getElementById("w-today-empty").hidden = visits.length > 0;
  }

  // "Limpiar" (and after recording): the form's own fields reset first, then what the script holds.
  form.addEventListener("reset", () => window.setTimeout(() => {
    topics = []; chosen = []; lastResults = [];
    drawTopics(); drawChosen(); syncReferral(); syncConsent(); showError("");
  }, 0));

  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    showError("");
    if (topicInput.value.trim()) addTopic();
    const body = {
      line: document.getElementById("w-line").value,
      country: document.getElementById("w-country").value || null,
      topics: topics,
      articles: chosen.map((a) => a.id),
      referred: referred.checked,
      referred_to: referredTo.value,
      consent: consent.checked,
      email: email.value,
      whatsapp: whatsapp.value,
    };
    const submit = document.getElementById("w-submit");
    submit.disabled = true;
    const result = await send(API + "/registros", { method: "POST", json: body });
    submit.disabled = false;
    if (!result.ok) { showError(failure(result)); return; }
    doneVisit = result.data.visit;
    document.getElementById("w-done-reference").textContent = doneVisit.reference;
    document.getElementById("w-done-sheet").href = doneVisit.sheet_url;
    document.getElementById("w-done-link").href = doneVisit.url;
    doneEmail.hidden = !doneVisit.can_email;
    doneEmail.textContent = "Enviar por correo";
    doneWhatsapp.hidden = !doneVisit.can_whatsapp;
    doneWhatsapp.disabled = false;
    whatsappNote.hidden = !doneVisit.can_whatsapp;
    setStatus(doneStatus, doneVisit.email && !doneVisit.can_email && doneVisit.articles.length
      ? "El correo del servicio no está configurado: entregue la hoja impresa." : "");
    done.hidden = false;
    done.focus();
    form.reset();
    loadToday();
  });
  doneEmail.addEventListener("click", async () => {
    if (doneVisit && await emailArticles(doneVisit.id, doneEmail, doneStatus)) loadToday();
  });
  doneWhatsapp.addEventListener("click", async () => {
    if (doneVisit && await whatsappArticles(doneVisit.id, doneWhatsapp, doneStatus)) loadToday();
  });

  syncReferral();
  syncConsent();
  drawChosen();
  loadToday();
})();
