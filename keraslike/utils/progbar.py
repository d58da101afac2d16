"""Keras 3's progress bar, with the same output byte for byte and no per-step host sync."""

import logging
import math
import os
import sys
import time

import numpy as np

from keraslike.backend import runtime_flags

# Off a terminal, a long epoch prints a plain progress line at most this often (seconds).
PLAIN_LINE_INTERVAL = 30.0


class Progbar:
    """Displays a progress bar.

    The output is Keras 3's, character for character, e.g.

    ```
     10/100 ━━━━━━━━━━━━━━━━━━━━ 0s 5ms/step - loss: 0.1234
    ```

    (with the same ANSI bold/colour codes) on a terminal or in a notebook. Elsewhere (stdout
    redirected to a file or a pipe) `verbose=1` prints plain lines instead, with no `\r`,
    backspaces or colour codes: one when the epoch ends and one every 30 seconds of a long
    epoch. Keras redraws into files too; we do not. After
    `keras.config.disable_interactive_logging()` those plain lines go to Python's `logging`.
    Metrics not listed in
    `stateful_metrics` are averaged over the steps seen, weighted by the number of
    steps each update covers; stateful metrics are shown as given.

    Values may be torch tensors (for example a loss still on the GPU). They are
    accumulated on their own device, detached, without reading them back; the
    conversion to Python floats, which is the one host sync, happens only when a
    line is actually printed (at most once per `interval` seconds with
    `verbose=1`, once at the end with `verbose=2`, never with `verbose=0`).

    Args:
        target: Total number of steps expected, `None` if unknown.
        width: Width of the bar, in characters.
        verbose: Verbosity mode: 0 (silent), 1 (a bar redrawn in place),
            2 (one line when finished).
        interval: Minimum number of seconds between two redraws.
        stateful_metrics: Iterable of metric names that should *not* be averaged
            over time but displayed as given. Give at most one of
            `stateful_metrics` and `stateless_metrics`.
        stateless_metrics: Iterable of metric names that *should* be averaged;
            all others are then shown as given.
        unit_name: Display name of a step (usually `"step"` or `"sample"`).

    Example:

    ```python
    bar = keras.utils.Progbar(100)
    for step in range(1, 101):
        bar.update(step, [("loss", loss)])
    ```
    """

    def __init__(
        self,
        target,
        width=20,
        verbose=1,
        interval=0.05,
        stateful_metrics=None,
        stateless_metrics=None,
        unit_name="step",
    ):
        if stateful_metrics is not None and stateless_metrics is not None:
            raise ValueError(
                "Only one of `stateful_metrics` or `stateless_metrics` can be provided. "
                f"Received: stateful_metrics={stateful_metrics}, "
                f"stateless_metrics={stateless_metrics}"
            )
        self.target = target
        self.width = width
        self.verbose = verbose
        self.interval = interval
        self.unit_name = unit_name
        if stateless_metrics is not None:
            self.stateful_metrics = None
            self.stateless_metrics = set(stateless_metrics)
        else:
            self.stateful_metrics = set(stateful_metrics or ())
            self.stateless_metrics = None

        # Keras's rule, kept as is: on any POSIX system the bar redraws in place
        # ("\b...\r"); elsewhere a non-terminal stdout gets one line per update.
        self._dynamic_display = (
            (hasattr(sys.stdout, "isatty") and sys.stdout.isatty())
            or "ipykernel" in sys.modules
            or "posix" in sys.modules
            or "PYCHARM_HOSTED" in os.environ
        )
        # Not Keras's: where nobody watches a redraw (a file, a pipe, CI logs), plain lines.
        self._plain_display = not runtime_flags.is_interactive_logging_enabled() or not _stdout_is_terminal()
        self._seen_so_far = 0
        self._values = {}  # name -> [sum of value * steps, steps]
        self._values_order = []
        self._start = time.time()
        self._last_plain_line = self._start
        self._last_update = 0
        self._time_at_epoch_start = self._start
        self._time_after_first_step = None
        self._prev_total_width = 0

    def update(self, current, values=None, finalize=None):
        """Updates the progress bar.

        Args:
            current: Index of the current step (number of steps done).
            values: List of `(name, value_for_last_step)` pairs (a dict also works).
                Values are numbers, NumPy scalars or torch tensors; see the class
                docstring for when tensors are read back.
            finalize: Whether this is the last update. If `None`, it is
                `current >= target` (never when `target` is `None`).
        """
        if finalize is None:
            finalize = False if self.target is None else current >= self.target

        values = values or []
        if isinstance(values, dict):
            values = values.items()
        for name, value in values:
            value = _detach(value)
            if name not in self._values_order:
                self._values_order.append(name)
            if self.stateful_metrics is not None:
                stateless = name not in self.stateful_metrics
            else:
                stateless = name in self.stateless_metrics
            if stateless and not finalize:
                # Weight by the steps this update covers (at least 1: a repeated
                # `current`, as at the end of an epoch without target, counts once).
                steps = max(current - self._seen_so_far, 1)
                if name not in self._values:
                    self._values[name] = [value * steps, steps]
                else:
                    # Out of place: the stored total may be the caller's own tensor.
                    total, count = self._values[name]
                    self._values[name] = [total + value * steps, count + steps]
            else:
                # A final value (the epoch's own average) or a stateful metric is
                # shown as given.
                self._values[name] = [value, 1]
        self._seen_so_far = current

        now = time.time()
        time_per_unit = self._estimate_step_duration(current, now)

        if self.verbose == 1 and self._plain_display:
            if finalize or now - self._last_plain_line >= PLAIN_LINE_INTERVAL:
                self._write(self._plain_line(current, now, time_per_unit, finalize))
                self._last_plain_line = now
        elif self.verbose == 1:
            if now - self._last_update < self.interval and not finalize:
                return
            self._write(self._line_verbose_1(current, now, time_per_unit, finalize))
        elif self.verbose == 2:
            if finalize and self.target is not None and self.target > 0:
                self._write(self._line_verbose_2(current, now, time_per_unit))
        self._last_update = now

    def add(self, n, values=None):
        """Advances the bar by `n` steps; see `update`."""
        self.update(self._seen_so_far + n, values)

    def _line_verbose_1(self, current, now, time_per_unit, finalize):
        message = ("\b" * self._prev_total_width + "\r") if self._dynamic_display else "\n"
        special_char_len = 0  # ANSI escape characters, which take no room on screen
        if self.target is not None and self.target > 0:
            numdigits = int(math.log10(self.target)) + 1
            count = f"%{numdigits}d/%d" % (current, self.target)
            bar = f"\x1b[1m{count}\x1b[0m "
            special_char_len += 8
            prog_width = int(self.width * (float(current) / self.target))
            if prog_width > 0:
                bar += f"\33[32m{'━' * prog_width}\x1b[0m"
                special_char_len += 9
            bar += f"\33[37m{'━' * (self.width - prog_width)}\x1b[0m"
            special_char_len += 9
        else:
            bar = "%7d/Unknown" % current
        message += bar

        if self.target is not None and self.target > 0 and not finalize:
            eta = time_per_unit * (self.target - current)
            if eta > 3600:
                eta_format = "%d:%02d:%02d" % (eta // 3600, (eta % 3600) // 60, eta % 60)
            elif eta > 60:
                eta_format = "%d:%02d" % (eta // 60, eta % 60)
            else:
                eta_format = "%ds" % eta
            info = f" \x1b[1m{eta_format}\x1b[0m"
        else:
            info = f" \x1b[1m{now - self._start:.0f}s\x1b[0m"
        special_char_len += 8
        info += _format_time(time_per_unit, self.unit_name)
        for name in self._values_order:
            avg = self._average(name)
            info += f" - {name}: {avg:.4f}" if abs(avg) > 1e-3 else f" - {name}: {avg:.4e}"
        message += info

        total_width = len(bar) + len(info) - special_char_len
        if self._prev_total_width > total_width:
            message += " " * (self._prev_total_width - total_width)
        if finalize:
            message += "\n"
        self._prev_total_width = total_width
        return message

    def _plain_line(self, current, now, time_per_unit, finalize):
        """`250/500 - ETA 3s - 12ms/step - loss: 0.1234`: one line, no control characters."""
        count = f"{current}/{self.target}" if self.target is not None else f"{current}/Unknown"
        if finalize or not self.target:
            timing = f"{now - self._start:.0f}s"
        else:
            timing = f"ETA {time_per_unit * (self.target - current):.0f}s"
        info = f"{count} - {timing} -{_format_time(time_per_unit, self.unit_name)}"
        for name in self._values_order:
            avg = self._average(name)
            info += f" - {name}: {avg:.4f}" if abs(avg) > 1e-3 else f" - {name}: {avg:.4e}"
        return info + "\n"

    def _line_verbose_2(self, current, now, time_per_unit):
        numdigits = int(math.log10(self.target)) + 1
        info = f"%{numdigits}d/%d" % (current, self.target)
        info += f" - {now - self._start:.0f}s -{_format_time(time_per_unit, self.unit_name)}"
        for name in self._values_order:
            avg = self._average(name)
            # Keras compares the signed value here (not abs, unlike verbose=1).
            info += f" - {name}: {avg:.4f}" if avg > 1e-3 else f" - {name}: {avg:.4e}"
        return info + "\n"

    def _average(self, name):
        # The one place a tensor is read back to the host.
        total, count = self._values[name]
        if not isinstance(total, float):
            total = _to_host(total)
        return total / max(1, count)

    def _write(self, message):
        if not runtime_flags.is_interactive_logging_enabled():
            # keras.config.disable_interactive_logging(): messages go to Python logging instead.
            if message.strip():
                logging.getLogger("keras").info(message.strip("\r\n\b"))
            return
        try:
            sys.stdout.write(message)
        except UnicodeEncodeError:
            # A terminal that cannot show "━" gets Keras 2's "=" instead.
            encoding = sys.stdout.encoding or "utf-8"
            message = message.replace("━", "=").encode(encoding, errors="ignore")
            sys.stdout.write(message.decode(encoding))
        sys.stdout.flush()

    def _estimate_step_duration(self, current, now):
        """Seconds per step; the first step (often slow: compilation, warm-up) is left out
        of the estimate once later steps are available."""
        if not current:
            return 0
        if self._time_after_first_step is not None and current > 1:
            time_per_unit = (now - self._time_after_first_step) / (current - 1)
        else:
            time_per_unit = (now - self._start) / current
        if current == 1:
            self._time_after_first_step = now
        return time_per_unit


def _stdout_is_terminal():
    """Whether someone watches stdout redraw: a terminal, a notebook or an IDE console."""
    return (
        (hasattr(sys.stdout, "isatty") and sys.stdout.isatty())
        or "ipykernel" in sys.modules
        or "PYCHARM_HOSTED" in os.environ
    )


def _format_time(time_per_unit, unit_name):
    if time_per_unit >= 1 or time_per_unit == 0:
        return f" {time_per_unit:.0f}s/{unit_name}"
    if time_per_unit >= 1e-3:
        return f" {time_per_unit * 1000.0:.0f}ms/{unit_name}"
    return f" {time_per_unit * 1000000.0:.0f}us/{unit_name}"


def _is_torch_tensor(value):
    return type(value).__module__.startswith("torch") and hasattr(value, "detach")


def _detach(value):
    """Tensors are kept on their device (no sync), detached, in float64 where the
    device has it so that long epochs average as precisely as Python floats."""
    if _is_torch_tensor(value):
        value = value.detach()
        if value.device.type != "mps":  # MPS has no float64
            value = value.double()
    return value


def _to_host(total):
    if _is_torch_tensor(total):
        return float(total.mean().item()) if total.numel() != 1 else float(total.item())
    return np.mean(total)
