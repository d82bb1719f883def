"""The page's own JavaScript: links, copy buttons, scrolling, the character count.

Strings handed to Gradio (``js_on_load``, ``js``); kept apart from the layout in app.py.
"""

import json

from .handlers import MAX_QUESTION_CHARS

#: The character count appears once a question or claim is this close to the limit.
COUNT_FROM = MAX_QUESTION_CHARS - 100

# Runs once per HTML component: [n] links scroll to their card, copy buttons copy,
# article links open the article view (and put its address in the location bar).
# Delegated listeners, so they keep working as the component's content is replaced.
CLICK_JS = """
if (!element.dataset.zzBound) {
  element.dataset.zzBound = "1";
  element.addEventListener("click", (ev) => {
    const art = ev.target.closest("a.article-link");
    if (art) {
      if (ev.ctrlKey || ev.metaKey || ev.shiftKey || ev.button !== 0) return;  // a new tab opens the URL
      ev.preventDefault();
      const params = new URLSearchParams({article: art.dataset.article});
      if (art.dataset.start) params.set("hl", art.dataset.start + "-" + art.dataset.end);
      if (art.dataset.view) params.set("view", art.dataset.view);
      history.replaceState(null, "", "?" + params.toString());
      trigger("click", {article: art.dataset.article, span: params.get("hl") || "", view: art.dataset.view || ""});
      return;
    }
    const link = ev.target.closest("a.cite-link");
    if (link) {
      ev.preventDefault();
      const card = document.getElementById(link.dataset.target);
      if (!card) return;
      const group = card.closest("details");
      if (group) group.open = true;
      card.scrollIntoView({behavior: "smooth", block: "nearest"});
      card.focus({preventScroll: true});  // the keyboard and the screen reader follow the link
      card.classList.remove("flash"); void card.offsetWidth; card.classList.add("flash");
      return;
    }
    const btn = ev.target.closest("button.copy-ref");
    if (!btn) return;
    const text = btn.dataset.copy || "";
    const done = () => {
      btn.textContent = "已复制"; btn.classList.add("copied");
      setTimeout(() => { btn.textContent = "复制引用"; btn.classList.remove("copied"); }, 1500);
    };
    const fallback = () => {
      const ta = document.createElement("textarea");
      ta.value = text; ta.style.position = "fixed"; ta.style.opacity = "0";
      document.body.appendChild(ta); ta.select();
      try { document.execCommand("copy"); } catch (e) {}
      ta.remove(); done();
    };
    if (navigator.clipboard && window.isSecureContext) navigator.clipboard.writeText(text).then(done, fallback);
    else fallback();
  });
}
"""

# Example chips: send the clicked text to the server as a click event.
EXAMPLE_JS = """
element.addEventListener("click", (ev) => {
  const chip = ev.target.closest("button.example-chip");
  if (chip) trigger("click", {text: chip.dataset.text});
});
"""

# The conversation keeps its newest turn in view while an answer streams in. A finished
# answer is read out through the page's live region, and its 用时 becomes the time the
# person waited: from the Enter (or click) that PAGE_JS noted to this moment.
SCROLL_JS = CLICK_JS + """
const box = element.closest("#conversation") || element;
new MutationObserver(() => {
  box.scrollTop = box.scrollHeight;
  const replies = element.querySelectorAll(".reply:not(.pending)");
  const last = replies[replies.length - 1];
  const count = replies.length;
  if (!last || String(count) === box.dataset.announced) return;
  box.dataset.announced = String(count);
  if (window.zzAskedAt) {
    const ms = performance.now() - window.zzAskedAt;
    window.zzAskedAt = null;
    const meta = last.querySelector(".a-meta");
    const took = ms < 1000 ? Math.round(ms) + " 毫秒" : (ms / 1000).toFixed(1) + " 秒";
    if (meta) meta.innerHTML = meta.innerHTML.replace(/用时 [0-9.]+ (毫秒|秒)/, "用时 " + took);
  }
  window.zzAnnounce && window.zzAnnounce((last.classList.contains("refusal") ? "" : "回答：") +
                                         last.querySelector(".a-text").innerText);
}).observe(element, {childList: true, subtree: true, characterData: true});
"""

# A verdict or a draft check that lands is read out through the page's live region.
RESULT_JS = CLICK_JS + """
new MutationObserver(() => {
  const say = element.querySelector("[data-announce]");
  const text = say ? say.textContent : "";
  if (text && text !== element.dataset.said) {
    element.dataset.said = text;
    window.zzAnnounce && window.zzAnnounce(text);
  }
}).observe(element, {childList: true, subtree: true});
"""

# New answers put their cards on top of the sources panel: show them.
SOURCES_JS = CLICK_JS + """
const panel = element.closest("#sources") || element;
new MutationObserver(() => { panel.scrollTop = 0; }).observe(element, {childList: true});
"""

# An opened article scrolls its marked passage into view (or its headline, when nothing is marked).
ARTICLE_JS = CLICK_JS + """
const show = () => setTimeout(() => {
  const target = element.querySelector("#article-mark") || element.querySelector(".article-title");
  if (target && target.offsetParent !== null) target.scrollIntoView({block: "center"});
}, 150);
new MutationObserver(show).observe(element, {childList: true, subtree: true});
show();
"""

# Gradio's own words that it shows in English to a browser not set to Chinese.
GRADIO_ZH = {
    "Drop File Here": "拖放文件到此处", "- or -": "或", "Click to Upload": "点击上传",
    "Use via API": "通过 API 使用", "Settings": "设置", "More tabs": "更多标签页",
    "Click to upload or drop files": "点击选择或拖入文件", "File upload": "上传文件",
    "Gradio footer navigation": "页脚导航", "Stop Recording": "停止录制", "logo": "Gradio 标志",
}

# Whole page: a live count once a question or claim nears the limit; Gradio's words in Chinese.
PAGE_JS = """
() => {
  const LIMIT = %d, FROM = %d, ZH = %s;
  const translate = () => {
    const walk = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
    while (walk.nextNode()) {
      const node = walk.currentNode, key = node.textContent.trim();
      if (ZH[key]) node.textContent = node.textContent.replace(key, ZH[key]);
    }
    for (const attr of ["aria-label", "title", "alt"])
      for (const el of document.querySelectorAll("[" + attr + "]"))
        if (ZH[el.getAttribute(attr)]) el.setAttribute(attr, ZH[el.getAttribute(attr)]);
  };
  const update = () => {
    for (const id of ["question", "claim"]) {
      const box = document.querySelector("#" + id + " textarea");
      if (!box) continue;
      let counter = document.getElementById(id + "-count");
      if (!counter) {
        counter = document.createElement("div");
        counter.id = id + "-count"; counter.className = "char-count"; counter.setAttribute("aria-live", "polite");
        document.getElementById(id).appendChild(counter);
      }
      const n = box.value.length;
      const text = n > LIMIT ? n + "/" + LIMIT + " 字，超出 " + (n - LIMIT) + " 字" : n >= FROM ? n + "/" + LIMIT + " 字" : "";
      if (counter.textContent !== text) counter.textContent = text;
      counter.classList.toggle("over", n > LIMIT);
    }
  };
  // One live region for the whole page: new answers, verdicts and draft checks are read out.
  const live = document.createElement("div");
  live.id = "zz-announce"; live.className = "sr-only"; live.setAttribute("aria-live", "polite");
  live.setAttribute("role", "status");
  document.body.appendChild(live);
  window.zzAnnounce = (text) => { live.textContent = ""; setTimeout(() => { live.textContent = text; }, 50); };
  // Something shows at once: the question appears as pending before the server answers.
  const pending = () => {
    const box = document.querySelector("#question textarea");
    const conv = document.querySelector("#conversation .conv");
    if (!box || !box.value.trim() || box.value.length > LIMIT || !conv) return;
    window.zzAskedAt = performance.now();
    conv.classList.remove("conv-empty");
    if (conv.querySelector(".empty-title")) conv.innerHTML = "";
    const turn = document.createElement("div");
    turn.className = "turn";
    const q = document.createElement("div"); q.className = "q-row";
    const bubble = document.createElement("div"); bubble.className = "q-bubble"; bubble.textContent = box.value.trim();
    q.appendChild(bubble);
    const reply = document.createElement("div"); reply.className = "reply answer pending";
    reply.innerHTML = '<div class="a-text searching">正在检索档案…</div>';
    turn.append(q, reply); conv.appendChild(turn);
    const scroller = document.getElementById("conversation");
    if (scroller) scroller.scrollTop = scroller.scrollHeight;
  };
  // A question is taken once: Enter again, or on an empty box, while it is being answered
  // is not a new question (Gradio would send it when the answer is done). One sent while the
  // page's load events still run (Gradio would lose it) is held until READY_JS.
  const asking = (ev) => {
    const box = document.querySelector("#question textarea");
    const text = box ? box.value.trim() : "";
    const hold = () => { ev.preventDefault(); ev.stopImmediatePropagation(); };
    if (window.zzResend) { window.zzResend = false; return; }  // the held question, sent now
    if (document.querySelector("#conversation .reply.pending") && (!text || text === window.zzSent)) return hold();
    window.zzSent = text;
    pending();
    if (!document.body.dataset.zzReady) { hold(); window.zzEarly = Boolean(text); }
  };
  document.addEventListener("keydown", (ev) => {
    if (ev.key === "Enter" && !ev.shiftKey && !ev.isComposing && ev.target.closest("#question")) asking(ev);
  }, true);
  document.addEventListener("click", (ev) => { if (ev.target.closest("#ask-button")) asking(ev); }, true);
  // Tabs: arrow keys, Home and End move between them (WAI-ARIA tabs pattern).
  document.addEventListener("keydown", (ev) => {
    const tab = ev.target.closest && ev.target.closest("[role=tab]");
    if (!tab || !["ArrowRight", "ArrowLeft", "Home", "End"].includes(ev.key)) return;
    const tabs = [...tab.closest("[role=tablist]").querySelectorAll("[role=tab]")].filter((t) => t.offsetParent !== null);
    const i = tabs.indexOf(tab);
    const next = ev.key === "Home" ? 0 : ev.key === "End" ? tabs.length - 1
      : (i + (ev.key === "ArrowRight" ? 1 : -1) + tabs.length) %% tabs.length;
    ev.preventDefault();
    tabs[next].focus(); tabs[next].click();
  });
  // Date filters are the browser's date inputs (a calendar, and only real dates); the
  // server still checks what arrives and refuses a bad date in Chinese.
  const dates = () => {
    for (const id of ["date-from", "date-to", "upload-date"]) {
      const input = document.querySelector("#" + id + " input, #" + id + " textarea");
      if (input && input.type !== "date" && input.tagName === "INPUT") input.type = "date";
    }
  };
  setInterval(dates, 500);
  document.addEventListener("input", update, true);
  setInterval(update, 300);
  setInterval(translate, 500);
  translate();
}
""" % (MAX_QUESTION_CHARS, COUNT_FROM, json.dumps(GRADIO_ZH, ensure_ascii=False))

# The last of the page's load events (restore, a ?q= question, save): from now on questions
# are taken, and one held until now is sent.
READY_JS = """
() => {
  document.body.dataset.zzReady = "1";
  if (!window.zzEarly) return;
  window.zzEarly = false;
  window.zzResend = true;  // shown as pending, and timed, from its key already
  document.querySelector("#ask-button").click();
}
"""

# On page load: hand the page's query string to the server, and drop ?q= so a reload does not ask again.
LOAD_JS = """
(saved, search) => {
  search = window.location.search;
  const params = new URLSearchParams(search);
  if (params.has("q")) {
    window.zzAskedAt = performance.now();
    params.delete("q");
    const rest = params.toString();
    history.replaceState(null, "", window.location.pathname + (rest ? "?" + rest : ""));
  }
  return [saved, search];
}
"""
