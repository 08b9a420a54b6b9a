"""``Generation``: a finished prediction with its downloaded outputs."""

from __future__ import annotations

import io
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ._files import atomic_write, embed_metadata, extension_for, safe_stem, write_sidecar

if TYPE_CHECKING:
    from PIL import Image

    from ._journal import JournalEntry

__all__ = ["DEFAULT_OUTPUT_DIR", "Generation", "Output"]

DEFAULT_OUTPUT_DIR = "eachgen_outputs"


@dataclass(frozen=True)
class Output:
    """One downloaded output file."""

    url: str
    data: bytes = field(repr=False)
    content_type: str | None = None

    @property
    def is_image(self) -> bool:
        from ._media import sniff_content_type

        return sniff_content_type(self.data).startswith("image/")


@dataclass
class Generation:
    """A prediction that ended in success, with its outputs downloaded.

    ``inputs`` is exactly what was sent (including a seed picked for you), so
    ``generate(g.model, **g.inputs)`` reproduces it.
    """

    id: str
    model: str
    status: str
    inputs: dict[str, Any]
    urls: list[str]
    metrics: dict[str, Any] = field(default_factory=dict)
    outputs: list[Output] = field(default_factory=list, repr=False)
    created_at: datetime = field(default_factory=lambda: datetime.now(timezone.utc))
    elapsed: float | None = None
    emulated: bool = False
    paths: list[Path] = field(default_factory=list)
    polls: int = 0
    #: True when this result was reused from an earlier identical run (nothing was spent).
    reused: bool = False
    _images: list[Image.Image] | None = field(default=None, repr=False, compare=False)

    @property
    def prompt(self) -> str | None:
        value = self.inputs.get("prompt")
        return value if isinstance(value, str) else None

    @property
    def seed(self) -> Any:
        return self.inputs.get("seed")

    @property
    def cost(self) -> float | None:
        value = self.metrics.get("cost")
        return float(value) if isinstance(value, (int, float)) else None

    @property
    def predict_time(self) -> float | None:
        value = self.metrics.get("predict_time")
        return float(value) if isinstance(value, (int, float)) else None

    @property
    def images(self) -> list[Image.Image]:
        """The image outputs as PIL images (decoded once)."""
        images = self._images
        if images is None:
            from PIL import Image

            images = []
            for out in self.outputs:
                if out.is_image:
                    image = Image.open(io.BytesIO(out.data))
                    image.load()
                    images.append(image)
            self._images = images
        return images

    def parameters(self, index: int | None = None) -> dict[str, Any]:
        """What is recorded beside and inside every saved file."""
        params: dict[str, Any] = {
            "model": self.model,
            "inputs": self.inputs,
            "prediction_id": self.id,
            "created_at": self.created_at.isoformat(),
            "metrics": self.metrics,
            "elapsed": self.elapsed,
        }
        if index is not None and index < len(self.outputs):
            params["output_index"] = index
            params["url"] = self.outputs[index].url
        if self.emulated:
            params["emulated"] = True
        return params

    def file_stem(self, index: int) -> str:
        when = self.created_at.astimezone().strftime("%Y%m%d-%H%M%S")
        prompt = safe_stem(self.prompt or "", 40)
        return f"{when}_{safe_stem(self.model, 32)}_{prompt}_{safe_stem(self.id, 12)}_{index}"

    def save(self, directory: str | Path = DEFAULT_OUTPUT_DIR) -> list[Path]:
        """Write every output into ``directory``, each with a ``.json`` sidecar; returns the paths.

        Writes are atomic, names are safe whatever the prompt holds, and the parameters are
        also embedded in PNG and JPEG files.
        """
        folder = Path(directory).expanduser()
        paths = []
        for index, out in enumerate(self.outputs):
            ext = extension_for(out.url, out.content_type, out.data)
            path = folder / (self.file_stem(index) + ext)
            params = self.parameters(index)
            atomic_write(path, embed_metadata(out.data, params))
            write_sidecar(path, params)
            paths.append(path)
        self.paths = paths
        return paths

    @classmethod
    def from_entry(cls, entry: JournalEntry) -> Generation:
        """A generation rebuilt from a journal entry whose files are on disk (no network)."""
        from ._settings import EMULATOR

        paths = [Path(f) for f in entry.files]
        outputs = [
            Output(url=url, data=path.read_bytes())
            for url, path in zip(entry.urls or [str(p) for p in paths], paths, strict=False)
        ]
        return cls(
            id=entry.id,
            model=entry.model,
            status=entry.status,
            inputs=dict(entry.inputs),
            urls=list(entry.urls),
            metrics=dict(entry.metrics),
            outputs=outputs,
            created_at=entry.created_at,
            emulated=entry.base_url == EMULATOR,
            paths=paths,
            reused=True,
        )

    def _repr_mimebundle_(self, include: Any = None, exclude: Any = None) -> dict[str, Any]:
        from ._render import generation_bundle

        return generation_bundle(self)

    def __repr__(self) -> str:
        label = " (emulator)" if self.emulated else ""
        return (
            f"<Generation {self.id} {self.model}{label} {self.status}: "
            f"{len(self.outputs)} output(s), seed={self.seed!r}>"
        )
