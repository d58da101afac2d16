"""Small helpers shared by the example scripts (data generators and a check function).

Nothing here is part of keraslike: the examples stay runnable offline, so instead of downloading
MNIST or CIFAR-10 they train on generated arrays with the same shapes and dtypes as
`keras.datasets.mnist.load_data()` / `keras.datasets.cifar10.load_data()`.
"""

import numpy as np


def check(condition, message):
    """Stops the example with a clear message when one of its own checks fails."""
    if not condition:
        raise SystemExit(f"CHECK FAILED: {message}")


def mnist_like_data(num_train=6000, num_test=1000, seed=0):
    """Generated stand-in for `keras.datasets.mnist.load_data()`.

    Returns `(x_train, y_train), (x_test, y_test)` with uint8 images of shape (N, 28, 28) and
    integer labels in 0..9, like the real loader. Each class is a fixed random pattern of strokes
    plus per-sample noise and a small random shift, so a model can learn it (loss goes down and
    accuracy rises well above chance), unlike pure noise.
    """
    rng = np.random.default_rng(seed)
    prototypes = np.zeros((10, 28, 28), dtype="float32")
    for digit in range(10):
        for _ in range(4):  # four random strokes per "digit"
            r0, c0 = rng.integers(4, 24, size=2)
            r1, c1 = rng.integers(4, 24, size=2)
            steps = 40
            rows = np.linspace(r0, r1, steps).round().astype(int)
            cols = np.linspace(c0, c1, steps).round().astype(int)
            prototypes[digit, rows, cols] = 1.0
            prototypes[digit, np.clip(rows + 1, 0, 27), cols] = 1.0

    def sample(n):
        labels = rng.integers(0, 10, size=n)
        images = prototypes[labels]
        shifts = rng.integers(-2, 3, size=(n, 2))
        images = np.stack([np.roll(img, tuple(s), axis=(0, 1)) for img, s in zip(images, shifts)])
        images = images * rng.uniform(0.6, 1.0, size=(n, 1, 1)) + rng.uniform(0, 0.35, size=images.shape)
        return (np.clip(images, 0, 1) * 255).astype("uint8"), labels.astype("uint8")

    return sample(num_train), sample(num_test)


def cifar_like_data(num_train=1000, num_test=200, seed=0):
    """Generated stand-in for `keras.datasets.cifar10.load_data()`.

    uint8 images (N, 32, 32, 3) and labels of shape (N, 1) in 0..9, as the real loader returns.
    Each class has its own mean colour and a coarse texture, so the classes are learnable.
    """
    rng = np.random.default_rng(seed)
    means = rng.uniform(0.2, 0.8, size=(10, 1, 1, 3))
    textures = rng.uniform(-0.2, 0.2, size=(10, 4, 4, 3)).repeat(8, axis=1).repeat(8, axis=2)

    def sample(n):
        labels = rng.integers(0, 10, size=n)
        images = means[labels] + textures[labels] + rng.normal(0, 0.1, size=(n, 32, 32, 3))
        return (np.clip(images, 0, 1) * 255).astype("uint8"), labels.reshape(n, 1).astype("uint8")

    return sample(num_train), sample(num_test)
