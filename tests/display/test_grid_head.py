"""A grid says what its cells share once, above it: the prompt even when the model varies."""

import re

from eachlabs_widgets._display.render import Results
from eachlabs_widgets._generation import Generation

PROMPT = "a lighthouse at dusk"


def _run(model: str, size: str, n: int) -> Generation:
    return Generation(
        id=f"{n:08d}-0000",
        model=model,
        status="success",
        inputs={"prompt": PROMPT, "image_size": size, "seed": 7},
        urls=[],
        metrics={"cost": 0.01},
        emulated=True,
    )


def test_models_by_sizes_say_the_prompt_once_and_title_rows_by_model():
    models, sizes = ["flux-2-turbo-text-to-image", "flux-2-pro"], ["square", "portrait_4_3"]
    items, axes = [], []
    for m in models:
        for s in sizes:
            items.append((f"{m} {s}", _run(m, s, len(items))))
            axes.append({"model": m, "image_size": s})
    html = Results(items, axes=axes)._repr_mimebundle_()["text/html"]
    assert html.count(PROMPT) == 1  # in the head, not in each of the four cells
    assert "emulator" in html.split("<table", 1)[0]
    for m in models:  # each row titled by its model, on one line
        assert re.search(rf"<th style='[^']*white-space:nowrap[^']*' scope='row'>{m}<", html)


def test_one_model_still_names_it_in_the_head():
    items = [(s, _run("flux-2-pro", s, i)) for i, s in enumerate(["square", "portrait_4_3"])]
    axes = [{"image_size": s} for s in ["square", "portrait_4_3"]]
    html = Results(items, axes=axes)._repr_mimebundle_()["text/html"]
    head = html.split("eachlabs-grid", 1)[0]
    assert "<b>flux-2-pro</b>" in head and PROMPT in head
    assert html.count(PROMPT) == 1
