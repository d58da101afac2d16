"""The guide's MNIST classifier, end to end, on real handwritten digits available offline.

The 8x8 digits that ship inside scikit-learn (1,797 real handwritten samples) are upsampled to
28x28, so the guide's exact model (784-64-64-10, 55,050 parameters) trains on them unchanged.
Steps: build, summary, compile, fit, evaluate (>= 95% test accuracy), save, load_model,
identical predictions, and a picture of the model (when Graphviz is installed).

Run: ./scripts/demo   (or: python examples/demo_mnist.py)
"""

import os
import sys
import tempfile

import numpy as np
import torch
import torch.nn.functional as F

import keraslike as keras
from keraslike import layers


def load_digits_as_mnist(seed=0):
    """Returns `(x_train, y_train), (x_test, y_test)`: 28x28 uint8 digits, like mnist.load_data()."""
    from sklearn.datasets import load_digits

    digits = load_digits()
    images = torch.from_numpy(digits.images.astype("float32") / 16.0).unsqueeze(1)  # (N, 1, 8, 8)
    images = F.interpolate(images, size=(28, 28), mode="bilinear", align_corners=False)
    images = (images.squeeze(1).clamp(0, 1) * 255).round().to(torch.uint8).numpy()
    labels = digits.target.astype("int64")
    order = np.random.default_rng(seed).permutation(len(labels))
    images, labels = images[order], labels[order]
    split = int(0.8 * len(labels))
    return (images[:split], labels[:split]), (images[split:], labels[split:])


def build_model():
    """The guide's functional MNIST model."""
    inputs = keras.Input(shape=(784,))
    x = layers.Dense(64, activation="relu")(inputs)
    x = layers.Dense(64, activation="relu")(x)
    outputs = layers.Dense(10)(x)
    return keras.Model(inputs=inputs, outputs=outputs, name="mnist_model")


def main(epochs=30, out_dir=None):
    keras.utils.set_random_seed(1337)
    (x_train, y_train), (x_test, y_test) = load_digits_as_mnist()
    x_train = x_train.reshape(len(x_train), 784).astype("float32") / 255
    x_test = x_test.reshape(len(x_test), 784).astype("float32") / 255
    print(f"train {x_train.shape}, test {x_test.shape} (scikit-learn digits upsampled to 28x28)")

    model = build_model()
    model.summary()
    assert model.count_params() == 55050

    model.compile(
        loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
        optimizer=keras.optimizers.RMSprop(),
        metrics=["accuracy"],
    )
    history = model.fit(x_train, y_train, batch_size=64, epochs=epochs, validation_split=0.2, verbose=2)
    test_scores = model.evaluate(x_test, y_test, verbose=2)
    print("Test loss:", test_scores[0])
    print("Test accuracy:", test_scores[1])
    assert history.history["loss"][-1] < history.history["loss"][0], "loss did not go down"
    assert test_scores[1] >= 0.95, f"test accuracy {test_scores[1]:.3f} is below 0.95"

    out_dir = out_dir or tempfile.mkdtemp(prefix="keraslike_demo_")
    path = os.path.join(out_dir, "mnist_model.safetensors")
    model.save(path)
    restored = keras.models.load_model(path)
    before, after = model.predict(x_test, verbose=0), restored.predict(x_test, verbose=0)
    assert np.array_equal(before, after), "predictions changed after save/load"
    print(f"Saved to {path} and loaded back: predictions identical ({before.shape}).")

    picture = os.path.join(out_dir, "mnist_model.png")
    try:
        keras.utils.plot_model(model, to_file=picture, show_shapes=True)
        print(f"Model plotted to {picture}")
    except (ImportError, OSError, AttributeError) as error:
        print(f"Model not plotted: {error}")
    return test_scores


if __name__ == "__main__":
    main(epochs=int(sys.argv[1]) if len(sys.argv) > 1 else 30)
