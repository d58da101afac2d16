"""`keras.random.SeedGenerator`: the state behind seeded random ops, saved with the model.

A `SeedGenerator` holds Keras's seed state, an int32 tensor `[seed, counter]`; every draw reads the
state and advances the counter, so repeated calls give new numbers while a saved and restored state
gives the same numbers again. It is an `nn.Module` with one buffer, so a layer that holds one as an
attribute saves and restores it with its `state_dict()` (`<layer>.seed_generator.state`); the buffer
stays on the CPU when the model moves (reading it is then never a device sync).

The state is a non-trainable `keras.Variable` named `seed_generator_state` (path
`<scopes>/<generator name>/seed_generator_state`), as Keras's: a layer lists it in `variables` and
`non_trainable_variables`, never in `weights` (so `count_params`, `summary`, `get_weights` and
Keras's weight files leave it out, as Keras's do).

Seeds map to torch generators as in Keras 3's torch backend (`torch.Generator().manual_seed((seed
+ counter) & 0xFFFFFFFF)`), so eager draws are the same numbers Keras 3 gives on the same device.
"""

import torch

from keraslike.backend.device import name_scope
from keraslike.backend.naming import uniquify
from keraslike.random.seeds import make_default_seed
from keraslike.variables import Variable

_COUNTER_STEP = torch.tensor([0, 1], dtype=torch.int32)  # read only
_INT32 = 2**32
_SEED_MODULUS = 933199
_SEED_MULTIPLIER = 5387


def _wrap_int32(value):
    value %= _INT32
    return value - _INT32 if value >= 2**31 else value


class SeedGenerator(torch.nn.Module):
    """Generates variable seeds upon each call to a function generating random numbers.

    All random ops (`keras.random.normal`, ...) are stateless for an integer `seed` (the same seed
    gives the same values); to get new values on each call, pass a `SeedGenerator`, whose state
    advances at each draw. `seed=None` (the ops' default) uses a global `SeedGenerator`, reset by
    `keras.utils.set_random_seed`.

    Args:
        seed: Initial seed (an integer); `None` draws one from Python's `random`.
        name: Optional name.

    Example:

    ```python
    seed_gen = keras.random.SeedGenerator(seed=42)
    values = keras.random.normal(shape=(2, 3), seed=seed_gen)
    new_values = keras.random.normal(shape=(2, 3), seed=seed_gen)
    ```

    Inside a layer, its state (`layer.seed_generator.state`, a non-trainable Variable named
    `seed_generator_state`) is one of `layer.variables` and `layer.non_trainable_variables`, as
    in Keras, but not of `layer.weights`. keraslike's safetensors files and `state_dict()` save
    it (`seed_generator.state`); Keras's `.keras` and `.weights.h5` files do not, as Keras's own
    do not:

    ```python
    class Noise(keras.Layer):
        def __init__(self, **kwargs):
            super().__init__(**kwargs)
            self.seed_generator = keras.random.SeedGenerator(1337)

        def call(self, x, training=False):
            if training:
                return x + keras.random.normal(x.shape, seed=self.seed_generator)
            return x
    ```
    """

    def __init__(self, seed=None, name=None, **kwargs):
        super().__init__()
        kwargs.pop("backend", None)
        if kwargs:
            raise ValueError(f"Unrecognized keyword arguments: {kwargs}")
        self.name = name or uniquify("seed_generator")
        self._initial_seed = seed
        if seed is None:
            seed = make_default_seed()
        if isinstance(seed, bool) or not isinstance(seed, int):
            raise ValueError(f"Argument `seed` must be an integer. Received: seed={seed}")
        initial = torch.tensor([_wrap_int32(seed), 0], dtype=torch.int32, device="cpu")
        # Created in a scope named after the generator, as Keras's (`seed_generator/...`).
        with name_scope(self.name, caller=self):
            state = Variable(initial, trainable=False, name="seed_generator_state")
        self.register_buffer("state", state)

    def _apply(self, fn, recurse=True):
        # The state stays on the CPU (and int32) whatever device or dtype the model moves to:
        # a draw reads it on the host, which must not cost a device synchronization.
        return self

    def _load_from_state_dict(self, state_dict, prefix, local_metadata, *args, **kwargs):
        # Always copied into the Variable (`load_state_dict(assign=True)` would put the file's
        # plain tensor in its place and lose the Variable API and the CPU placement).
        local_metadata = {**local_metadata, "assign_to_params_buffers": False}
        super()._load_from_state_dict(state_dict, prefix, local_metadata, *args, **kwargs)

    def next(self, ordered=True):
        """Returns the current state `[seed, counter]` (a new tensor) and advances the state.

        Args:
            ordered: `True` increments the counter; `False` (the global generator's mode) moves
                the state to `(state + 1) * 5387 % 933199`, as Keras does.
        """
        value = self.state.clone()
        self._advance(ordered)
        return value

    def _advance(self, ordered):
        if ordered:
            # One in-place add on the int32 state (which never requires grad, so no `no_grad`
            # is needed): about 3 us, against about 30 us for `state[1] += 1` under `no_grad`
            # (a view, an add, a setitem); augmentation layers draw several times per batch.
            self.state.add_(_COUNTER_STEP)
            return
        with torch.no_grad():
            # int32 arithmetic with wrap-around, then a non-negative remainder (Keras's rule).
            product = (self.state.to(torch.int64) + 1) * _SEED_MULTIPLIER
            wrapped = (product + 2**31) % _INT32 - 2**31
            self.state.copy_(torch.remainder(wrapped, _SEED_MODULUS).to(torch.int32))

    def draw_int(self, ordered=True):
        """Advances the state and returns the torch seed of this draw: `(seed + counter) mod 2**32`."""
        seed, counter = self.state.tolist()
        self._advance(ordered)
        return (seed + counter) & 0xFFFFFFFF

    def get_config(self):
        return {"seed": self._initial_seed, "name": self.name}

    @classmethod
    def from_config(cls, config):
        return cls(**config)

    def extra_repr(self):
        return f"name={self.name!r}, seed={self._initial_seed}"


def hold_unsaved(owner, name, generator):
    """Sets `generator` as the attribute `name` of the layer `owner`, outside its module tree.

    For a layer that makes a `SeedGenerator` only because Keras's makes one, but draws from
    torch's global generator instead (an unseeded Dropout): the generator takes Keras's seed
    from Python's `random` and Keras's name, and the layer's `variables` list its state as
    Keras's do, but it is no child module, so the layer's `state_dict()`, `buffers()` and
    device moves are those of a layer without it.

    Args:
        owner: The layer.
        name: The attribute name (Keras's: `"seed_generator"`).
        generator: The `SeedGenerator`.

    Returns:
        `generator`.
    """
    object.__setattr__(owner, name, generator)
    return generator


_GLOBAL = {"generator": None}


def global_seed_generator():
    """The `SeedGenerator` used by random ops called with `seed=None` (created on first use)."""
    if _GLOBAL["generator"] is None:
        _GLOBAL["generator"] = SeedGenerator()
    return _GLOBAL["generator"]


def reset_global_seed_generator():
    """Drops the global `SeedGenerator` (`keras.utils.set_random_seed` calls this)."""
    _GLOBAL["generator"] = None


def draw_seed(seed):
    """Returns the seed tensor `[seed, counter]` a random op draws for `seed`, as Keras does."""
    if isinstance(seed, SeedGenerator):
        return seed.next()
    if isinstance(seed, int) and not isinstance(seed, bool):
        return torch.tensor([_wrap_int32(seed), 0], dtype=torch.int32)
    if seed is None:
        return global_seed_generator().next(ordered=False)
    raise ValueError(
        "Argument `seed` must be either an integer or an instance of `SeedGenerator`. "
        f"Received: seed={seed} (of type {type(seed)})"
    )


def torch_seed(seed):
    """The integer seed of a torch generator for one draw with Keras seed `seed` (advances state)."""
    if isinstance(seed, SeedGenerator):
        return seed.draw_int()
    if isinstance(seed, int) and not isinstance(seed, bool):
        return _wrap_int32(seed) & 0xFFFFFFFF
    if seed is None:
        return global_seed_generator().draw_int(ordered=False)
    raise ValueError(
        "Argument `seed` must be either an integer or an instance of `SeedGenerator`. "
        f"Received: seed={seed} (of type {type(seed)})"
    )
