"""The retry and polling policies: pure functions, no clock, no I/O."""

import random

import pytest

from eachlabs_widgets._polling import DurationLearner, PollSchedule
from eachlabs_widgets._retry import Attempt, RetryPolicy, parse_retry_after

POLICY = RetryPolicy(max_attempts=4, base_delay=0.5, max_delay=8)


@pytest.mark.parametrize("status", [429, 500, 502, 503, 504])
def test_reads_are_retried_on_429_and_5xx(status):
    assert POLICY.should_retry("read", Attempt(status=status))


@pytest.mark.parametrize("status", [400, 401, 402, 404, 409])
def test_client_errors_are_never_retried(status):
    assert not POLICY.should_retry("read", Attempt(status=status))
    assert not POLICY.should_retry("create", Attempt(status=status))


def test_reads_are_retried_on_any_transport_error():
    assert POLICY.should_retry("read", Attempt(transport_error=True, sent=True))
    assert POLICY.should_retry("read", Attempt(transport_error=True, sent=False))


def test_a_create_is_retried_only_when_it_provably_created_nothing():
    assert POLICY.should_retry("create", Attempt(status=429))
    assert POLICY.should_retry("create", Attempt(transport_error=True, sent=False))
    # The answer was lost after the request went out: a prediction may exist.
    assert not POLICY.should_retry("create", Attempt(transport_error=True, sent=True))
    # A 5xx may or may not have created one: not provably nothing.
    assert not POLICY.should_retry("create", Attempt(status=500))


def test_backoff_grows_with_jitter_and_is_capped():
    rng = random.Random(1)
    for n in range(1, 8):
        ceiling = min(8, 0.5 * 2 ** (n - 1))
        delays = [POLICY.delay(n, Attempt(status=503), rng) for _ in range(50)]
        assert all(ceiling / 2 <= d <= ceiling for d in delays)
        assert len(set(delays)) > 1  # jittered


def test_retry_after_is_honoured_and_capped():
    assert POLICY.delay(1, Attempt(status=429, retry_after=3)) == 3
    assert POLICY.delay(1, Attempt(status=429, retry_after=600)) == 8


def test_attempts_run_out():
    assert POLICY.next_delay("read", 3, Attempt(status=503)) is not None
    assert POLICY.next_delay("read", 4, Attempt(status=503)) is None


def test_parse_retry_after():
    assert parse_retry_after("2") == 2
    assert parse_retry_after(None) is None
    assert parse_retry_after("soon") is None
    assert parse_retry_after("Wed, 21 Oct 2015 07:28:05 GMT", now=1445412480.0) == 5.0


def simulate(schedule, duration, expected=None):
    """(polls, seconds between the end and the poll that saw it)."""
    t, polls = 0.0, 0
    while True:
        polls += 1
        if t >= duration:
            return polls, t - duration
        t += schedule.next_delay(t, polls, expected)


def test_first_polls_are_quick_then_back_off():
    schedule = PollSchedule()
    delays, t = [], 0.0
    for n in range(1, 30):
        d = schedule.next_delay(t, n)
        delays.append(d)
        t += d
    assert delays[0] <= 0.5
    assert delays == sorted(delays)
    assert max(delays) == schedule.max_interval


def test_a_fast_model_is_noticed_quickly_and_a_slow_one_costs_few_polls():
    schedule = PollSchedule()
    _polls, late = simulate(schedule, 1.0)
    assert late < 0.5
    polls_long, late_long = simulate(schedule, 300.0)
    assert polls_long < 80
    assert late_long <= schedule.max_interval


def test_a_known_duration_means_fewer_polls_and_a_quicker_notice():
    schedule = PollSchedule()
    blind = simulate(schedule, 60.0)
    informed = simulate(schedule, 60.0, expected=60.0)
    assert informed[0] < blind[0]
    assert informed[1] < blind[1]


def test_a_run_much_longer_than_expected_falls_back_to_backing_off():
    schedule = PollSchedule()
    polls, late = simulate(schedule, 100.0, expected=5.0)
    assert late <= schedule.max_interval
    assert polls < 60


def test_learner_keeps_a_weighted_mean_per_model():
    learner = DurationLearner(weight=0.5)
    assert learner.expected("m") is None
    learner.observe("m", 10)
    learner.observe("m", 20)
    assert learner.expected("m") == 15
    learner.observe("m", -1)
    assert learner.expected("m") == 15
    assert learner.expected("other") is None
