"""Learning rate schedules (Keras 3's `keras.optimizers.schedules`), computed with torch ops.

A schedule is called with the optimizer's step count. Called with a device tensor it returns a
0-d tensor on the same device, built only from tensor ops with Python-number operands: no host
sync and no host-to-device copy, so an optimizer can evaluate it every step. Called with a Python
int it returns a CPU tensor. The arithmetic follows Keras 3 (same formulas, in the float dtype of
`initial_learning_rate`, `float32` by default).
"""

import math

import torch

from keraslike.backend import config as backend_config


def _float_dtype(value):
    """The float dtype Keras would compute in: that of a tensor, else `floatx()`."""
    if isinstance(value, torch.Tensor) and value.is_floating_point():
        return value.dtype
    return getattr(torch, backend_config.floatx())


def _step_tensor(step, dtype):
    """Returns `step` as a 0-d tensor of `dtype`, on its own device when it is a tensor."""
    if isinstance(step, torch.Tensor):
        return step.to(dtype)
    return torch.tensor(step, dtype=dtype)


def _check_decay_steps(value, arg="decay_steps"):
    if value <= 0:
        raise ValueError(f"Argument `{arg}` must be > 0. Received: {arg}={value}")


class LearningRateSchedule:
    """The learning rate schedule base class.

    A schedule is a callable that takes the current optimizer step (a Python int or a 0-d
    integer tensor) and returns the learning rate for it, as a 0-d tensor. Pass one as the
    `learning_rate` of any optimizer; the optimizer evaluates it on the device every step.

    To write your own, override `__call__(self, step)` and, to make it serializable,
    `get_config()`.

    Example:

    ```python
    class MyLRSchedule(keras.optimizers.schedules.LearningRateSchedule):
        def __init__(self, initial_learning_rate):
            self.initial_learning_rate = initial_learning_rate

        def __call__(self, step):
            return self.initial_learning_rate / (step + 1)

    optimizer = keras.optimizers.SGD(learning_rate=MyLRSchedule(0.1))
    ```
    """

    def __call__(self, step):
        raise NotImplementedError(
            f"Learning rate schedule '{self.__class__.__name__}' must override "
            "`__call__(self, step)`."
        )

    def get_config(self):
        """Returns the constructor arguments of the schedule, as a JSON-safe dict."""
        raise NotImplementedError(
            f"Learning rate schedule '{self.__class__.__name__}' must override `get_config()` "
            "in order to be serializable."
        )

    @classmethod
    def from_config(cls, config):
        """Instantiates a schedule from the output of `get_config()`.

        Args:
            config: Output of `get_config()`.

        Returns:
            A `LearningRateSchedule` instance.
        """
        return cls(**config)


class ExponentialDecay(LearningRateSchedule):
    """A schedule that decays the learning rate exponentially.

    `lr(step) = initial_learning_rate * decay_rate ** (step / decay_steps)`; with
    `staircase=True` the exponent is floored, so the rate drops in discrete intervals.

    Args:
        initial_learning_rate: A Python float. The initial learning rate.
        decay_steps: A Python integer, > 0. The decay period.
        decay_rate: A Python float. The decay rate.
        staircase: Boolean. If `True`, decay the learning rate at discrete intervals.
        name: String. Optional name of the schedule. Defaults to `"ExponentialDecay"`.

    Example:

    ```python
    lr_schedule = keras.optimizers.schedules.ExponentialDecay(
        0.1, decay_steps=100000, decay_rate=0.96, staircase=True)
    optimizer = keras.optimizers.SGD(learning_rate=lr_schedule)
    ```
    """

    def __init__(
        self, initial_learning_rate, decay_steps, decay_rate, staircase=False,
        name="ExponentialDecay",
    ):
        super().__init__()
        self.initial_learning_rate = initial_learning_rate
        self.decay_steps = decay_steps
        self.decay_rate = decay_rate
        self.staircase = staircase
        self.name = name
        _check_decay_steps(decay_steps)

    def __call__(self, step):
        dtype = _float_dtype(self.initial_learning_rate)
        p = _step_tensor(step, dtype) / float(self.decay_steps)
        if self.staircase:
            p = torch.floor(p)
        return torch.pow(float(self.decay_rate), p) * self.initial_learning_rate

    def get_config(self):
        return {
            "initial_learning_rate": self.initial_learning_rate,
            "decay_steps": self.decay_steps,
            "decay_rate": self.decay_rate,
            "staircase": self.staircase,
            "name": self.name,
        }


class PiecewiseConstantDecay(LearningRateSchedule):
    """A schedule that is piecewise constant over step intervals.

    The rate is `values[0]` while `step <= boundaries[0]`, `values[1]` while
    `boundaries[0] < step <= boundaries[1]`, ..., and `values[-1]` after `boundaries[-1]`.

    Args:
        boundaries: A list of Python numbers, strictly increasing.
        values: A list of Python numbers, one more than `boundaries`.
        name: String. Optional name of the schedule. Defaults to `"PiecewiseConstant"`.

    Example:

    ```python
    # 1.0 for the first 100001 steps, 0.5 for the next 10000, then 0.1.
    lr_schedule = keras.optimizers.schedules.PiecewiseConstantDecay(
        boundaries=[100000, 110000], values=[1.0, 0.5, 0.1])
    ```
    """

    def __init__(self, boundaries, values, name="PiecewiseConstant"):
        super().__init__()
        if len(boundaries) != len(values) - 1:
            raise ValueError(
                "The length of boundaries should be 1 less than the length of values. "
                f"Received: boundaries={boundaries} of length {len(boundaries)}, "
                f"and values={values} of length {len(values)}."
            )
        self.boundaries = boundaries
        self.values = values
        self.name = name

    def __call__(self, step):
        step = step if isinstance(step, torch.Tensor) else torch.tensor(step)
        # Keras casts the boundaries to the step's dtype before comparing.
        if step.is_floating_point():
            bounds = [float(b) for b in self.boundaries]
        else:
            bounds = [int(b) for b in self.boundaries]
        dtype = _float_dtype(self.values[0])
        if isinstance(self.values[0], int) and not isinstance(self.values[0], bool):
            dtype = torch.int64
        result = torch.zeros((), dtype=dtype, device=step.device)
        result = result + (step <= bounds[0]).to(dtype) * self.values[0]
        result = result + (step > bounds[-1]).to(dtype) * self.values[-1]
        for low, high, value in zip(bounds[:-1], bounds[1:], self.values[1:-1]):
            result = result + ((step > low) & (step <= high)).to(dtype) * value
        return result

    def get_config(self):
        return {"boundaries": self.boundaries, "values": self.values, "name": self.name}


class PolynomialDecay(LearningRateSchedule):
    """A schedule that decays polynomially from `initial_learning_rate` to `end_learning_rate`.

    `lr(step) = (initial - end) * (1 - min(step, decay_steps) / decay_steps) ** power + end`.
    With `cycle=True`, `decay_steps` is replaced by the first multiple of it that is at least
    `step`, so the schedule restarts.

    Args:
        initial_learning_rate: A Python float. The initial learning rate.
        decay_steps: A Python integer, > 0.
        end_learning_rate: A Python float. The minimal end learning rate.
        power: A Python float. The power of the polynomial. Defaults to `1.0`.
        cycle: Boolean, whether to cycle beyond `decay_steps`.
        name: String. Optional name of the schedule. Defaults to `"PolynomialDecay"`.

    Example:

    ```python
    lr_schedule = keras.optimizers.schedules.PolynomialDecay(
        0.1, decay_steps=10000, end_learning_rate=0.01, power=0.5)
    ```
    """

    def __init__(
        self, initial_learning_rate, decay_steps, end_learning_rate=0.0001, power=1.0,
        cycle=False, name="PolynomialDecay",
    ):
        super().__init__()
        self.initial_learning_rate = initial_learning_rate
        self.decay_steps = decay_steps
        self.end_learning_rate = end_learning_rate
        self.power = power
        self.cycle = cycle
        self.name = name
        _check_decay_steps(decay_steps)

    def __call__(self, step):
        dtype = _float_dtype(self.initial_learning_rate)
        step = _step_tensor(step, dtype)
        decay_steps = float(self.decay_steps)
        if self.cycle:
            multiplier = torch.where(step == 0, 1.0, torch.ceil(step / decay_steps))
            p = step / (multiplier * decay_steps)
        else:
            p = step.clamp(max=decay_steps) / decay_steps
        delta = self.initial_learning_rate - self.end_learning_rate
        return torch.pow(1 - p, float(self.power)) * delta + self.end_learning_rate

    def get_config(self):
        return {
            "initial_learning_rate": self.initial_learning_rate,
            "decay_steps": self.decay_steps,
            "end_learning_rate": self.end_learning_rate,
            "power": self.power,
            "cycle": self.cycle,
            "name": self.name,
        }


class InverseTimeDecay(LearningRateSchedule):
    """A schedule that decays as the inverse of time.

    `lr(step) = initial_learning_rate / (1 + decay_rate * step / decay_steps)`; with
    `staircase=True` the ratio `step / decay_steps` is floored.

    Args:
        initial_learning_rate: A Python float. The initial learning rate.
        decay_steps: How often to apply decay (> 0).
        decay_rate: A Python number. The decay rate.
        staircase: Whether to decay in discrete steps.
        name: String. Optional name of the schedule. Defaults to `"InverseTimeDecay"`.

    Example:

    ```python
    lr_schedule = keras.optimizers.schedules.InverseTimeDecay(
        0.1, decay_steps=1.0, decay_rate=0.5)
    ```
    """

    def __init__(
        self, initial_learning_rate, decay_steps, decay_rate, staircase=False,
        name="InverseTimeDecay",
    ):
        super().__init__()
        self.initial_learning_rate = initial_learning_rate
        self.decay_steps = decay_steps
        self.decay_rate = decay_rate
        self.staircase = staircase
        self.name = name
        _check_decay_steps(decay_steps)

    def __call__(self, step):
        dtype = _float_dtype(self.initial_learning_rate)
        p = _step_tensor(step, dtype) / float(self.decay_steps)
        if self.staircase:
            p = torch.floor(p)
        return torch.reciprocal(p * float(self.decay_rate) + 1.0) * self.initial_learning_rate

    def get_config(self):
        return {
            "initial_learning_rate": self.initial_learning_rate,
            "decay_steps": self.decay_steps,
            "decay_rate": self.decay_rate,
            "staircase": self.staircase,
            "name": self.name,
        }


class CosineDecay(LearningRateSchedule):
    """A schedule with an optional linear warmup followed by a cosine decay.

    Without `warmup_target` the rate decays from `initial_learning_rate` to
    `initial_learning_rate * alpha` over `decay_steps`:
    `lr(step) = initial * ((1 - alpha) * 0.5 * (1 + cos(pi * min(step, decay_steps) / decay_steps))
    + alpha)`. With `warmup_target`, the rate first rises linearly from `initial_learning_rate`
    to `warmup_target` over `warmup_steps`, then decays from `warmup_target` over `decay_steps`.

    Args:
        initial_learning_rate: A Python float. The initial learning rate.
        decay_steps: A Python int, > 0. Number of steps to decay over.
        alpha: A Python float. Minimum learning rate, as a fraction of the rate decayed from.
        name: String. Optional name of the schedule. Defaults to `"CosineDecay"`.
        warmup_target: A Python float or `None`. The learning rate reached after warmup;
            `None` skips the warmup.
        warmup_steps: A Python int. Number of steps to warm up over.

    Example:

    ```python
    lr_schedule = keras.optimizers.schedules.CosineDecay(
        0.0, decay_steps=1000, warmup_target=0.1, warmup_steps=100)
    ```
    """

    def __init__(
        self, initial_learning_rate, decay_steps, alpha=0.0, name="CosineDecay",
        warmup_target=None, warmup_steps=0,
    ):
        super().__init__()
        self.initial_learning_rate = initial_learning_rate
        self.decay_steps = decay_steps
        self.alpha = alpha
        self.name = name
        self.warmup_steps = warmup_steps
        self.warmup_target = warmup_target
        _check_decay_steps(decay_steps)

    def _decayed(self, step, decay_from_lr):
        # Keras's order of operations: near the end of the decay cos() is close to -1 and
        # the rounding of its argument shows in the result.
        cosine = (torch.cos((step / float(self.decay_steps)) * math.pi) + 1.0) * 0.5
        return (cosine * (1 - self.alpha) + self.alpha) * decay_from_lr

    def __call__(self, step):
        dtype = _float_dtype(self.initial_learning_rate)
        step = _step_tensor(step, dtype)
        if self.warmup_target is None:
            step = step.clamp(max=float(self.decay_steps))
            return self._decayed(step, self.initial_learning_rate)
        warmup_steps = float(self.warmup_steps)
        step = step.clamp(max=float(self.decay_steps) + warmup_steps)
        delta = self.warmup_target - self.initial_learning_rate
        # Both branches are computed and one is selected, so no host sync decides which.
        warmup = (step / warmup_steps) * delta + self.initial_learning_rate
        decayed = self._decayed(step - warmup_steps, self.warmup_target)
        return torch.where(step < warmup_steps, warmup, decayed)

    def get_config(self):
        return {
            "initial_learning_rate": self.initial_learning_rate,
            "decay_steps": self.decay_steps,
            "alpha": self.alpha,
            "name": self.name,
            "warmup_target": self.warmup_target,
            "warmup_steps": self.warmup_steps,
        }


class CosineDecayRestarts(LearningRateSchedule):
    """A cosine decay schedule with warm restarts (SGDR, Loshchilov & Hutter 2016).

    The multiplier decays from 1 to `alpha` over `first_decay_steps`, then restarts; each
    period lasts `t_mul` times longer than the one before and starts at `m_mul` times its
    initial rate.

    Args:
        initial_learning_rate: A Python float. The initial learning rate.
        first_decay_steps: A Python integer, > 0. Number of steps of the first period.
        t_mul: A Python float. Factor by which each period is longer than the last.
        m_mul: A Python float. Factor by which each period starts lower than the last.
        alpha: A Python float. Minimum learning rate, as a fraction of `initial_learning_rate`.
        name: String. Optional name of the schedule. Defaults to `"SGDRDecay"`.

    Example:

    ```python
    lr_schedule = keras.optimizers.schedules.CosineDecayRestarts(0.1, first_decay_steps=1000)
    ```
    """

    def __init__(
        self, initial_learning_rate, first_decay_steps, t_mul=2.0, m_mul=1.0, alpha=0.0,
        name="SGDRDecay",
    ):
        super().__init__()
        self.initial_learning_rate = initial_learning_rate
        self.first_decay_steps = first_decay_steps
        self._t_mul = t_mul
        self._m_mul = m_mul
        self.alpha = alpha
        self.name = name
        _check_decay_steps(first_decay_steps, "first_decay_steps")

    def __call__(self, step):
        dtype = _float_dtype(self.initial_learning_rate)
        fraction = _step_tensor(step, dtype) / float(self.first_decay_steps)
        t_mul = float(self._t_mul)
        if t_mul == 1.0:
            i_restart = torch.floor(fraction)
            fraction = fraction - i_restart
        else:
            i_restart = torch.floor(torch.log(1.0 - fraction * (1.0 - t_mul)) / math.log(t_mul))
            t_pow = torch.pow(t_mul, i_restart)
            sum_r = (1.0 - t_pow) / (1.0 - t_mul)
            fraction = (fraction - sum_r) / t_pow
        m_fac = torch.pow(float(self._m_mul), i_restart)
        cosine = (torch.cos(fraction * math.pi) + 1.0) * m_fac * 0.5
        return (cosine * (1 - self.alpha) + self.alpha) * self.initial_learning_rate

    def get_config(self):
        return {
            "initial_learning_rate": self.initial_learning_rate,
            "first_decay_steps": self.first_decay_steps,
            "t_mul": self._t_mul,
            "m_mul": self._m_mul,
            "alpha": self.alpha,
            "name": self.name,
        }
