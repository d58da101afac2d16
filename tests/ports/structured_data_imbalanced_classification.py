"""Port of keras-io `examples/structured_data/imbalanced_classification.py` (credit card fraud).

Changed: data loading (creditcard.csv -> synthetic float features (n, 30) with ~5% positive
0/1 targets, seeded, n=256, 20% validation split as in the example), epochs 30 -> 8, the
checkpoints go to a temporary directory, the library passed in as `keras`. Normalization,
class weights, model, metrics, compile, callbacks and fit are the example's.
"""

import os
import tempfile

import numpy as np


def run(keras):
    """Runs the example with `keras` (Keras 3 or keraslike); returns the History."""
    rng = np.random.default_rng(0)
    n = 256
    all_targets = (rng.random((n, 1)) < 0.05).astype("int64")
    all_targets[:8] = 1
    rng.shuffle(all_targets)
    all_features = (rng.standard_normal((n, 30)) * 3.0 + 6.0 * all_targets).astype("float32")

    num_val_samples = int(len(all_features) * 0.2)
    train_features = all_features[:-num_val_samples]
    train_targets = all_targets[:-num_val_samples]
    val_features = all_features[-num_val_samples:]
    val_targets = all_targets[-num_val_samples:]

    counts = np.bincount(train_targets[:, 0])
    weight_for_0 = 1.0 / counts[0]
    weight_for_1 = 1.0 / counts[1]

    mean = np.mean(train_features, axis=0)
    train_features -= mean
    val_features -= mean
    std = np.std(train_features, axis=0)
    train_features /= std
    val_features /= std

    layers = keras.layers
    model = keras.Sequential(
        [
            keras.Input(shape=train_features.shape[1:]),
            layers.Dense(256, activation="relu"),
            layers.Dense(256, activation="relu"),
            layers.Dropout(0.3),
            layers.Dense(256, activation="relu"),
            layers.Dropout(0.3),
            layers.Dense(1, activation="sigmoid"),
        ]
    )
    model.summary()

    metrics = [
        keras.metrics.FalseNegatives(name="fn"),
        keras.metrics.FalsePositives(name="fp"),
        keras.metrics.TrueNegatives(name="tn"),
        keras.metrics.TruePositives(name="tp"),
        keras.metrics.Precision(name="precision"),
        keras.metrics.Recall(name="recall"),
    ]
    model.compile(optimizer=keras.optimizers.Adam(1e-2), loss="binary_crossentropy", metrics=metrics)

    with tempfile.TemporaryDirectory() as tmp:
        callbacks = [keras.callbacks.ModelCheckpoint(os.path.join(tmp, "fraud_model_at_epoch_{epoch}.keras"))]
        class_weight = {0: weight_for_0, 1: weight_for_1}
        history = model.fit(
            train_features,
            train_targets,
            batch_size=2048,
            epochs=8,
            verbose=0,
            callbacks=callbacks,
            validation_data=(val_features, val_targets),
            class_weight=class_weight,
        )
        assert sorted(os.listdir(tmp)) == [f"fraud_model_at_epoch_{e}.keras" for e in range(1, 9)]
    h = history.history
    assert all(h[k][-1] >= 0 for k in ("tp", "fn", "tn", "fp"))
    return history
