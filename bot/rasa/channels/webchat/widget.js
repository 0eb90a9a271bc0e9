/*
 * PERÚ INFOMIGRA — chat widget. No framework, no build step, no external requests.
 *
 * Embed (see README, "Web widget"):
 *   <script>window.infomigraChat = {title: "PERÚ INFOMIGRA", primaryColor: "#b3121f"};</script>
 *   <script src="https://ASSISTANT-HOST/webhooks/web/widget.js" defer></script>
 *
 * Options (all optional): serverUrl (the assistant's origin; default: where widget.js came from),
 * title, subtitle, primaryColor, initialMessage (greeting shown first; "" for none), open (start open).
 *
 * It speaks Socket.IO v5 over Engine.IO v4 on a plain WebSocket: handshake "0{...}", namespace
 * connect "40", events "42[name, data]", ping "2" answered with pong "3"; it reconnects with backoff.
 * The server issues the conversation's token (kept in localStorage) and sends the history on every
 * (re)connection, so a page reload keeps the conversation.
 */
(function () {
  "use strict";
  if (window.__infomigraChatLoaded) return;
  window.__infomigraChatLoaded = true;

  var cfg = window.infomigraChat || {};
  var script = document.currentScript;
  var scriptUrl = script && script.src ? new URL(script.src, location.href) : null;
  var serverUrl = String(cfg.serverUrl || (scriptUrl ? scriptUrl.origin : location.origin)).replace(/\/+$/, "");
  var assetBase = cfg.serverUrl || !scriptUrl
    ? serverUrl + "/webhooks/web"
    : scriptUrl.href.replace(/\/widget\.js(?:[?#].*)?$/, "");
  var socketUrl = serverUrl.replace(/^http/, "ws") + (cfg.socketPath || "/socket.io") + "/?EIO=4&transport=websocket";

  var TITLE = typeof cfg.title === "string" && cfg.title.trim() ? cfg.title.trim() : "PERÚ INFOMIGRA";
  var SUBTITLE = typeof cfg.subtitle === "string" ? cfg.subtitle : "Asistente virtual de migración laboral";
  var GREETING = typeof cfg.initialMessage === "string" ? cfg.initialMessage
    : "¡Hola! Soy el asistente virtual de PERÚ INFOMIGRA. Te informo sobre cómo trabajar en el extranjero, " +
      "retornar al Perú o trabajar en el Perú si eres extranjero.\n\nEscribe tu pregunta, por ejemplo: " +
      "«¿Qué necesito para trabajar en España?»";
  var TOKEN_KEY = "infomigra-chat-token";
  var OPEN_KEY = "infomigra-chat-open";
  var MAX_CHARS = 4096;
  var REPLY_TIMEOUT_MS = 60000;

  function store(kind) {
    try { return window[kind]; } catch (e) { return null; }
  }
  function get(kind, key) {
    var s = store(kind);
    try { return s ? s.getItem(key) : null; } catch (e) { return null; }
  }
  function put(kind, key, value) {
    var s = store(kind);
    try { if (s) { if (value === null) s.removeItem(key); else s.setItem(key, value); } } catch (e) { /* private mode */ }
  }

  // ---------------------------------------------------------------- DOM helpers
  function el(tag, attrs, children) {
    var node = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (name) {
      var value = attrs[name];
      if (value === null || value === undefined || value === false) return;
      if (name === "text") node.textContent = value;
      else if (name === "className") node.className = value;
      else node.setAttribute(name, value === true ? "" : value);
    });
    (children || []).forEach(function (child) {
      if (child) node.appendChild(typeof child === "string" ? document.createTextNode(child) : child);
    });
    return node;
  }

  var SVG_NS = "http://www.w3.org/2000/svg";
  function icon(paths, size) {
    var svg = document.createElementNS(SVG_NS, "svg");
    svg.setAttribute("viewBox", "0 0 24 24");
    svg.setAttribute("width", size || 24);
    svg.setAttribute("height", size || 24);
    svg.setAttribute("aria-hidden", "true");
    svg.setAttribute("focusable", "false");
    paths.forEach(function (d) {
      var path = document.createElementNS(SVG_NS, "path");
      path.setAttribute("d", d);
      svg.appendChild(path);
    });
    return svg;
  }
  var ICON_CHAT = ["M4 4h16a2 2 0 0 1 2 2v10a2 2 0 0 1-2 2H9l-5 4v-4H4a2 2 0 0 1-2-2V6a2 2 0 0 1 2-2z",
                   "M7 9h10M7 13h6"];
  var ICON_CLOSE = ["M6 6l12 12M18 6L6 18"];
  var ICON_SEND = ["M3 11.5L21 3l-8.5 18-2.2-7.3L3 11.5z"];
  var ICON_NEW = ["M4 12a8 8 0 1 0 2.3-5.7", "M4 4v4h4"];

  // The link's text: the whole host, and the path shortened (the full address is the link itself).
  function shortUrl(url) {
    var bare = url.replace(/^https:\/\//, "").replace(/\/$/, "");
    if (bare.length <= 48) return bare;
    var parts = bare.split("/");
    var host = parts.shift();
    var budget = Math.max(28, 48 - host.length);
    var tail = "";
    while (parts.length && tail.length + parts[parts.length - 1].length + 1 <= budget) tail = "/" + parts.pop() + tail;
    if (!parts.length) return host + tail;
    return host + "/…" + (tail || "/" + parts.pop().slice(-budget));
  }

  // https URLs; a closing parenthesis or final punctuation is not part of the link.
  var URL_RE = /https:\/\/[^\s<>"'()\[\]{}]+/g;
  function linkified(text) {
    var frag = document.createDocumentFragment();
    var last = 0;
    text.replace(URL_RE, function (match, offset) {
      var url = match.replace(/[.,;:!?¡¿]+$/, "");
      if (offset > last) frag.appendChild(document.createTextNode(text.slice(last, offset)));
      frag.appendChild(el("a", { href: url, target: "_blank", rel: "noopener noreferrer", title: url, text: shortUrl(url) }));
      last = offset + url.length;
      return match;
    });
    if (last < text.length) frag.appendChild(document.createTextNode(text.slice(last)));
    return frag;
  }

  // Plain text with blank-line paragraphs → paragraphs, "- " lines → lists, the final
  // "Actualizado: dd/mm/aaaa" line on its own, official sources in smaller type.
  // A short one-line paragraph without final punctuation, followed by more, is a title: bold.
  function rich(text, titles) {
    var box = el("div", { className: "imw-text" });
    var paras = String(text).replace(/\r\n?/g, "\n").split(/\n{2,}/);
    paras.forEach(function (para, index) {
      var lines = para.split("\n").filter(function (l) { return l.trim() !== ""; });
      if (!lines.length) return;
      var updated = null;
      if (/^\s*Actualizado:/i.test(lines[lines.length - 1])) updated = lines.pop().trim();
      if (lines.length) {
        var sources = /^\s*Fuentes? oficial(es)?:/i.test(lines[0]);
        var lead = titles && !updated && lines.length === 1 && index < paras.length - 1 && lines[0].length <= 100 &&
          !/[.:;,!?…)]\s*$/.test(lines[0]) && !/^\s*[-•\d]/.test(lines[0]);
        var block = el("div", { className: "imw-p" + (sources ? " imw-sources" : "") + (lead ? " imw-lead" : "") });
        var list = null;
        lines.forEach(function (line, i) {
          var item = /^\s*[-•]\s+(.*)$/.exec(line);
          if (item) {
            if (!list) { list = el("ul"); block.appendChild(list); }
            list.appendChild(el("li", {}, [linkified(item[1])]));
            return;
          }
          list = null;
          if (i > 0 && block.lastChild && block.lastChild.nodeName !== "UL") block.appendChild(el("br"));
          block.appendChild(linkified(line));
        });
        box.appendChild(block);
      }
      if (updated) box.appendChild(el("p", { className: "imw-updated", text: updated }));
    });
    return box;
  }

  // ---------------------------------------------------------------- widget
  var host = el("div", { id: "infomigra-chat" });
  host.style.display = "none"; // until its stylesheet is in
  var root = host.attachShadow ? host.attachShadow({ mode: "open" }) : host;
  var sheet = el("link", { rel: "stylesheet", href: assetBase + "/widget.css" });
  sheet.addEventListener("load", function () { host.style.display = ""; });
  sheet.addEventListener("error", function () { host.style.display = ""; });
  root.appendChild(sheet);
  if (typeof cfg.primaryColor === "string" && window.CSS && CSS.supports && CSS.supports("color", cfg.primaryColor)) {
    host.style.setProperty("--imw-primary", cfg.primaryColor);
  }

  var badge = el("span", { className: "imw-badge", "aria-hidden": "true", hidden: true });
  var bubble = el("button", {
    type: "button", className: "imw-bubble", "aria-haspopup": "dialog", "aria-expanded": "false",
    "aria-controls": "imw-panel", "aria-label": "Abrir el chat de " + TITLE
  }, [icon(ICON_CHAT, 30), badge]);

  var connText = el("span", { className: "imw-conn", text: "Conectando…" });
  var closeBtn = el("button", { type: "button", className: "imw-icon", "aria-label": "Cerrar el chat", title: "Cerrar" },
    [icon(ICON_CLOSE, 22)]);
  var newBtn = el("button", {
    type: "button", className: "imw-icon", "aria-label": "Empezar una conversación nueva", title: "Conversación nueva"
  }, [icon(ICON_NEW, 20)]);
  var header = el("header", { className: "imw-header" }, [
    el("div", { className: "imw-avatar", "aria-hidden": "true" }, [icon(ICON_CHAT, 22)]),
    el("div", { className: "imw-heading" }, [
      el("h2", { id: "imw-title", className: "imw-title", text: TITLE }),
      el("p", { className: "imw-sub" }, [el("span", { className: "imw-dot", "aria-hidden": "true" }), connText,
        SUBTITLE ? el("span", { className: "imw-subtitle", text: " · " + SUBTITLE }) : null])
    ]),
    newBtn, closeBtn
  ]);

  var retryBtn = el("button", { type: "button", className: "imw-retry", text: "Reintentar ahora" });
  var bannerText = el("span", { className: "imw-banner-text" });
  var banner = el("div", { className: "imw-banner", role: "status", "aria-live": "polite", hidden: true },
    [bannerText, retryBtn]);
  var log = el("div", {
    className: "imw-log", role: "log", "aria-live": "polite", "aria-relevant": "additions text",
    "aria-label": "Conversación con " + TITLE, tabindex: "0"
  });
  var typing = el("div", { className: "imw-typing", role: "status", hidden: true }, [
    el("span", { className: "imw-sr", text: "El asistente está escribiendo…" }),
    el("span", { className: "imw-dots", "aria-hidden": "true" }, [el("i"), el("i"), el("i")])
  ]);
  var scroller = el("div", { className: "imw-scroll" }, [log, typing]);
  var input = el("textarea", {
    id: "imw-input", className: "imw-input", rows: "1", maxlength: String(MAX_CHARS),
    placeholder: "Escribe tu pregunta…", autocomplete: "off", enterkeyhint: "send"
  });
  var sendBtn = el("button", { type: "submit", className: "imw-send", "aria-label": "Enviar mensaje", title: "Enviar" },
    [icon(ICON_SEND, 22)]);
  var form = el("form", { className: "imw-form" }, [
    el("label", { className: "imw-sr", for: "imw-input", text: "Escribe tu mensaje" }), input, sendBtn
  ]);
  var foot = el("p", { className: "imw-foot", text: "Servicio gratuito del Ministerio de Trabajo. Nunca te pediremos pagos ni contraseñas." });
  var panel = el("section", {
    id: "imw-panel", className: "imw-panel", role: "dialog", "aria-modal": "false", "aria-labelledby": "imw-title",
    hidden: true
  }, [header, banner, scroller, form, foot]);
  var frame = el("div", { className: "imw" }, [panel, bubble]);
  root.appendChild(frame);

  // ---------------------------------------------------------------- rendering
  var unread = 0;
  var waiting = null; // reply timer while the assistant is answering
  var anchor = null;  // the person's message of the turn being answered: long answers are read from their start

  function toBottom() { scroller.scrollTop = scroller.scrollHeight; }
  function reveal(node) { scroller.scrollTop = Math.max(0, node.offsetTop - 10); } // clamped at the bottom

  var WHO = { bot: "Asistente", user: "Tú", advisor: "Asesor(a)", notice: "Aviso" };

  function addMessage(msg, opts) {
    opts = opts || {};
    var from = WHO[msg.from] ? msg.from : "bot";
    var who = from === "advisor" && msg.name ? "Asesor(a) " + msg.name : WHO[from];
    var item = el("div", { className: "imw-msg imw-" + from }, [
      el("span", { className: from === "advisor" ? "imw-who" : "imw-sr", text: who + (from === "advisor" ? "" : ": ") }),
      from === "user" ? el("div", { className: "imw-text" }, [linkified(String(msg.text || ""))])
        : rich(msg.text || "", from === "bot")
    ]);
    log.appendChild(item);
    if (msg.buttons && msg.buttons.length) {
      var group = el("div", { className: "imw-buttons", role: "group", "aria-label": "Opciones de respuesta" });
      msg.buttons.forEach(function (b) {
        if (!b || typeof b.title !== "string" || typeof b.ref !== "string") return;
        var btn = el("button", { type: "button", className: "imw-choice", text: b.title });
        // From the keyboard, focus goes on to the text box; after a tap it does not (no keyboard pops up).
        btn.addEventListener("click", function (ev) { choose(b, ev.detail === 0); });
        group.appendChild(btn);
      });
      log.appendChild(group);
    }
    if (from === "user") { anchor = item; toBottom(); } else if (!opts.history) reveal(anchor || item);
    if (!opts.history && from !== "user" && panel.hidden) {
      unread += 1;
      badge.textContent = unread > 9 ? "9+" : String(unread);
      badge.hidden = false;
      bubble.setAttribute("aria-label", "Abrir el chat de " + TITLE + " (" +
        (unread === 1 ? "1 mensaje nuevo" : unread + " mensajes nuevos") + ")");
    }
  }

  function clearButtons() {
    var groups = log.querySelectorAll(".imw-buttons");
    for (var i = 0; i < groups.length; i++) groups[i].remove();
  }

  function setTyping(on) {
    if (waiting) { clearTimeout(waiting); waiting = null; }
    typing.hidden = !on;
    if (!on) anchor = null;
    if (on) {
      toBottom();
      waiting = setTimeout(function () {
        typing.hidden = true;
        addMessage({ from: "notice", text: "El asistente está tardando en responder. Inténtalo de nuevo en un momento." });
      }, REPLY_TIMEOUT_MS);
    }
  }

  // The person's last question and the start of its answer (or the end, when it all fits).
  function showLatest() {
    var mine = log.querySelectorAll(".imw-user");
    if (mine.length) reveal(mine[mine.length - 1]); else toBottom();
  }

  function renderHistory(messages) {
    log.textContent = "";
    if (GREETING) addMessage({ from: "bot", text: GREETING }, { history: true });
    (messages || []).forEach(function (m) { addMessage(m, { history: true }); });
    showLatest();
    anchor = null;
  }

  // ---------------------------------------------------------------- connection state
  var state = "idle"; // idle | connecting | online | reconnecting
  var lastRefusal = null; // the server's last reason for refusing a connection, shown once
  var failures = 0;

  function showState() {
    panel.setAttribute("data-state", state);
    connText.textContent = state === "online" ? "En línea" : state === "reconnecting" ? "Reconectando…" : "Conectando…";
    if (state === "reconnecting") {
      bannerText.textContent = failures >= 3
        ? "No hay conexión con el asistente. Revisa tu internet; seguimos reintentando…"
        : "Se perdió la conexión. Reconectando…";
      banner.className = "imw-banner" + (failures >= 3 ? " imw-error" : "");
      retryBtn.hidden = failures < 2;
      banner.hidden = false;
    } else {
      banner.hidden = true;
    }
    sendBtn.disabled = state !== "online";
  }

  // ---------------------------------------------------------------- Socket.IO v5 / Engine.IO v4 client
  var ws = null;
  var pingTimer = null;
  var retryTimer = null;
  var sessionReady = false;

  function emit(name, data) {
    if (ws && ws.readyState === 1) { ws.send("42" + JSON.stringify([name, data])); return true; }
    return false;
  }

  function armPing(interval, timeout) {
    clearTimeout(pingTimer);
    pingTimer = setTimeout(function () { if (ws) ws.close(); }, interval + timeout + 1000);
  }

  function connect() {
    clearTimeout(retryTimer);
    if (ws && (ws.readyState === 0 || ws.readyState === 1)) return;
    if (state !== "reconnecting") state = "connecting";
    showState();
    var timing = { interval: 25000, timeout: 20000 };
    var socket;
    try { socket = new WebSocket(socketUrl); } catch (e) { scheduleReconnect(); return; }
    ws = socket;
    socket.onmessage = function (ev) {
      if (socket !== ws || typeof ev.data !== "string") return;
      var data = ev.data;
      var type = data.charAt(0);
      if (type === "0") { // Engine.IO open
        try {
          var hs = JSON.parse(data.slice(1));
          timing.interval = hs.pingInterval || timing.interval;
          timing.timeout = hs.pingTimeout || timing.timeout;
        } catch (e) { /* defaults */ }
        armPing(timing.interval, timing.timeout);
        socket.send("40"); // Socket.IO connect to "/"
      } else if (type === "2") { // ping
        socket.send("3");
        armPing(timing.interval, timing.timeout);
      } else if (type === "1") { // close
        socket.close();
      } else if (type === "4") { // Socket.IO packet
        var sio = data.charAt(1);
        if (sio === "0") {
          emit("session_request", { token: get("localStorage", TOKEN_KEY) });
        } else if (sio === "2") {
          var body = data.slice(2).replace(/^\d+/, "");
          var packet;
          try { packet = JSON.parse(body); } catch (e) { return; }
          if (Array.isArray(packet) && typeof packet[0] === "string") onEvent(packet[0], packet[1]);
        } else if (sio === "1" || sio === "4") { // disconnected or refused by the server
          if (sio === "4") { // refused: say why once (e.g. too many chat windows open from one connection)
            var refusal;
            try { refusal = JSON.parse(data.slice(2)).message; } catch (e) { refusal = null; }
            if (typeof refusal === "string" && refusal !== lastRefusal) addMessage({ from: "notice", text: refusal });
            lastRefusal = refusal;
          }
          socket.close();
        }
      }
    };
    socket.onclose = function () {
      if (socket !== ws) return;
      ws = null;
      sessionReady = false;
      clearTimeout(pingTimer);
      if (!typing.hidden) setTyping(false);
      scheduleReconnect();
    };
  }

  function scheduleReconnect() {
    failures += 1;
    state = "reconnecting";
    showState();
    var delay = Math.min(30000, 1000 * Math.pow(2, Math.min(failures - 1, 5)));
    delay = delay / 2 + Math.random() * delay / 2;
    clearTimeout(retryTimer);
    retryTimer = setTimeout(connect, delay);
  }

  function onEvent(name, data) {
    data = data || {};
    if (name === "session_confirm") {
      if (typeof data.token === "string") put("localStorage", TOKEN_KEY, data.token);
      sessionReady = true;
      failures = 0;
      state = "online";
      showState();
    } else if (name === "session_forget") {
      // "borrar mis datos": the conversation was erased; the next visit starts a new one.
      put("localStorage", TOKEN_KEY, null);
    } else if (name === "history") {
      renderHistory(Array.isArray(data.messages) ? data.messages : []);
    } else if (name === "bot_uttered") {
      if (typeof data.text === "string" || data.buttons) addMessage(data);
    } else if (name === "user_echo") {
      if (typeof data.text === "string") { clearButtons(); addMessage({ from: "user", text: data.text }); setTyping(true); }
    } else if (name === "notice") {
      if (typeof data.text === "string") addMessage({ from: "notice", text: data.text });
    } else if (name === "turn_end") {
      setTyping(false);
    }
  }

  // ---------------------------------------------------------------- sending
  function send(text) {
    text = text.trim();
    if (!text) return false;
    if (text.length > MAX_CHARS) {
      addMessage({ from: "notice", text: "Tu mensaje es demasiado largo. Escríbelo en menos de " + MAX_CHARS + " caracteres." });
      return false;
    }
    if (!sessionReady || !emit("user_uttered", { message: text })) {
      addMessage({ from: "notice", text: "Sin conexión: tu mensaje no se envió. Espera a que vuelva la conexión." });
      return false;
    }
    clearButtons();
    addMessage({ from: "user", text: text });
    setTyping(true);
    return true;
  }

  var coarse = window.matchMedia && window.matchMedia("(pointer: coarse)").matches;
  function focusAfterAction(toInput) {
    if (toInput) input.focus(); else log.focus({ preventScroll: true });
  }

  function choose(button, fromKeyboard) {
    if (!sessionReady || !emit("user_uttered", { ref: button.ref, title: button.title })) {
      addMessage({ from: "notice", text: "Sin conexión: espera a que vuelva la conexión." });
      return;
    }
    clearButtons();
    addMessage({ from: "user", text: button.title });
    setTyping(true);
    focusAfterAction(fromKeyboard || !coarse);
  }

  function grow() {
    input.style.height = "auto";
    input.style.height = Math.min(input.scrollHeight, 120) + "px";
  }

  form.addEventListener("submit", function (ev) {
    ev.preventDefault();
    if (send(input.value)) { input.value = ""; grow(); }
    input.focus();
  });
  input.addEventListener("keydown", function (ev) {
    if (ev.key === "Enter" && !ev.shiftKey && !ev.isComposing) {
      ev.preventDefault();
      if (typeof form.requestSubmit === "function") form.requestSubmit(); else form.dispatchEvent(new Event("submit"));
    }
  });
  input.addEventListener("input", grow);

  // ---------------------------------------------------------------- open / close
  function open(focus) {
    panel.hidden = false;
    frame.classList.add("imw-open");
    bubble.setAttribute("aria-expanded", "true");
    bubble.setAttribute("aria-label", "Cerrar el chat de " + TITLE);
    unread = 0;
    badge.hidden = true;
    put("sessionStorage", OPEN_KEY, "1");
    if (!ws) connect();
    showLatest();
    if (focus !== false) focusAfterAction(!coarse);
  }
  function close() {
    panel.hidden = true;
    frame.classList.remove("imw-open");
    bubble.setAttribute("aria-expanded", "false");
    bubble.setAttribute("aria-label", "Abrir el chat de " + TITLE);
    put("sessionStorage", OPEN_KEY, null);
    bubble.focus();
  }
  bubble.addEventListener("click", function () { if (panel.hidden) open(); else close(); });
  closeBtn.addEventListener("click", close);
  panel.addEventListener("keydown", function (ev) {
    if (ev.key === "Escape") { ev.stopPropagation(); close(); }
  });
  retryBtn.addEventListener("click", function () { failures = 1; connect(); });
  newBtn.addEventListener("click", function () {
    if (!window.confirm("¿Empezar una conversación nueva? Esta conversación dejará de mostrarse en este navegador.")) return;
    put("localStorage", TOKEN_KEY, null);
    setTyping(false);
    if (!emit("session_request", {})) { renderHistory([]); connect(); }
    input.focus();
  });
  window.addEventListener("online", function () { if (!ws) { failures = 0; connect(); } });
  document.addEventListener("visibilitychange", function () {
    if (document.visibilityState === "visible" && !ws && state !== "idle") { clearTimeout(retryTimer); connect(); }
  });

  function mount() {
    document.body.appendChild(host);
    renderHistory([]);
    showState();
    var wasOpen = get("sessionStorage", OPEN_KEY) === "1" || cfg.open === true;
    // A returning person connects at once, so that an advisor's answer shows up in the bubble.
    if (wasOpen) open(false); else if (get("localStorage", TOKEN_KEY)) connect();
  }
  if (document.body) mount(); else document.addEventListener("DOMContentLoaded", mount);

  window.infomigraChatWidget = { open: open, close: close };
})();
