"""The live cards of a grid of three varying inputs are laid out as its result: one titled
grid per value of the first input, each a matrix of the other two."""

from __future__ import annotations

import itertools

import ipywidgets as widgets

from eachlabs_widgets import AsyncEachLabs
from eachlabs_widgets._notebook.runs import CellRun, Job

TURBO = "flux-2-turbo-text-to-image"


def test_three_varying_inputs_make_one_titled_matrix_of_cards_per_page(monkeypatch, tmp_path):
    monkeypatch.setenv("EACHLABS_HOME", str(tmp_path))
    jobs = [
        Job(
            f"g={g} · seed={s} · size={z}",
            TURBO,
            {"prompt": "a fox", "seed": s, "guidance_scale": g, "image_size": z},
            axes={"guidance_scale": g, "seed": s, "image_size": z},
        )
        for g, s, z in itertools.product((2, 6), (1, 2), ("square", "landscape_4_3"))
    ]
    run = CellRun(AsyncEachLabs(base_url="emulator"), jobs)
    try:
        assert run.keys == ["seed", "image_size"]  # the cards are matrix cells
        _header, pages = run.view.children
        assert isinstance(pages, widgets.VBox)
        titles = [c for c in pages.children if isinstance(c, widgets.HTML)]
        grids = [c for c in pages.children if isinstance(c, widgets.GridBox)]
        assert ["guidance_scale=2" in t.value for t in titles] == [True, False]
        assert "guidance_scale=6" in titles[1].value and len(grids) == 2
        # each page holds its own four cards, in the order they were made
        for page, grid in enumerate(grids):
            cards = [c for c in grid.children if c in run.cards]
            assert cards == run.cards[page * 4 : page * 4 + 4]
        # a grid of fewer varying inputs is laid out as before: one grid
        one_input = [
            Job(j.label, j.model, j.inputs, axes={"seed": j.axes["seed"]}) for j in jobs[:2]
        ]
        two = CellRun(AsyncEachLabs(base_url="emulator"), one_input)
        assert isinstance(two.view.children[1], widgets.GridBox)
        two.close()
    finally:
        run.close()
