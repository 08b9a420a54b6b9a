"""``EachLabs``: the synchronous client, a thin driver over :class:`AsyncEachLabs`.

Each method runs its async twin to completion (see :mod:`.sync`): one implementation, two
faces, as in a script or a notebook cell that does not want ``await``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from .._generation import Generation
from .client import AsyncEachLabs, OnUpdate
from .prediction import Prediction
from .sync import run_sync

__all__ = ["EachLabs"]


class EachLabs:
    """The EachLabs Predictions API, synchronously. Takes the arguments of :class:`AsyncEachLabs`."""

    def __init__(
        self, api_key: str | None = None, base_url: str | None = None, **options: Any
    ) -> None:
        self.aio = AsyncEachLabs(api_key, base_url, **options)

    def __repr__(self) -> str:
        return f"<EachLabs base_url={self.aio.settings().base_url!r}>"

    def __enter__(self) -> EachLabs:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        run_sync(self.aio.aclose())

    def list_models(self, name: str | None = None) -> list[dict[str, Any]]:
        return run_sync(self.aio.list_models(name))

    def get_model(self, slug: str) -> dict[str, Any]:
        return run_sync(self.aio.get_model(slug))

    def create_prediction(self, model: str, input: Mapping[str, Any], **options: Any) -> str:
        return run_sync(self.aio.create_prediction(model, input, **options))

    def get_prediction(self, prediction_id: str) -> Prediction:
        return run_sync(self.aio.get_prediction(prediction_id))

    def cancel_prediction(self, prediction_id: str) -> dict[str, Any]:
        return run_sync(self.aio.cancel_prediction(prediction_id))

    def wait(self, prediction_id: str, timeout: float | None = None, **options: Any) -> Prediction:
        return run_sync(self.aio.wait(prediction_id, timeout, **options))

    def upload(
        self,
        data: Any,
        content_type: str | None = None,
        *,
        expires_in_seconds: int | None = None,
        progress: bool | None = None,
    ) -> str:
        return run_sync(
            self.aio.upload(
                data, content_type, expires_in_seconds=expires_in_seconds, progress=progress
            )
        )

    def delete_upload(self, url_or_id: str) -> None:
        run_sync(self.aio.delete_upload(url_or_id))

    def download(self, url: str) -> bytes:
        return run_sync(self.aio.download(url))

    def run(
        self,
        model: str,
        inputs: Mapping[str, Any],
        *,
        timeout: float | None = None,
        on_update: OnUpdate | None = None,
        save_to: str | None = None,
        reuse: bool = False,
        keep_uploads: bool = False,
    ) -> Generation:
        return run_sync(
            self.aio.run(
                model,
                inputs,
                timeout=timeout,
                on_update=on_update,
                save_to=save_to,
                reuse=reuse,
                keep_uploads=keep_uploads,
            )
        )
