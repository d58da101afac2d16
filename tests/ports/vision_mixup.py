"""Port of keras-io `examples/vision/mixup.py` (MixUp augmentation for image classification,
Sayak Paul).

Changed: data (Fashion-MNIST -> seeded synthetic float32 images (n, 28, 28, 1) in [0, 1] with
one-hot labels: 160 training images of which 32 are put aside for validation, and 32 test
images, each class a brighter band of rows), `BATCH_SIZE` 64 -> 16, `EPOCHS` 10 -> 2,
`verbose=0`, the preview plot dropped, the library passed in as `keras`. The `tf.data`
pipelines -> a `PyDataset` serving two independently shuffled orders of the training set
zipped batch by batch (each order drawn anew every epoch from a seeded numpy generator, as
`shuffle` reshuffles each iteration), mixed up as it serves each batch (the original's
`map`), and arrays given to `fit` / `evaluate` with `batch_size` (validation and test sets);
`train_ds_one` alone -> a `PyDataset` serving the first order unmixed. TensorFlow calls ->
`keras`: `tf.random.gamma` -> `keras.random.gamma`, `tf.one_hot` -> `keras.utils.to_categorical`,
`tf.reshape` / `tf.shape` -> `ops`; `tf.keras.Sequential` -> `keras.Sequential`; the weights file
"initial_weights.h5" -> a temporary "initial_weights.weights.h5" (Keras 3 names weights files
so). Kept: `sample_beta_distribution` and `mix_up`, the model (`input_shape=` on its first
layer), saving the initial weights and loading them into both models, compile with
"categorical_crossentropy", "adam" and "accuracy", both trainings (with and without mixup) and
their test evaluations. Returned: the mixup training's History; `History.results` keeps both
models' evaluations from the initial weights, `History.fits` the second training's History and
both test evaluations.

Seeded, keraslike's losses differ from Keras's from the first step: its Dropout follows a
MaxPooling2D, whose output Keras holds channels-first in memory and keraslike channels-last,
and torch's dropout draws its mask in memory order (a known keraslike gap; from the same
weights the evaluations agree).
"""

import os
import tempfile

import numpy as np


def run(keras, on_model=None, shuffle=True):
    """Runs the example with `keras` (Keras 3 or keraslike); returns the mixup History.

    `on_model(model)` is called on each model before it trains; with `shuffle=False` the
    training set is served in order (both zipped orders the same) and `fit` keeps the batches'
    order.
    """
    layers = keras.layers
    ops = keras.ops
    on_model = on_model or (lambda model: None)
    rng = np.random.default_rng(0)
    order_rng = np.random.default_rng(1)

    def make(n):
        y = np.arange(n) % 10
        x = rng.uniform(0, 0.5, (n, 28, 28, 1))
        for i, label in enumerate(y):
            x[i, 2 * label : 2 * label + 6] += 0.5
        return x.astype("float32"), y

    (x_train, y_train), (x_test, y_test) = make(160), make(32)
    y_train = keras.utils.to_categorical(y_train, 10)
    y_test = keras.utils.to_categorical(y_test, 10)

    BATCH_SIZE = 16
    EPOCHS = 2

    # Put aside a few samples to create our validation set
    val_samples = 32
    x_val, y_val = x_train[:val_samples], y_train[:val_samples]
    new_x_train, new_y_train = x_train[val_samples:], y_train[val_samples:]

    def sample_beta_distribution(size, concentration_0=0.2, concentration_1=0.2):
        gamma_1_sample = keras.random.gamma(shape=[size], alpha=concentration_1)
        gamma_2_sample = keras.random.gamma(shape=[size], alpha=concentration_0)
        return gamma_1_sample / (gamma_1_sample + gamma_2_sample)

    def mix_up(ds_one, ds_two, alpha=0.2):
        # Unpack two datasets
        images_one, labels_one = ds_one
        images_two, labels_two = ds_two
        batch_size = ops.shape(images_one)[0]

        # Sample lambda and reshape it to do the mixup
        l = sample_beta_distribution(batch_size, alpha, alpha)  # noqa: E741 (the original's name)
        x_l = ops.reshape(l, (batch_size, 1, 1, 1))
        y_l = ops.reshape(l, (batch_size, 1))

        # Perform mixup on both images and labels by combining a pair of images/labels
        # (one from each dataset) into one image/label
        images = images_one * x_l + images_two * (1 - x_l)
        labels = labels_one * y_l + labels_two * (1 - y_l)
        return (images, labels)

    class ShuffledBatches(keras.utils.PyDataset):
        """The training set in two orders drawn anew each epoch; mixed up, or the first alone."""

        def __init__(self, mixed):
            super().__init__()
            self.mixed = mixed
            self.on_epoch_end()

        def on_epoch_end(self):
            n = len(new_x_train)
            self.orders = [order_rng.permutation(n), order_rng.permutation(n)] if shuffle else [np.arange(n)] * 2

        def __len__(self):
            return int(np.ceil(len(new_x_train) / BATCH_SIZE))

        def __getitem__(self, index):
            one, two = (order[index * BATCH_SIZE : (index + 1) * BATCH_SIZE] for order in self.orders)
            ds_one, ds_two = (new_x_train[one], new_y_train[one]), (new_x_train[two], new_y_train[two])
            if not self.mixed:
                return ds_one
            # (tensors, as the `tf.data` map's elements are)
            ds_one, ds_two = [tuple(ops.convert_to_tensor(a) for a in ds) for ds in (ds_one, ds_two)]
            images, labels = mix_up(ds_one, ds_two, alpha=0.2)
            return ops.convert_to_numpy(images), ops.convert_to_numpy(labels)

    train_ds_mu = ShuffledBatches(mixed=True)
    train_ds_one = ShuffledBatches(mixed=False)

    def get_training_model():
        model = keras.Sequential(
            [
                layers.Conv2D(16, (5, 5), activation="relu", input_shape=(28, 28, 1)),
                layers.MaxPooling2D(pool_size=(2, 2)),
                layers.Conv2D(32, (5, 5), activation="relu"),
                layers.MaxPooling2D(pool_size=(2, 2)),
                layers.Dropout(0.2),
                layers.GlobalAvgPool2D(),
                layers.Dense(128, activation="relu"),
                layers.Dense(10, activation="softmax"),
            ]
        )
        return model

    weights_path = os.path.join(tempfile.mkdtemp(), "initial_weights.weights.h5")
    initial_model = get_training_model()
    on_model(initial_model)
    initial_model.save_weights(weights_path)
    results, fits = {}, {}

    # 1. Train the model with the mixed up dataset
    model = get_training_model()
    model.load_weights(weights_path)
    model.compile(loss="categorical_crossentropy", optimizer="adam", metrics=["accuracy"])
    on_model(model)
    results["mixup_initial"] = model.evaluate(x_val, y_val, batch_size=BATCH_SIZE, verbose=0, return_dict=True)
    history = model.fit(train_ds_mu, validation_data=(x_val, y_val), epochs=EPOCHS, verbose=0, shuffle=shuffle)
    _, test_acc = model.evaluate(x_test, y_test, batch_size=BATCH_SIZE, verbose=0)
    fits["mixup_test"] = {"accuracy": [test_acc]}

    # 2. Train the model *without* the mixed up dataset
    model = get_training_model()
    model.load_weights(weights_path)
    model.compile(loss="categorical_crossentropy", optimizer="adam", metrics=["accuracy"])
    on_model(model)
    results["plain_initial"] = model.evaluate(x_val, y_val, batch_size=BATCH_SIZE, verbose=0, return_dict=True)
    # Notice that we are NOT using the mixed up dataset here
    fits["plain"] = model.fit(
        train_ds_one, validation_data=(x_val, y_val), epochs=EPOCHS, verbose=0, shuffle=shuffle
    ).history
    _, test_acc = model.evaluate(x_test, y_test, batch_size=BATCH_SIZE, verbose=0)
    fits["plain_test"] = {"accuracy": [test_acc]}
    history.results = results
    history.fits = fits
    return history
