"""Port of keras-io `guides/writing_a_custom_training_loop_in_torch.py` (Writing a training loop
from scratch in PyTorch, fchollet).

Changed: data (MNIST -> seeded random pixels in [0, 255) of MNIST's flattened shape, one-hot
labels; 50,000 / 10,000 -> 96 / 32 samples), epochs 3 -> 2, prints -> recorded numbers, the
library passed in as `keras`. The four loops are the guide's: a `torch.optim.Adam` with
`torch.nn.CrossEntropyLoss`, a Keras `Adam` with `CategoricalCrossentropy(from_logits=True)`
applied through `optimizer.apply`, the same with `CategoricalAccuracy` metrics and a validation
loop, and the loop adding `model.losses` (the guide's `ActivityRegularizationLayer` model is
built as in the guide; the loop itself trains a fresh `get_model()`, as the guide does).
Returned: a History whose `loss` is the last loop's per-epoch mean batch loss, with the
accuracies; `History.results` keeps the other loops' losses.
"""

import numpy as np
import torch


class _Record:
    """What the guide prints, kept: `history` (per epoch) like a Keras History."""

    def __init__(self):
        self.history = {}
        self.results = {}


def run(keras, on_model=None, shuffle=True):
    """Runs the guide with `keras` (Keras 3 or keraslike); returns a History-like record.

    `on_model(model)` is called on each model before it trains and `shuffle` goes to the
    training DataLoader (the parity test copies Keras's initial weights in, unshuffled).
    """
    on_model = on_model or (lambda model: None)
    rng = np.random.default_rng(0)
    record = _Record()

    # Let's consider a simple MNIST model
    def get_model():
        inputs = keras.Input(shape=(784,), name="digits")
        x1 = keras.layers.Dense(64, activation="relu")(inputs)
        x2 = keras.layers.Dense(64, activation="relu")(x1)
        outputs = keras.layers.Dense(10, name="predictions")(x2)
        model = keras.Model(inputs=inputs, outputs=outputs)
        return model

    batch_size = 32
    x_train = rng.integers(0, 255, size=(128, 784)).astype("float32")
    y_train = keras.utils.to_categorical(rng.integers(0, 10, size=(128,)), num_classes=10)

    # Reserve samples for validation.
    x_val = x_train[-32:]
    y_val = y_train[-32:]
    x_train = x_train[:-32]
    y_train = y_train[:-32]

    train_dataset = torch.utils.data.TensorDataset(torch.from_numpy(x_train), torch.from_numpy(y_train))
    val_dataset = torch.utils.data.TensorDataset(torch.from_numpy(x_val), torch.from_numpy(y_val))
    generator = torch.Generator().manual_seed(0)
    train_dataloader = torch.utils.data.DataLoader(
        train_dataset, batch_size=batch_size, shuffle=shuffle, generator=generator
    )
    val_dataloader = torch.utils.data.DataLoader(val_dataset, batch_size=batch_size, shuffle=False)

    # Instantiate a torch optimizer
    model = get_model()
    on_model(model)
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    loss_fn = torch.nn.CrossEntropyLoss()

    epochs = 2
    torch_losses = []
    for epoch in range(epochs):
        for step, (inputs, targets) in enumerate(train_dataloader):
            logits = model(inputs)
            loss = loss_fn(logits, targets)
            model.zero_grad()
            loss.backward()
            optimizer.step()
            torch_losses.append(float(loss.detach().numpy()))
    record.results["torch_optimizer"] = {"loss": torch_losses}

    model = get_model()
    on_model(model)
    optimizer = keras.optimizers.Adam(learning_rate=1e-3)
    loss_fn = keras.losses.CategoricalCrossentropy(from_logits=True)
    keras_losses = []
    for epoch in range(epochs):
        for step, (inputs, targets) in enumerate(train_dataloader):
            logits = model(inputs)
            loss = loss_fn(targets, logits)
            model.zero_grad()
            trainable_weights = [v for v in model.trainable_weights]
            loss.backward()
            gradients = [v.value.grad for v in trainable_weights]
            with torch.no_grad():
                optimizer.apply(gradients, trainable_weights)
            keras_losses.append(float(loss.detach().numpy()))
    record.results["keras_optimizer"] = {"loss": keras_losses}

    def train_with_metrics(model):
        optimizer = keras.optimizers.Adam(learning_rate=1e-3)
        loss_fn = keras.losses.CategoricalCrossentropy(from_logits=True)
        train_acc_metric = keras.metrics.CategoricalAccuracy()
        val_acc_metric = keras.metrics.CategoricalAccuracy()
        history = {"loss": [], "acc": [], "val_acc": []}
        for epoch in range(epochs):
            losses = []
            for step, (inputs, targets) in enumerate(train_dataloader):
                logits = model(inputs)
                loss = loss_fn(targets, logits)
                if model.losses:
                    loss = loss + torch.sum(*model.losses)
                model.zero_grad()
                trainable_weights = [v for v in model.trainable_weights]
                loss.backward()
                gradients = [v.value.grad for v in trainable_weights]
                with torch.no_grad():
                    optimizer.apply(gradients, trainable_weights)
                train_acc_metric.update_state(targets, logits)
                losses.append(float(loss.detach().numpy()))
            history["loss"].append(float(np.mean(losses)))
            history["acc"].append(float(train_acc_metric.result()))
            train_acc_metric.reset_state()
            for x_batch_val, y_batch_val in val_dataloader:
                val_logits = model(x_batch_val, training=False)
                val_acc_metric.update_state(y_batch_val, val_logits)
            history["val_acc"].append(float(val_acc_metric.result()))
            val_acc_metric.reset_state()
        return history

    model = get_model()
    on_model(model)
    record.results["metrics"] = train_with_metrics(model)

    class ActivityRegularizationLayer(keras.layers.Layer):
        def call(self, inputs):
            self.add_loss(1e-2 * torch.sum(inputs))
            return inputs

    inputs = keras.Input(shape=(784,), name="digits")
    x = keras.layers.Dense(64, activation="relu")(inputs)
    x = ActivityRegularizationLayer()(x)
    x = keras.layers.Dense(64, activation="relu")(x)
    outputs = keras.layers.Dense(10, name="predictions")(x)
    regularized = keras.Model(inputs=inputs, outputs=outputs)
    # Not in the guide's loop (it trains `get_model()`): one forward shows the layer's loss.
    regularized(torch.from_numpy(x_val))
    assert len(regularized.losses) == 1, regularized.losses

    model = get_model()
    on_model(model)
    record.history = train_with_metrics(model)
    return record
