"""The live card: what it shows is widget state only."""

import asyncio
import io

from PIL import Image

from eachlabs_widgets import Generation, Output, PredictionFailedError
from eachlabs_widgets._display.card import LiveCard
from eachlabs_widgets._service.prediction import Prediction


def png() -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (40, 30), (9, 9, 9)).save(buffer, "PNG")
    return buffer.getvalue()


def generation(outputs) -> Generation:
    return Generation(
        id="p1",
        model="m",
        status="success",
        inputs={"prompt": "<b>x</b>"},
        urls=[o.url for o in outputs],
        outputs=outputs,
    )


def test_statuses_and_escaping():
    card = LiveCard("a <label>", slots=2, prompt="<script>alert(1)</script>")
    assert len(card.gallery.children) == 2
    assert "&lt;label&gt;" in card.header.value and "<script>" not in card.header.value
    card.update(Prediction(id="p1", status="processing"))
    assert "processing" in card.header.value and "p1" in card.header.value


def test_finish_shows_thumbnails():
    card = LiveCard("run", slots=2)
    card.finish(generation([Output("https://x/0.png", png()), Output("https://x/1.png", png())]))
    assert [type(w).__name__ for w in card.gallery.children] == ["Image", "Image"]
    assert bytes(card.gallery.children[0].value).startswith(b"\xff\xd8")  # a JPEG thumbnail
    assert "success" in card.header.value


def test_finish_without_images_names_the_files():
    card = LiveCard("train")
    card.finish(generation([Output("https://x/0.safetensors", b"weights")]))
    (only,) = card.gallery.children
    assert "0.safetensors" in only.value


def test_failure_is_shown_with_the_services_message():
    card = LiveCard("run")
    card.fail(PredictionFailedError(prediction_id="p1", message="prompt <flagged>"))
    assert "error" in card.header.value and "prompt &lt;flagged&gt;" in card.header.value


def test_a_card_that_has_ended_is_not_changed_by_a_late_answer():
    # Cancelled while its create was in flight: the create answers afterwards (and what it made
    # is cancelled on the service); the card keeps saying "cancelled".
    card = LiveCard("run")
    card.fail(asyncio.CancelledError())
    before = card.header.value
    assert "cancelled" in before
    card.update(Prediction(id="p9", status="created"))
    assert card.status == "cancelled" and card.header.value == before


class Clock:
    """``time.monotonic`` as the card reads it, moved by hand."""

    def __init__(self) -> None:
        self.now = 1000.0

    def monotonic(self) -> float:
        return self.now


def test_the_status_keeps_the_themes_text_colour_and_says_its_class():
    import re

    card = LiveCard("run", emulated=True)
    card.update(Prediction(id="p1", status="processing"))
    [span] = re.findall(r"<span class='eachlabs-status[^>]*>", card.header.value)
    assert "eachlabs-status eachlabs-status-processing" in span
    # the status colour is the pill's edge, never the text (JupyterLab's green and orange
    # are below 4.5:1 on its Light background)
    assert "border:1px solid var(--jp-brand-color1" in span
    assert not re.search(r"(?:'|;)\s*color\s*:", span)
    emulator = re.search(r"<span class='eachlabs-emulator'[^>]*>", card.header.value)
    assert emulator and not re.search(r"(?:'|;)\s*color\s*:", emulator.group(0))
    card.finish(generation([Output("https://x/0.png", png())]))
    assert "eachlabs-status-success" in card.header.value


def test_progress_moves_forward_and_ends_only_at_success(monkeypatch):
    from eachlabs_widgets._display import card as _card

    clock = Clock()
    monkeypatch.setattr(_card, "time", clock)
    card = LiveCard("run", expected=20.0)
    seen = [card.progress()]
    card.set_status("uploading")
    seen.append(card.progress())
    assert seen[-1] == (0.02, "uploading the inputs") and "uploading" in card.header.value
    card.update(Prediction(id="p1", status="starting"))  # a long "created" is the provider's queue
    for step in (0.0, 5.0, 19.5, 60.0):
        clock.now = 1000.0 + step
        seen.append(card.progress())
    fractions = [fraction for fraction, _ in seen]
    assert fractions == sorted(fractions) and fractions[-1] < 1
    assert seen[3][1] == "~15 s left" and seen[-1][1] == "any moment now"
    card.finish(generation([Output("https://x/0.png", png())]))
    assert card.progress() == (1.0, "")


def test_a_training_guess_is_said_to_be_one(monkeypatch):
    from eachlabs_widgets._display import card as _card

    clock = Clock()
    monkeypatch.setattr(_card, "time", clock)
    card = LiveCard("trainer", guess=_card.TRAINING_GUESS)
    card.update(Prediction(id="p1", status="processing"))
    clock.now += 60
    fraction, words = card.progress()
    assert 0 < fraction < 1
    assert words == "~4 min left (a guess: no run of this model seen yet)"
    learned = LiveCard("trainer", expected=400.0, guess=_card.TRAINING_GUESS)
    learned.update(Prediction(id="p2", status="processing"))
    assert learned.progress()[1] == "~7 min left"  # what was learned wins over the guess


def test_without_thumbnails_only_what_is_not_a_picture_is_listed():
    card = LiveCard("run", slots=3, thumbnails=False)
    assert card.gallery.children == ()  # no placeholders
    card.finish(generation([Output("https://x/0.png", png())]))
    assert card.gallery.children == ()  # the picture goes to the panel's stage
    weights = LiveCard("train", thumbnails=False)
    weights.finish(generation([Output("https://x/lora.safetensors", b"weights")]))
    [listing] = weights.gallery.children
    assert "href='https://x/lora.safetensors'" in listing.value


def test_actions_are_added_on_a_row_of_their_own():
    import ipywidgets as widgets

    card = LiveCard("run")
    assert card.actions is None and len(card.children) == 2
    first, second = widgets.Button(description="a"), widgets.Button(description="b")
    card.add_action(first)
    card.add_action(second)
    assert card.children[-1] is card.actions
    assert card.actions.children == (first, second)


def test_close_closes_every_widget_but_the_layouts_other_cards_share():
    import ipywidgets as widgets

    from eachlabs_widgets._display.card import CardParts

    parts = CardParts()
    card = LiveCard("run", slots=2, on_cancel=lambda: None, parts=parts)
    other = LiveCard("other", parts=parts)
    card.add_action(widgets.Button(description="a"))
    held = [w for w in _every(card) if id(w) not in parts.ids()]
    card.close()
    assert card.closed and all(w.comm is None for w in held)
    assert all(w.comm is not None for w in _every(other))  # the shared layouts stay open
    card.set_status("error", "too late")  # a late update to a closed card is ignored

    alone = LiveCard("alone", on_cancel=lambda: None)
    everything = _every(alone)
    alone.close()
    assert all(w.comm is None for w in everything)  # its own layouts too


def _every(widget):
    import ipywidgets as widgets

    found, stack = {}, [widget]
    while stack:
        w = stack.pop()
        if id(w) in found:
            continue
        found[id(w)] = w
        for name in w.keys:
            value = getattr(w, name, None)
            for item in value if isinstance(value, (list, tuple)) else [value]:
                if isinstance(item, widgets.Widget):
                    stack.append(item)
    return list(found.values())
