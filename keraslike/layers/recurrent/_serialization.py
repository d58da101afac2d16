"""Keras-format (de)serialization of the layers and cells that wrappers hold.

`Bidirectional`, `TimeDistributed` and `RNN(cell)` put their inner layer's config in their own
config, as Keras 3 does: `{"module", "class_name", "config", "registered_name", "build_config"}`.
Classes are looked up in the registry and in the built-in layer table; nothing is imported by name.
"""

from keraslike.layers.layer import Layer
from keraslike.serialization import registry


def serialize_layer(layer):
    """Returns Keras's serialized dict of a layer (or cell)."""
    cls = type(layer)
    registered = registry.is_registered(cls)
    builtin = not registered and cls.__module__.startswith("keraslike.layers")
    config = {
        "module": "keras.layers" if builtin else cls.__module__,
        "class_name": cls.__name__,
        "config": layer.get_config(),
        "registered_name": None if builtin else registry.get_registered_name(cls),
    }
    build_config = layer.get_build_config() if getattr(layer, "built", False) else None
    if build_config:
        config["build_config"] = build_config
    return config


def deserialize_layer(config, custom_objects=None):
    """Creates a layer from `serialize_layer`'s dict (a layer instance passes through).

    Raises:
        TypeError: When the class is neither registered, in `custom_objects`, nor built in.
    """
    if not isinstance(config, dict):
        return config
    names = [n for n in (config.get("registered_name"), config.get("class_name")) if n]
    cls = None
    for name in names:
        cls = registry.get_registered_object(name, custom_objects)
        if cls is None and config.get("module", "keras.layers") == "keras.layers":
            cls = registry.builtin_layer(name)
        if cls is not None:
            break
    if cls is None:
        raise TypeError(
            f"Could not locate class '{config.get('class_name')}'. Make sure custom classes are "
            "decorated with `@keras.saving.register_keras_serializable()` or passed in "
            "`custom_objects`."
        )
    inner = dict(config.get("config") or {})
    layer = cls.from_config(inner)
    build_config = config.get("build_config")
    if build_config:
        layer.build_from_config(build_config)
    return layer


def build_sublayer(layer, input_shape):
    """Builds a wrapped layer unless it is built already (a layer built at construction, such
    as Dropout, is left alone, as Keras's wrappers do); its `build` records the shape for
    `get_build_config`, as Keras's build wrapper does."""
    if not layer.built:
        layer.build(input_shape)
    layer.built = True
