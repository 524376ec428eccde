"""The collector pause: off inside bulk sections, back on when the last one ends, never left off."""

from __future__ import annotations

import gc
import threading

import pytest

from consent_ledger.bulk import BULK, collector_paused


def test_small_sections_leave_the_collector_alone():
    assert gc.isenabled()
    with collector_paused(BULK - 1):
        assert gc.isenabled()
    assert gc.isenabled()


def test_overlapping_sections_keep_it_off_until_the_last_ends():
    first_in, second_in, first_out = threading.Event(), threading.Event(), threading.Event()
    seen: dict[str, bool] = {}

    def first():
        with collector_paused(BULK):
            first_in.set()
            second_in.wait(5)
        first_out.set()

    t = threading.Thread(target=first)
    t.start()
    first_in.wait(5)
    with collector_paused(BULK * 10):
        second_in.set()
        first_out.wait(5)
        seen["after_first_left"] = gc.isenabled()
    t.join(5)
    assert seen == {"after_first_left": False}
    assert gc.isenabled()


def test_an_error_inside_still_turns_it_back_on():
    with pytest.raises(RuntimeError), collector_paused(BULK):
        assert not gc.isenabled()
        raise RuntimeError("boom")
    assert gc.isenabled()


def test_a_disabled_collector_stays_disabled():
    gc.disable()
    try:
        with collector_paused(BULK):
            pass
        assert not gc.isenabled()
    finally:
        gc.enable()
