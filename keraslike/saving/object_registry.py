"""Where a config's class names are looked up: custom objects, the registry, keraslike's own tables.

Nothing here imports a module or runs code named by a config: a `"module"` field only decides
which of keraslike's (already imported) tables may answer, never what gets imported.
"""

import contextlib
import contextvars

from keraslike.backend.serialization import (
    get_custom_objects,
    get_registered_name,
    get_registered_object,
    register_keras_serializable,
)
from keraslike.saving.errors import UnknownObjectError

__all__ = [
    "CustomObjectScope",
    "custom_object_scope",
    "enable_unsafe_deserialization",
    "get_custom_objects",
    "get_registered_name",
    "get_registered_object",
    "in_safe_mode",
    "is_registered",
    "layer_classes",
    "register_keras_serializable",
    "resolve_class",
    "safe_mode_scope",
]

_CUSTOM_OBJECTS = contextvars.ContextVar("keraslike_custom_objects", default=None)
_SAFE_MODE = contextvars.ContextVar("keraslike_safe_mode", default=None)
_UNSAFE_GLOBALLY = [False]
_LAYER_TABLE = {}
_KERAS_PACKAGES = ("keras", "keraslike", "tf_keras", "tensorflow")


class CustomObjectScope:
    """Makes custom classes and functions visible to deserialization inside a `with` block.

    Args:
        custom_objects: A dict name -> object (or several dicts).

    Example:

    ```python
    with keras.saving.custom_object_scope({"MyLayer": MyLayer}):
        model = keras.models.load_model("m.safetensors")
    ```
    """

    def __init__(self, *custom_objects):
        merged = {}
        for objects in custom_objects:
            merged.update(objects or {})
        self.custom_objects = merged
        self._token = None
        self._saved = None

    def __enter__(self):
        current = dict(_CUSTOM_OBJECTS.get() or {})
        current.update(self.custom_objects)
        self._token = _CUSTOM_OBJECTS.set(current)
        # Layers' own `from_config` look objects up in the global registry (e.g. a custom
        # initializer in a layer config), so the scope's objects are visible there too.
        table = get_custom_objects()
        self._saved = {k: table[k] for k in self.custom_objects if k in table}
        table.update(self.custom_objects)
        return self

    def __exit__(self, *exc):
        table = get_custom_objects()
        for key in self.custom_objects:
            if key in self._saved:
                table[key] = self._saved[key]
            else:
                table.pop(key, None)
        _CUSTOM_OBJECTS.reset(self._token)


custom_object_scope = CustomObjectScope


def current_custom_objects(custom_objects=None):
    """The custom objects in scope, updated with `custom_objects`."""
    merged = dict(_CUSTOM_OBJECTS.get() or {})
    merged.update(custom_objects or {})
    return merged


@contextlib.contextmanager
def safe_mode_scope(safe_mode=True):
    """Sets whether deserialization may look up the Python functions of `Lambda` layers."""
    token = _SAFE_MODE.set(safe_mode)
    try:
        yield
    finally:
        _SAFE_MODE.reset(token)


def in_safe_mode():
    """Whether deserialization runs in safe mode (the default, unless globally disabled)."""
    value = _SAFE_MODE.get()
    if value is None:
        return not _UNSAFE_GLOBALLY[0]
    return bool(value)


def enable_unsafe_deserialization():
    """Turns safe mode off for this process (Keras's `keras.config.enable_unsafe_deserialization`)."""
    _UNSAFE_GLOBALLY[0] = True


def is_registered(obj):
    """Whether `obj` was registered with `register_keras_serializable` (its name has a `>`)."""
    return ">" in get_registered_name(obj)


def layer_classes():
    """Dict class name -> class of every layer and model class keraslike exports.

    Built once from `keraslike.layers` (every `Layer` subclass it exports, aliases included) and
    `keraslike.models`, plus Keras's name `Functional` for a graph `Model`.
    """
    if not _LAYER_TABLE:
        from keraslike import layers
        from keraslike.layers.layer import Layer
        from keraslike.models import Model, Sequential

        for name, obj in vars(layers).items():
            if isinstance(obj, type) and issubclass(obj, Layer) and not name.startswith("_"):
                _LAYER_TABLE[name] = obj
                _LAYER_TABLE.setdefault(obj.__name__, obj)
        for name in ("Model", "Functional"):
            _LAYER_TABLE[name] = Model
        _LAYER_TABLE["Sequential"] = Sequential
    return _LAYER_TABLE


def is_builtin_layer_class(cls):
    """Whether `cls` is one of keraslike's exported layer classes (saved under `keras.layers`)."""
    if not cls.__module__.startswith("keraslike."):
        return False
    return layer_classes().get(cls.__name__) is cls


def _lookup_custom(names, custom_objects):
    for name in names:
        if not name:
            continue
        obj = get_registered_object(name, custom_objects)
        if obj is not None:
            return obj
    return None


def resolve_class(config, custom_objects=None, builtin=None, what="layer"):
    """Returns the class a serialized dict (`module`, `class_name`, `registered_name`) names.

    Looked up in `custom_objects` (and any `custom_object_scope`), then the global registry,
    then the built-in table (`layer_classes()` by default).

    Raises:
        UnknownObjectError: (a TypeError and a ValueError) naming the class and saying how to
            make it known.
    """
    class_name = config.get("class_name")
    registered_name = config.get("registered_name")
    module = config.get("module")
    custom = current_custom_objects(custom_objects)
    obj = _lookup_custom([registered_name, class_name], custom)
    if obj is not None:
        return obj
    table = layer_classes() if builtin is None else builtin
    keras_module = module is None or str(module).split(".")[0] in _KERAS_PACKAGES
    custom_name = bool(registered_name) and ">" in str(registered_name)
    if keras_module and class_name in table and not custom_name:
        return table[class_name]
    shown = repr(registered_name if registered_name else class_name)
    raise UnknownObjectError(
        f"Could not locate {what} class {class_name!r} (registered name {shown}, module "
        f"{module!r}). It is neither a built-in keraslike {what} nor a registered custom object. "
        f"Decorate the class with `@keras.saving.register_keras_serializable()` before loading, "
        f"or pass it as `custom_objects={{{class_name!r}: {class_name}}}` (or use "
        "`keras.saving.custom_object_scope`)."
    )
