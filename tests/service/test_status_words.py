"""Status words of every spelling: ends end the wait at once; an unknown word counts as
running, but not forever (API.md, "Poll")."""

from __future__ import annotations

import pytest

from eachlabs_widgets import (
    PredictionCancelledError,
    PredictionFailedError,
    PredictionTimeoutError,
)
from eachlabs_widgets._service.prediction import Prediction
from eachlabs_widgets._service.status import (
    STALL_LIMIT,
    StatusWatch,
    is_known,
    is_terminal,
    normalise_status,
)

OUT = {"output": ["https://cdn.example/out-0.png"], "metrics": {"cost": 0.01}}


@pytest.mark.parametrize(
    "word", ["success", "succeeded", "Completed", " SUCCESS ", "complete", "successful"]
)
def test_every_spelling_of_success_is_success(word):
    prediction = Prediction.from_json({"status": word, **OUT})
    assert prediction.status == "success" and prediction.succeeded and is_terminal(word)
    assert prediction.urls == ["https://cdn.example/out-0.png"]


@pytest.mark.parametrize(
    "word", ["error", "failed", "failure", "ABORTED", "timeout", "timed-out", " Expired"]
)
def test_every_ending_without_a_result_fails_and_says_its_word(word):
    prediction = Prediction.from_json({"id": "p1", "status": word})
    assert prediction.failed and is_terminal(word)
    error = prediction.error("m")
    assert isinstance(error, PredictionFailedError)
    if normalise_status(word) not in ("error", "failed"):
        assert f"(status {normalise_status(word)!r})" in str(error)


@pytest.mark.parametrize("word", ["cancelled", "canceled", "Canceled "])
def test_both_spellings_of_cancelled(word):
    assert isinstance(
        Prediction.from_json({"id": "p", "status": word}).error(), PredictionCancelledError
    )


@pytest.mark.parametrize("word", ["created", "starting", "processing", "queued", "IN_PROGRESS"])
def test_the_known_ways_of_running_never_stall(word):
    watch = StatusWatch(limit=10)
    assert is_known(word) and not is_terminal(word)
    assert not watch.stalled(normalise_status(word), None, 0)
    assert not watch.stalled(normalise_status(word), None, 10_000)


def test_an_unknown_word_stalls_only_when_it_and_the_logs_stand_still():
    watch = StatusWatch(limit=600)
    assert not watch.stalled("reviewing", None, 0)
    assert not watch.stalled("reviewing", "step 1", 599)  # the logs moved: a change
    assert not watch.stalled("reviewing", "step 1", 1198)
    assert watch.stalled("reviewing", "step 1", 1199)
    assert not watch.stalled("upscaling", "step 1", 1200)  # a new word starts over


async def test_an_end_of_any_spelling_ends_the_wait_at_the_first_poll(make_client, service):
    for word, error in (("succeeded", None), ("aborted", PredictionFailedError)):
        service.statuses = [{"status": word, **OUT}]
        async with make_client() as client:
            before = service.count("/v1/prediction/p9")
            if error is None:
                assert (await client.wait("p9")).succeeded
            else:
                with pytest.raises(error, match="status 'aborted'"):
                    await client.wait("p9")
            assert service.count("/v1/prediction/p9") == before + 1


async def test_an_unknown_word_unchanged_ten_minutes_ends_the_wait_naming_it(
    make_client, service, fake_time, journal
):
    service.statuses = [{"status": "starting"}, {"status": "awaiting_moderation"}]
    async with make_client() as client:
        with pytest.raises(PredictionTimeoutError) as info:
            await client.run("flux", {"prompt": "x"})
    error = info.value
    assert error.status == "awaiting_moderation"
    assert "'awaiting_moderation', a word this client does not know" in str(error)
    assert "resume('p1')" in str(error)
    assert STALL_LIMIT <= fake_time.now <= STALL_LIMIT + 120
    entry = journal.get("p1")  # kept, resumable, and says why it was left
    assert entry is not None and entry.status not in ("error", "success")
    assert "awaiting_moderation" in (entry.error or "")


async def test_with_a_timeout_an_unknown_word_waits_until_it_and_is_named(
    make_client, service, fake_time
):
    service.statuses = [{"status": "awaiting_moderation"}]
    async with make_client() as client:
        with pytest.raises(PredictionTimeoutError, match="did not finish within 30 s") as info:
            await client.wait("p9", timeout=30)
    assert info.value.status == "awaiting_moderation"
    assert "is a word this client does not know as an end" in str(info.value)
    assert fake_time.now == pytest.approx(30)


async def test_a_known_running_word_is_waited_for_past_ten_minutes(make_client, service, fake_time):
    service.statuses = [{"status": "created"}] * 3000 + [{"status": "success", **OUT}]
    async with make_client() as client:
        assert (await client.wait("p9")).succeeded
    assert fake_time.now > STALL_LIMIT  # the provider's capacity held it: not an error
