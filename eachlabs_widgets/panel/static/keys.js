// Keyboard shortcuts for one panel: Ctrl+Enter (Cmd+Enter on a Mac) anywhere in the panel
// generates. The listener sits on window in the capture phase, so it runs before the
// notebook's own Ctrl+Enter ("run cell") sees the key.

function render({ model, el }) {
  el.classList.add("eachlabs-keys");
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
  return () => window.removeEventListener("keydown", onKey, true);
}

export default { render };
