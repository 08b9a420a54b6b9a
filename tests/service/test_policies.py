"""The retry and polling policies: pure functions, no clock, no I/O."""

import asyncio
import itertools
import random

import pytest

from eachlabs_widgets._service.polling import DurationLearner, PollSchedule, observed_duration
from eachlabs_widgets._service.retry import Attempt, RetryPolicy, parse_retry_after

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


def simulate(schedule, duration, support=None):
    """(polls, seconds between the end and the poll that saw it), on a zero-latency service."""
    t, last, polls = 0.0, None, 0
    while True:
        t = schedule.next_poll(t, last, support)
        polls += 1
        if t >= duration:
            return polls, t - duration
        last = t


def test_no_poll_right_after_the_create_then_steady_then_backing_off():
    schedule = PollSchedule()
    times, last = [], None
    for _ in range(300):
        last = schedule.next_poll(last or 0.0, last, None)
        times.append(last)
    assert times[0] == schedule.first
    gaps = [round(b - a, 9) for a, b in itertools.pairwise(times)]
    assert gaps == sorted(gaps)
    assert gaps[0] == pytest.approx(schedule.unknown_spacing)
    assert max(gaps) == schedule.max_interval


def test_a_fast_model_is_noticed_quickly_and_a_slow_one_costs_few_polls():
    schedule = PollSchedule()
    _polls, late = simulate(schedule, 1.0)
    assert late <= schedule.unknown_spacing
    polls_long, late_long = simulate(schedule, 300.0)
    assert polls_long < 110
    assert late_long <= schedule.max_interval
    polls_slow, late_slow = simulate(schedule, 20.0)
    # Brisk for its first 6 s (about 37 polls when answers take no time, so that a first
    # run of a fast model is seen as soon as a fixed 0.1 s poller would), then about a dozen
    # more as it backs off.
    assert polls_slow < 55
    assert late_slow <= 20.0 * schedule.beyond


def test_a_learned_support_is_polled_evenly_from_its_start():
    schedule = PollSchedule()
    times, last = [], None
    while len(times) < 5:
        last = schedule.next_poll(last or 0.0, last, (2.0, 3.0))
        times.append(last)
    assert times[0] == 2.0
    assert [round(b - a, 6) for a, b in itertools.pairwise(times)] == [schedule.spacing] * 4


def test_a_known_duration_means_fewer_polls_and_a_quicker_notice():
    schedule = PollSchedule()
    blind = simulate(schedule, 60.0)
    informed = simulate(schedule, 60.0, support=(55.0, 65.0))
    assert informed[0] < blind[0] / 4
    # Across the support of a minute-long model, polls are 2% of its start apart, not a tenth of a second.
    assert informed[1] <= schedule.relative_spacing * 55.0
    short = simulate(schedule, 1.3, support=(1.0, 1.6))
    assert short[1] <= schedule.spacing


def test_a_run_much_longer_than_its_support_falls_back_to_backing_off():
    schedule = PollSchedule()
    polls, late = simulate(schedule, 100.0, support=(4.0, 6.0))
    assert late <= schedule.max_interval
    assert polls < 65  # 25 across the support, then fewer and fewer


def test_the_round_trip_widens_the_spacing_as_it_does_a_fixed_pollers_period():
    schedule = PollSchedule()
    # The first poll went out at the start of the support (1 s): the next one, a spacing on.
    quick = schedule.next_poll(1.0, 1.0, (1.0, 3.0))
    slow = schedule.next_poll(1.0, 1.0, (1.0, 3.0), round_trip=0.05)
    assert quick == pytest.approx(1.0 + schedule.spacing)
    assert slow == pytest.approx(1.0 + schedule.spacing + 0.05)
    unknown = schedule.next_poll(1.0, 1.0, None, round_trip=0.05)
    assert unknown == pytest.approx(1.0 + schedule.unknown_spacing + 0.05)
    # A service that answers after seconds adds at most a second.
    assert schedule.next_poll(1.0, 1.0, None, round_trip=30.0) <= 1.0 + schedule.unknown_spacing + 1


def test_the_round_trip_is_the_median_of_the_latest_polls():
    learner = DurationLearner()
    assert learner.round_trip("https://x") == 0.0
    for seconds in (0.010, 0.012, 5.0, 0.011):  # one poll waited for a retry
        learner.observe_round_trip("https://x", seconds)
    assert learner.round_trip("https://x") == pytest.approx(0.0115)
    assert learner.round_trip("https://y") == 0.0


def test_an_end_just_past_the_support_is_still_seen_within_about_a_spacing():
    schedule = PollSchedule()
    _polls, late = simulate(schedule, 6.3, support=(4.0, 6.0))
    assert late <= 2 * schedule.spacing
    # A whole-age backoff (a tenth of 6 s) would have left it unseen for over half a second.
    assert late < 0.1 * 6.0


def test_a_replan_while_asleep_moves_the_next_poll_onto_the_new_support():
    schedule = PollSchedule()
    # Asleep towards the unknown model's next poll at 0.72 s; at 0.6 s a same-model prediction
    # ended and taught a support starting at 3 s: the next poll moves to 3 s.
    assert schedule.next_poll(0.6, 0.5, (3.0, 4.0)) == 3.0
    # Already inside the support: the next grid point from now, never in the past.
    target = schedule.next_poll(3.31, 3.24, (3.0, 4.0))
    assert 3.31 <= target <= 3.31 + schedule.spacing


def test_the_observed_duration_trusts_predict_time_within_what_polls_saw():
    assert observed_duration(2.5, 2.0, 2.7) == 2.5
    assert observed_duration(9.0, 2.0, 2.7) == 2.7  # model time at another speed: clamped
    assert observed_duration(0.4, 2.0, 2.7) == 2.0  # queueing not counted: clamped
    assert observed_duration(None, 2.0, 2.6) == pytest.approx(2.3)
    assert observed_duration("2.5", 2.0, 2.6) == pytest.approx(2.3)


def test_the_learner_keeps_durations_per_service_and_model():
    learner = DurationLearner()
    assert learner.support("m", "a") is None
    for seconds in (10, 11, 12, 10.5, 11.5):
        learner.observe("m", seconds, "a")
    learner.observe("m", -1, "a")
    lo, hi = learner.support("m", "a")
    assert 8 < lo < 10.5 < 11.5 < hi < 14
    assert learner.expected("m", "a") == 11
    assert learner.expected("m") == 11
    assert learner.support("m", "b") is None
    assert learner.expected("other") is None


def test_a_wider_spread_gives_a_wider_support_and_few_samples_a_cautious_one():
    narrow, wide, one = DurationLearner(), DurationLearner(), DurationLearner()
    for seconds in (5, 5.1, 4.9, 5.05, 4.95):
        narrow.observe("m", seconds)
    for seconds in (3, 7, 4, 6, 5):
        wide.observe("m", seconds)
    one.observe("m", 5)
    width = {
        k: (s[1] - s[0])
        for k, s in {
            "n": narrow.support("m"),
            "w": wide.support("m"),
            "1": one.support("m"),
        }.items()
    }
    assert width["n"] < width["1"] < width["w"] * 2
    assert width["n"] < width["w"]


def test_the_journal_seeds_each_model_once():
    learner = DurationLearner()
    learner.observe("m", 3.0, "a")
    learner.seed("m", "a", [1.0, 2.0])
    learner.seed("m", "a", [9.0])
    assert learner.samples("m", "a") == [1.0, 2.0, 3.0]
    assert learner.is_seeded("m", "a") and not learner.is_seeded("m", "b")


async def test_a_sleeper_wakes_when_a_prediction_of_its_model_ends():
    learner = DurationLearner()

    async def end_soon(model):
        await asyncio.sleep(0.01)
        learner.observe(model, 1.0, "a")

    asyncio.get_running_loop().create_task(end_soon("other"))
    assert await learner.sleep("m", "a", 0.05) is False
    asyncio.get_running_loop().create_task(end_soon("m"))
    assert await asyncio.wait_for(learner.sleep("m", "a", 30), 5) is True


def test_a_crowd_widens_the_spacing_by_a_power_of_itself_beyond_crowd_free():
    schedule = PollSchedule()
    power = schedule.crowd_exponent
    assert 0.5 <= power < 1  # wider than the square root, never in proportion to the crowd
    support = (3.0, 5.0)

    def gap(crowd: int = 1, schedule: PollSchedule = schedule) -> float:
        first = schedule.next_poll(0.0, None, support, crowd=crowd)
        return schedule.next_poll(first, first, support, crowd=crowd) - first

    assert gap() == pytest.approx(gap(10)) == pytest.approx(schedule.spacing)
    assert gap(100) == pytest.approx(schedule.spacing * 10**power)
    unknown_alone = schedule.next_poll(1.0, 1.0, None) - 1.0
    unknown_crowd = schedule.next_poll(1.0, 1.0, None, crowd=100) - 1.0
    assert unknown_crowd == pytest.approx(unknown_alone * 10**power)
    square_root = PollSchedule(crowd_exponent=0.5)
    assert gap(100, square_root) == pytest.approx(schedule.spacing * 10**0.5)


def test_under_a_crowd_the_grid_starts_half_its_widening_past_the_support():
    # A poll at the support's very start finds few ended (a tenth of them): under a crowd,
    # where polls are dear, the grid starts late by half of what the crowd added to its
    # spacing. The mean lag stays about the same; a uniform 3-5 s model saves half a poll.
    schedule = PollSchedule()
    support = (3.0, 5.0)
    assert schedule.next_poll(0.0, None, support) == pytest.approx(3.0)
    assert schedule.next_poll(0.0, None, support, crowd=10) == pytest.approx(3.0)
    widened = schedule.spacing * 10**schedule.crowd_exponent
    first = schedule.next_poll(0.0, None, support, crowd=100)
    assert first == pytest.approx(3.0 + (widened - schedule.spacing) / 2)
    # The slow answers' round trip is in both spacings: it does not move the start.
    slow = schedule.next_poll(0.0, None, support, round_trip=0.2, crowd=100)
    assert slow == pytest.approx(first)


def test_a_prediction_long_in_created_is_polled_less_and_less_often():
    schedule = PollSchedule()
    support = (3.0, 5.0)
    # Held in the provider's queue past queued_after: no dense polling across the support.
    gaps = []
    last = 10.0
    for _ in range(6):
        nxt = schedule.next_poll(last, last, support, queued=True)
        gaps.append(nxt - last)
        last = nxt
    assert gaps == sorted(gaps) and gaps[0] >= schedule.unknown_spacing
    assert gaps[-1] <= schedule.max_interval
    # Before queued_after, "created" is the usual start: the support's schedule holds.
    assert schedule.next_poll(3.0, 3.0, support, queued=True) == schedule.next_poll(
        3.0, 3.0, support
    )


def test_an_end_wakes_the_sleepers_of_its_model_only_while_learning():
    from eachlabs_widgets._service.polling import DurationLearner

    learner = DurationLearner(wake_until=3)

    async def woken_by_an_end() -> bool:
        sleeper = asyncio.ensure_future(learner.sleep("m", "u", 30.0))
        await asyncio.sleep(0.01)
        learner.observe("m", 4.0, "u")
        try:
            return await asyncio.wait_for(sleeper, 0.5)
        except asyncio.TimeoutError:
            return False

    async def run() -> list[bool]:
        return [await woken_by_an_end() for _ in range(5)]

    assert asyncio.run(run()) == [True, True, True, False, False]
    assert learner.learning("m", "u") is False


def test_the_support_is_computed_once_per_new_duration():
    from eachlabs_widgets._service.polling import DurationLearner

    learner = DurationLearner()
    learner.observe("m", 4.0, "u")
    first = learner.support("m", "u")
    assert learner.support("m", "u") is first  # cached
    learner.observe("m", 6.0, "u")
    assert learner.support("m", "u") != first


def test_a_held_prediction_of_an_unknown_model_polls_rarely_until_something_is_learned():
    schedule = PollSchedule()
    assert schedule.next_poll(0.0, None, None, held=True) == schedule.max_interval
    assert schedule.next_poll(5.0, 5.0, None, held=True) == 5.0 + schedule.max_interval
    # Once a support is known, held means nothing: the grid over it, as for everyone.
    support = (3.0, 5.0)
    assert schedule.next_poll(0.0, None, support, held=True) == schedule.next_poll(
        0.0, None, support
    )


def test_a_model_takes_as_many_scouts_as_asked_and_a_discharged_one_makes_room():
    learner = DurationLearner()
    assert [learner.enlist("m", "a", 2) for _ in range(3)] == [True, True, False]
    assert learner.enlist("other", "a", 2) and learner.enlist("m", "b", 2)  # per model, service
    learner.discharge("m", "a")
    assert learner.enlist("m", "a", 2) is True
    assert learner.enlist("m", "a", 2) is False
