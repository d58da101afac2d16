"""The registry of custom objects, under its `keras.saving` name (`keraslike.serialization.registry`)."""

from keraslike.serialization.registry import (  # noqa: F401
    CustomObjectScope,
    current_custom_objects,
    custom_object_scope,
    enable_unsafe_deserialization,
    get_custom_objects,
    get_registered_name,
    get_registered_object,
    in_safe_mode,
    is_builtin_layer_class,
    is_registered,
    layer_classes,
    register_keras_serializable,
    resolve_class,
    safe_mode_scope,
)
