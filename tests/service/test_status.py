import pytest

from eachlabs_widgets import PredictionCancelledError, PredictionFailedError
from eachlabs_widgets._service.prediction import Prediction
from eachlabs_widgets._service.status import (
    is_terminal,
    normalise_status,
    output_urls,
    parse_failure,
)


@pytest.mark.parametrize(
    ("status", "terminal"),
    [
        ("success", True),
        ("error", True),
        ("failed", True),
        ("cancelled", True),
        ("canceled", True),
        ("CANCELED", True),
        ("created", False),
        ("starting", False),
        ("processing", False),
        ("queued", False),
        (None, False),
    ],
)
def test_terminal_statuses(status, terminal):
    assert is_terminal(status) is terminal


def test_canceled_is_spelled_cancelled():
    assert normalise_status("canceled") == "cancelled"
    assert normalise_status(None) == "starting"


@pytest.mark.parametrize(
    ("output", "urls"),
    [
        ("https://cdn/x.png", ["https://cdn/x.png"]),
        (["https://cdn/a.png", "https://cdn/b.png"], ["https://cdn/a.png", "https://cdn/b.png"]),
        (
            {"images": [{"url": "https://cdn/a.png"}, {"url": "https://cdn/b.png"}]},
            ["https://cdn/a.png", "https://cdn/b.png"],
        ),
        ({"image": {"url": "https://cdn/a.png", "width": 4}}, ["https://cdn/a.png"]),
        ({"image_url": "https://cdn/a.png"}, ["https://cdn/a.png"]),
        (
            {"diffusers_lora_file": {"url": "https://cdn/w.safetensors"}},
            ["https://cdn/w.safetensors"],
        ),
        (["https://cdn/a.png", "https://cdn/a.png"], ["https://cdn/a.png"]),
        (None, []),
        ("not a url", []),
        ({"error": "Execution failed", "error_code": "X", "success": False}, []),
    ],
)
def test_output_normalised_to_a_list_of_urls(output, urls):
    assert output_urls(output) == urls


ENVELOPE = {
    "id": "p1",
    "status": "error",
    "logs": None,
    "output": {
        "error": "Execution failed",
        "error_code": "INPUT_VALIDATION_ERROR",
        "error_message": "ranges: width must be <= 2048",
        "classification": {"category": "invalid_user_input"},
        "retryable": False,
        "success": False,
    },
    "metrics": {"predict_time": 3.4, "cost": 0},
}


def test_failure_envelope_reaches_the_user():
    failure = parse_failure(ENVELOPE)
    assert failure.message == "ranges: width must be <= 2048"
    assert failure.code == "INPUT_VALIDATION_ERROR"
    assert failure.classification == "invalid_user_input"
    assert failure.retryable is False
    error = Prediction.from_json(ENVELOPE).error("flux")
    assert isinstance(error, PredictionFailedError)
    assert error.prediction_id == "p1"
    assert "ranges: width must be <= 2048" in str(error)
    assert "invalid_user_input" in str(error)


def test_legacy_failed_status_and_a_bare_error():
    body = {"id": "p2", "status": "failed", "error": "GPU out of memory"}
    error = Prediction.from_json(body).error()
    assert isinstance(error, PredictionFailedError)
    assert error.message == "GPU out of memory"
    assert error.status == "failed"


def test_cancelled_prediction_error():
    error = Prediction.from_json({"id": "p3", "status": "canceled"}).error()
    assert isinstance(error, PredictionCancelledError)


def test_running_and_successful_predictions_have_no_error():
    assert Prediction.from_json({"id": "a", "status": "processing"}).error() is None
    done = Prediction.from_json({"id": "a", "status": "success", "output": ["https://x/y.png"]})
    assert done.error() is None
    assert done.urls == ["https://x/y.png"]
