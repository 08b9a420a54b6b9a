"""A real ipykernel driven over raw iopub, as a frontend would: every message is kept,
also those that arrive after a cell went idle (widget updates from background tasks)."""

from __future__ import annotations

import os
import queue
import signal
import time
from collections.abc import Callable, Mapping
from typing import Any

from jupyter_client.manager import start_new_kernel

Message = dict[str, Any]


class Kernel:
    def __init__(self, env: Mapping[str, str], cwd: str) -> None:
        full = {k: v for k, v in os.environ.items() if not k.startswith("EACHLABS_")}
        full.update(env)
        self.km, self.kc = start_new_kernel(kernel_name="python3", env=full, cwd=cwd)
        self.messages: list[Message] = []

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
