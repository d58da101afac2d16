"""Port of keras-io `guides/intro_to_keras_for_engineers.py` (fchollet, Keras 3 edition).

Changed: data (`keras.datasets.mnist` -> seeded synthetic uint8 images (n, 16, 16) scaled to
[0, 1] as the guide does, labels 0-9, n=96 / 32), batch size 128 -> 32, epochs 20 / 1 -> 2,
files written under a temporary directory, prints -> records (kept in `History.results`), the
tf.data section dropped (TensorFlow), the library passed in as `keras`. Kept: the convnet
(Conv2D 64/64/128/128, MaxPooling2D, GlobalAveragePooling2D, Dropout, softmax Dense), compile with
SparseCategoricalCrossentropy / Adam / a named SparseCategoricalAccuracy, `fit` with
`validation_split=0.15` and the ModelCheckpoint (`model_at_epoch_{epoch}.keras`) and EarlyStopping
callbacks, `evaluate`, `save` / `keras.saving.load_model`, `predict`, the cross-framework
`MyDense` (a `keras.ops.matmul` layer) and `MyDropout` (`keras.random.dropout` with a
`SeedGenerator(1337)`) in a Sequential model, and training it on torch `DataLoader`s of
`TensorDataset`s (`fit(train_dataloader, validation_data=val_dataloader)`).
"""

import os
import tempfile

import numpy as np
import torch


def run(keras, on_model=None, shuffle=True):
    """Runs the guide with `keras` (Keras 3 or keraslike); returns the DataLoader fit's History.

    `on_model(model)` is called on each model before it trains; `shuffle` goes to `fit` (and to
    the training DataLoader).
    """
    layers = keras.layers
    rng = np.random.default_rng(0)
    on_model = on_model or (lambda model: None)
    results = {}
    workdir = tempfile.mkdtemp()

    x_train = rng.integers(0, 256, size=(96, 16, 16)).astype("uint8")
    y_train = rng.integers(0, 10, size=(96,)).astype("uint8")
    x_test = rng.integers(0, 256, size=(32, 16, 16)).astype("uint8")
    y_test = rng.integers(0, 10, size=(32,)).astype("uint8")

    # Scale images to the [0, 1] range
    x_train = x_train.astype("float32") / 255
    x_test = x_test.astype("float32") / 255
    # Make sure images have shape (16, 16, 1)
    x_train = np.expand_dims(x_train, -1)
    x_test = np.expand_dims(x_test, -1)

    num_classes = 10
    input_shape = (16, 16, 1)

    model = keras.Sequential(
        [
            keras.layers.Input(shape=input_shape),
            keras.layers.Conv2D(64, kernel_size=(3, 3), activation="relu"),
            keras.layers.Conv2D(64, kernel_size=(3, 3), activation="relu"),
            keras.layers.MaxPooling2D(pool_size=(2, 2)),
            keras.layers.Conv2D(128, kernel_size=(3, 3), activation="relu"),
            keras.layers.Conv2D(128, kernel_size=(3, 3), activation="relu"),
            keras.layers.GlobalAveragePooling2D(),
            keras.layers.Dropout(0.5),
            keras.layers.Dense(num_classes, activation="softmax"),
        ]
    )
    lines = []
    model.summary(print_fn=lambda line, *args, **kwargs: lines.append(line))

    model.compile(
        loss=keras.losses.SparseCategoricalCrossentropy(),
        optimizer=keras.optimizers.Adam(learning_rate=1e-3),
        metrics=[
            keras.metrics.SparseCategoricalAccuracy(name="acc"),
        ],
    )

    batch_size = 32
    epochs = 2

    callbacks = [
        keras.callbacks.ModelCheckpoint(filepath=os.path.join(workdir, "model_at_epoch_{epoch}.keras")),
        keras.callbacks.EarlyStopping(monitor="val_loss", patience=2),
    ]
    on_model(model)
    results["initial_evaluation"] = model.evaluate(x_test, y_test, verbose=0, return_dict=True)
    model.fit(
        x_train,
        y_train,
        batch_size=batch_size,
        epochs=epochs,
        validation_split=0.15,
        callbacks=callbacks,
        verbose=0,
        shuffle=shuffle,
    )
    assert sorted(os.listdir(workdir)) == ["model_at_epoch_1.keras", "model_at_epoch_2.keras"]
    score = model.evaluate(x_test, y_test, verbose=0)
    assert len(score) == 2

    model.save(os.path.join(workdir, "final_model.keras"))
    reloaded = keras.saving.load_model(os.path.join(workdir, "final_model.keras"))
    predictions = reloaded.predict(x_test, verbose=0)
    assert predictions.shape == (32, 10)
    np.testing.assert_allclose(predictions, model.predict(x_test, verbose=0), rtol=1e-5, atol=1e-6)

    class MyDense(keras.layers.Layer):
        def __init__(self, units, activation=None, name=None):
            super().__init__(name=name)
            self.units = units
            self.activation = keras.activations.get(activation)

        def build(self, input_shape):
            input_dim = input_shape[-1]
            self.w = self.add_weight(
                shape=(input_dim, self.units),
                initializer=keras.initializers.GlorotNormal(),
                name="kernel",
                trainable=True,
            )

            self.b = self.add_weight(
                shape=(self.units,),
                initializer=keras.initializers.Zeros(),
                name="bias",
                trainable=True,
            )

        def call(self, inputs):
            # Use Keras ops to create backend-agnostic layers/metrics/etc.
            x = keras.ops.matmul(inputs, self.w) + self.b
            return self.activation(x)

    class MyDropout(keras.layers.Layer):
        def __init__(self, rate, name=None):
            super().__init__(name=name)
            self.rate = rate
            # Use seed_generator for managing RNG state.
            # It is a state element and its seed variable is
            # tracked as part of `layer.variables`.
            self.seed_generator = keras.random.SeedGenerator(1337)

        def call(self, inputs):
            # Use `keras.random` for random ops.
            return keras.random.dropout(inputs, self.rate, seed=self.seed_generator)

    model = keras.Sequential(
        [
            keras.layers.Input(shape=input_shape),
            keras.layers.Conv2D(64, kernel_size=(3, 3), activation="relu"),
            keras.layers.Conv2D(64, kernel_size=(3, 3), activation="relu"),
            keras.layers.MaxPooling2D(pool_size=(2, 2)),
            keras.layers.Conv2D(128, kernel_size=(3, 3), activation="relu"),
            keras.layers.Conv2D(128, kernel_size=(3, 3), activation="relu"),
            keras.layers.GlobalAveragePooling2D(),
            MyDense(128, activation="relu"),
            MyDropout(0.5),
            MyDense(num_classes, activation="softmax"),
        ]
    )

    # Create a TensorDataset
    train_torch_dataset = torch.utils.data.TensorDataset(
        torch.from_numpy(x_train), torch.from_numpy(y_train)
    )
    val_torch_dataset = torch.utils.data.TensorDataset(
        torch.from_numpy(x_test), torch.from_numpy(y_test)
    )

    # Create a DataLoader
    train_dataloader = torch.utils.data.DataLoader(
        train_torch_dataset, batch_size=batch_size, shuffle=shuffle
    )
    val_dataloader = torch.utils.data.DataLoader(
        val_torch_dataset, batch_size=batch_size, shuffle=False
    )

    model.compile(
        loss=keras.losses.SparseCategoricalCrossentropy(),
        optimizer=keras.optimizers.Adam(learning_rate=1e-3),
        metrics=[
            keras.metrics.SparseCategoricalAccuracy(name="acc"),
        ],
    )
    on_model(model)
    results["custom_initial_evaluation"] = model.evaluate(val_dataloader, verbose=0, return_dict=True)
    history = model.fit(train_dataloader, epochs=epochs, validation_data=val_dataloader, verbose=0)
    history.results = results
    return history
