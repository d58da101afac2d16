"""Former home of the registry and Keras's object format; kept so old imports keep working.

The implementation is the `keraslike.serialization` package.
"""

from keraslike.serialization.objects import (  # noqa: F401
    deserialize_object,
    find_class,
    get_object,
    serialize_function,
    serialize_object,
)
from keraslike.serialization.registry import (  # noqa: F401
    _GLOBAL_CUSTOM_NAMES,
    _GLOBAL_CUSTOM_OBJECTS,
    get_custom_objects,
    get_registered_name,
    get_registered_object,
    register_keras_serializable,
)
