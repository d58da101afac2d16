"""Port of keras-io `guides/int8_quantization_in_keras.py` (8-bit Integer Quantization in Keras,
Jyotinder Singh).

Changed: the generator `np.random.default_rng()` seeded (`default_rng(0)`), `fit` given
`shuffle` and the history returned, the model file written to a temporary directory, prints
-> recorded numbers (kept in `History.results`), the library passed in as `keras`. The KerasHub
part (a Gemma3 preset download) is dropped. Kept: the functional model, compile with "adam" /
"mse", one epoch of `fit`, the full-precision outputs, `model.quantize("int8")` in place, the
INT8 outputs and their MSE against full precision, `model.save("int8.keras")`,
`keras.saving.load_model` and the MSE of the reloaded model's outputs. Added: two more epochs
of training before quantizing (the ports test reads a falling loss), and checks that the
quantization error is small and the round trip exact.
"""

import os
import tempfile

import numpy as np


def run(keras, on_model=None, shuffle=True):
    """Runs the guide with `keras` (Keras 3 or keraslike); returns the History.

    `on_model(model)` is called on the model before it trains; `shuffle` goes to `fit`.
    """
    layers = keras.layers
    on_model = on_model or (lambda model: None)
    results = {}

    # Create a random number generator.
    rng = np.random.default_rng(0)

    # Create a simple functional model.
    inputs = keras.Input(shape=(10,))
    x = layers.Dense(32, activation="relu")(inputs)
    outputs = layers.Dense(1, name="target")(x)
    model = keras.Model(inputs, outputs)

    # Compile and train briefly to materialize meaningful weights.
    model.compile(optimizer="adam", loss="mse")
    x_train = rng.random((256, 10)).astype("float32")
    y_train = rng.random((256, 1)).astype("float32")
    on_model(model)
    history = model.fit(x_train, y_train, epochs=3, batch_size=32, verbose=0, shuffle=shuffle)

    # Sample inputs for evaluation.
    x_eval = rng.random((32, 10)).astype("float32")

    # Baseline (FP) outputs.
    y_fp32 = model(x_eval)

    # Quantize the model in-place to INT8.
    model.quantize("int8")

    # INT8 outputs after quantization.
    y_int8 = model(x_eval)

    # Compute a simple MSE between FP and INT8 outputs.
    mse = keras.ops.mean(keras.ops.square(y_fp32 - y_int8))
    results["quantized"] = {
        "fp32": keras.ops.convert_to_numpy(y_fp32),
        "int8": keras.ops.convert_to_numpy(y_int8),
        "mse": float(mse),
    }
    assert float(mse) < 1e-3, float(mse)

    # Save the quantized model and reload to verify round-trip.
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "int8.keras")
        model.save(path)
        int8_reloaded = keras.saving.load_model(path)
    y_int8_reloaded = int8_reloaded(x_eval)
    roundtrip_mse = keras.ops.mean(keras.ops.square(y_int8 - y_int8_reloaded))
    results["reloaded"] = {"mse": float(roundtrip_mse)}
    assert float(roundtrip_mse) == 0.0, float(roundtrip_mse)
    assert [w.dtype for w in int8_reloaded.weights] == [w.dtype for w in model.weights]

    history.results = results
    return history
