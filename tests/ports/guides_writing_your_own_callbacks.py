"""Port of keras-io `guides/writing_your_own_callbacks.py` (fchollet, Keras 3 edition).

Changed: data (`keras.datasets.mnist` -> seeded synthetic float vectors (n, 784) in [0, 1] and
integer labels, n=256 / 128 as the guide's first 1000 samples), epochs 30 / 15 -> 6 / 8,
prints -> records of what the guide prints (each hook's log keys, the running losses, the
learning rates), the library passed in as `keras`. `get_model`, CustomCallback (every hook of
fit / evaluate / predict), LossAndErrorPrintingCallback, EarlyStoppingAtMinLoss (restoring
`get_weights()` through `set_weights` and setting `model.stop_training`) and
CustomLearningRateScheduler (reading and setting `model.optimizer.learning_rate` per epoch)
are the guide's. The recorded log keys are kept in `History.log_keys` and the numbers in
`History.results` (the parity test compares both with Keras's).
"""

import numpy as np


def run(keras, on_model=None, shuffle=True):
    """Runs the guide with `keras` (Keras 3 or keraslike); returns the last fit's History.

    `on_model(model)` is called on each model before it trains and `shuffle` goes to `fit` (the
    parity test copies Keras's initial weights in and trains unshuffled).
    """
    rng = np.random.default_rng(0)
    on_model = on_model or (lambda model: None)
    log_keys = []
    numbers = {"train_batch_loss": [], "test_batch_loss": [], "epoch_loss": [], "epoch_mae": [],
               "learning_rate": [], "stopped_epoch": []}

    def get_model():
        model = keras.Sequential()
        model.add(keras.layers.Dense(1))
        model.compile(
            optimizer=keras.optimizers.RMSprop(learning_rate=0.1),
            loss="mean_squared_error",
            metrics=["mean_absolute_error"],
        )
        return model

    x_train = rng.random((256, 784)).astype("float32")
    y_train = rng.integers(0, 10, size=(256,))
    x_test = rng.random((128, 784)).astype("float32")
    y_test = rng.integers(0, 10, size=(128,))

    class CustomCallback(keras.callbacks.Callback):
        def _record(self, hook, logs):
            log_keys.append(f"{hook}: {sorted(logs.keys()) if logs is not None else None}")

        def on_train_begin(self, logs=None):
            self._record("on_train_begin", logs)

        def on_train_end(self, logs=None):
            self._record("on_train_end", logs)

        def on_epoch_begin(self, epoch, logs=None):
            self._record(f"on_epoch_begin {epoch}", logs)

        def on_epoch_end(self, epoch, logs=None):
            self._record(f"on_epoch_end {epoch}", logs)

        def on_test_begin(self, logs=None):
            self._record("on_test_begin", logs)

        def on_test_end(self, logs=None):
            self._record("on_test_end", logs)

        def on_predict_begin(self, logs=None):
            self._record("on_predict_begin", logs)

        def on_predict_end(self, logs=None):
            self._record("on_predict_end", logs)

        def on_train_batch_begin(self, batch, logs=None):
            self._record(f"on_train_batch_begin {batch}", logs)

        def on_train_batch_end(self, batch, logs=None):
            self._record(f"on_train_batch_end {batch}", logs)

        def on_test_batch_begin(self, batch, logs=None):
            self._record(f"on_test_batch_begin {batch}", logs)

        def on_test_batch_end(self, batch, logs=None):
            self._record(f"on_test_batch_end {batch}", logs)

        def on_predict_batch_begin(self, batch, logs=None):
            self._record(f"on_predict_batch_begin {batch}", logs)

        def on_predict_batch_end(self, batch, logs=None):
            self._record(f"on_predict_batch_end {batch}", logs)

    model = get_model()
    model.build((None, 784))
    on_model(model)
    model.fit(x_train, y_train, batch_size=128, epochs=1, verbose=0, validation_split=0.5,
              callbacks=[CustomCallback()], shuffle=shuffle)
    res = model.evaluate(x_test, y_test, batch_size=128, verbose=0, callbacks=[CustomCallback()])
    res = model.predict(x_test, batch_size=128, callbacks=[CustomCallback()], verbose=0)
    assert res.shape == (128, 1), res.shape

    class LossAndErrorPrintingCallback(keras.callbacks.Callback):
        def on_train_batch_end(self, batch, logs=None):
            numbers["train_batch_loss"].append(float(logs["loss"]))

        def on_test_batch_end(self, batch, logs=None):
            numbers["test_batch_loss"].append(float(logs["loss"]))

        def on_epoch_end(self, epoch, logs=None):
            numbers["epoch_loss"].append(float(logs["loss"]))
            numbers["epoch_mae"].append(float(logs["mean_absolute_error"]))

    model = get_model()
    model.build((None, 784))
    on_model(model)
    model.fit(x_train, y_train, batch_size=128, epochs=2, verbose=0, callbacks=[LossAndErrorPrintingCallback()],
              shuffle=shuffle)
    res = model.evaluate(x_test, y_test, batch_size=128, verbose=0, callbacks=[LossAndErrorPrintingCallback()])

    class EarlyStoppingAtMinLoss(keras.callbacks.Callback):
        """Stop training when the loss is at its min, i.e. the loss stops decreasing."""

        def __init__(self, patience=0):
            super().__init__()
            self.patience = patience
            # best_weights to store the weights at which the minimum loss occurs.
            self.best_weights = None

        def on_train_begin(self, logs=None):
            # The number of epoch it has waited when loss is no longer minimum.
            self.wait = 0
            # The epoch the training stops at.
            self.stopped_epoch = 0
            # Initialize the best as infinity.
            self.best = np.inf

        def on_epoch_end(self, epoch, logs=None):
            current = logs.get("loss")
            if np.less(current, self.best):
                self.best = current
                self.wait = 0
                # Record the best weights if current results is better (less).
                self.best_weights = self.model.get_weights()
            else:
                self.wait += 1
                if self.wait >= self.patience:
                    self.stopped_epoch = epoch
                    self.model.stop_training = True
                    self.model.set_weights(self.best_weights)

        def on_train_end(self, logs=None):
            numbers["stopped_epoch"].append(self.stopped_epoch + 1)

    model = get_model()
    model.build((None, 784))
    on_model(model)
    model.fit(
        x_train,
        y_train,
        batch_size=64,
        epochs=6,
        verbose=0,
        callbacks=[LossAndErrorPrintingCallback(), EarlyStoppingAtMinLoss()],
        shuffle=shuffle,
    )

    class CustomLearningRateScheduler(keras.callbacks.Callback):
        """Learning rate scheduler which sets the learning rate according to schedule."""

        def __init__(self, schedule):
            super().__init__()
            self.schedule = schedule

        def on_epoch_begin(self, epoch, logs=None):
            if not hasattr(self.model.optimizer, "learning_rate"):
                raise ValueError('Optimizer must have a "learning_rate" attribute.')
            # Get the current learning rate from model's optimizer.
            lr = self.model.optimizer.learning_rate
            # Call schedule function to get the scheduled learning rate.
            scheduled_lr = self.schedule(epoch, lr)
            # Set the value back to the optimizer before this epoch starts
            self.model.optimizer.learning_rate = scheduled_lr
            numbers["learning_rate"].append(float(np.array(scheduled_lr)))

    LR_SCHEDULE = [
        # (epoch to start, learning rate) tuples
        (3, 0.05),
        (6, 0.01),
        (9, 0.005),
        (12, 0.001),
    ]

    def lr_schedule(epoch, lr):
        """Helper function to retrieve the scheduled learning rate based on epoch."""
        if epoch < LR_SCHEDULE[0][0] or epoch > LR_SCHEDULE[-1][0]:
            return lr
        for i in range(len(LR_SCHEDULE)):
            if epoch == LR_SCHEDULE[i][0]:
                return LR_SCHEDULE[i][1]
        return lr

    model = get_model()
    model.build((None, 784))
    on_model(model)
    history = model.fit(
        x_train,
        y_train,
        batch_size=64,
        epochs=8,
        verbose=0,
        callbacks=[
            LossAndErrorPrintingCallback(),
            CustomLearningRateScheduler(lr_schedule),
        ],
        shuffle=shuffle,
    )
    np.testing.assert_allclose(numbers["learning_rate"], [0.1, 0.1, 0.1, 0.05, 0.05, 0.05, 0.01, 0.01], rtol=1e-6)
    history.log_keys = log_keys
    history.results = {"printed": numbers}
    return history
