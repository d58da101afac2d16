"""`keras.legacy`: Keras 3's home of tf.keras 2 compatibility code (`keras.legacy.saving`)."""

from keraslike.legacy import saving
