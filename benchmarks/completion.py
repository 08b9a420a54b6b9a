"""How long one TAB press on a ``%%eachgen`` line keeps the kernel busy.

Through IPython's own completer (as a kernel's complete_request does), for: the catalogue
cached (after one listing from the emulator served on loopback), a service that refuses
connections, and one that accepts them but never answers (a stuck proxy). Without a cached
catalogue, completion makes one short attempt, then none for a minute: later presses cost
what a cached one does.

    python benchmarks/completion.py [--presses 20]
"""

from __future__ import annotations

import argparse
import os
import socket
import statistics
import tempfile
import time
from typing import Any

from eachlabs_widgets.emulator import Emulator, serve

LINES = ("%%eachgen flux-2-t", "%%eachgen flux-2-turbo-text-to-image --image_s")


def press(ip: Any, line: str) -> float:
    started = time.perf_counter()
    ip.Completer.complete(line_buffer=line, cursor_pos=len(line))
    return time.perf_counter() - started


def scenario(ip: Any, label: str, url: str, presses: int) -> None:
    os.environ["EACHLABS_BASE_URL"] = url
    ip.run_line_magic("reload_ext", "eachlabs_widgets")  # nothing cached yet
    magics = ip._eachgen_magics
    first = [press(ip, line) for line in LINES]
    later = [press(ip, LINES[i % 2]) for i in range(presses)]
    print(
        f"{label:28} first presses {' / '.join(f'{t * 1000:6.0f}' for t in first)} ms   "
        f"later: median {statistics.median(later) * 1000:5.1f} ms, "
        f"max {max(later) * 1000:5.1f} ms   attempts {magics.completion.attempts}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--presses", type=int, default=20)
    args = parser.parse_args()
    os.environ["EACHLABS_HOME"] = tempfile.mkdtemp()
    os.environ.pop("EACHLABS_API_KEY", None)
    from IPython.testing.globalipapp import start_ipython

    ip = start_ipython()
    ip.run_line_magic("load_ext", "eachlabs_widgets")
    press(ip, "import o")  # IPython's own first-use cost (jedi), not ours
    server = serve(Emulator(speed=0.01))
    refused = socket.socket()
    refused.bind(("127.0.0.1", 0))
    refused_port = refused.getsockname()[1]
    refused.close()
    silent = socket.socket()
    silent.bind(("127.0.0.1", 0))
    silent.listen(16)
    try:
        scenario(ip, "emulator on loopback", server.url, args.presses)
        scenario(ip, "refused connection", f"http://127.0.0.1:{refused_port}", args.presses)
        silent_url = f"http://127.0.0.1:{silent.getsockname()[1]}"
        scenario(ip, "accepts, never answers", silent_url, args.presses)
    finally:
        server.close()
        silent.close()


if __name__ == "__main__":
    main()
