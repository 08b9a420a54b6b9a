"""Create, poll, cancel; auth; lifecycle; input checks and the failure envelope."""

from __future__ import annotations

import httpx
import pytest

from eachlabs_widgets.emulator import EMULATOR_BASE_URL, Emulator

from .helpers import KEY, FakeClock, create, poll, run

TURBO = "flux-2-turbo-text-to-image"


def test_lifecycle_starting_processing_success(client: httpx.Client, clock: FakeClock) -> None:
    pid = create(client, TURBO, prompt="a lighthouse", seed=1)
    first = poll(client, pid)
    assert first["status"] == "starting"
    assert first["output"] is None
    assert first["metrics"]["cost"] == 0
    assert set(first) == {"id", "input", "status", "output", "logs", "metrics", "urls"}
    clock.advance(0.5)
    assert poll(client, pid)["status"] == "processing"
    clock.advance(10)
    done = poll(client, pid)
    assert done["status"] == "success"
    assert done["id"] == pid
    assert done["input"] == {"prompt": "a lighthouse", "seed": 1}
    assert done["logs"] is None
    assert 1.0 <= done["metrics"]["predict_time"] <= 2.0  # turbo: ~1.5 s model time
    assert done["metrics"]["cost"] == pytest.approx(0.008)
    assert done["urls"] == {
        "get": f"{EMULATOR_BASE_URL}/v1/prediction/{pid}",
        "cancel": f"{EMULATOR_BASE_URL}/v1/prediction/{pid}/cancel",
    }
    assert done["output"] == [f"{EMULATOR_BASE_URL}/files/{pid}/0.png"]


def test_durations_are_realistic_and_scaled_by_speed(clock: FakeClock) -> None:
    emu = Emulator(clock=clock, speed=0.01)
    with httpx.Client(
        transport=emu.transport(), base_url=EMULATOR_BASE_URL, headers={"X-API-Key": KEY}
    ) as c:
        fast = create(c, "flux-2-flash-text-to-image", prompt="x")
        slow = create(c, "gpt-image-v1-5-text-to-image", prompt="x")
        trainer = create(c, "flux-lora-portrait-trainer", images_data_url="https://e.x/a.zip")
        clock.advance(0.05)  # 5 s of model time
        assert poll(c, fast)["status"] == "success"
        assert poll(c, slow)["status"] == "processing"
        clock.advance(0.25)
        assert poll(c, slow)["status"] == "success"
        assert poll(c, trainer)["status"] in ("starting", "processing")
        clock.advance(3.5)
        done = poll(c, trainer)
    assert done["status"] == "success"
    # predict_time reports model time, not the scaled wall time.
    assert 15 <= poll_time(done) <= 340


def poll_time(body: dict[str, object]) -> float:
    metrics = body["metrics"]
    assert isinstance(metrics, dict)
    return float(metrics["predict_time"])


def test_each_prediction_gets_its_own_jitter(client: httpx.Client, clock: FakeClock) -> None:
    ids = [create(client, "flux-2-max-text-to-image", prompt="x") for _ in range(4)]
    clock.advance(100)
    times = [poll_time(poll(client, pid)) for pid in ids]
    assert len(set(times)) > 1  # drawn per prediction (two may round alike)
    assert all(15 <= t <= 25 for t in times)


def test_trailing_slash_create(client: httpx.Client) -> None:
    response = client.post("/v1/prediction/", json={"model": TURBO, "input": {"prompt": "x"}})
    assert response.status_code == 200
    assert response.json()["predictionID"]


def test_create_errors(client: httpx.Client, emu: Emulator) -> None:
    no_model = client.post("/v1/prediction", json={"input": {"prompt": "x"}})
    assert no_model.status_code == 400
    assert no_model.json() == {"error": "model field is required"}
    not_object = client.post("/v1/prediction", json={"model": TURBO, "input": "a cat"})
    assert not_object.status_code == 400
    assert not_object.json()["error"] == "Invalid input for model"
    unknown = client.post("/v1/prediction", json={"model": "nope", "input": {}})
    assert unknown.status_code == 404
    assert "error" in unknown.json()
    garbage = client.post("/v1/prediction", content=b"{not json")
    assert garbage.status_code == 400
    assert emu.stats.predictions_created == 0


def test_poll_and_cancel_unknown_id(client: httpx.Client) -> None:
    for response in (client.get("/v1/prediction/nope"), client.post("/v1/prediction/nope/cancel")):
        assert response.status_code == 404
        assert response.json() == {"error": "Prediction not found"}


def test_auth_headers(emu: Emulator) -> None:
    def call(headers: dict[str, str]) -> httpx.Response:
        with httpx.Client(transport=emu.transport(), base_url=EMULATOR_BASE_URL) as c:
            return c.post(
                "/v1/prediction", json={"model": TURBO, "input": {"prompt": "x"}}, headers=headers
            )

    assert call({"X-API-Key": "anything"}).status_code == 200
    assert call({"Authorization": "Bearer anything"}).status_code == 200
    for headers in ({}, {"X-API-Key": ""}, {"Authorization": "Basic abc"}):
        response = call(headers)
        assert response.status_code == 401
        assert response.json() == {"error": "Invalid or missing API key"}
    emu.api_key = "right"
    assert call({"X-API-Key": "right"}).status_code == 200
    assert call({"Authorization": "Bearer right"}).status_code == 200
    assert call({"X-API-Key": "wrong"}).status_code == 401
    assert call({"Authorization": "Bearer wrong"}).status_code == 401
    assert emu.stats.predictions_created == 4


def test_poll_cancel_need_a_key(client: httpx.Client, emu: Emulator) -> None:
    pid = create(client, TURBO, prompt="x")
    with httpx.Client(transport=emu.transport(), base_url=EMULATOR_BASE_URL) as anon:
        assert anon.get(f"/v1/prediction/{pid}").status_code == 401
        assert anon.post(f"/v1/prediction/{pid}/cancel").status_code == 401


def test_request_id_echoed_or_generated(client: httpx.Client) -> None:
    echoed = client.get("/v1/models", headers={"X-Request-Id": "req-123"})
    assert echoed.headers["x-request-id"] == "req-123"
    first = client.get("/v1/models").headers["x-request-id"]
    second = client.get("/v1/prediction/nope").headers["x-request-id"]
    assert first and second and first != second


def test_cancel(client: httpx.Client, clock: FakeClock) -> None:
    pid = create(client, "flux-2-max-text-to-image", prompt="x")
    clock.advance(5)
    response = client.post(f"/v1/prediction/{pid}/cancel")
    assert response.status_code == 200
    assert response.json() == {
        "status": "cancelled",
        "message": "Prediction canceled successfully",
        "predictionID": pid,
    }
    clock.advance(100)
    body = poll(client, pid)
    assert body["status"] == "cancelled"
    assert body["metrics"]["cost"] == 0
    assert body["output"] is None
    again = client.post(f"/v1/prediction/{pid}/cancel")
    assert again.status_code == 400
    assert "cancelled" in again.json()["error"]


def test_cancel_a_finished_prediction_is_refused(client: httpx.Client, clock: FakeClock) -> None:
    pid = create(client, TURBO, prompt="x")
    clock.advance(10)
    response = client.post(f"/v1/prediction/{pid}/cancel")
    assert response.status_code == 400
    assert response.json()["error"]
    assert poll(client, pid)["status"] == "success"


def envelope(body: dict[str, object]) -> dict[str, object]:
    assert body["status"] == "error"
    metrics = body["metrics"]
    assert isinstance(metrics, dict) and metrics["cost"] == 0
    output = body["output"]
    assert isinstance(output, dict)
    assert output["error"] == "Execution failed"
    assert output["success"] is False
    return output


@pytest.mark.parametrize(
    ("inputs", "field"),
    [
        ({"prompt": "x", "image_size": "huge"}, "image_size"),
        ({"prompt": "x", "num_images": "many"}, "num_images"),
        ({"prompt": "x", "output_format": "gif"}, "output_format"),
        ({"prompt": "x", "enable_safety_checker": "maybe"}, "enable_safety_checker"),
        ({"prompt": ["x"]}, "prompt"),
        ({"prompt": "x", "num_images": 99}, "num_images"),
    ],
)
def test_invalid_input_ends_in_error(
    client: httpx.Client, clock: FakeClock, inputs: dict[str, object], field: str
) -> None:
    body = run(client, clock, TURBO, **inputs)
    output = envelope(body)
    assert output["error_code"] == "INPUT_VALIDATION_ERROR"
    assert output["classification"] == {"category": "invalid_user_input"}
    assert output["retryable"] is False
    assert output["model_slug"] == TURBO
    assert isinstance(output["error_message"], str) and field in output["error_message"]


def test_range_checks_use_the_schema(client: httpx.Client, clock: FakeClock) -> None:
    output = envelope(run(client, clock, "flux-2-flex", prompt="x", guidance_scale=20))
    assert "guidance_scale" in str(output["error_message"])
    ok = run(client, clock, "flux-2-flex", prompt="x", guidance_scale="5")
    assert ok["status"] == "success"


def test_validation_error_comes_early(client: httpx.Client, clock: FakeClock) -> None:
    pid = create(client, "flux-2-max-text-to-image", prompt="x", image_size="huge")
    assert poll(client, pid)["status"] == "starting"
    clock.advance(2.5)  # past the starting phase of a ~20 s model
    assert poll(client, pid)["status"] == "error"


def test_string_forms_are_accepted(client: httpx.Client, clock: FakeClock) -> None:
    body = run(
        client,
        clock,
        TURBO,
        prompt="x",
        num_images="2",
        enable_safety_checker="False",
        guidance_scale="3.5",
        seed="7",
    )
    assert body["status"] == "success"
    assert len(body["output"]) == 2
    tolerance = run(client, clock, "flux-2-pro", prompt="x", safety_tolerance=3)
    assert tolerance["status"] == "success"


def test_unknown_and_null_inputs_are_ignored(client: httpx.Client, clock: FakeClock) -> None:
    body = run(client, clock, TURBO, prompt="x", not_a_field=[1, 2], seed=None)
    assert body["status"] == "success"


def test_moderation_marker(client: httpx.Client, clock: FakeClock) -> None:
    pid = create(client, TURBO, prompt="something [moderate] here")
    clock.advance(0.8)
    assert poll(client, pid)["status"] == "processing"
    clock.advance(100)
    output = envelope(poll(client, pid))
    assert output["classification"] == {"category": "content_moderation"}
    assert output["error_code"] != "INPUT_VALIDATION_ERROR"


@pytest.mark.parametrize(
    ("classification", "retryable"),
    [("provider_unavailable", True), ("content_moderation", False), ("internal_error", True)],
)
def test_failure_switch(
    client: httpx.Client, clock: FakeClock, emu: Emulator, classification: str, retryable: bool
) -> None:
    emu.failure = classification
    output = envelope(run(client, clock, TURBO, prompt="x"))
    assert output["classification"] == {"category": classification}
    assert output["retryable"] is retryable
    emu.failure = None
    assert run(client, clock, TURBO, prompt="x")["status"] == "success"


def test_failure_switch_rejects_unknown_class(emu: Emulator) -> None:
    with pytest.raises(ValueError, match="failure"):
        emu.failure = "bogus"


def test_legacy_failed_status(client: httpx.Client, clock: FakeClock, emu: Emulator) -> None:
    emu.legacy_failed_status = True
    body = run(client, clock, TURBO, prompt="x", image_size="huge")
    assert body["status"] == "failed"
    assert body["output"]["error_code"] == "INPUT_VALIDATION_ERROR"
    assert body["metrics"]["cost"] == 0
    assert run(client, clock, TURBO, prompt="x")["status"] == "success"
    emu.legacy_failed_status = False
    assert run(client, clock, TURBO, prompt="x", image_size="huge")["status"] == "error"


def test_never_finish(client: httpx.Client, clock: FakeClock, emu: Emulator) -> None:
    emu.never_finish = True
    pid = create(client, TURBO, prompt="x")
    clock.advance(10_000)
    assert poll(client, pid)["status"] == "processing"
    emu.never_finish = False  # affects new predictions only
    assert poll(client, pid)["status"] == "processing"
    assert run(client, clock, TURBO, prompt="x")["status"] == "success"
    assert client.post(f"/v1/prediction/{pid}/cancel").status_code == 200
    assert poll(client, pid)["status"] == "cancelled"


def test_account_cap(client: httpx.Client, clock: FakeClock, emu: Emulator) -> None:
    emu.account_cap = 2
    first = create(client, "flux-2-max-text-to-image", prompt="x")
    create(client, "flux-2-max-text-to-image", prompt="x")
    response = client.post("/v1/prediction", json={"model": TURBO, "input": {"prompt": "x"}})
    assert response.status_code == 429
    assert response.json() == {
        "status": 429,
        "error": "too many requests",
        "details": "Account rate limited: too many predictions in flight",
    }
    assert "retry-after" not in response.headers
    assert emu.stats.predictions_created == 2
    # Another key has its own allowance.
    other = client.post(
        "/v1/prediction",
        json={"model": TURBO, "input": {"prompt": "x"}},
        headers={"X-API-Key": "other"},
    )
    assert other.status_code == 200
    # A cancel frees a slot; so does finishing.
    client.post(f"/v1/prediction/{first}/cancel")
    create(client, TURBO, prompt="x")
    busy = client.post("/v1/prediction", json={"model": TURBO, "input": {"prompt": "x"}})
    assert busy.status_code == 429
    clock.advance(100)
    create(client, TURBO, prompt="x")


def test_default_account_cap_is_ten(client: httpx.Client) -> None:
    for _ in range(10):
        create(client, "flux-2-max-text-to-image", prompt="x")
    response = client.post("/v1/prediction", json={"model": TURBO, "input": {"prompt": "x"}})
    assert response.status_code == 429


def test_ids_are_deterministic_for_a_seed(clock: FakeClock) -> None:
    def ids(seed: int) -> list[str]:
        emu = Emulator(clock=clock, seed=seed)
        with httpx.Client(
            transport=emu.transport(), base_url=EMULATOR_BASE_URL, headers={"X-API-Key": KEY}
        ) as c:
            return [create(c, TURBO, prompt="x") for _ in range(3)]

    assert ids(1) == ids(1)
    assert ids(1) != ids(2)


async def test_async_client_flow(aclient: httpx.AsyncClient, clock: FakeClock) -> None:
    response = await aclient.post(
        "/v1/prediction", json={"model": "nano-banana-pro", "input": {"prompt": "x"}}
    )
    pid = response.json()["predictionID"]
    assert (await aclient.get(f"/v1/prediction/{pid}")).json()["status"] == "starting"
    clock.advance(60)
    body = (await aclient.get(f"/v1/prediction/{pid}")).json()
    assert body["status"] == "success"
    image = await aclient.get(body["output"][0])
    assert image.status_code == 200
    assert image.content.startswith(b"\x89PNG")


def test_stats(client: httpx.Client, emu: Emulator, clock: FakeClock) -> None:
    pid = create(client, TURBO, prompt="x")
    poll(client, pid)
    poll(client, pid)
    client.get("/v1/models")
    stats = emu.stats
    assert stats.predictions_created == 1
    assert stats.prediction_ids == [pid]
    assert stats.requests == {"create": 1, "poll": 2, "models": 1}
    emu.reset()
    assert emu.stats.predictions_created == 0
    assert client.get(f"/v1/prediction/{pid}").status_code == 404


def test_reset_restores_constructor_settings(clock: FakeClock) -> None:
    emu = Emulator(clock=clock, never_finish=True, account_cap=3)
    emu.configure(never_finish=False, account_cap=None, output_404=True)
    emu.reset()
    assert emu.settings()["never_finish"] is True
    assert emu.account_cap == 3
    assert emu.output_404 is False
    with pytest.raises(ValueError):
        emu.configure(bogus=1)
    with pytest.raises(ValueError):
        emu.speed = -1
