"""The create's answers as the record gives them (API.md, "Create", "Limits and errors in
general"): 400 Invalid input for model, the two 429s, the two 402s, the cap that only a balance
of $10 or less brings, and a prediction that lingers ``created``."""

from __future__ import annotations

import httpx
import pytest

from eachlabs_widgets.emulator import Emulator
from eachlabs_widgets.emulator.__main__ import _emulator, build_parser

from .helpers import FakeClock, create, poll

TURBO = "flux-2-turbo-text-to-image"  # $0.008 an image
MAX = "flux-2-max-text-to-image"  # $0.07 an image, 20 s


def post(client: httpx.Client, model: str = TURBO, **inputs: object) -> httpx.Response:
    return client.post("/v1/prediction", json={"model": model, "version": "0.0.1", "input": inputs})


def test_a_missing_required_input_is_refused_at_create(client: httpx.Client, emu: Emulator) -> None:
    for inputs in ({}, {"prompt": None}, {"prompt": "  "}, {"image_size": "square"}):
        response = post(client, **inputs)
        assert response.status_code == 400
        assert response.json() == {
            "error": "Invalid input for model",
            "details": "prompt: field required",
        }
    assert emu.stats.predictions_created == 0


@pytest.mark.parametrize(
    ("model", "field", "value"),
    [
        ("wan-v2-6-text-to-image", "image_url", "data:image/png;base64,iVBORw0KGgo="),
        ("ideogram-v3-turbo", "image", "DATA:image/png;base64,iVBORw0KGgo="),
        ("z-image-trainer", "image_data_url", "data:application/zip;base64,UEsDBA=="),
    ],
)
def test_data_uris_in_file_inputs_are_refused_at_create(
    client: httpx.Client, emu: Emulator, model: str, field: str, value: str
) -> None:
    """ "data URIs and localhost are rejected" (API.md, "Upload"): refused before anything is
    made, naming the field; nothing is created or billed."""
    inputs = {"prompt": "x", field: value}
    response = post(client, model, **inputs)
    assert response.status_code == 400
    body = response.json()
    assert body["error"] == "Invalid input for model"
    assert body["details"].startswith(f"{field}: data URIs are not accepted")
    assert emu.stats.predictions_created == 0


def test_a_prompt_that_mentions_data_is_no_file(client: httpx.Client, clock: FakeClock) -> None:
    assert post(client, prompt="data: a chart of sales").status_code == 200


def test_the_second_429_too_many_started_at_once(
    client: httpx.Client, emu: Emulator, clock: FakeClock
) -> None:
    emu.starts_per_second = 2
    assert post(client, prompt="a").status_code == 200
    assert post(client, prompt="b").status_code == 200
    burst = post(client, prompt="c")
    assert burst.status_code == 429
    assert burst.headers["retry-after"] == "1"
    body = burst.json()
    assert body["status"] == 429 and body["error"] == "too many requests"
    assert body["details"].startswith("too many executions were started at once")
    assert emu.stats.predictions_created == 2  # nothing was created
    # another account is not held back; and a moment later this one starts again
    assert post(client, prompt="d").status_code == 429
    other = client.post(
        "/v1/prediction",
        json={"model": TURBO, "input": {"prompt": "e"}},
        headers={"X-API-Key": "other"},
    )
    assert other.status_code == 200
    clock.advance(1.0)
    assert post(client, prompt="f").status_code == 200


def test_burst_limit_fault(client: httpx.Client, emu: Emulator) -> None:
    emu.inject("burst_limit", endpoint="create")
    response = post(client, prompt="x")
    assert response.status_code == 429
    assert "started at once" in response.json()["details"]
    assert emu.stats.predictions_created == 0
    assert post(client, prompt="x").status_code == 200


def test_the_in_flight_402_is_temporary(
    client: httpx.Client, emu: Emulator, clock: FakeClock
) -> None:
    emu.balance = 0.15  # two flux-2-max images in flight reserve $0.14
    first = create(client, MAX, prompt="a")
    create(client, MAX, prompt="b")
    refused = post(client, MAX, prompt="c")
    assert refused.status_code == 402
    body = refused.json()
    assert body["status"] == 402 and body["error"] == "payment required"
    assert body["details"].startswith(
        "the estimated cost of your in-flight executions exceeds your current balance"
    )
    assert emu.stats.predictions_created == 2
    # it clears when an in-flight prediction ends: a cancel is not billed
    client.post(f"/v1/prediction/{first}/cancel")
    assert post(client, MAX, prompt="c").status_code == 200


def test_the_balance_402_with_nothing_in_flight_is_final(
    client: httpx.Client, emu: Emulator, clock: FakeClock
) -> None:
    emu.balance = 0.1
    pid = create(client, MAX, prompt="a")
    clock.advance(60)
    assert poll(client, pid)["metrics"]["cost"] == pytest.approx(0.07)  # $0.03 left
    refused = post(client, MAX, prompt="b")
    assert refused.status_code == 402
    assert refused.json()["details"].startswith("Insufficient balance")
    assert post(client, TURBO, prompt="cheap").status_code == 200


def test_payment_required_fault_variants(client: httpx.Client, emu: Emulator) -> None:
    emu.inject("payment_required", endpoint="create", in_flight=True)
    emu.inject("payment_required", endpoint="create")
    assert "in-flight executions" in post(client, prompt="x").json()["details"]
    assert post(client, prompt="x").json()["details"].startswith("Insufficient balance")


def test_the_cap_comes_only_with_a_balance_of_10_or_less(
    client: httpx.Client, emu: Emulator
) -> None:
    emu.balance = 10.01
    for i in range(25):
        create(client, MAX, prompt=f"{i}")  # above $10: no cap
    emu.balance = 10.0
    capped = post(client, MAX, prompt="x")
    assert capped.status_code == 429
    assert capped.json()["details"] == "Account rate limited: too many predictions in flight"
    emu.balance = None  # not modelled: the account_cap switch alone (10 by default)
    assert post(client, MAX, prompt="x").status_code == 429
    emu.account_cap = None
    assert post(client, MAX, prompt="x").status_code == 200


def test_the_cap_at_a_low_balance_follows_account_cap(client: httpx.Client, emu: Emulator) -> None:
    emu.configure(balance=5.0, account_cap=2)
    create(client, TURBO, prompt="a")
    create(client, TURBO, prompt="b")
    assert post(client, prompt="c").status_code == 429
    emu.configure(balance=5.0, account_cap=None)  # the record's 10
    for i in range(8):
        create(client, TURBO, prompt=f"{i}")
    assert post(client, prompt="c").status_code == 429


def test_a_prediction_can_linger_created(
    client: httpx.Client, emu: Emulator, clock: FakeClock
) -> None:
    emu.created_seconds = 30
    pid = create(client, TURBO, prompt="x")  # 1.5 s of model time once it starts
    for _ in range(3):
        body = poll(client, pid)
        assert body["status"] == "created"
        assert body["output"] is None and body["metrics"]["predict_time"] == 0
        clock.advance(9)
    clock.advance(3.05)  # 30.05 s: started
    assert poll(client, pid)["status"] == "starting"
    clock.advance(2)
    assert poll(client, pid)["status"] == "success"
    [record] = emu.records()
    assert record["ended_at"] == pytest.approx(record["created_at"] + 30 + record["duration"])


def test_a_lingering_created_prediction_can_be_cancelled(
    client: httpx.Client, emu: Emulator, clock: FakeClock
) -> None:
    emu.created_seconds = 30
    pid = create(client, TURBO, prompt="x")
    assert client.post(f"/v1/prediction/{pid}/cancel").status_code == 200
    clock.advance(60)
    body = poll(client, pid)
    assert body["status"] == "cancelled" and body["metrics"]["cost"] == 0


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("balance", -1),
        ("balance", "ten"),
        ("starts_per_second", 1.5),
        ("created_seconds", -2),
        ("files_processing_seconds", "x"),
        ("cancel_completes", "yes"),
    ],
)
def test_bad_switch_values_are_refused(emu: Emulator, name: str, value: object) -> None:
    with pytest.raises(ValueError, match=name):
        emu.configure(**{name: value})


def test_the_record_s_switches_from_the_control_plane_and_the_command_line(
    client: httpx.Client, emu: Emulator
) -> None:
    answer = client.post("/_emulator/settings", json={"balance": 3, "cancel_completes": True})
    assert answer.status_code == 200
    assert (emu.balance, emu.cancel_completes) == (3.0, True)
    bad = client.post("/_emulator/settings", json={"created_seconds": -1})
    assert bad.status_code == 400 and "created_seconds" in bad.json()["error"]
    flags = "--balance 5 --starts-per-second 3 --created-seconds 2.5 --cancel-completes"
    flags += " --cancel-status-success --trainer-output-string --files-delete-404"
    flags += " --files-processing-seconds 1 --presign-without-id"
    args = build_parser().parse_args(flags.split())
    made = _emulator(args).settings()
    assert made["balance"] == 5.0 and made["starts_per_second"] == 3
    assert made["created_seconds"] == 2.5 and made["files_processing_seconds"] == 1.0
    assert all(
        made[name]
        for name in (
            "cancel_completes",
            "cancel_status_success",
            "trainer_output_string",
            "files_delete_404",
            "presign_without_id",
        )
    )


@pytest.mark.parametrize(
    ("inputs", "failure", "code", "category"),
    [
        ({"prompt": "x", "image_size": "huge"}, None, "INPUT_VALIDATION_ERROR", "VALIDATION"),
        ({"prompt": "x [moderate]"}, None, "PROVIDER_REJECTED", "PROVIDER"),
        ({"prompt": "x"}, "execution_timeout", "EXECUTION_TIMEOUT", "TIMEOUT"),
        ({"prompt": "x"}, "provider_rate_limit", "PROVIDER_RATE_LIMIT", "RATE_LIMIT"),
    ],
)
def test_record_categories_switch(
    client: httpx.Client,
    emu: Emulator,
    clock: FakeClock,
    inputs: dict[str, str],
    failure: str | None,
    code: str,
    category: str,
) -> None:
    """The envelope's words from the record's lists (API.md, "Poll"), not the executions
    filter's lowercase words."""
    emu.configure(record_categories=True, failure=failure)
    pid = create(client, TURBO, **inputs)
    clock.advance(60)
    output = poll(client, pid)["output"]
    assert output["error_code"] == code
    assert output["classification"] == {"category": category}
    assert output["error"] == "Execution failed" and output["success"] is False
