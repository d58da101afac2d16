"""Port of keras-io `examples/vision/autoencoder.py` (Convolutional autoencoder for image denoising).

Changed: data loading (`keras.datasets.mnist.load_data` -> synthetic uint8 images of MNIST's
shape (n, 28, 28), seeded, n=64 / 32; the example's `preprocess` and `noise` functions are
kept), epochs 50 / 100 -> 2 / 3, plotting (`display`) dropped, the library passed in as `keras`.
Model, compile and both fits (autoencoder, then denoising) are the example's; the History of
the denoising fit is returned.
"""

import numpy as np


def run(keras):
    """Runs the example with `keras` (Keras 3 or keraslike); returns the History."""
    layers = keras.layers
    Model = keras.Model
    np.random.seed(0)

    def preprocess(array):
        array = array.astype("float32") / 255.0
        array = np.reshape(array, (len(array), 28, 28, 1))
        return array

    def noise(array):
        noise_factor = 0.4
        noisy_array = array + noise_factor * np.random.normal(loc=0.0, scale=1.0, size=array.shape)
        return np.clip(noisy_array, 0.0, 1.0)

    # Synthetic "digits": a few bright strokes on a dark background (see header).
    def fake_mnist(n):
        x = np.zeros((n, 28, 28), dtype="uint8")
        for i in range(n):
            r, c = np.random.randint(4, 20, size=2)
            x[i, r:r + 8, c:c + 2] = 255
            x[i, r:r + 2, c:c + 6] = 255
        return x

    train_data = preprocess(fake_mnist(64))
    test_data = preprocess(fake_mnist(32))
    noisy_train_data = noise(train_data)
    noisy_test_data = noise(test_data)

    input = layers.Input(shape=(28, 28, 1))
    # Encoder
    x = layers.Conv2D(32, (3, 3), activation="relu", padding="same")(input)
    x = layers.MaxPooling2D((2, 2), padding="same")(x)
    x = layers.Conv2D(32, (3, 3), activation="relu", padding="same")(x)
    x = layers.MaxPooling2D((2, 2), padding="same")(x)
    # Decoder
    x = layers.Conv2DTranspose(32, (3, 3), strides=2, activation="relu", padding="same")(x)
    x = layers.Conv2DTranspose(32, (3, 3), strides=2, activation="relu", padding="same")(x)
    x = layers.Conv2D(1, (3, 3), activation="sigmoid", padding="same")(x)

    autoencoder = Model(input, x)
    autoencoder.compile(optimizer="adam", loss="binary_crossentropy")
    autoencoder.summary()

    autoencoder.fit(x=train_data, y=train_data, epochs=2, batch_size=128, shuffle=True,
                    validation_data=(test_data, test_data), verbose=0)
    predictions = autoencoder.predict(test_data, verbose=0)
    assert predictions.shape == (32, 28, 28, 1)

    history = autoencoder.fit(x=noisy_train_data, y=train_data, epochs=3, batch_size=128, shuffle=True,
                              validation_data=(noisy_test_data, test_data), verbose=0)
    autoencoder.predict(noisy_test_data, verbose=0)
    return history
