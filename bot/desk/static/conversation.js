// A conversation (/cola/{id}): the transcript refreshed every 2 seconds, the reply box, the articles
// the assistant suggests for the person's last message, article search, notes, tags, transfer, give
// back and close (all through /api/cola/{id}/…).
(function () {
  "use strict";
  const root = document.getElementById("conversation");
  if (!root) return;
  const id = root.dataset.ticket;
  const myId = Number(root.dataset.user);
  const supervisor = root.dataset.supervisor === "true";
  const POLL_MS = 2000;
  const LIMA = { timeZone: "America/Lima" };
  const log = document.getElementById("c-log");
  const form = document.getElementById("c-reply");
  const text = document.getElementById("c-text");
  const flash = document.getElementById("c-flash");
  const rendered = new Map(); // message id -> node
  let lastId = 0;
  let ticket = null;
  let timer = null;
  let loadedSide = false;
  let suggestedFor = null; // the person's message the suggestions were made for
  let inserted = []; // articles inserted into the reply box: {id, head}, the first still there is recorded with it

  const el = desk.el;

  function clock(iso) {
    if (!iso) return "";
    const date = new Date(iso);
    const sameDay = date.toLocaleDateString("es-PE", LIMA) === new Date().toLocaleDateString("es-PE", LIMA);
    const time = date.toLocaleTimeString("es-PE", Object.assign({ hour: "2-digit", minute: "2-digit" }, LIMA));
    return sameDay ? time : date.toLocaleDateString("es-PE", Object.assign({ day: "2-digit", month: "2-digit" }, LIMA)) + " " + time;
  }

  function ago(iso) {
    if (!iso) return "—";
    const seconds = Math.max(0, (Date.now() - new Date(iso).getTime()) / 1000);
    let phrase;
    if (seconds < 60) phrase = "hace menos de un minuto";
    else if (seconds < 3600) phrase = "hace " + Math.floor(seconds / 60) + " min";
    else if (seconds < 172800) phrase = "hace " + Math.floor(seconds / 3600) + " h";
    else phrase = "hace " + Math.floor(seconds / 86400) + " días";
    return phrase + " (" + clock(iso) + ")";
  }

  function say(message, isError) {
    flash.textContent = message || "";
    flash.classList.toggle("error", !!isError);
  }

  async function post(action, body) {
    const response = await desk.api("/api/cola/" + id + "/" + action, { method: "POST", json: body || {} });
    const data = await response.json().catch(() => ({}));
    if (!response.ok) say(data.message || "No se pudo completar la acción (" + response.status + ").", true);
    return response.ok ? data : null;
  }

  // ------------------------------------------------------------------ transcript
  function attachmentNodes(message) {
    return (message.attachments || []).map((item) => {
      const label = item.type === "location"
        ? "Ubicación: " + [item.latitude, item.longitude].filter(Boolean).join(", ") + (item.address ? " · " + item.address : "")
        : "Adjunto (" + (item.content_type || item.type || "archivo") + ")";
      if (item.url && /^https:\/\//.test(item.url)) {
        return el("span", { className: "c-attach" }, [el("a", { href: item.url, target: "_blank", rel: "noopener noreferrer", text: label })]);
      }
      return el("span", { className: "c-attach", text: label + (item.file_id ? " · id " + item.file_id.slice(0, 16) + "…" : "") });
    });
  }

  function messageNode(message) {
    let who = message.role_label;
    if ((message.role === "advisor" || message.role === "note") && message.author_name) who = message.author_name;
    if (message.role === "note") who = "Nota privada · " + who;
    const classes = "c-msg c-" + message.role + (message.role === "system" && message.author_name ? " c-from-advisor" : "");
    const node = el("div", { className: classes, "data-id": message.id }, [
      el("span", { className: "c-meta", text: who + " · " + clock(message.created_at) }),
      document.createTextNode(message.text),
    ]);
    attachmentNodes(message).forEach((n) => node.append(n));
    if (message.article_id) {
      node.append(el("span", { className: "c-article", text: "Artículo: " + (message.article_title || message.article_id) }));
    }
    if (message.delivery && (message.role === "advisor" || message.role === "system")) {
      const state = el("span", { className: "c-delivery " + message.delivery,
        text: message.delivery_label + (message.error ? " · " + message.error : "") });
      node.append(state);
    }
    return node;
  }

  function addMessages(messages) {
    const atBottom = log.scrollHeight - log.scrollTop - log.clientHeight < 60;
    messages.forEach((message) => {
      if (message.role === "person" && message.id !== suggestedFor) loadSuggestions();
      const node = messageNode(message);
      const old = rendered.get(message.id);
      if (old) old.replaceWith(node); else log.append(node);
      rendered.set(message.id, node);
      lastId = Math.max(lastId, message.id);
      node.dataset.delivery = message.delivery || "";
    });
    if (messages.length && atBottom) log.scrollTop = log.scrollHeight;
  }

  function since() {
    // messages whose delivery can still change are fetched again
    let first = lastId;
    rendered.forEach((node, messageId) => {
      if (["pending", "sending", "held"].includes(node.dataset.delivery)) first = Math.min(first, messageId - 1);
    });
    return first;
  }

  // ------------------------------------------------------------------ state
  function showState(data) {
    ticket = data.ticket;
    const mine = data.mine;
    const canAct = mine || supervisor;
    const active = ticket.status === "active";
    document.getElementById("c-status").textContent = ticket.status_label;
    document.getElementById("c-advisor").textContent = ticket.advisor_name || "—";
    document.getElementById("c-last-inbound").textContent = ago(data.last_inbound_at);
    document.getElementById("c-take").hidden = ticket.status !== "waiting";
    form.hidden = !(active && canAct);
    document.getElementById("c-manage").hidden = !(active && canAct);
    document.getElementById("c-office").textContent = ticket.office_label;
    document.getElementById("c-office-box").hidden = !((active && canAct) || ticket.status === "waiting") ||
      document.getElementById("c-office-to").options.length < 2;
    const closed = document.getElementById("c-closed");
    closed.hidden = ticket.status !== "closed" && ticket.status !== "closing";
    closed.textContent = ticket.status === "closing"
      ? "Cerrada: una respuesta espera a que la persona vuelva a escribir (WhatsApp); luego el asistente retoma la conversación."
      : "Conversación cerrada. El asistente virtual retomó la conversación.";
    const windowNote = document.getElementById("c-window");
    if (data.whatsapp_window_open === false) {
      windowNote.hidden = false;
      windowNote.textContent = "WhatsApp: la persona escribió hace más de 24 horas. Su respuesta se guardará y se entregará " +
        "cuando vuelva a escribir; se le avisa con una plantilla.";
    } else {
      windowNote.hidden = true;
    }
    if (!loadedSide && data.advisors) {
      loadedSide = true;
      document.getElementById("c-office-to").replaceChildren(el("option", { value: "", text: "Elija una oficina…" }),
        ...(data.offices || []).map((o) => el("option", { value: String(o.id), text: o.name })));
      document.getElementById("c-office-box").hidden = !(data.offices || []).length ||
        !((ticket.status === "active" && (mine || supervisor)) || ticket.status === "waiting");
      const select = document.getElementById("c-transfer-to");
      select.replaceChildren(el("option", { value: "", text: "Elija a un asesor/a…" }),
        ...data.advisors.filter((a) => a.id !== myId || supervisor).map((a) => el("option", { value: String(a.id), text: a.name })));
      document.getElementById("c-email").textContent = data.contact_email || (data.contact_hidden ? "Dejó un correo (solo lo ve supervisión)" : "—");
      document.getElementById("c-history").textContent = data.history.length
        ? data.history.map((h) => "n.º " + h.id + " (" + clock(h.created_at) + ", " + h.status_label + ")").join("; ")
        : "—";
      document.getElementById("c-tags").value = (ticket.tags || []).join(", ");
    } else if (data.contact_email) {
      document.getElementById("c-email").textContent = data.contact_email;
    }
  }

  async function load() {
    clearTimeout(timer);
    try {
      const response = await desk.api("/api/cola/" + id + "?despues=" + since());
      if (response.ok) {
        const data = await response.json();
        showState(data);
        addMessages(data.messages);
      } else if (response.status === 403 || response.status === 404) {
        const body = await response.json().catch(() => ({}));
        say(body.message || "Ya no puede ver esta conversación.", true);
        form.hidden = true;
        return;
      }
    } catch (error) {
      say("Sin conexión con la mesa; se reintentará.", true);
    }
    timer = setTimeout(load, POLL_MS);
  }

  // ------------------------------------------------------------------ actions
  document.getElementById("c-take-button").addEventListener("click", async (event) => {
    event.target.disabled = true;
    if (await post("tomar")) say("Tomó la conversación. La persona ya sabe que usted la atiende.");
    event.target.disabled = false;
    load();
  });

  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const value = text.value.trim();
    if (!value) { say("Escriba la respuesta.", true); text.focus(); return; }
    const button = form.querySelector('button[type="submit"]');
    button.disabled = true;
    const article = inserted.find((item) => value.includes(item.head));
    const result = await post("responder", article ? { text: value, article_id: article.id } : { text: value });
    button.disabled = false;
    if (result) {
      text.value = "";
      inserted = [];
      say(result.delivery === "sent" ? "Respuesta entregada." : "Respuesta guardada: " + result.delivery_label);
    }
    text.focus();
    load();
  });
  text.addEventListener("keydown", (event) => {
    if (event.key === "Enter" && (event.ctrlKey || event.metaKey)) { event.preventDefault(); form.requestSubmit(); }
  });

  // articles: inserted into the reply (the advisor reviews the text before sending)
  function insertArticle(article) {
    if (form.hidden) { say("Tome la conversación para responder con este artículo.", true); return; }
    text.value = (text.value.trim() ? text.value.trim() + "\n\n" : "") + article.text;
    inserted.push({ id: article.id, head: article.text.slice(0, 60) });
    text.focus();
    say("Artículo insertado en la respuesta: revíselo antes de enviar.");
  }

  function articleItem(article, note) {
    const insert = el("button", { type: "button", className: "button button-secondary button-small", text: "Insertar",
      "aria-label": "Insertar el artículo " + article.title });
    insert.addEventListener("click", () => insertArticle(article));
    const label = [article.line, note].filter(Boolean).join(" · ");
    return el("li", {}, [el("span", {}, [document.createTextNode(article.title), el("small", { text: label })]), insert]);
  }

  const suggested = document.getElementById("c-suggested");
  const suggestedNote = document.getElementById("c-suggested-note");
  let suggesting = false;
  async function loadSuggestions() {
    if (suggesting) return;
    suggesting = true;
    try {
      const response = await desk.api("/api/cola/" + id + "/sugeridos");
      if (!response.ok) return;
      const data = await response.json();
      suggestedFor = data.message_id;
      suggested.replaceChildren(...(data.articles.length
        ? data.articles.map((a) => articleItem(a, a.why === "assistant" ? "respuesta del asistente" : "búsqueda"))
        : [el("li", { text: "Ningún artículo de la base responde a este mensaje." })]));
      suggestedNote.textContent = data.understood === "search"
        ? "El asistente no está disponible: solo la búsqueda en la base." : "Para el último mensaje de la persona.";
    } catch (error) {
      suggestedNote.textContent = "No se pudieron cargar las sugerencias.";
    } finally {
      suggesting = false;
    }
  }

  const toggle = document.getElementById("c-articles-toggle");
  const panel = document.getElementById("c-articles");
  const query = document.getElementById("c-article-query");
  const results = document.getElementById("c-article-results");
  let searchTimer = null;
  toggle.addEventListener("click", () => {
    panel.hidden = !panel.hidden;
    toggle.setAttribute("aria-expanded", String(!panel.hidden));
    if (!panel.hidden) query.focus();
  });
  query.addEventListener("input", () => {
    clearTimeout(searchTimer);
    searchTimer = setTimeout(async () => {
      const q = query.value.trim();
      if (!q) { results.replaceChildren(); return; }
      const response = await desk.api("/api/articulos?q=" + encodeURIComponent(q));
      if (!response.ok) return;
      const data = await response.json();
      results.replaceChildren(...(data.articles.length ? data.articles.map((article) => articleItem(article))
        : [el("li", { text: "Ningún artículo coincide." })]));
    }, 250);
  });

  document.getElementById("c-tags-save").addEventListener("click", async () => {
    const tags = document.getElementById("c-tags").value.split(",").map((t) => t.trim()).filter(Boolean);
    const result = await post("etiquetas", { tags: tags });
    if (result) { document.getElementById("c-tags").value = result.tags.join(", "); say("Etiquetas guardadas."); }
  });

  document.getElementById("c-note-save").addEventListener("click", async () => {
    const note = document.getElementById("c-note");
    if (!note.value.trim()) { say("Escriba la nota.", true); return; }
    if (await post("nota", { text: note.value })) { note.value = ""; say("Nota guardada (solo la ve el equipo)."); load(); }
  });

  document.getElementById("c-transfer").addEventListener("click", async () => {
    const to = Number(document.getElementById("c-transfer-to").value);
    if (!to) { say("Elija a quién transferir la conversación.", true); return; }
    if (await post("transferir", { advisor_id: to })) { say("Conversación transferida."); load(); }
  });

  document.getElementById("c-office-move").addEventListener("click", async () => {
    const select = document.getElementById("c-office-to");
    const to = Number(select.value);
    if (!to) { say("Elija a qué oficina derivar la conversación.", true); return; }
    const name = select.options[select.selectedIndex].text;
    if (!window.confirm("¿Derivar esta conversación a " + name + "? Pasará a la cola de esa oficina.")) return;
    if (await post("oficina", { office_id: to })) window.location.assign("/cola");
  });

  document.getElementById("c-give-back").addEventListener("click", async () => {
    if (!window.confirm("¿Devolver esta conversación a la cola? Otra persona del equipo podrá tomarla.")) return;
    if (await post("devolver")) window.location.assign("/cola");
  });

  document.getElementById("c-close").addEventListener("click", async () => {
    if (!window.confirm("¿Cerrar la conversación? El asistente virtual la retomará y pedirá una calificación.")) return;
    const result = await post("cerrar");
    if (result) { say(result.status === "closed" ? "Conversación cerrada." : "Cerrada: la respuesta retenida se entregará primero."); load(); }
  });

  document.addEventListener("visibilitychange", () => { if (document.visibilityState === "visible") load(); });
  load();
})();
