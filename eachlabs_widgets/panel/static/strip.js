// The results strip: every image of this session and of the journal, newest first, with lazy
// thumbnails; a lightbox (full size, previous/next with the arrow keys, parameters, Download
// through the browser); Compare (two results side by side or under a slider, with their
// parameter differences).
//
// Images travel as binary buffers of custom messages, asked for when needed:
//   -> {type: "thumbs", keys}       <- {type: "thumbs", keys} + one JPEG per key
//   -> {type: "full", key}          <- {type: "full", key, mime, name} + the file's bytes
//   -> {type: "compare", keys}      <- {type: "compare", keys, diff} + two images
//   -> {type: "select" | "load" | "vary" | "remix", key}
//   <- {type: "open", key}          (the panel's Enlarge button)
//   -> {type: "search", text, starred}  <- {type: "searched", count} (items change too)
//   -> {type: "star", key, on}      (items change)
//   -> {type: "zip"}                <- {type: "zip", name, error} + the zip's bytes

function el(tag, props = {}, ...children) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(props)) {
    if (name === "class") node.className = value;
    else if (name === "text") node.textContent = value;
    else if (name.startsWith("on")) node.addEventListener(name.slice(2), value);
    else if (value !== undefined && value !== null) node.setAttribute(name, value);
  }
  node.append(...children.filter((c) => c !== null && c !== undefined));
  return node;
}

function blobUrl(buffer, mime) {
  const view = buffer instanceof DataView ? buffer : new DataView(buffer.buffer || buffer);
  return URL.createObjectURL(new Blob([view], { type: mime }));
}

function paramsList(item) {
  const dl = el("dl", { class: "eachlabs-params" });
  for (const [name, value] of item.params || []) {
    dl.append(el("dt", { text: name }), el("dd", { text: value }));
  }
  return dl;
}

function render({ model, el: root }) {
  root.classList.add("eachlabs-strip");
  const local = new Map(); // key -> thumbnail URL, this view's own
  const waiting = new Set();
  const fullWaiters = new Map();
  let compareMode = false;
  let picked = [];
  let overlay = null;
  let lastFocus = null;

  const heading = el("div", { class: "eachlabs-strip-head" });
  const title = el("span", { class: "eachlabs-heading", text: "History" });
  const note = el("span", { class: "eachlabs-help eachlabs-strip-note" });
  const compare = el("button", {
    class: "jupyter-button eachlabs-compare-toggle",
    type: "button",
    "aria-pressed": "false",
    text: "Compare",
    title: "pick two results to compare them",
  });
  // search and filters: the kernel searches the journal (find()) and sends the runs to show
  const search = el("input", {
    class: "eachlabs-strip-search",
    type: "search",
    placeholder: "Search prompts",
    "aria-label": "Search the prompts of the history",
  });
  const starredOnly = el("button", {
    class: "jupyter-button eachlabs-starred-only",
    type: "button",
    "aria-pressed": "false",
    title: "show starred results only",
    "aria-label": "Starred only",
    text: "★",
  });
  const downloadAll = el("button", {
    class: "jupyter-button eachlabs-download-all",
    type: "button",
    title: "a zip of the images shown, with their settings (metadata.jsonl) and a contact sheet",
    text: "Download all",
  });
  let searchTimer = null;
  function sendSearch() {
    clearTimeout(searchTimer);
    searchTimer = setTimeout(() => {
      model.send({
        type: "search",
        text: search.value,
        starred: starredOnly.getAttribute("aria-pressed") === "true",
      });
    }, 200);
  }
  search.addEventListener("input", sendSearch);
  starredOnly.addEventListener("click", () => {
    const on = starredOnly.getAttribute("aria-pressed") !== "true";
    starredOnly.setAttribute("aria-pressed", String(on));
    sendSearch();
  });
  downloadAll.addEventListener("click", () => {
    downloadAll.disabled = true;
    downloadAll.textContent = "Zipping…";
    model.send({ type: "zip" });
  });
  heading.append(title, note, search, starredOnly, downloadAll, compare);
  const row = el("div", { class: "eachlabs-strip-row", role: "list" });
  root.append(heading, row);

  const items = () => model.get("items") || [];
  const images = () => items().filter((i) => i.image);

  // -- lazy thumbnails ---------------------------------------------------------------------
  let pending = [];
  let timer = null;
  function want(key) {
    if (local.has(key) || waiting.has(key)) return;
    waiting.add(key);
    pending.push(key);
    if (!timer) {
      timer = setTimeout(() => {
        timer = null;
        const keys = pending;
        pending = [];
        model.send({ type: "thumbs", keys });
        // An answer that never comes (a kernel busy with a long cell, a message lost while
        // reconnecting) must not leave a tile blank for good: ask again later.
        setTimeout(() => {
          for (const key of keys) {
            if (waiting.has(key)) {
              waiting.delete(key);
              retryLater(key);
            }
          }
        }, 10000);
      }, 30);
    }
  }
  const retries = new Map(); // key -> how many times an answer came back empty or not at all
  function retryLater(key) {
    const tries = (retries.get(key) || 0) + 1;
    retries.set(key, tries);
    if (tries <= 5) setTimeout(() => want(key), 250 * 2 ** tries);
  }
  const observer =
    typeof IntersectionObserver === "function"
      ? new IntersectionObserver(
          (entries) => {
            for (const entry of entries) {
              if (entry.isIntersecting) {
                observer.unobserve(entry.target);
                want(entry.target.dataset.key);
              }
            }
          },
          { root: null, rootMargin: "200px" },
        )
      : null;

  function thumbImage(key, alt) {
    const img = el("img", { alt, loading: "lazy", draggable: "false" });
    if (local.has(key)) img.src = local.get(key);
    return img;
  }

  function drawRow() {
    const all = items();
    const imgs = images();
    title.textContent = "History";
    const filtered = search.value.trim() || starredOnly.getAttribute("aria-pressed") === "true";
    note.textContent = all.length
      ? `${imgs.length} image${imgs.length === 1 ? "" : "s"} · ${filtered ? "found" : "newest first"}`
      : filtered
        ? "Nothing found."
        : "Results appear here.";
    compare.hidden = imgs.length < 2;
    downloadAll.hidden = imgs.length < 1;
    const tiles = all.map((item) => {
      const position = imgs.indexOf(item) + 1;
      const label = item.image
        ? `View image ${position} of ${imgs.length}`
        : `${item.model}: ${item.status || "no image"}`;
      const tile = el(
        "button",
        {
          class: "eachlabs-tile" + (item.key === model.get("selected") ? " eachlabs-current" : ""),
          type: "button",
          role: "listitem",
          "aria-label": label,
          title: [item.model, item.prompt].filter(Boolean).join(" — "),
          "data-key": item.key,
          onclick: () => activate(item),
        },
        item.image ? thumbImage(item.key, "") : el("span", { class: "eachlabs-tile-text", text: item.model }),
        el("span", { class: "eachlabs-tile-label", text: item.short || item.model }),
      );
      if (compareMode) tile.setAttribute("aria-pressed", String(picked.includes(item.key)));
      if (item.image && !local.has(item.key)) {
        if (observer) observer.observe(tile);
        else want(item.key);
      }
      if (!item.image) return tile;
      // the star sits on the tile's corner, a button of its own beside the tile's
      return el("div", { class: "eachlabs-tile-box" }, tile, starButton(item));
    });
    row.replaceChildren(...tiles);
  }

  function starButton(item) {
    const on = Boolean(item.starred);
    const button = el("button", {
      class: "eachlabs-star" + (on ? " eachlabs-starred" : ""),
      type: "button",
      "aria-pressed": String(on),
      "aria-label": on ? "Unstar" : "Star",
      title: on ? "starred: click to unstar" : "star it (find it again with the ★ filter)",
      text: on ? "★" : "☆",
    });
    button.addEventListener("click", (event) => {
      event.stopPropagation();
      model.send({ type: "star", key: item.key, on: !on });
    });
    return button;
  }

  function activate(item) {
    if (!item.image) return;
    if (compareMode) {
      picked = picked.includes(item.key) ? picked.filter((k) => k !== item.key) : [...picked, item.key];
      if (picked.length === 2) {
        model.send({ type: "compare", keys: picked });
      }
      drawRow();
      return;
    }
    openLightbox(item.key);
  }

  function setCompareMode(on) {
    compareMode = on;
    picked = [];
    compare.setAttribute("aria-pressed", String(compareMode));
    compare.textContent = compareMode ? "Pick two…" : "Compare";
    drawRow();
  }
  compare.addEventListener("click", () => setCompareMode(!compareMode));

  // -- overlays ------------------------------------------------------------------------------
  // However an overlay closes (its × button, Escape, a click beside it, another overlay),
  // its onClose runs: Compare leaves compare mode there, so the strip is never left half-way.
  function closeOverlay() {
    if (!overlay) return;
    const closing = overlay;
    overlay = null;
    document.removeEventListener("keydown", closing.onKey, true);
    for (const url of closing.urls || []) URL.revokeObjectURL(url);
    closing.node.remove();
    if (closing.onClose) closing.onClose();
    if (lastFocus && lastFocus.isConnected) lastFocus.focus();
  }

  function makeOverlay(label, onKey, onClose) {
    closeOverlay();
    lastFocus = document.activeElement;
    const node = el("div", {
      class: "eachlabs-overlay",
      role: "dialog",
      "aria-modal": "true",
      "aria-label": label,
    });
    node.addEventListener("mousedown", (event) => {
      if (event.target === node) closeOverlay();
    });
    const keys = (event) => {
      if (event.key === "Escape") {
        event.preventDefault();
        event.stopPropagation();
        closeOverlay();
      } else if (onKey) onKey(event);
    };
    document.addEventListener("keydown", keys, true);
    document.body.append(node);
    overlay = { node, onKey: keys, urls: [], onClose };
    return node;
  }

  function full(key) {
    return new Promise((resolve) => {
      if (!fullWaiters.has(key)) fullWaiters.set(key, []);
      fullWaiters.get(key).push(resolve);
      model.send({ type: "full", key });
    });
  }

  function openLightbox(key) {
    const imgs = images();
    let index = Math.max(0, imgs.findIndex((i) => i.key === key));
    const node = makeOverlay("Image viewer", (event) => {
      if (event.key === "ArrowRight") {
        event.preventDefault();
        event.stopPropagation();
        go(1);
      } else if (event.key === "ArrowLeft") {
        event.preventDefault();
        event.stopPropagation();
        go(-1);
      }
    });
    node.classList.add("eachlabs-lightbox");
    const picture = el("img", { class: "eachlabs-lightbox-image", alt: "" });
    const counter = el("div", { class: "eachlabs-lightbox-counter", "aria-live": "polite" });
    const caption = el("div", { class: "eachlabs-lightbox-caption" });
    const params = el("div", { class: "eachlabs-lightbox-params" });
    const download = el("a", { class: "jupyter-button eachlabs-download", role: "button", text: "Download" });
    const prev = el("button", { class: "jupyter-button", type: "button", "aria-label": "Previous image", text: "‹" });
    const next = el("button", { class: "jupyter-button", type: "button", "aria-label": "Next image", text: "›" });
    const show = el("button", { class: "jupyter-button", type: "button", text: "Show in panel" });
    const load = el("button", { class: "jupyter-button", type: "button", text: "Load into form" });
    const vary = el("button", {
      class: "jupyter-button eachlabs-vary",
      type: "button",
      text: "Vary",
      title: "four more runs of these inputs with new seeds, each recorded as made from this one",
    });
    const remix = el("button", {
      class: "jupyter-button eachlabs-remix",
      type: "button",
      text: "Remix",
      title: "these inputs into the form, marked as made from this run: change them and Generate",
    });
    // "from abcd1234": the run this one was made from; shown here when the strip holds it
    const from = el("button", { class: "eachlabs-from", type: "button" });
    from.addEventListener("click", () => {
      const parent = imgs[index].parent;
      const at = imgs.findIndex((i) => i.key.startsWith(`${parent}:`));
      if (at >= 0) {
        index = at;
        draw();
      }
    });
    const star = el("button", { class: "jupyter-button eachlabs-star", type: "button" });
    star.addEventListener("click", () => {
      const item = imgs[index];
      const on = !item.starred;
      item.starred = on; // shown at once; the kernel's items follow
      drawStar(item);
      model.send({ type: "star", key: item.key, on });
    });
    function drawStar(item) {
      star.textContent = item.starred ? "★ Starred" : "☆ Star";
      star.setAttribute("aria-pressed", String(Boolean(item.starred)));
    }
    const close = el("button", { class: "jupyter-button eachlabs-close", type: "button", "aria-label": "Close", text: "×" });
    prev.addEventListener("click", () => go(-1));
    next.addEventListener("click", () => go(1));
    close.addEventListener("click", closeOverlay);
    show.addEventListener("click", () => {
      model.send({ type: "select", key: imgs[index].key });
      closeOverlay();
    });
    load.addEventListener("click", () => {
      model.send({ type: "load", key: imgs[index].key });
      closeOverlay();
    });
    vary.addEventListener("click", () => {
      model.send({ type: "vary", key: imgs[index].key });
      closeOverlay();
    });
    remix.addEventListener("click", () => {
      model.send({ type: "remix", key: imgs[index].key });
      closeOverlay();
    });
    const box = el(
      "div",
      { class: "eachlabs-lightbox-box" },
      el("div", { class: "eachlabs-lightbox-stage" }, prev, picture, next),
      el(
        "div",
        { class: "eachlabs-lightbox-side" },
        el("div", { class: "eachlabs-lightbox-top" }, counter, close),
        caption,
        from,
        params,
        el("div", { class: "eachlabs-lightbox-actions" }, download, star, show, load, vary, remix),
      ),
    );
    node.append(box);
    let token = 0;

    async function draw() {
      const item = imgs[index];
      const mine = ++token;
      counter.textContent = `Image ${index + 1} of ${imgs.length}`;
      caption.textContent = item.caption || item.model;
      drawFrom(item);
      drawStar(item);
      params.replaceChildren(paramsList(item));
      picture.alt = `Image ${index + 1} of ${imgs.length}: ${item.prompt || item.model}`;
      if (local.has(item.key)) picture.src = local.get(item.key);
      download.removeAttribute("href");
      download.setAttribute("aria-disabled", "true");
      const answer = await full(item.key);
      if (mine !== token || !overlay) return;
      const url = blobUrl(answer.buffer, answer.mime);
      overlay.urls.push(url);
      picture.src = url;
      download.href = url;
      download.download = answer.name;
      download.removeAttribute("aria-disabled");
    }
    function drawFrom(item) {
      from.hidden = !item.parent;
      if (!item.parent) return;
      const held = imgs.some((i) => i.key.startsWith(`${item.parent}:`));
      from.textContent = `from ${item.parent.slice(0, 8)}`;
      from.disabled = !held;
      from.title = held
        ? `made from ${item.parent}: show it`
        : `made from ${item.parent} (not in the history shown)`;
    }
    function go(step) {
      index = (index + step + imgs.length) % imgs.length;
      draw();
    }
    prev.disabled = next.disabled = imgs.length < 2;
    draw();
    close.focus();
  }

  function openCompare(content, buffers) {
    const [a, b] = content.keys.map((k) => items().find((i) => i.key === k));
    const node = makeOverlay("Compare two results", null, () => setCompareMode(false));
    node.classList.add("eachlabs-compare");
    const urlA = blobUrl(buffers[0], content.mimes[0]);
    const urlB = blobUrl(buffers[1], content.mimes[1]);
    overlay.urls.push(urlA, urlB);
    const close = el("button", { class: "jupyter-button eachlabs-close", type: "button", "aria-label": "Close", text: "×" });
    close.addEventListener("click", closeOverlay);
    const side = el("button", { class: "jupyter-button", type: "button", "aria-pressed": "true", text: "Side by side" });
    const blend = el("button", { class: "jupyter-button", type: "button", "aria-pressed": "false", text: "Slider" });
    const pair = el(
      "div",
      { class: "eachlabs-compare-pair" },
      el("figure", {}, el("img", { src: urlA, alt: `A: ${a.caption}` }), el("figcaption", { text: `A · ${a.caption}` })),
      el("figure", {}, el("img", { src: urlB, alt: `B: ${b.caption}` }), el("figcaption", { text: `B · ${b.caption}` })),
    );
    const top = el("img", { src: urlB, alt: "", class: "eachlabs-compare-top" });
    const range = el("input", { type: "range", min: "0", max: "100", value: "50", "aria-label": "Blend between A and B" });
    const slider = el(
      "div",
      { class: "eachlabs-compare-slider", hidden: "" },
      el("div", { class: "eachlabs-compare-layers" }, el("img", { src: urlA, alt: `A: ${a.caption}` }), top),
      el("label", { class: "eachlabs-compare-range" }, el("span", { text: "A" }), range, el("span", { text: "B" })),
    );
    const clip = () => (top.style.clipPath = `inset(0 0 0 ${range.value}%)`);
    range.addEventListener("input", clip);
    clip();
    side.addEventListener("click", () => {
      pair.hidden = false;
      slider.hidden = true;
      side.setAttribute("aria-pressed", "true");
      blend.setAttribute("aria-pressed", "false");
    });
    blend.addEventListener("click", () => {
      pair.hidden = true;
      slider.hidden = false;
      side.setAttribute("aria-pressed", "false");
      blend.setAttribute("aria-pressed", "true");
    });
    const table = el("table", { class: "eachlabs-diff" });
    table.append(el("tr", {}, el("th", { text: "parameter" }), el("th", { text: "A" }), el("th", { text: "B" })));
    for (const [name, va, vb] of content.diff) {
      table.append(el("tr", {}, el("th", { text: name }), el("td", { text: va }), el("td", { text: vb })));
    }
    if (!content.diff.length) {
      table.append(el("tr", {}, el("td", { colspan: "3", text: "The same parameters." })));
    }
    node.append(
      el(
        "div",
        { class: "eachlabs-compare-box" },
        el("div", { class: "eachlabs-lightbox-top" }, el("span", { class: "eachlabs-heading", text: "Compare" }), side, blend, close),
        pair,
        slider,
        el("div", { class: "eachlabs-heading", text: "Parameter differences" }),
        table,
      ),
    );
    close.focus();
  }

  // -- messages from the kernel --------------------------------------------------------------
  function onMessage(content, buffers) {
    if (!content || typeof content !== "object") return;
    if (content.type === "thumbs") {
      content.keys.forEach((key, i) => {
        waiting.delete(key);
        if (!buffers[i] || !buffers[i].byteLength) {
          retryLater(key); // not readable yet (a file still being saved): ask again, a few times
          return;
        }
        const url = blobUrl(buffers[i], "image/jpeg");
        local.set(key, url);
        for (const img of row.querySelectorAll(`[data-key="${CSS.escape(key)}"] img`)) img.src = url;
      });
    } else if (content.type === "full") {
      const waiters = fullWaiters.get(content.key) || [];
      fullWaiters.delete(content.key);
      for (const resolve of waiters) resolve({ buffer: buffers[0], mime: content.mime, name: content.name });
    } else if (content.type === "compare") {
      openCompare(content, buffers);
    } else if (content.type === "open") {
      openLightbox(content.key);
    } else if (content.type === "zip") {
      downloadAll.disabled = false;
      downloadAll.textContent = "Download all";
      if (content.error || !buffers[0]) {
        note.textContent = content.error || "could not make the zip";
        return;
      }
      // handed over through the browser: the file lands on the user's own machine (Voila,
      // JupyterHub), not on the kernel's
      const url = blobUrl(buffers[0], "application/zip");
      const link = el("a", { href: url, download: content.name, hidden: "" });
      document.body.append(link);
      link.click();
      link.remove();
      setTimeout(() => URL.revokeObjectURL(url), 60000);
    }
  }
  model.on("msg:custom", onMessage);
  model.on("change:items", drawRow);
  model.on("change:selected", drawRow);
  drawRow();
  return () => {
    model.off("msg:custom", onMessage);
    model.off("change:items", drawRow);
    model.off("change:selected", drawRow);
    if (observer) observer.disconnect();
    closeOverlay();
    for (const url of local.values()) URL.revokeObjectURL(url);
  };
}

export default { render };
