"""The live card: what it shows is widget state only."""

import io

from PIL import Image

from eachlabs_widgets import Generation, Output, PredictionFailedError
from eachlabs_widgets._card import LiveCard
from eachlabs_widgets._prediction import Prediction


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
