"""Small `keras.utils` helpers: `Config`, `get_source_inputs`, `pack_x_y_sample_weight`,
`unpack_x_y_sample_weight`."""

import copy
import difflib
import json

from keraslike.graph.keras_tensor import KerasTensor
from keraslike.tree import flatten


class Config:
    """A dict-like container whose entries are also attributes, and which can be frozen.

    Args:
        **kwargs: Initial entries.

    Example:

    ```python
    config = keras.utils.Config(learning_rate=0.1)
    config.momentum = 0.9
    config.freeze()  # further changes raise ValueError
    ```
    """

    __attrs__ = None

    def __init__(self, **kwargs):
        self._config = kwargs
        self._frozen = False
        self.__attrs__ = set(dir(self))

    @property
    def frozen(self):
        """Whether the config refuses changes."""
        return self._frozen

    def freeze(self):
        """Makes the config read-only."""
        self._frozen = True

    def unfreeze(self):
        """Makes the config writable again."""
        self._frozen = False

    def _raise_if_frozen(self):
        if self._frozen:
            raise ValueError("Cannot mutate attribute(s) because the config is frozen.")

    def as_dict(self):
        """A shallow copy of the entries as a dict."""
        return copy.copy(self._config)

    def to_json(self):
        """The entries as a JSON string."""
        return json.dumps(self._config)

    def keys(self):
        return self._config.keys()

    def values(self):
        return self._config.values()

    def items(self):
        return self._config.items()

    def pop(self, *args):
        self._raise_if_frozen()
        return self._config.pop(*args)

    def update(self, *args, **kwargs):
        self._raise_if_frozen()
        return self._config.update(*args, **kwargs)

    def get(self, keyname, value=None):
        return self._config.get(keyname, value)

    def __setattr__(self, name, value):
        attrs = object.__getattribute__(self, "__attrs__")
        if attrs is None or name in attrs:
            return object.__setattr__(self, name, value)
        self._raise_if_frozen()
        self._config[name] = value

    def __getattr__(self, name):
        attrs = object.__getattribute__(self, "__attrs__")
        if attrs is None or name in attrs:
            return object.__getattribute__(self, name)
        config = object.__getattribute__(self, "_config")
        if name in config:
            return config[name]
        message = f"Unknown attribute: '{name}'."
        close = difflib.get_close_matches(name, config.keys(), n=1, cutoff=0.7)
        if close:
            message += f" Did you mean '{close[0]}'?"
        raise AttributeError(message)

    def __setitem__(self, key, item):
        self._raise_if_frozen()
        self._config[key] = item

    def __getitem__(self, key):
        return self._config[key]

    def __delitem__(self, key):
        self._raise_if_frozen()
        del self._config[key]

    def __contains__(self, item):
        return item in self._config

    def __iter__(self):
        return iter(sorted(self._config))

    def __len__(self):
        return len(self._config)

    def __repr__(self):
        return f"<Config {self._config}>"


def get_source_inputs(tensor):
    """Returns the list of input tensors (`keras.Input`s) `tensor` is computed from.

    Args:
        tensor: A symbolic tensor (anything else is returned as is).

    Returns:
        A list of input tensors, each once, in the order they are first reached.
    """
    if not isinstance(tensor, KerasTensor):
        return tensor
    history = tensor._keras_history
    if history is None or not history[0]._inbound_nodes:
        return [tensor]
    operation, node_index, _ = history
    node = operation._inbound_nodes[node_index]
    if node.is_input:
        return flatten(node.output_tensors)
    sources = []
    for parent in node.input_tensors:
        for source in get_source_inputs(parent):
            if all(source is not seen for seen in sources):
                sources.append(source)
    return sources


def pack_x_y_sample_weight(x, y=None, sample_weight=None):
    """Packs user-provided data into a tuple, as `fit` receives it.

    Returns `(x,)` (a tuple `x` stays whole: `(x,)`), `(x, y)` or `(x, y, sample_weight)`.
    """
    if y is None:
        if not isinstance(x, (tuple, list)):
            return x
        return (x,)
    if sample_weight is None:
        return (x, y)
    return (x, y, sample_weight)


def unpack_x_y_sample_weight(data):
    """Unpacks user-provided data: `(x, y, sample_weight)`, with `None` for missing entries.

    Raises:
        ValueError: If `data` is a list, or a tuple of more than 3 elements.
    """
    if isinstance(data, list):
        data = tuple(data)
    if not isinstance(data, tuple):
        return (data, None, None)
    if len(data) == 1:
        return (data[0], None, None)
    if len(data) == 2:
        return (data[0], data[1], None)
    if len(data) == 3:
        return (data[0], data[1], data[2])
    raise ValueError(
        "Data is expected to be in format `x`, `(x,)`, `(x, y)`, or `(x, y, sample_weight)`, "
        f"found: {data}"
    )
