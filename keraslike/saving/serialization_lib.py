"""`serialize_keras_object` / `deserialize_keras_object` under their Keras module name.

The implementation is `keraslike.serialization.keras_objects`, low in the package so that models
and layers use it without importing the file formats.
"""

from keraslike.serialization.functions import (  # noqa: F401
    lambda_config,
    lambda_from_config,
    lookup_function,
    serialize_function,
)
from keraslike.serialization.keras_objects import (  # noqa: F401
    _deserialize,
    deserialize_keras_object,
    deserialize_nested,
    is_functional,
    serialize_for_saving,
    serialize_keras_object,
    shared_object_scope,
)
from keraslike.serialization.values import (  # noqa: F401
    deserialize_value,
    serialize_special,
    strip_shared_ids,
    to_shape,
)
