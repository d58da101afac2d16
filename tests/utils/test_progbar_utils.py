"""Progbar output compared byte for byte with Keras's, under the same (mocked) clock."""

import io
import sys
import time

import numpy as np
import pytest
import torch

from keraslike.utils import progbar as progbar_module

from keraslike.utils import Progbar


@pytest.fixture(autouse=True)
def _as_on_a_terminal(monkeypatch):
    """Keras's displays are compared as a terminal shows them (captured stdout is a pipe)."""
    monkeypatch.setattr(progbar_module, "_stdout_is_terminal", lambda: True)


@pytest.fixture(scope="module")
def keras_progbar():
    """Keras's Progbar (the oracle); no Keras session state is involved."""
    return pytest.importorskip("keras").utils.Progbar


class _Clock:
    def __init__(self):
        self.now = 1000.0

    def __call__(self):
        return self.now


def _run(bar_class, steps, dynamic=None, **kwargs):
    """Runs `steps` = [(seconds_since_start, current, values, finalize), ...]; returns stdout."""
    clock = _Clock()
    out = io.StringIO()
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(time, "time", clock)
        patch.setattr(sys, "stdout", out)
        bar = bar_class(**kwargs)
        if dynamic is not None:
            bar._dynamic_display = dynamic
            bar._plain_display = False  # Keras's displays, as on a terminal (ours only)
        for t, current, values, finalize in steps:
            clock.now = 1000.0 + t
            bar.update(current, values, finalize=finalize)
    return out.getvalue()


def _epoch(n, dt, names=("loss", "acc"), start=0.0):
    rng = np.random.default_rng(n)
    steps = []
    for i in range(1, n + 1):
        values = [(name, float(rng.uniform(0.0, 2.0))) for name in names]
        steps.append((start + i * dt, i, values, None))
    return steps


SCENARIOS = {
    "short_epoch": (_epoch(10, 0.013), dict(target=10)),
    "long_steps_eta_minutes": (_epoch(5, 40.0), dict(target=50)),
    "eta_hours": (_epoch(3, 900.0), dict(target=40)),
    "fast_steps_us": (_epoch(30, 0.0004), dict(target=30, interval=0.0)),
    "interval_skips": (_epoch(40, 0.01), dict(target=40, interval=0.05)),
    "unknown_target": (_epoch(7, 0.2) + [(1.6, 7, [("loss", 0.5), ("acc", 0.25)], True)], dict(target=None)),
    "stateful_and_tiny": (
        [(0.1 * i, i, [("loss", 1e-5 * i), ("lr", 1e-4), ("neg", -0.5 * i)], None) for i in range(1, 9)],
        dict(target=8, stateful_metrics=["lr"]),
    ),
    "stateless_list": (_epoch(6, 0.3), dict(target=6, stateless_metrics=["loss"])),
    "finalize_values": (
        _epoch(4, 0.02)[:-1] + [(0.08, 4, [("loss", 0.125), ("acc", 0.75)], True)],
        dict(target=4, width=30, unit_name="sample"),
    ),
    "jumps_and_ints": (
        [(0.5, 3, [("loss", 2)], None), (1.0, 9, [("loss", np.float32(0.3))], None), (1.5, 12, [("loss", 1)], None)],
        dict(target=12),
    ),
    "wide_target_shrinking_line": (
        [(0.1, 1, [("loss", 12345.678)], None), (0.2, 2, [("loss", 0.001)], None), (0.3, 1000, [], None)],
        dict(target=1000, interval=0.0),
    ),
}


@pytest.mark.parametrize("verbose", [1, 2])
@pytest.mark.parametrize("dynamic", [True, False])
@pytest.mark.parametrize("scenario", sorted(SCENARIOS))
def test_output_matches_keras_byte_for_byte(keras_progbar, monkeypatch, scenario, verbose, dynamic):
    steps, kwargs = SCENARIOS[scenario]
    kwargs = dict(kwargs, verbose=verbose)
    ours = _run(Progbar, steps, dynamic=dynamic, **kwargs)
    theirs = _run(keras_progbar, steps, dynamic=dynamic, **kwargs)
    assert ours == theirs
    if verbose == 1:
        assert ours  # something was printed


def test_keras_style_line(monkeypatch):
    steps = [(0.005 * i, i, [("loss", 0.1234)], None) for i in range(1, 11)]
    out = _run(Progbar, steps, target=100, interval=0.0)
    last = out.split("\r")[-1]
    assert last.startswith("\x1b[1m 10/100\x1b[0m \x1b[32m━━\x1b[0m\x1b[37m" + "━" * 18)
    plain = last.replace("\x1b[1m", "").replace("\x1b[0m", "").replace("\x1b[32m", "").replace("\x1b[37m", "")
    assert plain == " 10/100 " + "━" * 20 + " 0s 5ms/step - loss: 0.1234"


def test_default_display_rule_is_keras_on_a_terminal(keras_progbar):
    assert Progbar(5)._dynamic_display == keras_progbar(5)._dynamic_display


class _Pipe(io.StringIO):
    def isatty(self):
        return False


class _Terminal(io.StringIO):
    def isatty(self):
        return True


REAL_TERMINAL_CHECK = progbar_module._stdout_is_terminal


def _long_epoch(stdout, steps=500, dt=0.2):
    clock = _Clock()
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(progbar_module, "_stdout_is_terminal", REAL_TERMINAL_CHECK)
        patch.setattr(time, "time", clock)
        patch.setattr(sys, "stdout", stdout)
        bar = Progbar(target=steps)
        for i in range(1, steps + 1):
            clock.now = 1000.0 + i * dt
            bar.update(i, [("loss", torch.tensor(1.0 / i)), ("accuracy", 0.5)])
    return stdout.getvalue()


def test_a_piped_epoch_prints_a_few_plain_lines():
    out = _long_epoch(_Pipe())  # 500 steps over 100 s: a line each 30 s, and the last
    assert len(out.encode()) < 2048
    assert not any(c in out for c in "\r\b\x1b")
    lines = out.splitlines()
    assert len(lines) == 4
    assert lines[0] == "150/500 - ETA 70s - 200ms/step - loss: 0.0373 - accuracy: 0.5000"
    assert lines[-1].startswith("500/500 - 100s - 200ms/step - loss: ")


def test_disabled_interactive_logging_logs_plain_lines(caplog):
    from keraslike import config

    assert config.is_interactive_logging_enabled()
    interactive = _long_epoch(_Terminal(), steps=20, dt=0.01)
    assert "\x1b[1m" in interactive and "\b" in interactive
    config.disable_interactive_logging()
    try:
        with caplog.at_level("INFO", logger="keras"):
            printed = _long_epoch(_Terminal(), steps=20, dt=0.01)
    finally:
        config.enable_interactive_logging()
    assert printed == ""
    messages = [r.getMessage() for r in caplog.records if r.name == "keras"]
    assert len(messages) == 1 and messages[0].startswith("20/20 - 0s - 10ms/step")
    assert not any(c in messages[0] for c in "\r\b\x1b")


def test_tensor_values_print_like_the_same_floats(keras_progbar, monkeypatch):
    vals = torch.tensor([0.25, 1.5, 0.125, 3.0, 0.7])
    as_tensors = [(0.1 * (i + 1), i + 1, [("loss", vals[i])], None) for i in range(5)]
    as_floats = [(t, c, [("loss", float(v[0][1]))], f) for t, c, v, f in as_tensors]
    for verbose in (1, 2):
        ours = _run(Progbar, as_tensors, target=5, verbose=verbose, interval=0.0)
        theirs = _run(keras_progbar, as_floats, target=5, verbose=verbose, interval=0.0)
        assert ours == theirs


def test_tensors_are_read_back_only_when_printing(monkeypatch):
    reads = []
    real_item = torch.Tensor.item

    def counting_item(self):
        reads.append(1)
        return real_item(self)

    monkeypatch.setattr(torch.Tensor, "item", counting_item)
    loss = torch.tensor(0.5, requires_grad=True) * 2  # a graph-attached tensor, detached by the bar
    steps = [(0.001 * i, i, [("loss", loss)], None) for i in range(1, 101)]
    _run(Progbar, steps, target=100, verbose=2)
    assert len(reads) == 1  # verbose=2: only the final line
    reads.clear()
    _run(Progbar, steps, target=100, verbose=0)
    assert reads == []
    reads.clear()
    _run(Progbar, steps, target=100, verbose=1, interval=0.05)
    assert 0 < len(reads) <= 3  # first step, t=0.051, final line


def test_add_and_validation(monkeypatch):
    clock = _Clock()
    monkeypatch.setattr(time, "time", clock)
    bar = Progbar(10, verbose=0)
    bar.add(3)
    bar.add(4, [("loss", 1.0)])
    assert bar._seen_so_far == 7
    with pytest.raises(ValueError, match="Only one of"):
        Progbar(3, stateful_metrics=["a"], stateless_metrics=["b"])


def test_unencodable_terminal_falls_back_to_equals(monkeypatch):
    raw = io.BytesIO()
    stream = io.TextIOWrapper(raw, encoding="ascii")
    clock = _Clock()
    monkeypatch.setattr(time, "time", clock)
    monkeypatch.setattr(sys, "stdout", stream)
    bar = Progbar(2)
    clock.now += 1
    bar.update(2)
    monkeypatch.undo()
    stream.flush()
    assert b"====================" in raw.getvalue()


def test_caller_tensors_are_never_modified():
    loss = torch.tensor(0.5, dtype=torch.float64)
    bar = Progbar(3, verbose=0)
    bar.update(1, [("loss", loss)], finalize=True)  # stored as given...
    bar.update(2, [("loss", torch.tensor(1.0))])  # ...then accumulated into
    assert loss.item() == 0.5


@pytest.mark.cuda
def test_no_host_sync_between_printed_lines_on_cuda():
    loss = torch.tensor(0.5, device="cuda")
    clock = _Clock()
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(time, "time", clock)
        patch.setattr(sys, "stdout", io.StringIO())
        bar = Progbar(100, verbose=2)
        torch.cuda.set_sync_debug_mode("error")  # any device->host sync raises
        try:
            for step in range(1, 100):
                clock.now += 0.001
                bar.update(step, [("loss", loss * step)])
        finally:
            torch.cuda.set_sync_debug_mode("default")
        bar.update(100, [("loss", loss)])  # the final line reads the value back once
