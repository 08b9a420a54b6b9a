"""A run settled in place (Voila's way of showing a background result) keeps one open view
whose every part is open, and closes everything else its cards held."""

from __future__ import annotations

import asyncio

import ipywidgets as widgets

from eachlabs_widgets import AsyncEachLabs
from eachlabs_widgets._embedded import shared_emulator
from eachlabs_widgets._notebook.run_display import _once_shown
from eachlabs_widgets._notebook.runs import CellRun, Job, close_tree, in_voila
from eachlabs_widgets._service import cancels

TURBO = "flux-2-turbo-text-to-image"


def test_settling_in_place_closes_the_cards_but_nothing_the_result_uses(monkeypatch, tmp_path):
    monkeypatch.setenv("EACHLABS_HOME", str(tmp_path))
    client = AsyncEachLabs(base_url="emulator")
    jobs = [Job(f"seed {n}", TURBO, {"prompt": "a fox", "seed": n}) for n in (1, 2)]
    run = CellRun(client, jobs, background=True)
    before = [w for w in _all(run.view) if w is not run.view]
    run.settle_in_place({"text/plain": "done", "text/html": "<b>the result</b>"}, close_after=0)

    [shown] = run.view.children
    assert isinstance(shown, widgets.HTML) and shown.value == "<b>the result</b>"
    kept = _all(run.view)
    assert all(w.comm is not None for w in kept)  # nothing the page draws was closed
    closed = [w for w in before if id(w) not in {id(k) for k in kept}]
    assert closed and all(w.comm is None for w in closed)


async def test_on_a_loop_the_cards_stay_open_for_a_page_still_loading_then_close(
    monkeypatch, tmp_path
):
    monkeypatch.setenv("EACHLABS_HOME", str(tmp_path))
    jobs = [Job("seed 1", TURBO, {"prompt": "a fox", "seed": 1})]
    run = CellRun(AsyncEachLabs(base_url="emulator"), jobs, background=True)
    cards = [w for w in _all(run.view) if w is not run.view]
    run.settle_in_place({"text/plain": "done", "text/html": "<b>the result</b>"}, close_after=0.2)
    assert run.view.children[0].value == "<b>the result</b>"
    assert all(w.comm is not None for w in cards)  # a page may still fetch their state
    await asyncio.sleep(0.4)
    kept = {id(w) for w in _all(run.view)}
    gone = [w for w in cards if id(w) not in kept]
    assert gone and all(w.comm is None for w in gone)


def test_plain_text_is_shown_escaped_when_there_is_no_html(monkeypatch, tmp_path):
    monkeypatch.setenv("EACHLABS_HOME", str(tmp_path))
    run = CellRun(AsyncEachLabs(base_url="emulator"), [Job("x", TURBO, {"prompt": "a"})])
    run.settle_in_place({"text/plain": "a <failure>"})
    assert run.view.children[0].value == "<pre>a &lt;failure&gt;</pre>"


def test_voila_is_told_by_the_variables_it_sets_in_its_kernels(monkeypatch):
    for name in ("VOILA_KERNEL_ID", "VOILA_BASE_URL"):
        monkeypatch.delenv(name, raising=False)
    assert not in_voila()
    monkeypatch.setenv("VOILA_BASE_URL", "/")
    assert in_voila()


def _all(widget: widgets.Widget) -> list[widgets.Widget]:
    found: list[widgets.Widget] = []
    ids = close_tree(widget, close=False)
    stack = [widget]
    while stack:
        w = stack.pop()
        if any(w is f for f in found):
            continue
        found.append(w)
        for name in w.keys:
            value = getattr(w, name, None)
            for item in value if isinstance(value, (list, tuple)) else [value]:
                if isinstance(item, widgets.Widget):
                    stack.append(item)
    assert {id(w) for w in found} == ids
    return found


async def test_places_in_line_count_the_waiting_cards_of_every_cell(monkeypatch, tmp_path):
    import asyncio

    from eachlabs_widgets._service.limiter import PredictionLimiter

    monkeypatch.setenv("EACHLABS_HOME", str(tmp_path))
    monkeypatch.setenv("EACHLABS_EMULATOR_SPEED", "0.3")
    one_slot = PredictionLimiter(1)
    client = AsyncEachLabs(base_url="emulator", limiter=one_slot)
    cells = [
        CellRun(client, [Job(f"{c}{n}", TURBO, {"prompt": f"cell {c}", "seed": n}) for n in (1, 2)])
        for c in "ab"
    ]
    tasks = [asyncio.ensure_future(cell.execute()) for cell in cells]
    for _ in range(200):
        await asyncio.sleep(0.02)
        if one_slot.running == 1:
            break
    places = [card.queue_position for cell in cells for card in cell.cards]
    assert places == [None, 1, 2, 3]  # the second cell's cards come after the first's
    for task in tasks:
        task.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)


async def test_an_ended_run_says_what_it_spent_and_counts_cancelled_apart(monkeypatch, tmp_path):
    import asyncio

    monkeypatch.setenv("EACHLABS_HOME", str(tmp_path))
    monkeypatch.setenv("EACHLABS_EMULATOR_SPEED", "0.3")
    client = AsyncEachLabs(base_url="emulator")
    done = CellRun(client, [Job("a", TURBO, {"prompt": "a fox", "seed": 1})], reuse=False)
    await done.execute()
    assert done.summary().startswith("1 run · 1 done · spent $0.0")

    # slow enough that the cancel reaches it before it ends, however loaded the machine
    monkeypatch.setattr(shared_emulator(), "speed", 5.0)
    cancelled = CellRun(client, [Job("b", TURBO, {"prompt": "a fox", "seed": 2})])
    task = asyncio.ensure_future(cancelled.execute())
    for _ in range(200):
        await asyncio.sleep(0.02)
        if cancelled.prediction_ids:
            break
    cancelled.cancel()
    await asyncio.gather(task, return_exceptions=True)
    # "nothing spent" only once the service said the prediction is cancelled (its answer to
    # the poll after the cancel may come after the run ended, on a loaded machine)
    [pid] = cancelled.prediction_ids.values()
    for _ in range(250):
        if cancels.outcome(pid) is not None:
            break
        await asyncio.sleep(0.02)
    assert cancels.outcome(pid) == cancels.CANCELLED
    assert cancelled.summary() == "1 run · 1 cancelled · nothing spent"


def test_how_to_cancel_is_said_once_per_cell(monkeypatch, tmp_path):
    from eachlabs_widgets._display.card import FOREGROUND_HINT

    monkeypatch.setenv("EACHLABS_HOME", str(tmp_path))
    client = AsyncEachLabs(base_url="emulator")
    jobs = [Job(f"seed {n}", TURBO, {"prompt": "a fox", "seed": n}) for n in (1, 2, 3)]
    sweep = CellRun(client, jobs)
    assert sweep.header.value.count(FOREGROUND_HINT) == 1
    assert not any(FOREGROUND_HINT in card.header.value for card in sweep.cards)
    single = CellRun(client, jobs[:1])
    assert FOREGROUND_HINT not in single.header.value
    assert FOREGROUND_HINT in single.cards[0].header.value
    background = CellRun(client, jobs, background=True)  # Cancel buttons say it there
    assert FOREGROUND_HINT not in background.header.value


async def test_under_voila_a_background_run_starts_once_the_page_shows_its_view(
    monkeypatch, tmp_path
):
    # A page still loading its widgets' state must not meet widgets made or closed meanwhile.
    from eachlabs_widgets._notebook import run_display as _run_display

    monkeypatch.setenv("EACHLABS_HOME", str(tmp_path))
    monkeypatch.setenv("VOILA_KERNEL_ID", "k")
    monkeypatch.setattr(_run_display, "display", lambda *a, **k: None)
    run = CellRun(AsyncEachLabs(base_url="emulator"), [Job("x", TURBO, {"prompt": "a"})])
    started = asyncio.Event()

    async def execute() -> None:
        started.set()

    monkeypatch.setattr(run, "execute", execute)
    _run_display.show_in_background(run, None, lambda result: None)
    assert run.view._view_count == 0  # the page counts its views back
    await asyncio.sleep(0.1)
    assert not started.is_set()
    run.view._view_count = 1  # what the page sends once it shows the view
    await asyncio.wait_for(started.wait(), 5)


async def test_a_view_never_shown_starts_the_run_after_the_wait():
    view = widgets.VBox()
    view._view_count = 0
    ran = []

    async def then() -> str:
        ran.append(True)
        return "ran"

    assert await _once_shown(view, 0.05, then) == "ran" and ran == [True]
