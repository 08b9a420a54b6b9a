"""Property: whatever JSON the service answers, every call ends in a result or an EachLabsError."""

import asyncio
import contextlib
import json

import httpx
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import eachlabs_widgets as el
from eachlabs_widgets._service.client import _model_cache
from eachlabs_widgets._service.prediction import Prediction

json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-(2**70), 2**70)
    | st.floats(allow_nan=False)
    | st.text(max_size=20),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4)
    ),
    max_leaves=12,
)
prediction_like = st.fixed_dictionaries(
    {},
    optional={
        "id": json_values,
        "status": st.sampled_from(["success", "error", "failed", "canceled", "processing", ""])
        | json_values,
        "output": json_values,
        "metrics": json_values,
        "error": json_values,
        "logs": json_values,
        "input": json_values,
    },
)
model_like = st.fixed_dictionaries(
    {},
    optional={
        "slug": json_values,
        "request_schema": json_values
        | st.fixed_dictionaries({}, optional={"properties": json_values, "required": json_values}),
    },
)
answers = st.one_of(json_values, prediction_like, model_like)


def _client_answering(body: object) -> el.AsyncEachLabs:
    raw = json.dumps(body).encode()

    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, content=raw, headers={"content-type": "application/json"})

    return el.AsyncEachLabs(
        api_key="k",
        base_url="https://api.example",
        transport=httpx.MockTransport(handler),
        journal=False,
    )


SETTINGS = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@SETTINGS
@given(answers)
def test_any_answer_to_any_call_ends_in_a_result_or_an_eachlabs_error(body):
    async def every_call() -> None:
        client = _client_answering(body)
        calls = [
            lambda: client.get_model("m"),
            lambda: client.list_models(),
            lambda: client.create_prediction("m", {"prompt": "x"}),
            lambda: client.get_prediction("p"),
            lambda: client.cancel_prediction("p"),
            lambda: client.upload(b"\x89PNG\r\n\x1a\n" + b"\0" * 16),
        ]
        for call in calls:
            _model_cache.clear()
            with contextlib.suppress(el.EachLabsError):
                await call()
        await client.aclose()

    asyncio.run(every_call())


@SETTINGS
@given(prediction_like)
def test_a_prediction_answer_always_parses_and_says_how_it_ended(body):
    prediction = Prediction.from_json(body, "p")
    assert isinstance(prediction.status, str)
    assert all(isinstance(url, str) for url in prediction.urls)
    error = prediction.error("m")
    assert error is None or isinstance(error, el.PredictionError)
    if prediction.failed or prediction.cancelled:
        assert error is not None and "p" in str(error)
