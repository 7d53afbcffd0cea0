"""``one_cpu``: the calling thread and the threads it starts run on one CPU, then it is undone."""

from __future__ import annotations

import os
import threading

import pytest

from timetracer_replay import affinity
from timetracer_replay.affinity import current_cpu, one_cpu

linux_only = pytest.mark.skipif(
    not hasattr(os, "sched_setaffinity"), reason="CPU affinity is a Linux call"
)
several_cpus = pytest.mark.skipif(
    not hasattr(os, "sched_getaffinity") or len(os.sched_getaffinity(0)) < 2,
    reason="needs a thread allowed on two CPUs or more",
)


def _affinity_of_a_new_thread() -> set[int]:
    seen: list[set[int]] = []
    thread = threading.Thread(target=lambda: seen.append(os.sched_getaffinity(0)))
    thread.start()
    thread.join()
    return seen[0]


@linux_only
def test_the_current_cpu_is_one_this_thread_may_run_on() -> None:
    assert current_cpu() in os.sched_getaffinity(0)


@several_cpus
def test_the_block_runs_on_one_allowed_cpu_and_threads_started_in_it_follow() -> None:
    before = os.sched_getaffinity(0)

    with one_cpu() as cpu:
        assert cpu in before
        assert os.sched_getaffinity(0) == {cpu}
        assert _affinity_of_a_new_thread() == {cpu}

    assert os.sched_getaffinity(0) == before
    assert _affinity_of_a_new_thread() == before


@several_cpus
def test_threads_running_before_the_block_keep_their_cpus() -> None:
    before = os.sched_getaffinity(0)
    asked, answer = threading.Event(), []
    leave = threading.Event()

    def watcher() -> None:
        asked.wait()
        answer.append(os.sched_getaffinity(0))
        leave.set()

    thread = threading.Thread(target=watcher)
    thread.start()
    with one_cpu():
        asked.set()
        leave.wait(5)
    thread.join()
    assert answer == [before]


@several_cpus
def test_an_error_in_the_block_still_restores_the_cpus() -> None:
    before = os.sched_getaffinity(0)
    with pytest.raises(RuntimeError), one_cpu():
        raise RuntimeError("replay failed")
    assert os.sched_getaffinity(0) == before


@linux_only
def test_disabled_it_changes_nothing() -> None:
    before = os.sched_getaffinity(0)
    with one_cpu(enabled=False) as cpu:
        assert cpu is None
        assert os.sched_getaffinity(0) == before


@linux_only
def test_a_thread_already_on_one_cpu_is_left_alone(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(os, "sched_getaffinity", lambda pid: {3})
    calls: list[object] = []
    monkeypatch.setattr(os, "sched_setaffinity", lambda pid, cpus: calls.append(cpus))
    with one_cpu() as cpu:
        assert cpu is None
    assert calls == []


@linux_only
def test_a_refusal_by_the_kernel_leaves_replay_running(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(os, "sched_getaffinity", lambda pid: {0, 1})

    def refuse(pid: int, cpus: object) -> None:
        raise PermissionError(1, "Operation not permitted")

    monkeypatch.setattr(os, "sched_setaffinity", refuse)
    with one_cpu() as cpu:
        assert cpu is None


def test_without_the_call_it_changes_nothing(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delattr(os, "sched_setaffinity", raising=False)
    with one_cpu() as cpu:
        assert cpu is None


def test_the_cpu_it_last_ran_on_is_preferred(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(affinity, "current_cpu", lambda: 5)
    assert affinity._choose({2, 5, 7}) == 5
    monkeypatch.setattr(affinity, "current_cpu", lambda: 9)  # outside the set: the lowest
    assert affinity._choose({2, 5, 7}) == 2
    monkeypatch.setattr(affinity, "current_cpu", lambda: None)
    assert affinity._choose({4, 6}) == 4


@linux_only
def test_a_refused_restore_does_not_replace_the_blocks_outcome(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(os, "sched_getaffinity", lambda pid: {0, 1})
    calls: list[set[int]] = []

    def set_affinity(pid: int, cpus: set[int]) -> None:
        calls.append(cpus)
        if len(cpus) > 1:
            raise OSError(22, "Invalid argument")

    monkeypatch.setattr(os, "sched_setaffinity", set_affinity)
    monkeypatch.setattr(affinity, "current_cpu", lambda: 1)
    with pytest.raises(RuntimeError, match="replay failed"), one_cpu():
        raise RuntimeError("replay failed")
    assert calls == [{1}, {0, 1}]
