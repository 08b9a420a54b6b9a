"""What a card says of a cancel (the service's word only), of a failure's classification,
and of a prediction held in the provider's queue."""

import asyncio
import time

from eachlabs_widgets import PredictionFailedError
from eachlabs_widgets._display import card as card_module
from eachlabs_widgets._display.card import LiveCard
from eachlabs_widgets._service.prediction import Prediction


def running_card() -> LiveCard:
    card = LiveCard("run")
    card.update(Prediction(id="p1", status="processing"))
    return card


def test_an_accepted_cancel_is_a_request_until_the_service_says_cancelled():
    card = running_card()
    card.fail(asyncio.CancelledError())
    assert card.status == "cancel requested" and card.ended
    assert "not billed" not in card.header.value
    assert "may still finish" in card.header.value
    card.update(Prediction(id="p1", status="cancelled"))
    assert card.status == "cancelled" and "not billed" in card.header.value


def test_a_cancel_the_service_already_carried_out_says_not_billed():
    card = running_card()
    card.update(Prediction(id="p1", status="cancelled"))  # the poll right after the cancel
    card.fail(asyncio.CancelledError())
    assert card.status == "cancelled" and "not billed" in card.header.value


def test_a_prediction_that_finished_anyway_says_so_with_its_cost():
    card = running_card()
    card.fail(asyncio.CancelledError())
    card.update(Prediction(id="p1", status="success", metrics={"cost": 0.01}))
    assert card.status == "success"
    assert "finished before the cancel took effect: saved, $0.01" in card.header.value
    assert "not billed" not in card.header.value


def test_cancelled_before_any_create_says_nothing_was_sent():
    card = LiveCard("run")
    card.fail(asyncio.CancelledError())
    assert card.status == "cancelled" and "nothing was sent" in card.header.value


def test_a_failure_shows_the_services_message_first_and_its_codes_on_a_muted_line():
    card = LiveCard("run")
    error = PredictionFailedError(
        prediction_id="p1",
        message="ranges: 'x' is not valid",
        code="INPUT_VALIDATION_ERROR",
        classification="VALIDATION",
    )
    card.fail(error)
    value = card.header.value
    first = value.index("ranges: &#x27;x&#x27; is not valid")
    codes = value.index("VALIDATION · INPUT_VALIDATION_ERROR")
    assert first < codes
    assert "[INPUT_VALIDATION_ERROR" not in value  # not glued to the message
    assert error.code == "INPUT_VALIDATION_ERROR" and error.classification == "VALIDATION"


def test_a_long_created_is_said_to_be_queued_at_the_provider(monkeypatch):
    now = [1000.0]
    monkeypatch.setattr(card_module.time, "monotonic", lambda: now[0])
    card = LiveCard("run")
    card.update(Prediction(id="p1", status="created"))
    assert "queued at the provider" not in card.progress()[1]
    now[0] += card_module.PROVIDER_QUEUE_AFTER + 1
    assert "queued at the provider" in card.progress()[1]
    card.update(Prediction(id="p1", status="processing"))
    assert "queued at the provider" not in card.progress()[1]
    assert time.monotonic  # the real clock is untouched outside the card's module
