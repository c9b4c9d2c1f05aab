/* vonr-bot chat widget. Embed with one tag:
 *   <script src="https://<gateway>/widget.js" data-exit-url="https://www.yr.no" defer></script>
 * Optional: data-target="#some-id" mounts the chat inside that element (default: end of <body>);
 * data-exit-only="true" adds only the quick exit (button and keys), for pages without the chat.
 * Nothing is stored in the browser: no cookies, no web storage, no IndexedDB. The conversation
 * lives only in this page's memory and is dropped by the quick exit. Server text is always set
 * with textContent, never as HTML. Its strings and phone numbers are filled in by the gateway from
 * the content (data/content/blocks.yml, utter_greet) and the helpline registry. */
(function () {
  "use strict";

  var script = document.currentScript;
  if (!script || window.__vonrWidget) return;
  window.__vonrWidget = true;

  var BASE = new URL(".", script.src).href;
  var WEBHOOK = BASE + "webhooks/rest/webhook";
  var PRIVACY = BASE + "personvern#privat-surfing";
  var EXIT_URL = safeUrl(script.getAttribute("data-exit-url")) || "https://www.yr.no";
  var TARGET = script.getAttribute("data-target");
  var EXIT_ONLY = script.getAttribute("data-exit-only") === "true";
  var MAX_CHARS = 1000;
  var TIMEOUT_MS = 20000;

  var HELP = {
    voTel: "[[vo_linjen.tel]]",
    voWeb: "[[vo_linjen.web]]",
    emTel: "[[police_emergency.tel]]"
  };
  // Every string shown, from data/content/blocks.yml (widget:), the greeting (utter_greet), the
  // offline card and the call buttons: filled in by the gateway.
  var TEXT = [[text:widget]];

  // Conversation state: memory only, one random id per page load, never stored.
  var state = { sender: newSender(), busy: false, exited: false };

  function newSender() {
    var alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-";
    var bytes = new Uint8Array(24);
    window.crypto.getRandomValues(bytes);
    var out = "";
    for (var i = 0; i < bytes.length; i++) out += alphabet.charAt(bytes[i] & 63);
    return out;
  }

  function safeUrl(value) {
    if (!value) return null;
    try {
      var u = new URL(value, document.baseURI);
      return u.protocol === "https:" || u.protocol === "http:" ? u.href : null;
    } catch (e) {
      return null;
    }
  }

  function el(tag, attrs, text) {
    var node = document.createElement(tag);
    if (attrs) {
      for (var k in attrs) {
        if (Object.prototype.hasOwnProperty.call(attrs, k)) node.setAttribute(k, attrs[k]);
      }
    }
    if (text != null) node.textContent = text;
    return node;
  }

  // ---- Quick exit -------------------------------------------------------------------------
  function quickExit() {
    if (state.exited) return;
    state.exited = true;
    state.sender = null;
    try {
      document.documentElement.classList.add("vonr-exiting");
      if (document.body) {
        if (document.body.replaceChildren) document.body.replaceChildren();
        else while (document.body.firstChild) document.body.removeChild(document.body.firstChild);
      }
      document.title = "";
    } catch (e) { /* blanking must never stop the exit */ }
    ui = null;
    // An anonymous count for the staff pages (no id, no body); never delays the exit.
    try { if (navigator.sendBeacon) navigator.sendBeacon(BASE + "events/exit"); } catch (e) { /* ignore */ }
    window.location.replace(EXIT_URL);
  }

  var escTimes = [];
  var shiftTimes = [];
  document.addEventListener("keydown", function (ev) {
    if (ev.repeat) return;
    var now = Date.now();
    if (ev.key === "Escape") {
      shiftTimes = [];
      escTimes = escTimes.filter(function (t) { return now - t < 1000; });
      escTimes.push(now);
      if (escTimes.length >= 2) { ev.preventDefault(); quickExit(); return; }
      if (ui && !ui.human.hidden) toggleHuman(false);
    } else if (ev.key === "Shift") {
      escTimes = [];
      shiftTimes = shiftTimes.filter(function (t) { return now - t < 1500; });
      shiftTimes.push(now);
      if (shiftTimes.length >= 3) { ev.preventDefault(); quickExit(); }
    } else {
      escTimes = [];
      shiftTimes = [];
    }
  }, true);

  // ---- UI ---------------------------------------------------------------------------------
  var ui = null;

  function build() {
    var css = el("link", { rel: "stylesheet", href: BASE + "widget.css" });
    document.head.appendChild(css);

    var exit = el("button", { type: "button", "class": "vonr-exit", id: "vonr-exit" }, TEXT.exit);
    exit.addEventListener("click", quickExit);
    document.body.insertBefore(exit, document.body.firstChild);
    if (EXIT_ONLY) return;
    exit.setAttribute("aria-describedby", "vonr-exit-note");

    var root = el("section", { "class": "vonr", id: "vonr-chat", "aria-labelledby": "vonr-title" });
    var head = el("div", { "class": "vonr-head" });
    var title = el("h2", { "class": "vonr-title", id: "vonr-title" }, TEXT.title);
    var humanBtn = el("button", {
      type: "button", "class": "vonr-human-btn", id: "vonr-human-btn",
      "aria-expanded": "false", "aria-controls": "vonr-human"
    }, TEXT.human);
    head.appendChild(title);
    head.appendChild(humanBtn);

    var human = buildHumanPanel();

    var log = el("div", {
      "class": "vonr-log", id: "vonr-log", role: "log", "aria-live": "polite",
      "aria-relevant": "additions", "aria-label": TEXT.log, tabindex: "0"
    });
    var typing = el("p", { "class": "vonr-typing", id: "vonr-typing", role: "status" });
    typing.hidden = true;

    var form = el("form", { "class": "vonr-form", id: "vonr-form", novalidate: "" });
    var label = el("label", { "for": "vonr-input", "class": "vonr-label" }, TEXT.label);
    var row = el("div", { "class": "vonr-row" });
    var input = el("textarea", {
      id: "vonr-input", "class": "vonr-input", rows: "2", maxlength: String(MAX_CHARS),
      autocomplete: "off", autocapitalize: "sentences", spellcheck: "false",
      enterkeyhint: "send", placeholder: TEXT.placeholder,
      "aria-describedby": "vonr-input-hint"
    });
    var send = el("button", { type: "submit", "class": "vonr-send", id: "vonr-send" }, TEXT.send);
    var hint = el("p", { "class": "vonr-hint", id: "vonr-input-hint" }, TEXT.hint);
    row.appendChild(input);
    row.appendChild(send);
    form.appendChild(label);
    form.appendChild(row);
    form.appendChild(hint);

    var note = el("p", { "class": "vonr-note", id: "vonr-exit-note" });
    note.appendChild(document.createTextNode(TEXT.exit_note));
    note.appendChild(el("a", { href: PRIVACY }, TEXT.privacy_link));
    note.appendChild(document.createTextNode("."));

    root.appendChild(head);
    root.appendChild(human);
    root.appendChild(log);
    root.appendChild(typing);
    root.appendChild(form);
    root.appendChild(note);

    var mount = TARGET ? document.querySelector(TARGET) : null;
    (mount || document.body).appendChild(root);

    ui = { root: root, log: log, typing: typing, form: form, input: input, send: send,
           human: human, humanBtn: humanBtn };

    humanBtn.addEventListener("click", function () { toggleHuman(human.hidden); });
    form.addEventListener("submit", function (ev) {
      ev.preventDefault();
      submitText();
    });
    input.addEventListener("keydown", function (ev) {
      if (ev.key === "Enter" && !ev.shiftKey && !ev.isComposing) {
        ev.preventDefault();
        submitText();
      }
    });

    addBot(TEXT.greeting);
  }

  function buildHumanPanel() {
    var panel = el("div", { "class": "vonr-human", id: "vonr-human", role: "region",
                            "aria-labelledby": "vonr-human-title" });
    panel.hidden = true;
    var h = el("h3", { id: "vonr-human-title", tabindex: "-1" }, TEXT.human);
    var p1 = el("p", null, TEXT.human_intro);
    var list = el("ul", { "class": "vonr-contacts" });
    var li1 = el("li");
    li1.appendChild(telLink(HELP.voTel, TEXT.call[0].title));
    var li2 = el("li");
    li2.appendChild(document.createTextNode(TEXT.human_chat));
    li2.appendChild(el("a", { href: "https://" + HELP.voWeb + "/", rel: "noreferrer noopener" },
      HELP.voWeb));
    var li3 = el("li");
    li3.appendChild(document.createTextNode(TEXT.human_emergency));
    li3.appendChild(telLink(HELP.emTel, TEXT.call[1].title));
    list.appendChild(li1);
    list.appendChild(li2);
    list.appendChild(li3);
    var close = el("button", { type: "button", "class": "vonr-close" }, TEXT.close);
    close.addEventListener("click", function () { toggleHuman(false); });
    panel.appendChild(h);
    panel.appendChild(p1);
    panel.appendChild(list);
    panel.appendChild(close);
    return panel;
  }

  function toggleHuman(open) {
    if (!ui) return;
    ui.human.hidden = !open;
    ui.humanBtn.setAttribute("aria-expanded", open ? "true" : "false");
    if (open) ui.human.querySelector("h3").focus();
    else if (ui.root.contains(document.activeElement) || document.activeElement === document.body)
      ui.humanBtn.focus();
  }

  function telLink(digits, text) {
    return el("a", { href: "tel:" + digits, "class": "vonr-tel" }, text);
  }

  // ---- Messages ---------------------------------------------------------------------------
  function addUser(text) {
    disableOldButtons();
    var msg = el("div", { "class": "vonr-msg vonr-user" });
    msg.appendChild(el("span", { "class": "vonr-sr" }, TEXT.you));
    msg.appendChild(el("span", { "class": "vonr-text" }, text));
    ui.log.appendChild(msg);
    scroll();
  }

  function addBot(reply, extraClass) {
    var msg = el("div", { "class": "vonr-msg vonr-bot" + (extraClass ? " " + extraClass : "") });
    msg.appendChild(el("span", { "class": "vonr-sr" }, TEXT.bot));
    if (typeof reply.text === "string" && reply.text) {
      msg.appendChild(el("span", { "class": "vonr-text" }, reply.text));
    }
    var buttons = Array.isArray(reply.buttons) ? reply.buttons : [];
    if (buttons.length) {
      var wrap = el("div", { "class": "vonr-buttons" });
      buttons.forEach(function (b) {
        if (!b || typeof b.title !== "string" || typeof b.payload !== "string") return;
        var tel = /^tel:(\+?[0-9]{3,15})$/.exec(b.payload);
        if (tel) {
          wrap.appendChild(telLink(tel[1], b.title));
        } else {
          var btn = el("button", { type: "button", "class": "vonr-quick" }, b.title);
          btn.addEventListener("click", function () {
            if (state.busy) return;
            sendMessage(b.payload, b.title);
          });
          wrap.appendChild(btn);
        }
      });
      if (wrap.childNodes.length) msg.appendChild(wrap);
    }
    ui.log.appendChild(msg);
    scroll();
  }

  function addOffline(text) {
    addBot({ text: text || TEXT.offline, buttons: TEXT.call }, "vonr-card");
  }

  function disableOldButtons() {
    var old = ui.log.querySelectorAll("button.vonr-quick");
    for (var i = 0; i < old.length; i++) old[i].disabled = true;
  }

  function scroll() {
    ui.log.scrollTop = ui.log.scrollHeight;
  }

  function setBusy(busy) {
    state.busy = busy;
    ui.typing.hidden = !busy;
    ui.typing.textContent = busy ? TEXT.typing : "";
    ui.log.setAttribute("aria-busy", busy ? "true" : "false");
    ui.send.disabled = busy;
  }

  function submitText() {
    if (state.busy || !ui) return;
    var text = ui.input.value.trim();
    if (!text) {
      ui.input.focus();
      return;
    }
    ui.input.value = "";
    sendMessage(text, text);
    ui.input.focus();
  }

  function sendMessage(payload, shown) {
    if (!ui || state.exited) return;
    addUser(shown);
    setBusy(true);
    var controller = typeof AbortController === "function" ? new AbortController() : null;
    var timer = setTimeout(function () { if (controller) controller.abort(); }, TIMEOUT_MS);
    var sender = state.sender;
    fetch(WEBHOOK, {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ sender: sender, message: payload }),
      credentials: "omit",
      cache: "no-store",
      referrerPolicy: "no-referrer",
      mode: "cors",
      signal: controller ? controller.signal : undefined
    }).then(function (resp) {
      return resp.json().then(
        function (body) { return { status: resp.status, body: body }; },
        function () { return { status: resp.status, body: null }; });
    }).then(function (res) {
      if (!ui || state.exited || sender !== state.sender) return;
      if (res.status === 200 && Array.isArray(res.body)) {
        if (!res.body.length) addOffline();
        res.body.forEach(function (r) { if (r && typeof r === "object") addBot(r); });
      } else if (Array.isArray(res.body) && res.body.length) {
        res.body.forEach(function (r) {
          if (r && typeof r === "object") addBot(r, "vonr-card");
        });
      } else if (res.body && typeof res.body.error === "string") {
        addOffline(res.body.error);
      } else {
        addOffline();
      }
    }).catch(function () {
      if (ui && !state.exited) addOffline();
    }).then(function () {
      clearTimeout(timer);
      if (ui && !state.exited) setBusy(false);
    });
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", build);
  else build();
})();
