"""One process of a data-parallel test run (started by tests/distribution/test_data_parallel.py).

Usage: python worker.py SCENARIO OUT_DIR (with RANK, WORLD_SIZE, MASTER_ADDR, MASTER_PORT set
for a process group; without WORLD_SIZE the run is single-process). Writes
`OUT_DIR/result_<rank>.json`: history, evaluate results, predictions and final weights.
"""

import json
import os
import sys

import numpy as np
import torch

import keraslike as keras


def _model(optimizer, metrics, batch_norm=False):
    inputs = keras.Input((5,))
    x = keras.layers.Dense(8, activation="tanh")(inputs)
    if batch_norm:
        x = keras.layers.BatchNormalization(synchronized=True)(x)
    outputs = keras.layers.Dense(3)(x)
    model = keras.Model(inputs, outputs)
    rng = np.random.default_rng(123)
    for layer in model.layers:
        if isinstance(layer, keras.layers.Dense):  # the same start in every process
            layer.set_weights([rng.normal(0, 0.5, w.shape).astype("float32") for w in layer.get_weights()])
    model.compile(optimizer, keras.losses.SparseCategoricalCrossentropy(from_logits=True), metrics=metrics)
    return model


def _data(n):
    rng = np.random.default_rng(7)
    x = rng.normal(size=(n, 5)).astype("float32")
    y = (x[:, 0] + 0.5 * x[:, 1] > 0).astype("int64") + (x[:, 2] > 1).astype("int64")
    return x, y


class Stopper(keras.callbacks.Callback):
    """Asks to stop after the second epoch on rank 1 only."""

    def on_epoch_end(self, epoch, logs=None):
        if epoch == 1 and keras.distribution.rank() == 1:
            self.model.stop_training = True


def main(scenario, out_dir):
    if "WORLD_SIZE" in os.environ:
        keras.distribution.initialize()
    torch.manual_seed(0)
    rank = keras.distribution.rank()
    result = {}
    x, y = _data(50)  # 50 = 6 * 8 + 2: the last global batch of 2 splits 1 + 1
    if scenario in ("sgd", "adam", "batchnorm"):
        optimizer = keras.optimizers.SGD(0.1, momentum=0.5) if scenario != "adam" else keras.optimizers.Adam(0.01)
        model = _model(optimizer, ["accuracy"], batch_norm=scenario == "batchnorm")
        history = model.fit(x, y, batch_size=8, epochs=3, shuffle=False, verbose=0)
        result["history"] = history.history
        result["evaluate"] = model.evaluate(x, y, batch_size=7, verbose=0, return_dict=True)
        result["predict"] = model.predict(x, batch_size=6, verbose=0).tolist()
        result["weights"] = [w.tolist() for w in model.get_weights()]
    elif scenario == "shuffle":
        model = _model(keras.optimizers.SGD(0.1), ["accuracy"])
        seen = []
        original = model.train_step

        def recording_step(data):
            seen.append(data[0][:, 4].tolist())  # the last feature identifies a sample
            return original(data)

        model.train_step = recording_step
        history = model.fit(x, y, batch_size=8, epochs=2, shuffle=True, verbose=0)
        result["history"] = history.history
        result["seen"] = seen
        result["weights"] = [w.tolist() for w in model.get_weights()]
    elif scenario == "early_stopping":
        model = _model(keras.optimizers.SGD(0.1), None)
        history = model.fit(x, y, batch_size=8, epochs=6, verbose=0, callbacks=[Stopper()])
        result["epochs_run"] = len(history.history["loss"])
    elif scenario == "evaluate_auc":
        binary = keras.Sequential([keras.Input((5,)), keras.layers.Dense(1, activation="sigmoid")])
        binary.set_weights([np.full((5, 1), 0.3, "float32"), np.zeros(1, "float32")])
        binary.compile("sgd", "binary_crossentropy", metrics=[keras.metrics.AUC(name="auc")])
        result["evaluate"] = binary.evaluate(x, (y > 0).astype("float32"), batch_size=9, verbose=0,
                                             return_dict=True)
    with open(os.path.join(out_dir, f"result_{rank}.json"), "w") as f:
        json.dump(result, f)
    if "WORLD_SIZE" in os.environ:
        torch.distributed.destroy_process_group()


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
