// A drop area and a "Choose…" button that send files to the kernel in pieces, with a
// progress bar that follows what the kernel has received (see _upload.py for the protocol).

function megabytes(bytes) {
  const mb = bytes / 1e6;
  return mb < 0.01 && bytes > 0 ? "< 0.01" : mb.toFixed(mb < 10 ? 2 : 1);
}

function render({ model, el: root }) {
  root.classList.add("eachlabs-drop");
  const input = document.createElement("input");
  input.type = "file";
  input.multiple = true;
  input.hidden = true;
  input.className = "eachlabs-drop-input";
  const choose = document.createElement("button");
  choose.type = "button";
  choose.className = "jupyter-button eachlabs-drop-choose";
  const hint = document.createElement("span");
  hint.className = "eachlabs-help";
  hint.textContent = "or drop them here";
  const bar = document.createElement("progress");
  bar.className = "eachlabs-drop-bar";
  bar.max = 1;
  bar.value = 0;
  bar.hidden = true;
  const status = document.createElement("div");
  status.className = "eachlabs-help eachlabs-drop-status";
  status.setAttribute("role", "status");
  status.setAttribute("aria-live", "polite");
  const row = document.createElement("div");
  row.className = "eachlabs-drop-row";
  row.append(choose, hint);
  root.append(input, row, bar, status);
  root.dataset.updates = "0";

  const setup = () => {
    input.accept = model.get("accept");
    choose.textContent = model.get("label");
  };
  setup();
  model.on("change:accept", setup);
  model.on("change:label", setup);

  let current = null; // {batch, files, total, received, waiters, inFlight, failed}

  function show(text, fraction) {
    status.textContent = text;
    if (fraction === null) {
      bar.hidden = true;
    } else {
      bar.hidden = false;
      bar.value = fraction;
      bar.setAttribute("aria-valuetext", text);
    }
    root.dataset.updates = String(Number(root.dataset.updates) + 1);
  }

  function progress(sending) {
    const { files, total, received } = sending;
    let done = 0;
    let sum = 0;
    for (const f of files) {
      sum += f.size;
      if (sum <= received) done += 1;
    }
    const at = Math.min(files.length, done + 1);
    show(
      `Sending ${at} of ${files.length} file${files.length === 1 ? "" : "s"} · ` +
        `${megabytes(received)} of ${megabytes(total)} MB`,
      total ? received / total : 1,
    );
  }

  function onMessage(content) {
    const sending = current;
    if (!content || !sending || content.batch !== sending.batch) return;
    if (content.type === "ack") {
      sending.received = content.received;
      sending.inFlight = Math.max(0, sending.inFlight - (content.file === undefined ? 0 : 1));
      progress(sending);
      const waiters = sending.waiters.splice(0);
      for (const resolve of waiters) resolve();
    } else if (content.type === "done") {
      current = null;
      show(
        `Received ${content.files} file${content.files === 1 ? "" : "s"} · ` +
          `${megabytes(content.bytes)} MB`,
        1,
      );
    } else if (content.type === "error") {
      sending.failed = content.message;
      current = null;
      show(`Not sent: ${content.message}`, null);
      for (const resolve of sending.waiters.splice(0)) resolve();
    }
  }
  model.on("msg:custom", onMessage);

  async function send(fileList) {
    const files = Array.from(fileList || []);
    if (!files.length) return;
    const total = files.reduce((sum, f) => sum + f.size, 0);
    if (total > model.get("max_bytes")) {
      show(`Not sent: ${megabytes(total)} MB is more than ${megabytes(model.get("max_bytes"))} MB`, null);
      return;
    }
    const batch = `${Date.now()}-${Math.random().toString(36).slice(2)}`;
    const sending = { batch, files, total, received: 0, waiters: [], inFlight: 0, failed: null };
    current = sending;
    const chunk = model.get("chunk");
    const window = model.get("window");
    const alive = () => current === sending && !sending.failed;
    const slot = () =>
      new Promise((resolve) => {
        if (sending.inFlight < window || !alive()) resolve();
        else sending.waiters.push(resolve);
      });
    progress(sending);
    model.send({ type: "begin", batch, files: files.map((f) => ({ name: f.name, size: f.size })) });
    for (let index = 0; index < files.length; index += 1) {
      const file = files[index];
      for (let offset = 0; offset < file.size; offset += chunk) {
        while (alive() && sending.inFlight >= window) await slot();
        if (!alive()) return;
        const piece = await file.slice(offset, offset + chunk).arrayBuffer();
        if (!alive()) return;
        sending.inFlight += 1;
        model.send({ type: "chunk", batch, file: index, offset }, undefined, [piece]);
      }
    }
    if (alive()) model.send({ type: "end", batch });
  }

  choose.addEventListener("click", () => input.click());
  input.addEventListener("change", () => {
    send(input.files);
    input.value = "";
  });
  const over = (event) => {
    event.preventDefault();
    root.classList.add("eachlabs-drop-over");
  };
  const leave = () => root.classList.remove("eachlabs-drop-over");
  root.addEventListener("dragenter", over);
  root.addEventListener("dragover", over);
  root.addEventListener("dragleave", leave);
  root.addEventListener("drop", (event) => {
    event.preventDefault();
    leave();
    send(event.dataTransfer && event.dataTransfer.files);
  });

  return () => {
    model.off("msg:custom", onMessage);
    model.off("change:accept", setup);
    model.off("change:label", setup);
    current = null;
  };
}

export default { render };
