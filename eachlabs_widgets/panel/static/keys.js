// Keyboard shortcuts for one panel: Ctrl+Enter (Cmd+Enter on a Mac) anywhere in the panel
// generates. Asked by the kernel ({type: "reveal"}), it scrolls a new run's card into sight. The listener sits on window in the capture phase, so it runs before the
// notebook's own Ctrl+Enter ("run cell") sees the key.
//
// While this view lives, the panel's static copy (an HTML output carrying the class in
// `snapshot`, kept for the saved notebook) is hidden, so the live page shows the results once.

const SAFE_CLASS = /^[A-Za-z0-9_-]+$/;

function hideSnapshot(name) {
  if (!name || !SAFE_CLASS.test(name)) return null;
  const style = document.createElement("style");
  style.dataset.eachlabsSnapshot = name;
  // The output itself, and (where the browser knows :has) the output area's row around it,
  // so no empty prompt or padding is left. Separate rules: one a browser cannot parse does
  // not take the others down with it.
  style.textContent = [
    `.${name} { display: none !important; }`,
    `.jp-OutputArea-child:has(.${name}) { display: none !important; }`,
    `.output_area:has(.${name}) { display: none !important; }`,
  ].join("\n");
  document.head.append(style);
  return style;
}

function render({ model, el }) {
  el.classList.add("eachlabs-keys");
  let style = hideSnapshot(model.get("snapshot"));
  const onSnapshot = () => {
    if (style) style.remove();
    style = hideSnapshot(model.get("snapshot"));
  };
  model.on("change:snapshot", onSnapshot);
  const onKey = (event) => {
    if (event.key !== "Enter" || !(event.ctrlKey || event.metaKey) || event.isComposing) {
      return;
    }
    const panel = el.closest(".eachlabs-panel");
    if (!panel || !(event.target instanceof Node) || !panel.contains(event.target)) {
      return;
    }
    event.preventDefault();
    event.stopPropagation();
    event.stopImmediatePropagation();
    // a text box sends its value on input; let a pending change go first
    setTimeout(() => model.send({ event: "generate" }), 0);
  };
  window.addEventListener("keydown", onKey, true);
  // A run just started: once its card is drawn, scroll only as far as needed to show it.
  const onMessage = (content) => {
    if (!content || content.type !== "reveal") return;
    setTimeout(() => {
      const panel = el.closest(".eachlabs-panel");
      const card = panel && panel.querySelector(".eachlabs-runs .eachlabs-run");
      if (card) card.scrollIntoView({ block: "nearest" });
    }, 150);
  };
  model.on("msg:custom", onMessage);
  return () => {
    model.off("msg:custom", onMessage);
    window.removeEventListener("keydown", onKey, true);
    model.off("change:snapshot", onSnapshot);
    if (style) style.remove();
  };
}

export default { render };
