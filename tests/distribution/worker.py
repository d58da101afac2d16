"""One process of a data-parallel test run (started by tests/distribution/test_data_parallel.py).

Usage: python worker.py SCENARIO OUT_DIR, or python worker.py +S1,S2,... OUT_DIR for several
scenarios in one process group (with RANK, WORLD_SIZE, MASTER_ADDR, MASTER_PORT set for a
process group; without WORLD_SIZE the run is single-process). Writes
`OUT_DIR/result_<rank>.json`: per scenario, history, evaluate results, predictions and weights.
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


class CustomStepModel(keras.Model):
    """A functional model with its own `train_step` in Keras 3's torch style."""

    def train_step(self, data):
        x, y = data
        self.zero_grad()
        y_pred = self(x, training=True)
        loss = self.compute_loss(x=x, y=y, y_pred=y_pred)
        loss.backward()
        weights = self.trainable_weights
        with torch.no_grad():
            self.optimizer.apply([v.grad for v in weights], weights)
        for metric in self.metrics:
            if metric.name == "loss":
                metric.update_state(loss)
        return self.compute_metrics(x, y, y_pred)


class Interrupt(keras.callbacks.Callback):
    """Raises at the end of epoch 1, on every rank (a job that dies after two epochs)."""

    def on_epoch_end(self, epoch, logs=None):
        if epoch == 1:
            raise RuntimeError("interrupted")


class Stopper(keras.callbacks.Callback):
    """Asks to stop after the second epoch on rank 1 only."""

    def on_epoch_end(self, epoch, logs=None):
        if epoch == 1 and keras.distribution.rank() == 1:
            self.model.stop_training = True


def _weights(model):
    return [w.tolist() for w in model.get_weights()]


def _fit_result(model, x, y, **kwargs):
    history = model.fit(x, y, batch_size=8, epochs=3, shuffle=False, verbose=0, **kwargs)
    return {"history": history.history, "weights": _weights(model),
            "iterations": int(model.optimizer.iterations)}


def _variant(scenario, x, y, out_dir, rank):
    """The scenarios `main` runs several of in one process group (see the test file)."""
    if scenario in ("accumulate_sgd", "accumulate_adam"):
        # 7 steps per epoch, an update every 3: cycles cross epoch ends and short last batches.
        optimizer = (keras.optimizers.SGD(0.1, momentum=0.5, gradient_accumulation_steps=3)
                     if scenario == "accumulate_sgd"
                     else keras.optimizers.Adam(0.01, gradient_accumulation_steps=3))
        return _fit_result(_model(optimizer, ["accuracy"]), x, y)
    if scenario == "custom_step":
        base = _model(keras.optimizers.SGD(0.1, momentum=0.5), None)
        model = CustomStepModel(base.inputs, base.outputs)
        model.compile(keras.optimizers.SGD(0.1, momentum=0.5),
                      keras.losses.SparseCategoricalCrossentropy(from_logits=True), metrics=["accuracy"])
        return _fit_result(model, x, y)
    if scenario == "jit":
        model = _model(keras.optimizers.SGD(0.1, momentum=0.5), ["accuracy"])
        model.compile(keras.optimizers.SGD(0.1, momentum=0.5),
                      keras.losses.SparseCategoricalCrossentropy(from_logits=True), metrics=["accuracy"],
                      jit_compile=True)
        # 48 samples: full batches only, so each process compiles the step once.
        history = model.fit(x[:48], y[:48], batch_size=8, epochs=2, shuffle=False, verbose=0)
        return {"history": history.history, "weights": _weights(model)}
    if scenario == "files":
        # Each rank names its own files: only rank 0's may exist afterwards.
        model = _model(keras.optimizers.SGD(0.1), ["accuracy"])
        callbacks = [
            keras.callbacks.CSVLogger(os.path.join(out_dir, f"log_{rank}.csv")),
            keras.callbacks.ModelCheckpoint(os.path.join(out_dir, f"ckpt_{rank}.safetensors")),
        ]
        result = _fit_result(model, x, y, callbacks=callbacks)
        return result
    if scenario == "backup":
        backup_dir = os.path.join(out_dir, "backup")
        model = _model(keras.optimizers.Adam(0.01), ["accuracy"])
        try:
            model.fit(x, y, batch_size=8, epochs=4, shuffle=False, verbose=0,
                      callbacks=[keras.callbacks.BackupAndRestore(backup_dir), Interrupt()])
        except RuntimeError:
            pass
        if torch.distributed.is_initialized():
            torch.distributed.barrier()  # the restarted job starts once the first one has died
        model = _model(keras.optimizers.Adam(0.01), ["accuracy"])  # a fresh process's model
        history = model.fit(x, y, batch_size=8, epochs=4, shuffle=False, verbose=0,
                            callbacks=[keras.callbacks.BackupAndRestore(backup_dir)])
        return {"history": history.history, "weights": _weights(model),
                "iterations": int(model.optimizer.iterations)}
    if scenario == "reference_adam":  # BackupAndRestore's uninterrupted counterpart
        model = _model(keras.optimizers.Adam(0.01), ["accuracy"])
        model.fit(x, y, batch_size=8, epochs=4, shuffle=False, verbose=0)
        return {"weights": _weights(model)}
    if scenario == "iterables":
        # A DataLoader with a DistributedSampler (2 processes, 4 samples each per step) against
        # one process's loader of 8; a generator of batches of 8 split by batch across the 2
        # processes against one process's generator of 16: the same global batches.
        distributed = torch.distributed.is_initialized()
        data = torch.utils.data.TensorDataset(torch.tensor(x[:48]), torch.tensor(y[:48]))
        epochs_set = []

        class RecordingSampler(torch.utils.data.DistributedSampler):
            def set_epoch(self, epoch):
                epochs_set.append(epoch)
                super().set_epoch(epoch)

        sampler = RecordingSampler(data, shuffle=False) if distributed else None
        loader = torch.utils.data.DataLoader(data, batch_size=4 if distributed else 8, sampler=sampler)
        model = _model(keras.optimizers.SGD(0.1, momentum=0.5), ["accuracy"])
        history = model.fit(loader, epochs=2, verbose=0)
        size = 8 if distributed else 16

        def batches():
            while True:
                for i in range(0, 48, size):
                    yield x[i : i + size], y[i : i + size]

        generator_model = _model(keras.optimizers.SGD(0.1, momentum=0.5), ["accuracy"])
        steps = 48 // 8
        generator_history = generator_model.fit(batches(), steps_per_epoch=steps if distributed else steps // 2,
                                                epochs=2, verbose=0)

        class Batches(keras.utils.PyDataset):  # batches of 8 per process: the same global batches
            def __len__(self):
                return 48 // size

            def __getitem__(self, index):
                return x[index * size : (index + 1) * size], y[index * size : (index + 1) * size]

        py_dataset_model = _model(keras.optimizers.SGD(0.1, momentum=0.5), ["accuracy"])
        # Unshuffled: one process's 3 batches and two ranks' 6 are not permuted alike.
        py_dataset_history = py_dataset_model.fit(Batches(), epochs=2, verbose=0, shuffle=False)
        return {"history": history.history, "weights": _weights(model), "epochs_set": epochs_set,
                "generator": {"history": generator_history.history, "weights": _weights(generator_model)},
                "py_dataset": {"history": py_dataset_history.history, "weights": _weights(py_dataset_model),
                               "steps": len(py_dataset_history.history["loss"])}}
    if scenario == "fsdp":
        world = keras.distribution.world_size()
        mesh = keras.distribution.DeviceMesh((world,), ["batch"])
        layout_map = keras.distribution.LayoutMap(mesh)
        layout_map[".*dense.*kernel"] = (None, "batch")
        keras.distribution.set_distribution(keras.distribution.ModelParallel(layout_map=layout_map))
        try:
            model = _model(keras.optimizers.Adam(0.01), ["accuracy"])
            checkpoint = keras.callbacks.ModelCheckpoint(os.path.join(out_dir, f"{world}_ckpt.safetensors"))
            history = model.fit(x, y, batch_size=8, epochs=3, shuffle=False, verbose=0,
                                callbacks=[checkpoint])
            result = {"history": history.history,
                      "sharded": keras.distribution.is_sharded(model),
                      "param_types": sorted({type(p).__name__ for p in model.parameters()}),
                      "evaluate": model.evaluate(x, y, batch_size=7, verbose=0, return_dict=True),
                      "predict": model.predict(x, batch_size=6, verbose=0).tolist()}
            for name in ("fsdp.safetensors", "fsdp.keras", "fsdp.weights.h5"):
                path = os.path.join(out_dir, f"{world}_{name}")
                if name.endswith(".weights.h5"):
                    model.save_weights(path)
                else:
                    model.save(path)
            result["get_weights_sharded"] = _weights(model)  # gathers by itself, on every rank
            with keras.distribution.full_weights(model):
                result["weights"] = _weights(model)
                result["slots"] = sorted(model.optimizer.get_slot_state())
            result["param_types_after"] = sorted({type(p).__name__ for p in model.parameters()})
            return result
        finally:
            keras.distribution.set_distribution(None)
    raise ValueError(f"Unknown scenario {scenario!r}")


def _train_evaluate_predict(scenario, x, y):
    optimizer = keras.optimizers.SGD(0.1, momentum=0.5) if scenario != "adam" else keras.optimizers.Adam(0.01)
    model = _model(optimizer, ["accuracy"], batch_norm=scenario == "batchnorm")
    history = model.fit(x, y, batch_size=8, epochs=3, shuffle=False, verbose=0)
    return {"history": history.history,
            "evaluate": model.evaluate(x, y, batch_size=7, verbose=0, return_dict=True),
            "predict": model.predict(x, batch_size=6, verbose=0).tolist(),
            "weights": _weights(model)}


def _shuffle(scenario, x, y):
    model = _model(keras.optimizers.SGD(0.1), ["accuracy"])
    seen = []
    original = model.train_step

    def recording_step(data):
        seen.append(data[0][:, 4].tolist())  # the last feature identifies a sample
        return original(data)

    model.train_step = recording_step
    history = model.fit(x, y, batch_size=8, epochs=2, shuffle=True, verbose=0)
    return {"history": history.history, "seen": seen, "weights": _weights(model)}


def _early_stopping(scenario, x, y):
    model = _model(keras.optimizers.SGD(0.1), None)
    history = model.fit(x, y, batch_size=8, epochs=6, verbose=0, callbacks=[Stopper()])
    return {"epochs_run": len(history.history["loss"])}


def _evaluate_auc(scenario, x, y):
    binary = keras.Sequential([keras.Input((5,)), keras.layers.Dense(1, activation="sigmoid")])
    binary.set_weights([np.full((5, 1), 0.3, "float32"), np.zeros(1, "float32")])
    binary.compile("sgd", "binary_crossentropy", metrics=[keras.metrics.AUC(name="auc")])
    return {"evaluate": binary.evaluate(x, (y > 0).astype("float32"), batch_size=9, verbose=0,
                                        return_dict=True)}


_BASIC = {"sgd": _train_evaluate_predict, "adam": _train_evaluate_predict,
          "batchnorm": _train_evaluate_predict, "shuffle": _shuffle,
          "early_stopping": _early_stopping, "evaluate_auc": _evaluate_auc}


def main(scenario, out_dir):
    """Runs `scenario`, or each of `+a,b,c` in turn (one process group, one start-up)."""
    if "WORLD_SIZE" in os.environ:
        keras.distribution.initialize()
    torch.manual_seed(0)
    rank = keras.distribution.rank()
    result = {}
    x, y = _data(50)  # 50 = 6 * 8 + 2: the last global batch of 2 splits 1 + 1
    names = scenario.strip("+").split(",")
    for name in names:
        torch.manual_seed(0)  # each scenario starts alike, whichever ran before it
        runner = _BASIC.get(name)
        result[name] = runner(name, x, y) if runner else _variant(name, x, y, out_dir, rank)
    if len(names) == 1 and not scenario.startswith("+"):
        result = result[names[0]]
    with open(os.path.join(out_dir, f"result_{rank}.json"), "w") as f:
        json.dump(result, f)
    if "WORLD_SIZE" in os.environ:
        # Both processes finish their collectives before either closes its connections: a peer
        # closing first can make gloo's receiving thread abort the other process.
        torch.distributed.barrier()
        torch.distributed.destroy_process_group()


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
