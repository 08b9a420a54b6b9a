// The model picker: one searchable combobox over the whole catalogue (type, arrows, Enter).
// `models` is a list of {slug, title, category, price, duration}; `value` is the chosen slug.
// Filtering needs every typed word somewhere in the slug, title or category (any case),
// the same rule as the Python `filter_models`.

function haystack(m) {
  return [m.slug, m.title, m.category, m.output_type].filter(Boolean).join(" ").toLowerCase();
}

function matches(models, query) {
  const words = query.toLowerCase().split(/\s+/).filter(Boolean);
  if (!words.length) return models;
  return models.filter((m) => {
    const hay = haystack(m);
    return words.every((w) => hay.includes(w));
  });
}

let counter = 0;

function render({ model, el }) {
  const id = `eachlabs-picker-${++counter}`;
  el.classList.add("eachlabs-picker");
  const box = document.createElement("div");
  box.className = "eachlabs-combo";
  const label = document.createElement("label");
  label.className = "eachlabs-field-label";
  label.htmlFor = `${id}-input`;
  label.textContent = "Model";
  const input = document.createElement("input");
  input.type = "text";
  input.id = `${id}-input`;
  input.className = "eachlabs-combo-input";
  input.placeholder = "Search models (e.g. flux lora)";
  input.autocomplete = "off";
  input.spellcheck = false;
  input.setAttribute("role", "combobox");
  input.setAttribute("aria-autocomplete", "list");
  input.setAttribute("aria-expanded", "false");
  input.setAttribute("aria-controls", `${id}-list`);
  const list = document.createElement("ul");
  list.id = `${id}-list`;
  list.className = "eachlabs-combo-list";
  list.setAttribute("role", "listbox");
  list.setAttribute("aria-label", "Models");
  list.hidden = true;
  const count = document.createElement("div");
  count.className = "eachlabs-help eachlabs-combo-count";
  count.setAttribute("aria-live", "polite");
  box.append(label, input, list, count);
  el.append(box);

  let shown = [];
  let active = -1;
  let open = false;

  const current = () => (model.get("models") || []).find((m) => m.slug === model.get("value"));
  // The box holds the slug alone: with the title too it would not fit a narrow column, and
  // the form's heading right below says the title. The tooltip has both.
  const describe = (m) => (m ? m.slug : "");
  const tooltip = (m) => (m && m.title && m.title !== m.slug ? `${m.slug} — ${m.title}` : describe(m));

  function showValue() {
    const m = current();
    input.value = open ? input.value : describe(m) || model.get("value") || "";
    input.title = tooltip(m) || model.get("value") || "";
    const meta = m ? [m.price, m.duration].filter(Boolean).join(" · ") : "";
    const total = (model.get("models") || []).length;
    count.textContent = total
      ? `${open ? shown.length + " of " : ""}${total} models${meta ? " · " + meta : ""}`
      : model.get("status") || "loading models…";
  }

  function option(m, index) {
    const li = document.createElement("li");
    li.id = `${id}-opt-${index}`;
    li.className = "eachlabs-combo-option";
    li.setAttribute("role", "option");
    li.dataset.slug = m.slug;
    li.setAttribute("aria-selected", String(m.slug === model.get("value")));
    const main = document.createElement("div");
    main.className = "eachlabs-combo-main";
    const slug = document.createElement("span");
    slug.className = "eachlabs-combo-slug";
    slug.textContent = m.slug;
    main.append(slug);
    if (m.title && m.title.toLowerCase() !== m.slug.toLowerCase()) {
      const title = document.createElement("span");
      title.className = "eachlabs-combo-title";
      title.textContent = m.title;
      main.append(title);
    }
    const meta = document.createElement("div");
    meta.className = "eachlabs-combo-meta";
    meta.textContent = [m.category, m.price, m.duration].filter(Boolean).join(" · ");
    li.append(main, meta);
    li.addEventListener("mousedown", (event) => {
      event.preventDefault(); // keep the focus in the input
      choose(m.slug);
    });
    return li;
  }

  function fill() {
    shown = matches(model.get("models") || [], input.value === describe(current()) ? "" : input.value);
    list.replaceChildren(...shown.slice(0, 200).map(option));
    if (!shown.length) {
      const li = document.createElement("li");
      li.className = "eachlabs-combo-empty";
      li.textContent = "No model matches";
      list.append(li);
    }
    const at = shown.findIndex((m) => m.slug === model.get("value"));
    setActive(at >= 0 ? at : shown.length ? 0 : -1);
    showValue();
  }

  function setActive(index) {
    active = index;
    for (const li of list.querySelectorAll(".eachlabs-combo-option")) {
      li.classList.toggle("eachlabs-active", li.id === `${id}-opt-${index}`);
    }
    if (index >= 0) {
      input.setAttribute("aria-activedescendant", `${id}-opt-${index}`);
      const li = list.querySelector(`#${id}-opt-${index}`);
      if (li && li.scrollIntoView) li.scrollIntoView({ block: "nearest" });
    } else {
      input.removeAttribute("aria-activedescendant");
    }
  }

  function setOpen(value) {
    open = value;
    list.hidden = !value;
    input.setAttribute("aria-expanded", String(value));
    if (value) fill();
    else showValue();
  }

  function choose(slug) {
    setOpen(false);
    if (slug && slug !== model.get("value")) {
      model.set("value", slug);
      model.save_changes();
    }
    showValue();
  }

  input.addEventListener("focus", () => {
    input.select();
    setOpen(true);
  });
  input.addEventListener("blur", () => setOpen(false));
  input.addEventListener("input", () => {
    if (!open) setOpen(true);
    else fill();
  });
  input.addEventListener("keydown", (event) => {
    if (event.ctrlKey || event.metaKey) return; // Ctrl+Enter: generate (see keys.js)
    if (event.key === "ArrowDown" || event.key === "ArrowUp") {
      event.preventDefault();
      if (!open) return setOpen(true);
      const n = Math.min(shown.length, 200);
      if (!n) return;
      const step = event.key === "ArrowDown" ? 1 : -1;
      setActive((active + step + n) % n);
    } else if (event.key === "Enter") {
      event.preventDefault();
      event.stopPropagation();
      if (open && active >= 0 && shown[active]) choose(shown[active].slug);
      else setOpen(true);
    } else if (event.key === "Escape") {
      if (open) {
        event.preventDefault();
        event.stopPropagation();
        setOpen(false);
        input.select();
      }
    }
  });

  const refresh = () => (open ? fill() : showValue());
  model.on("change:models", refresh);
  model.on("change:value", refresh);
  model.on("change:status", refresh);
  showValue();
  return () => {
    model.off("change:models", refresh);
    model.off("change:value", refresh);
    model.off("change:status", refresh);
  };
}

export default { render };
