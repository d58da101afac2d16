"""Port of keras-io `examples/timeseries/eeg_signal_classification.py` (Electroencephalogram
Signal Classification for action identification, Suvaditya Mukherjee).

Changed: data (the downloaded EEG CSV read with pandas, its labels encoded and scaled with
sklearn -> synthetic signals (n, 64, 1) min-max scaled to [0, 1] per signal in numpy, 5
imbalanced classes, seeded, n=120 / 24 for the example's 15% holdout), sequence length
512 -> 64, conv filters 32..1024 -> 4/4/8/8/16/16, dense units 4096/2048/1024/128 ->
32/16/16/8, BATCH_SIZE 64 -> 16, epochs 30 -> 3, the `tf.data` pipeline -> numpy arrays given
to `fit` (`batch_size`), the ModelCheckpoint file "best_model.h5" -> the same name in a
temporary directory, `verbose=0`, `summary()`, printing and the plots dropped, the library
passed in as `keras`. The naive class weights, `create_model` (Conv1D/BatchNormalization
stack, Dropout, Dense layers with `keras.regularizers.L2()`), the callbacks (ModelCheckpoint
with `save_best_only` on "loss", ReduceLROnPlateau on "val_top_k_categorical_accuracy"), Adam
with `amsgrad=True`, CategoricalCrossentropy, the TopKCategoricalAccuracy(k=3) / AUC /
Precision / Recall metrics, fit with `class_weight` and evaluate are the example's.
Added: an evaluation and predictions from the initial weights (dropout makes training
random), kept in `History.results` for the parity test, and checks that the checkpoint was
written and reloads.
"""

import os
import tempfile

import numpy as np


def run(keras, on_model=None, shuffle=True):
    """Runs the example with `keras` (Keras 3 or keraslike); returns the History.

    `on_model(model)` is called on the model before it evaluates and trains; `shuffle` goes to `fit`.
    """
    layers = keras.layers
    rng = np.random.default_rng(0)
    on_model = on_model or (lambda model: None)

    BATCH_SIZE = 16
    num_classes = 5
    labels = rng.choice(num_classes, size=144, p=[0.4, 0.25, 0.15, 0.1, 0.1])
    signals = rng.normal(size=(144, 64)) + labels[:, None] * np.sin(np.linspace(0, 6, 64))[None]
    # Min-max scaling of each signal, as the example's MinMaxScaler per series.
    series_list = (signals - signals.min(axis=1, keepdims=True)) / np.ptp(signals, axis=1, keepdims=True)
    labels_list = list(labels)

    x_train, x_test = series_list[:120], series_list[120:]
    y_train, y_test = labels_list[:120], labels_list[120:]

    x_train = np.asarray(x_train).astype(np.float32).reshape(-1, 64, 1)
    y_train = np.asarray(y_train).astype(np.float32).reshape(-1, 1)
    y_train = keras.utils.to_categorical(y_train)

    x_test = np.asarray(x_test).astype(np.float32).reshape(-1, 64, 1)
    y_test = np.asarray(y_test).astype(np.float32).reshape(-1, 1)
    y_test = keras.utils.to_categorical(y_test, num_classes)

    vals_dict = {}
    for i in labels_list:
        if i in vals_dict.keys():
            vals_dict[i] += 1
        else:
            vals_dict[i] = 1
    total = sum(vals_dict.values())

    # Formula used - Naive method where
    # weight = 1 - (no. of samples present / total no. of samples)
    # So more the samples, lower the weight
    weight_dict = {int(k): (1 - (v / total)) for k, v in vals_dict.items()}

    def create_model():
        input_layer = keras.Input(shape=(64, 1))

        x = layers.Conv1D(filters=4, kernel_size=3, strides=2, activation="relu", padding="same")(input_layer)
        x = layers.BatchNormalization()(x)

        x = layers.Conv1D(filters=4, kernel_size=3, strides=2, activation="relu", padding="same")(x)
        x = layers.BatchNormalization()(x)

        x = layers.Conv1D(filters=8, kernel_size=5, strides=2, activation="relu", padding="same")(x)
        x = layers.BatchNormalization()(x)

        x = layers.Conv1D(filters=8, kernel_size=5, strides=2, activation="relu", padding="same")(x)
        x = layers.BatchNormalization()(x)

        x = layers.Conv1D(filters=16, kernel_size=7, strides=2, activation="relu", padding="same")(x)
        x = layers.BatchNormalization()(x)

        x = layers.Conv1D(filters=16, kernel_size=7, strides=2, activation="relu", padding="same")(x)
        x = layers.BatchNormalization()(x)

        x = layers.Dropout(0.2)(x)

        x = layers.Flatten()(x)

        x = layers.Dense(32, activation="relu")(x)
        x = layers.Dropout(0.2)(x)

        x = layers.Dense(16, activation="relu", kernel_regularizer=keras.regularizers.L2())(x)
        x = layers.Dropout(0.2)(x)

        x = layers.Dense(16, activation="relu", kernel_regularizer=keras.regularizers.L2())(x)
        x = layers.Dropout(0.2)(x)
        x = layers.Dense(8, activation="relu", kernel_regularizer=keras.regularizers.L2())(x)
        output_layer = layers.Dense(num_classes, activation="softmax")(x)

        return keras.Model(inputs=input_layer, outputs=output_layer)

    conv_model = create_model()

    epochs = 3
    with tempfile.TemporaryDirectory() as tmp:
        checkpoint_path = os.path.join(tmp, "best_model.h5")
        callbacks = [
            keras.callbacks.ModelCheckpoint(checkpoint_path, save_best_only=True, monitor="loss"),
            keras.callbacks.ReduceLROnPlateau(
                monitor="val_top_k_categorical_accuracy",
                factor=0.2,
                patience=2,
                min_lr=0.000001,
            ),
        ]

        optimizer = keras.optimizers.Adam(amsgrad=True, learning_rate=0.001)
        loss = keras.losses.CategoricalCrossentropy()

        conv_model.compile(
            optimizer=optimizer,
            loss=loss,
            metrics=[
                keras.metrics.TopKCategoricalAccuracy(k=3),
                keras.metrics.AUC(),
                keras.metrics.Precision(),
                keras.metrics.Recall(),
            ],
        )
        on_model(conv_model)
        results = {"initial": conv_model.evaluate(x_test, y_test, batch_size=BATCH_SIZE, verbose=0,
                                                  return_dict=True)}
        results["predict"] = {"probabilities": conv_model.predict(x_test[:4], verbose=0).ravel().tolist()}

        conv_model_history = conv_model.fit(
            x_train,
            y_train,
            batch_size=BATCH_SIZE,
            epochs=epochs,
            callbacks=callbacks,
            validation_data=(x_test, y_test),
            class_weight=weight_dict,
            verbose=0,
            shuffle=shuffle,
        )
        assert os.path.exists(checkpoint_path)
        reloaded = keras.models.load_model(checkpoint_path, compile=False)
        assert len(reloaded.get_weights()) == len(conv_model.get_weights())

    loss, accuracy, auc, precision, recall = conv_model.evaluate(x_test, y_test, batch_size=BATCH_SIZE, verbose=0)
    assert all(0.0 <= m <= 1.0 for m in (accuracy, auc, precision, recall)), (accuracy, auc, precision, recall)
    conv_model_history.results = results
    return conv_model_history
