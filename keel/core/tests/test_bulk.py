"""bulk_work tunes the interpreter for a bulk call and always puts it back."""

from __future__ import annotations

import gc
import sys

import pytest

from keel.core.bulk import BULK_SWITCH_INTERVAL, bulk_work


@pytest.fixture
def interpreter():
    was_enabled, interval = gc.isenabled(), sys.getswitchinterval()
    gc.enable()
    sys.setswitchinterval(0.005)
    yield
    sys.setswitchinterval(interval)
    (gc.enable if was_enabled else gc.disable)()


def test_bulk_work_pauses_the_collector_and_shortens_turns_then_restores_them(interpreter):
    with bulk_work():
        assert not gc.isenabled()
        assert sys.getswitchinterval() == pytest.approx(BULK_SWITCH_INTERVAL)
        with bulk_work():  # nested: still tuned
            assert not gc.isenabled()
        assert not gc.isenabled()
    assert gc.isenabled()
    assert sys.getswitchinterval() == pytest.approx(0.005)


def test_bulk_work_restores_the_interpreter_after_an_error(interpreter):
    with pytest.raises(RuntimeError), bulk_work():
        raise RuntimeError("refused")
    assert gc.isenabled()
    assert sys.getswitchinterval() == pytest.approx(0.005)


def test_a_collector_that_was_off_stays_off(interpreter):
    gc.disable()
    with bulk_work():
        pass
    assert not gc.isenabled()
