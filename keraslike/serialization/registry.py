"""Where names in configs are looked up: the custom-object registry, scopes and built-in tables.

Everything that turns a config back into an object looks names up here; nothing ever imports a
module or executes code named by a config. The built-in tables are filled by the packages above
(the package root registers `keraslike.layers`, the models and the deserializers of
`keras.optimizers`, `keras.losses`, ...), so this module imports none of them.
"""

import contextlib
import contextvars

from keraslike.serialization.errors import UnknownObjectError

_GLOBAL_CUSTOM_OBJECTS = {}
_GLOBAL_CUSTOM_NAMES = {}
_CUSTOM_OBJECTS = contextvars.ContextVar("keraslike_custom_objects", default=None)
_SAFE_MODE = contextvars.ContextVar("keraslike_safe_mode", default=None)
_UNSAFE_GLOBALLY = [False]
_KERAS_PACKAGES = ("keras", "keraslike", "tf_keras", "tensorflow")

# Filled by `register_builtin_layers` (and `register_lazy_layers`), `register_deserializer`,
# `register_serializer`.
_LAYER_TABLE = {}
_LAZY_LAYERS = {}  # public name -> get(name): built-in layers whose family loads on first use
_DESERIALIZERS = []  # (Keras module prefix, deserialize(config, custom_objects=None))
_SERIALIZERS = []  # (base class, serialize(obj))
_FUNCTION_NAMESPACES = []  # (Keras module prefix, get(name))
_CLASS_NAMESPACES = []  # (module prefix, get(class_name) -> class or None)


# ------------------------------------------------------------------------ custom-object registry


def register_keras_serializable(package="Custom", name=None):
    """Registers a class or function so configs can name it (`"package>name"`).

    Args:
        package: The package the object is registered under.
        name: The name to register it under; defaults to the object's `__name__`.

    Returns:
        A decorator that registers its argument and returns it unchanged.

    Example:

    ```python
    @keras.saving.register_keras_serializable(package="my_package")
    class MyDense(keras.layers.Layer):
        ...
    ```
    """

    def decorator(obj):
        object_name = name if name is not None else obj.__name__
        registered_name = f"{package}>{object_name}"
        if isinstance(obj, type) and not hasattr(obj, "get_config"):
            raise ValueError(
                f"Cannot register a class that does not have a get_config() method. Received: {obj}"
            )
        _GLOBAL_CUSTOM_OBJECTS[registered_name] = obj
        _GLOBAL_CUSTOM_NAMES[obj] = registered_name
        return obj

    return decorator


def get_registered_name(obj):
    """Returns the name `obj` was registered under, or its own `__name__`."""
    return _GLOBAL_CUSTOM_NAMES.get(obj, getattr(obj, "__name__", type(obj).__name__))


def is_registered(obj):
    """Whether `obj` was registered with `register_keras_serializable` (its name has a `>`)."""
    return ">" in get_registered_name(obj)


def get_registered_object(name, custom_objects=None, module_objects=None):
    """Looks `name` up in `custom_objects`, the global registry, then `module_objects`.

    Returns:
        The object, or `None` when no table has it.
    """
    for table in (custom_objects, _GLOBAL_CUSTOM_OBJECTS, module_objects):
        if table and name in table:
            return table[name]
    if custom_objects and ">" in name:
        short = name.split(">", 1)[1]
        if short in custom_objects:
            return custom_objects[short]
    return None


def get_custom_objects():
    """Returns the global dict of registered custom objects (mutable, as in Keras)."""
    return _GLOBAL_CUSTOM_OBJECTS


# ------------------------------------------------------------------------ scopes and safe mode


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


# ------------------------------------------------------------------------ built-in tables


def register_builtin_layers(classes):
    """Adds built-in layer and model classes (dict public name -> class) to the layer table.

    Called once by the package root with every `Layer` subclass `keraslike.layers` exports
    (aliases included) and the models (`Model`, Keras's name `Functional`, `Sequential`).
    """
    for name, cls in classes.items():
        _LAYER_TABLE[name] = cls
        _LAYER_TABLE.setdefault(cls.__name__, cls)


def register_lazy_layers(names, get):
    """Adds built-in layer classes whose family is imported on first use (the preprocessing
    layers): `get(name)` returns the class (importing its family) or `None` if it is no layer.

    They enter the layer table the first time a lookup needs one of them, all at once, so a
    config naming `"TextVectorization"` finds it whether or not the user touched the family.
    """
    for name in names:
        _LAZY_LAYERS[name] = get


def _resolve_lazy_layers():
    pending = list(_LAZY_LAYERS.items())
    _LAZY_LAYERS.clear()
    register_builtin_layers(
        {name: cls for name, cls in ((name, get(name)) for name, get in pending) if cls is not None}
    )


def layer_classes():
    """Dict class name -> class of every built-in layer and model class."""
    if _LAZY_LAYERS:
        _resolve_lazy_layers()
    return _LAYER_TABLE


def builtin_layer(name):
    """The built-in layer or model class called `name` (`"Sequential"`, `"Lambda"`), or `None`."""
    cls = _LAYER_TABLE.get(name)
    if cls is None and name in _LAZY_LAYERS:
        _resolve_lazy_layers()
        cls = _LAYER_TABLE.get(name)
    return cls


def is_builtin_subclass(cls, name):
    """Whether `cls` is (a subclass of) the built-in layer class `name`."""
    base = builtin_layer(name)
    return base is not None and isinstance(cls, type) and issubclass(cls, base)


def is_builtin_layer_class(cls):
    """Whether `cls` is one of keraslike's exported layer classes (saved under `keras.layers`)."""
    if not cls.__module__.startswith("keraslike."):
        return False
    if cls.__name__ not in _LAYER_TABLE and _LAZY_LAYERS:
        _resolve_lazy_layers()  # a lazy family's class (exported under another name, maybe)
    return _LAYER_TABLE.get(cls.__name__) is cls


def register_deserializer(module_prefixes, deserialize):
    """Routes configs whose `module` starts with one of `module_prefixes` to `deserialize`.

    `deserialize(config, custom_objects=None)` is a package's own (`keraslike.optimizers`'s for
    `"keras.optimizers"`), registered by the package root.
    """
    for prefix in module_prefixes:
        _DESERIALIZERS.append((prefix, deserialize))


def find_deserializer(module):
    """The deserializer registered for a config's `module`, or `None`."""
    module = str(module or "")
    for prefix, deserialize in _DESERIALIZERS:
        if module == prefix or module.startswith(prefix + "."):
            return deserialize
    return None


def register_serializer(base_class, serialize):
    """Objects of `base_class` (optimizers) serialize through their package's `serialize`."""
    _SERIALIZERS.append((base_class, serialize))


def find_serializer(obj):
    """The package serializer registered for `obj`'s class, or `None`."""
    for base, serialize in _SERIALIZERS:
        if isinstance(obj, base):
            return serialize
    return None


def register_function_namespace(module_prefixes, get):
    """`"function"` configs with a `module` under `module_prefixes` are looked up with `get(name)`."""
    for prefix in module_prefixes:
        _FUNCTION_NAMESPACES.append((prefix, get))


def find_function_namespace(module):
    """The `get(name)` registered for a function config's `module`, or `None`."""
    module = str(module or "")
    for prefix, get in _FUNCTION_NAMESPACES:
        if module.startswith(prefix):
            return get
    return None


def register_class_namespace(module_prefixes, get):
    """Classes saved with a `module` under `module_prefixes` (e.g. the private layers of
    `keras.src.applications.convnext`) are looked up with `get(class_name)` (`None`: unknown)."""
    for prefix in module_prefixes:
        _CLASS_NAMESPACES.append((prefix, get))


def _lookup_namespace(module, class_name):
    module = str(module or "")
    for prefix, get in _CLASS_NAMESPACES:
        if module == prefix or module.startswith(prefix + "."):
            obj = get(class_name)
            if obj is not None:
                return obj
    return None


# ------------------------------------------------------------------------ class lookup


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
    keras_module = module is None or str(module).split(".")[0] in _KERAS_PACKAGES
    custom_name = bool(registered_name) and ">" in str(registered_name)
    if keras_module and not custom_name:
        found = builtin_layer(class_name) if builtin is None else builtin.get(class_name)
        if found is not None:
            return found
    obj = None if custom_name else _lookup_namespace(module, class_name)
    if obj is not None:
        return obj
    shown = repr(registered_name if registered_name else class_name)
    raise UnknownObjectError(
        f"Could not locate {what} class {class_name!r} (registered name {shown}, module "
        f"{module!r}). It is neither a built-in keraslike {what} nor a registered custom object. "
        f"Decorate the class with `@keras.saving.register_keras_serializable()` before loading, "
        f"or pass it as `custom_objects={{{class_name!r}: {class_name}}}` (or use "
        "`keras.saving.custom_object_scope`)."
    )
