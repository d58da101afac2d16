"""Port of keras-io `guides/training_with_built_in_methods.py` (Training & evaluation with the
built-in methods, fchollet, Keras 3 edition), its numpy sections.

Changed: data (`keras.datasets.mnist` and the guide's random arrays -> seeded synthetic arrays
of the same shapes and dtypes, n=192 / 64; the multi-output model's images 32x32 -> 8x8,
timeseries length 100 -> 12 and filters 3 -> 2), epochs 2-3 -> 2, `verbose=0`, prints ->
recorded numbers, checkpoints written to a temporary folder, the tf.data / PyDataset /
TensorBoard sections dropped, the library passed in as `keras`. Kept as the guide has them:
`get_uncompiled_model` / `get_compiled_model` (named input "digits"), fit with validation
data, `evaluate`, `predict`; a custom loss function and a `Loss` subclass (CustomMSE); the
CategoricalTruePositives metric (`add_variable`, `update_state`, `result`, `reset_state`);
ActivityRegularizationLayer (`add_loss`); a model compiled without loss around a
LogisticEndpoint layer; `validation_split`; `class_weight` and `sample_weight`; the
multi-input multi-output model compiled with loss lists, loss dicts with per-output metrics
and `loss_weights`, and a `None` loss for one output; EarlyStopping, a LossHistory callback,
ModelCheckpoint with an `{epoch}` file name, and an ExponentialDecay schedule. The numbers of
every fit and evaluation are kept in `History.results` for the parity test.
"""

import os
import tempfile

import numpy as np


def run(keras, on_model=None, shuffle=True):
    """Runs the guide with `keras` (Keras 3 or keraslike); returns the first fit's History.

    `on_model(model)` is called on each model before it trains and `shuffle` goes to `fit` (the
    parity test copies Keras's initial weights in and trains unshuffled).
    """
    layers = keras.layers
    ops = keras.ops
    rng = np.random.default_rng(0)
    on_model = on_model or (lambda model: None)
    results = {}
    fit_args = dict(verbose=0, shuffle=shuffle)

    x_train = rng.random((192, 784)).astype("float32")
    y_train = rng.integers(0, 10, size=(192,)).astype("float32")
    x_test = rng.random((64, 784)).astype("float32")
    y_test = rng.integers(0, 10, size=(64,)).astype("float32")
    x_val, y_val = x_train[-48:], y_train[-48:]
    x_train, y_train = x_train[:-48], y_train[:-48]

    inputs = keras.Input(shape=(784,), name="digits")
    x = layers.Dense(64, activation="relu", name="dense_1")(inputs)
    x = layers.Dense(64, activation="relu", name="dense_2")(x)
    outputs = layers.Dense(10, activation="softmax", name="predictions")(x)
    model = keras.Model(inputs=inputs, outputs=outputs)

    model.compile(
        optimizer=keras.optimizers.RMSprop(),  # Optimizer
        # Loss function to minimize
        loss=keras.losses.SparseCategoricalCrossentropy(),
        # List of metrics to monitor
        metrics=[keras.metrics.SparseCategoricalAccuracy()],
    )
    on_model(model)
    first = model.fit(x_train, y_train, batch_size=64, epochs=2, validation_data=(x_val, y_val), **fit_args)
    test = model.evaluate(x_test, y_test, batch_size=128, verbose=0)
    results["first_evaluate"] = {"values": test}
    predictions = model.predict(x_test[:3], verbose=0)
    assert predictions.shape == (3, 10), predictions.shape

    def get_uncompiled_model():
        inputs = keras.Input(shape=(784,), name="digits")
        x = layers.Dense(64, activation="relu", name="dense_1")(inputs)
        x = layers.Dense(64, activation="relu", name="dense_2")(x)
        outputs = layers.Dense(10, activation="softmax", name="predictions")(x)
        model = keras.Model(inputs=inputs, outputs=outputs)
        return model

    def get_compiled_model():
        model = get_uncompiled_model()
        model.compile(
            optimizer="rmsprop",
            loss="sparse_categorical_crossentropy",
            metrics=["sparse_categorical_accuracy"],
        )
        return model

    def custom_mean_squared_error(y_true, y_pred):
        return ops.mean(ops.square(y_true - y_pred), axis=-1)

    model = get_uncompiled_model()
    model.compile(optimizer=keras.optimizers.Adam(), loss=custom_mean_squared_error)

    # We need to one-hot encode the labels to use MSE
    y_train_one_hot = ops.one_hot(y_train, num_classes=10)
    on_model(model)
    results["custom_loss_function"] = model.fit(x_train, y_train_one_hot, batch_size=64, epochs=2,
                                                **fit_args).history

    class CustomMSE(keras.losses.Loss):
        def __init__(self, regularization_factor=0.1, name="custom_mse"):
            super().__init__(name=name)
            self.regularization_factor = regularization_factor

        def call(self, y_true, y_pred):
            mse = ops.mean(ops.square(y_true - y_pred), axis=-1)
            reg = ops.mean(ops.square(0.5 - y_pred), axis=-1)
            return mse + reg * self.regularization_factor

    model = get_uncompiled_model()
    model.compile(optimizer=keras.optimizers.Adam(), loss=CustomMSE())

    y_train_one_hot = ops.one_hot(y_train, num_classes=10)
    on_model(model)
    results["custom_loss_class"] = model.fit(x_train, y_train_one_hot, batch_size=64, epochs=2,
                                             **fit_args).history

    class CategoricalTruePositives(keras.metrics.Metric):
        def __init__(self, name="categorical_true_positives", **kwargs):
            super().__init__(name=name, **kwargs)
            self.true_positives = self.add_variable(shape=(), name="ctp", initializer="zeros")

        def update_state(self, y_true, y_pred, sample_weight=None):
            y_pred = ops.reshape(ops.argmax(y_pred, axis=1), (-1, 1))
            values = ops.cast(y_true, "int32") == ops.cast(y_pred, "int32")
            values = ops.cast(values, "float32")
            if sample_weight is not None:
                sample_weight = ops.cast(sample_weight, "float32")
                values = ops.multiply(values, sample_weight)
            self.true_positives.assign_add(ops.sum(values))

        def result(self):
            return self.true_positives.value

        def reset_state(self):
            # The state of the metric will be reset at the start of each epoch.
            self.true_positives.assign(0.0)

    model = get_uncompiled_model()
    model.compile(
        optimizer=keras.optimizers.RMSprop(learning_rate=1e-3),
        loss=keras.losses.SparseCategoricalCrossentropy(),
        metrics=[CategoricalTruePositives()],
    )
    on_model(model)
    results["custom_metric"] = model.fit(x_train, y_train, batch_size=64, epochs=2, **fit_args).history

    class ActivityRegularizationLayer(layers.Layer):
        def call(self, inputs):
            self.add_loss(ops.sum(inputs) * 0.1)
            return inputs  # Pass-through layer.

    inputs = keras.Input(shape=(784,), name="digits")
    x = layers.Dense(64, activation="relu", name="dense_1")(inputs)

    # Insert activity regularization as a layer
    x = ActivityRegularizationLayer()(x)

    x = layers.Dense(64, activation="relu", name="dense_2")(x)
    outputs = layers.Dense(10, name="predictions")(x)

    model = keras.Model(inputs=inputs, outputs=outputs)
    model.compile(
        optimizer=keras.optimizers.RMSprop(learning_rate=1e-3),
        loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
    )

    # The displayed loss will be much higher than before
    # due to the regularization component.
    on_model(model)
    results["add_loss"] = model.fit(x_train, y_train, batch_size=64, epochs=1, **fit_args).history

    class LogisticEndpoint(keras.layers.Layer):
        def __init__(self, name=None):
            super().__init__(name=name)
            self.loss_fn = keras.losses.BinaryCrossentropy(from_logits=True)

        def call(self, targets, logits, sample_weights=None):
            # Compute the training-time loss value and add it
            # to the layer using `self.add_loss()`.
            loss = self.loss_fn(targets, logits, sample_weights)
            self.add_loss(loss)

            # Return the inference-time prediction tensor (for `.predict()`).
            return ops.softmax(logits)

    inputs = keras.Input(shape=(3,), name="inputs")
    targets = keras.Input(shape=(10,), name="targets")
    logits = keras.layers.Dense(10)(inputs)
    predictions = LogisticEndpoint(name="predictions")(logits, targets)

    model = keras.Model(inputs=[inputs, targets], outputs=predictions)
    model.compile(optimizer="adam")  # No loss argument!

    data = {
        "inputs": rng.random((3, 3)),
        "targets": rng.random((3, 10)),
    }
    on_model(model)
    results["endpoint"] = model.fit(data, **fit_args).history

    model = get_compiled_model()
    on_model(model)
    results["validation_split"] = model.fit(x_train, y_train, batch_size=64, validation_split=0.2, epochs=1,
                                            **fit_args).history

    class_weight = {0: 1.0, 1: 1.0, 2: 1.0, 3: 1.0, 4: 1.0,
                    # Set weight "2" for class "5",
                    # making this class 2x more important
                    5: 2.0, 6: 1.0, 7: 1.0, 8: 1.0, 9: 1.0}
    model = get_compiled_model()
    on_model(model)
    results["class_weight"] = model.fit(x_train, y_train, class_weight=class_weight, batch_size=64, epochs=1,
                                        **fit_args).history

    sample_weight = np.ones(shape=(len(y_train),))
    sample_weight[y_train == 5] = 2.0
    model = get_compiled_model()
    on_model(model)
    results["sample_weight"] = model.fit(x_train, y_train, sample_weight=sample_weight, batch_size=64, epochs=1,
                                         **fit_args).history

    image_input = keras.Input(shape=(8, 8, 3), name="img_input")
    timeseries_input = keras.Input(shape=(None, 10), name="ts_input")

    x1 = layers.Conv2D(2, 3)(image_input)
    x1 = layers.GlobalMaxPooling2D()(x1)

    x2 = layers.Conv1D(2, 3)(timeseries_input)
    x2 = layers.GlobalMaxPooling1D()(x2)

    x = layers.concatenate([x1, x2])

    score_output = layers.Dense(1, name="score_output")(x)
    class_output = layers.Dense(5, name="class_output")(x)

    model = keras.Model(inputs=[image_input, timeseries_input], outputs=[score_output, class_output])

    # Generate dummy NumPy data
    img_data = rng.random(size=(48, 8, 8, 3))
    ts_data = rng.random(size=(48, 12, 10))
    score_targets = rng.random(size=(48, 1))
    class_targets = rng.random(size=(48, 5))

    model.compile(
        optimizer=keras.optimizers.RMSprop(1e-3),
        loss=[
            keras.losses.MeanSquaredError(),
            keras.losses.CategoricalCrossentropy(),
        ],
        metrics=[
            [
                keras.metrics.MeanAbsolutePercentageError(),
                keras.metrics.MeanAbsoluteError(),
            ],
            [keras.metrics.CategoricalAccuracy()],
        ],
    )
    on_model(model)
    results["multi_lists"] = model.fit([img_data, ts_data], [score_targets, class_targets], batch_size=32,
                                       epochs=1, **fit_args).history

    model.compile(
        optimizer=keras.optimizers.RMSprop(1e-3),
        loss={
            "score_output": keras.losses.MeanSquaredError(),
            "class_output": keras.losses.CategoricalCrossentropy(),
        },
        metrics={
            "score_output": [
                keras.metrics.MeanAbsolutePercentageError(),
                keras.metrics.MeanAbsoluteError(),
            ],
            "class_output": [keras.metrics.CategoricalAccuracy()],
        },
        loss_weights={"score_output": 2.0, "class_output": 1.0},
    )
    results["multi_dicts"] = model.fit(
        {"img_input": img_data, "ts_input": ts_data},
        {"score_output": score_targets, "class_output": class_targets},
        batch_size=32, epochs=1, **fit_args).history
    results["multi_evaluate"] = model.evaluate(
        {"img_input": img_data, "ts_input": ts_data},
        {"score_output": score_targets, "class_output": class_targets}, verbose=0, return_dict=True)

    # List loss version
    model.compile(
        optimizer=keras.optimizers.RMSprop(1e-3),
        loss=[None, keras.losses.CategoricalCrossentropy()],
    )
    results["multi_none_loss"] = model.fit([img_data, ts_data], [score_targets, class_targets], batch_size=32,
                                           epochs=1, **fit_args).history

    model = get_compiled_model()
    callbacks = [
        keras.callbacks.EarlyStopping(
            # Stop training when `val_loss` is no longer improving
            monitor="val_loss",
            # "no longer improving" being defined as "no better than 1e-2 less"
            min_delta=1e-2,
            # "no longer improving" being further defined as "for at least 2 epochs"
            patience=2,
            verbose=0,
        )
    ]
    on_model(model)
    results["early_stopping"] = model.fit(x_train, y_train, epochs=4, batch_size=64, callbacks=callbacks,
                                          validation_split=0.2, **fit_args).history

    class LossHistory(keras.callbacks.Callback):
        def on_train_begin(self, logs):
            self.per_batch_losses = []

        def on_batch_end(self, batch, logs):
            self.per_batch_losses.append(logs.get("loss"))

    loss_history = LossHistory()
    model = get_compiled_model()
    with tempfile.TemporaryDirectory() as folder:
        callbacks = [
            loss_history,
            keras.callbacks.ModelCheckpoint(
                # Path where to save the model
                # The two parameters below mean that we will overwrite
                # the current checkpoint if and only if
                # the `val_loss` score has improved.
                # The saved model name will include the current epoch.
                filepath=os.path.join(folder, "mymodel_{epoch}.keras"),
                save_best_only=True,  # Only save a model if `val_loss` has improved.
                monitor="val_loss",
                verbose=0,
            ),
        ]
        on_model(model)
        results["checkpoint"] = model.fit(x_train, y_train, epochs=2, batch_size=64, callbacks=callbacks,
                                          validation_split=0.2, **fit_args).history
        saved = sorted(os.listdir(folder))
    assert saved and all(name.startswith("mymodel_") and name.endswith(".keras") for name in saved), saved
    results["loss_history"] = {"per_batch": [float(v) for v in loss_history.per_batch_losses]}

    initial_learning_rate = 0.1
    lr_schedule = keras.optimizers.schedules.ExponentialDecay(
        initial_learning_rate, decay_steps=2, decay_rate=0.96, staircase=True
    )
    optimizer = keras.optimizers.RMSprop(learning_rate=lr_schedule)
    model = get_uncompiled_model()
    model.compile(optimizer=optimizer, loss="sparse_categorical_crossentropy",
                  metrics=["sparse_categorical_accuracy"])
    on_model(model)
    results["schedule"] = model.fit(x_train, y_train, batch_size=64, epochs=2, **fit_args).history
    first.results = results
    return first
