"""The Functional API guide, first sections: a first model, then training, evaluation, inference.

Guide: "Introduction" and "Training, evaluation, and inference" (Keras functional API guide). The guide
trains on `keras.datasets.mnist.load_data()`; to run offline this script generates arrays with
the same shapes and dtypes (see `_common.mnist_like_data`). `examples/demo_mnist.py` runs the same
model on real handwritten digits.

Run: python examples/first_model_and_training.py
"""

import os
import tempfile

import numpy as np
import torch

import keraslike as keras
from keraslike import layers

from _common import check, mnist_like_data

keras.utils.set_random_seed(1337)

# --- Introduction: a first model -------------------------------------------------------------
inputs = keras.Input(shape=(784,))
print("inputs.shape:", inputs.shape)  # (None, 784)
print("inputs.dtype:", inputs.dtype)  # float32
check(inputs.shape == (None, 784), f"inputs.shape is {inputs.shape}")
check(inputs.dtype == "float32", f"inputs.dtype is {inputs.dtype}")

# Just for demonstration purposes.
img_inputs = keras.Input(shape=(32, 32, 3))
check(img_inputs.shape == (None, 32, 32, 3), f"img_inputs.shape is {img_inputs.shape}")

dense = layers.Dense(64, activation="relu")
x = dense(inputs)
x = layers.Dense(64, activation="relu")(x)
outputs = layers.Dense(10)(x)

model = keras.Model(inputs=inputs, outputs=outputs, name="mnist_model")
model.summary()
check(model.count_params() == 55050, f"expected 55,050 parameters, got {model.count_params():,}")
check(
    [layer.count_params() for layer in model.layers] == [0, 50240, 4160, 650],
    "per-layer parameter counts differ from the guide's 0 / 50,240 / 4,160 / 650",
)

# --- Plot the model (needs keras.utils.plot_model and Graphviz) ------------------------------
plot_model = getattr(keras.utils, "plot_model", None)
if plot_model is None:
    print("plot_model skipped: keras.utils.plot_model is not available in this keraslike build")
else:
    out_dir = tempfile.mkdtemp(prefix="keraslike_example_")
    for name, kwargs in [("my_first_model.png", {}), ("my_first_model_with_shape_info.png", {"show_shapes": True})]:
        path = os.path.join(out_dir, name)
        try:
            plot_model(model, path, **kwargs)
            print("Model plotted to", path)
        except (ImportError, OSError) as error:  # pydot / Graphviz missing
            print(f"plot_model skipped ({type(error).__name__}: {error})")
            break

# --- Training, evaluation, and inference -----------------------------------------------------
# (x_train, y_train), (x_test, y_test) = keras.datasets.mnist.load_data()  <- the guide (download)
(x_train, y_train), (x_test, y_test) = mnist_like_data(num_train=12000, num_test=2000)
check(x_train.shape == (12000, 28, 28) and x_train.dtype == np.uint8, "MNIST-like images have the wrong shape/dtype")

x_train = x_train.reshape(len(x_train), 784).astype("float32") / 255
x_test = x_test.reshape(len(x_test), 784).astype("float32") / 255

model.compile(
    loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
    optimizer=keras.optimizers.RMSprop(),
    metrics=["accuracy"],
)

history = model.fit(x_train, y_train, batch_size=64, epochs=2, validation_split=0.2, verbose=2)

test_scores = model.evaluate(x_test, y_test, verbose=2)
print("Test loss:", test_scores[0])
print("Test accuracy:", test_scores[1])

check(sorted(history.history) == ["accuracy", "loss", "val_accuracy", "val_loss"], f"history keys: {sorted(history.history)}")
check(history.history["loss"][-1] < history.history["loss"][0], "training loss did not go down")
check(test_scores[1] > 0.9, f"test accuracy {test_scores[1]:.3f} is not above 0.9 on learnable data")

# Inference: predict returns numpy; calling the model returns a torch tensor (eval mode).
probabilities = model.predict(x_test[:5], verbose=0)
check(isinstance(probabilities, np.ndarray) and probabilities.shape == (5, 10), "predict output is wrong")
# (fit trains on the GPU when there is one and leaves the model there: put x where the model is.)
device = next(model.parameters()).device
logits = model(torch.from_numpy(x_test[:5]).to(device))
check(isinstance(logits, torch.Tensor) and tuple(logits.shape) == (5, 10), "model(x) output is wrong")
check(np.allclose(logits.detach().cpu().numpy(), probabilities, atol=1e-5), "model(x) and predict(x) disagree")
print("OK: first model built, trained and evaluated.")
