import io
import json

from PIL import Image

from eachlabs_widgets import Generation, Output
from eachlabs_widgets._journal.files import embed_metadata, read_png_text, safe_stem


def png_bytes(size=(8, 6)) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", size, (200, 10, 10)).save(buffer, "PNG")
    return buffer.getvalue()


def jpeg_bytes() -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (8, 8), (0, 90, 200)).save(buffer, "JPEG")
    return buffer.getvalue()


def test_safe_stem_survives_any_prompt():
    assert (
        safe_stem("A red fox / in the snow: ../../etc/passwd") == "a-red-fox-in-the-snow-etc-passwd"
    )
    assert safe_stem("自由 🦊") == "untitled"
    assert safe_stem("Ünïcödé café") == "unicode-cafe"
    assert len(safe_stem("x" * 500)) == 40


def test_png_metadata_is_embedded_without_reencoding():
    original = png_bytes()
    tagged = embed_metadata(original, {"seed": 42})
    assert json.loads(read_png_text(tagged)["eachlabs"]) == {"seed": 42}
    image = Image.open(io.BytesIO(tagged))
    assert image.text["eachlabs"] == '{"seed": 42}'
    assert image.tobytes() == Image.open(io.BytesIO(original)).tobytes()


def test_jpeg_metadata_is_a_comment():
    tagged = embed_metadata(jpeg_bytes(), {"seed": 7})
    image = Image.open(io.BytesIO(tagged))
    assert json.loads(image.info["comment"].decode().split(":", 1)[1]) == {"seed": 7}


def test_save_writes_images_and_sidecars(tmp_path):
    generation = Generation(
        id="abc/123",
        model="flux-2-turbo",
        status="success",
        inputs={"prompt": 'a "fox" <script>', "seed": 5},
        urls=["https://cdn/x.png", "https://cdn/y.jpeg"],
        outputs=[
            Output("https://cdn/x.png", png_bytes()),
            Output("https://cdn/y.jpeg", jpeg_bytes()),
        ],
        metrics={"cost": 0.01},
    )
    paths = generation.save(tmp_path / "out")
    assert [p.suffix for p in paths] == [".png", ".jpg"]
    for index, path in enumerate(paths):
        assert path.parent == tmp_path / "out"
        sidecar = json.loads(path.with_suffix(path.suffix + ".json").read_text())
        assert sidecar["inputs"]["seed"] == 5
        assert sidecar["prediction_id"] == "abc/123"
        assert sidecar["output_index"] == index
    assert "a-fox-script" in paths[0].name
    assert not list((tmp_path / "out").glob(".*.tmp"))
    assert generation.images[0].size == (8, 6)
    assert generation.images is generation.images  # decoded once, readable again
