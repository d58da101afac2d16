"""Keras 3's serialized-object format for losses and metrics: names kept for their modules.

The implementation is `keraslike.serialization.objects` (one for every kind of object).
"""

from keraslike.serialization.objects import (  # noqa: F401  (the names losses and metrics use)
    BUILTIN_FUNCTIONS,
    MODULE_TABLES,
    public_module,
)
from keraslike.serialization.objects import deserialize_callable as deserialize_object  # noqa: F401
from keraslike.serialization.objects import serialize_value as serialize_object  # noqa: F401
