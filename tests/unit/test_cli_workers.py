"""``timetracer.cli.workers``: many items mapped over worker processes, results in order."""

from __future__ import annotations

import os
import sys

import pytest

from timetracer.cli import workers
from timetracer.cli.workers import auto_jobs, ordered_map
from timetracer.errors import TimetracerError

needs_fork = pytest.mark.skipif(
    not sys.platform.startswith("linux"), reason="workers are forked on Linux only"
)


def pid_and_square(number: int) -> tuple[int, int]:
    return os.getpid(), number * number


def fail_on_seven(number: int) -> int:
    if number == 7:
        raise KeyError(f"item {number}")
    return number


def die_on_seven(number: int) -> int:
    if number == 7 and os.getpid() != PARENT:
        os._exit(3)  # as a worker killed by the kernel would vanish
    return number


PARENT = os.getpid()


def test_one_job_maps_in_this_process_in_order() -> None:
    results = list(ordered_map(pid_and_square, range(5), jobs=1))

    assert results == [(os.getpid(), n * n) for n in range(5)]


@needs_fork
def test_several_jobs_map_in_other_processes_and_keep_the_order() -> None:
    results = list(ordered_map(pid_and_square, list(range(200)), jobs=2))

    assert [square for _, square in results] == [n * n for n in range(200)]
    # The first item warms this process before the fork; the rest run in the workers.
    assert results[0][0] == os.getpid()
    others = {pid for pid, _ in results[1:]}
    assert os.getpid() not in others
    assert 1 <= len(others) <= 2


@needs_fork
def test_an_error_in_a_worker_reaches_the_caller_as_itself() -> None:
    with pytest.raises(KeyError, match="item 7"):
        list(ordered_map(fail_on_seven, list(range(40)), jobs=2))


@needs_fork
def test_a_worker_that_dies_is_a_timetracer_error_suggesting_one_job() -> None:
    with pytest.raises(TimetracerError, match="--jobs 1"):
        list(ordered_map(die_on_seven, list(range(40)), jobs=2))


def test_a_single_item_never_starts_a_worker() -> None:
    assert list(ordered_map(pid_and_square, [3], jobs=4)) == [(os.getpid(), 9)]


@pytest.mark.parametrize(
    ("count", "cpus", "expected"),
    [
        (0, 2, 1),
        (1_999, 8, 1),
        (2_000, 8, 1),
        (4_000, 8, 2),
        (10_000, 2, 2),
        (10_000, 1, 1),
        (1_000_000, 64, workers.MAX_AUTO_JOBS),
    ],
)
@needs_fork
def test_auto_jobs_is_one_per_two_thousand_items_at_most_one_per_cpu(
    count: int, cpus: int, expected: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(workers, "available_cpus", lambda: cpus)

    assert auto_jobs(count) == expected


def test_auto_jobs_is_one_where_workers_cannot_be_forked(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(workers, "_forks", lambda: False)
    monkeypatch.setattr(workers, "available_cpus", lambda: 8)

    assert auto_jobs(100_000) == 1


def test_available_cpus_counts_this_process_s_cpus() -> None:
    expected = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()

    assert workers.available_cpus() == expected
