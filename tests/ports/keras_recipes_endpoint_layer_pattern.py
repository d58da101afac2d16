"""Port of keras-io `examples/keras_recipes/endpoint_layer_pattern.py` (fchollet, Keras 3 edition).

Changed: data (the example's random arrays, seeded and n=1000 -> 64, feature size 764 kept),
epochs 2 -> 3, `verbose=0`, the library passed in as `keras`; `ops.softmax` for `tf.nn.softmax`
as the Keras 3 edition does. The endpoint layer (a loss added with `add_loss` from the
targets, sample weights as an input), the functional model trained with no compiled loss, the
inference-only model sharing weights through `get_weights/set_weights`, and the subclassed
`LogReg` model taking a dict are the example's. The subclassed model's History is returned.
"""

import numpy as np


def run(keras, on_model=None, shuffle=True):
    """Runs the example with `keras` (Keras 3 or keraslike); returns the History.

    `on_model(model)` is called on each model before it trains and `shuffle` goes to `fit`
    (the parity test copies Keras's initial weights in and trains unshuffled).
    """
    ops = keras.ops
    rng = np.random.default_rng(0)

    class LogisticEndpoint(keras.layers.Layer):
        def __init__(self, name=None):
            super().__init__(name=name)
            self.loss_fn = keras.losses.BinaryCrossentropy(from_logits=True)

        def call(self, logits, targets=None, sample_weight=None):
            if targets is not None:
                # Compute the training-time loss value and add it
                # to the layer using `self.add_loss()`.
                loss = self.loss_fn(targets, logits, sample_weight)
                self.add_loss(loss)

            # Return the inference-time prediction tensor (for `.predict()`).
            return ops.softmax(logits)

    inputs = keras.Input((764,), name="inputs")
    logits = keras.layers.Dense(1)(inputs)
    targets = keras.Input((1,), name="targets")
    sample_weight = keras.Input((1,), name="sample_weight")
    preds = LogisticEndpoint()(logits, targets, sample_weight)
    model = keras.Model([inputs, targets, sample_weight], preds)

    data = {
        "inputs": rng.random((64, 764)),
        "targets": rng.random((64, 1)),
        "sample_weight": rng.random((64, 1)),
    }

    model.compile(keras.optimizers.Adam(1e-3))
    if on_model:
        on_model(model)
    first = model.fit(data, epochs=3, verbose=0, shuffle=shuffle)
    assert np.all(np.isfinite(first.history["loss"])), first.history

    inputs = keras.Input((764,), name="inputs")
    logits = keras.layers.Dense(1)(inputs)
    preds = LogisticEndpoint()(logits, targets=None, sample_weight=None)
    inference_model = keras.Model(inputs, preds)

    inference_model.set_weights(model.get_weights())

    preds = inference_model.predict(rng.random((64, 764)), verbose=0)
    assert preds.shape == (64, 1), preds.shape

    class LogReg(keras.Model):
        def __init__(self):
            super().__init__()
            self.dense = keras.layers.Dense(1)
            self.logistic_endpoint = LogisticEndpoint()

        def call(self, inputs):
            # Note that all inputs should be in the first argument
            # since we want to be able to call `model.fit(inputs)`.
            logits = self.dense(inputs["inputs"])
            preds = self.logistic_endpoint(
                logits=logits,
                targets=inputs["targets"],
                sample_weight=inputs["sample_weight"],
            )
            return preds

    model = LogReg()
    data = {
        "inputs": rng.random((64, 764)),
        "targets": rng.random((64, 1)),
        "sample_weight": rng.random((64, 1)),
    }

    model.compile(keras.optimizers.Adam(1e-3))
    if on_model:
        model(data)  # builds the subclassed model so that its weights exist
        on_model(model)
    return model.fit(data, epochs=3, verbose=0, shuffle=shuffle)
