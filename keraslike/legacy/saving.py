"""`keras.legacy.saving`: tf.keras 2's serialization format, the same functions as
`keras.utils.legacy` (as in Keras 3)."""

from keraslike.utils.legacy import deserialize_keras_object, serialize_keras_object

__all__ = ["deserialize_keras_object", "serialize_keras_object"]
