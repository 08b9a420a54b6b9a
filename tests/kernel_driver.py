"""A real ipykernel driven over raw iopub, as a frontend would: every message is kept,
also those that arrive after a cell went idle (widget updates from background tasks).

:func:`started` and :func:`on_emulator` give a kernel with the extension loaded on a service
served on loopback; :func:`final_outputs` and :func:`shown_text` read a cell's outputs."""

from __future__ import annotations

import contextlib
import json
import os
import queue
import signal
import time
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import Any

from jupyter_client.manager import start_new_kernel

from eachlabs_widgets.emulator import Emulator, serve

Message = dict[str, Any]
#: The API key the kernels send (the emulator takes any).
KEY = "test"
#: The setup every kernel runs first: the extension loaded, the package imported as ``el``.
SETUP = "%load_ext eachlabs_widgets\nimport eachlabs_widgets as el"


class Kernel:
    def __init__(self, env: Mapping[str, str], cwd: str) -> None:
        full = {k: v for k, v in os.environ.items() if not k.startswith("EACHLABS_")}
        full.update(env)
        self.km, self.kc = start_new_kernel(kernel_name="python3", env=full, cwd=cwd)
        self.messages: list[Message] = []
        #: The kernel's working folder (where the output folder is, relative to it).
        self.workdir = Path(cwd)

    @property
    def pid(self) -> int:
        return int(self.km.provisioner.pid)  # type: ignore[union-attr]

    def _pump(self, timeout: float) -> Message | None:
        try:
            msg = self.kc.get_iopub_msg(timeout=timeout)
        except queue.Empty:
            return None
        self.messages.append(msg)
        return msg

    def submit(self, code: str) -> str:
        """Send ``code`` without waiting; returns the request's msg_id."""
        return str(self.kc.execute(code, store_history=False))

    def wait_idle(self, msg_id: str, timeout: float = 30) -> dict[str, Any]:
        """Read iopub until the cell is idle, then return its execute_reply content."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            msg = self._pump(0.1)
            if (
                msg is not None
                and msg["msg_type"] == "status"
                and msg["parent_header"].get("msg_id") == msg_id
                and msg["content"]["execution_state"] == "idle"
            ):
                break
        else:
            raise TimeoutError(f"cell {msg_id} did not finish")
        while True:
            reply = self.kc.get_shell_msg(timeout=timeout)
            if reply["parent_header"].get("msg_id") == msg_id:
                return dict(reply["content"])

    def run(self, code: str, timeout: float = 30) -> tuple[dict[str, Any], list[Message]]:
        """Execute and wait: ``(execute_reply content, iopub messages of this cell)``."""
        msg_id = self.submit(code)
        reply = self.wait_idle(msg_id, timeout)
        return reply, self.of(msg_id)

    def of(self, msg_id: str) -> list[Message]:
        return [m for m in self.messages if m["parent_header"].get("msg_id") == msg_id]

    def stdout(self, code: str) -> str:
        return self.execute(code)

    def execute(self, code: str, timeout: float = 30) -> str:
        """Run a cell that must succeed; its stdout."""
        reply, messages = self.run(code, timeout)
        if reply["status"] != "ok":
            raise AssertionError("\n".join(reply.get("traceback", [])) or str(reply))
        return "".join(
            m["content"]["text"]
            for m in messages
            if m["msg_type"] == "stream" and m["content"]["name"] == "stdout"
        )

    def comm(self, comm_id: str, data: dict[str, Any]) -> None:
        """Send a shell ``comm_msg``, as a frontend does for a widget."""
        self.kc.shell_channel.send(
            self.kc.session.msg("comm_msg", {"comm_id": comm_id, "data": data})
        )

    def click(self, comm_id: str) -> None:
        self.comm(comm_id, {"method": "custom", "content": {"event": "click"}})

    def type(self, comm_id: str, value: str) -> None:
        self.comm(comm_id, {"method": "update", "state": {"value": value}, "buffer_paths": []})

    def wait_for(self, predicate: Callable[[Message], bool], timeout: float = 30) -> Message:
        """Read iopub until a message satisfies ``predicate`` (already-read ones count)."""
        for msg in self.messages:
            if predicate(msg):
                return msg
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            msg = self._pump(0.1)
            if msg is not None and predicate(msg):
                return msg
        raise TimeoutError("no such message arrived")

    def kill(self) -> None:
        os.kill(self.pid, signal.SIGKILL)

    def stop(self) -> None:
        self.kc.stop_channels()
        try:
            self.km.shutdown_kernel(now=True)
        except Exception:  # already dead (SIGKILL)
            self.km.cleanup_resources()


def widget_states(messages: list[Message]) -> list[tuple[Message, dict[str, Any]]]:
    """Every widget state sent (comm_open and update), with its message."""
    out = []
    for m in messages:
        data = m["content"].get("data", {}) if m["msg_type"].startswith("comm_") else {}
        if m["msg_type"] == "comm_open" or data.get("method") == "update":
            out.append((m, data.get("state", {})))
    return out


def statuses(messages: list[Message]) -> list[str]:
    """The card statuses shown, in order (from the header HTML's status span)."""
    import re

    found = []
    for _, state in widget_states(messages):
        value = state.get("value")
        if isinstance(value, str) and "eachlabs-status" in value:
            match = re.search(r"class='eachlabs-status[ '][^>]*>([^<]+)<", value)
            if match:
                found.append(match.group(1))
    return found


@contextlib.contextmanager
def started(url: str, workdir: Path, *, poll: float | None = 0.2) -> Iterator[Kernel]:
    """A kernel on the service at ``url`` (working in ``workdir``, its journal in
    ``workdir/home``) that ran :data:`SETUP` and, unless ``poll`` is None, set
    ``EachGen.poll_interval``; stopped on leaving."""
    kernel = Kernel(
        {"EACHLABS_BASE_URL": url, "EACHLABS_API_KEY": KEY, "EACHLABS_HOME": str(workdir / "home")},
        cwd=str(workdir),
    )
    try:
        setup = SETUP if poll is None else f"{SETUP}\n%config EachGen.poll_interval = {poll}"
        reply, _ = kernel.run(setup, timeout=60)
        assert reply["status"] == "ok", reply
        yield kernel
    finally:
        kernel.stop()


@contextlib.contextmanager
def on_emulator(
    workdir: Path, *, speed: float, poll: float | None = 0.2
) -> Iterator[tuple[Emulator, Kernel]]:
    """:func:`started` on an emulator of ``speed`` served on loopback by this process."""
    emulator = Emulator(speed=speed)
    server = serve(emulator)
    try:
        with started(server.url, workdir, poll=poll) as kernel:
            yield emulator, kernel
    finally:
        server.close()


def poll_status(emulator: Emulator, prediction_id: str) -> str:
    """The status the emulator answers a poll of ``prediction_id`` with."""
    answer = emulator.request("GET", f"/v1/prediction/{prediction_id}", headers={"X-API-Key": KEY})
    return str(answer.json_body()["status"])


def wait_until(check: Callable[[], Any], timeout: float = 20) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            raise TimeoutError("condition not met")
        time.sleep(0.05)


def shown_text(messages: list[Message]) -> str:
    """Everything a person could read in the cell's outputs (not widget state)."""
    parts = []
    for m in messages:
        content = m["content"]
        if m["msg_type"] in ("display_data", "update_display_data", "execute_result"):
            parts.append(json.dumps(content["data"]))
        elif m["msg_type"] == "stream":
            parts.append(content["text"])
        elif m["msg_type"] == "error":
            parts.append("\n".join(content["traceback"]))
    return "\n".join(parts)


def final_outputs(messages: list[Message]) -> list[dict[str, Any]]:
    """The cell's outputs once every message was applied, as a frontend (and a saved
    notebook) holds them: ``display_data`` and ``execute_result`` add one, an
    ``update_display_data`` replaces every output of its display id, ``clear_output``
    empties them (at the next output with ``wait``). Each is ``{"output_type", "data"}``
    (``text`` for a stream, ``traceback`` for an error)."""
    outputs: list[dict[str, Any]] = []
    ids: list[str | None] = []
    clear_pending = False
    for m in messages:
        kind, content = m["msg_type"], m["content"]
        if kind == "clear_output":
            if content.get("wait"):
                clear_pending = True
            else:
                outputs, ids = [], []
            continue
        if kind == "update_display_data":
            display_id = content.get("transient", {}).get("display_id")
            for i, known in enumerate(ids):
                if known == display_id:
                    outputs[i] = {"output_type": "display_data", "data": content["data"]}
            continue
        if kind == "display_data" or kind == "execute_result":
            output = {"output_type": kind, "data": content["data"]}
        elif kind == "stream":
            output = {"output_type": kind, "name": content["name"], "text": content["text"]}
        elif kind == "error":
            output = {"output_type": kind, "traceback": content["traceback"]}
        else:
            continue
        if clear_pending:
            outputs, ids, clear_pending = [], [], False
        outputs.append(output)
        ids.append((content.get("transient") or {}).get("display_id"))
    return outputs
