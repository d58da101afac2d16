"""`keras.optimizers.legacy`: tf.keras 2's legacy optimizers, which Keras 3 does not have.

Keras 3 keeps the names so that old code fails where it makes one, with an `ImportError` that
says what to use instead; keraslike does the same.
"""


class LegacyOptimizerWarning:
    """Stands for every `keras.optimizers.legacy` class: making one raises `ImportError`."""

    def __init__(self, *args, **kwargs):
        raise ImportError(
            "`keras.optimizers.legacy` is not supported in Keras 3 or keraslike (tf.keras 2's "
            "legacy optimizers). Use the optimizer of the same name in `keras.optimizers` "
            "(e.g. `keras.optimizers.Adam`)."
        )


Adagrad = Adam = Ftrl = Optimizer = RMSprop = SGD = LegacyOptimizerWarning
