"""Four small Keras programs, run unchanged on Keras 3 and on keraslike, give the same numbers.

Each program takes the library as `keras` and returns what it observed (histories, evaluate and
predict results, trained weights, op and loss values, dtypes, metric names). Between them they
exercise callbacks that change training (ReduceLROnPlateau, LearningRateScheduler, EarlyStopping
with restore_best_weights), clipping options, class and sample weights, validation_split and
validation_freq, initial_epoch, multi-output dict losses with loss_weights, a subclass with
`add_loss`, a `compute_loss` override and its own `metrics`, generators and PyDatasets,
`*_on_batch`, `reset_metrics`, and 45 op and loss values with their dtypes.
"""

import numpy as np
import pytest

import keraslike

@pytest.fixture(scope="module")
def keras():
    return pytest.importorskip("keras")


def _init(model, scale=0.5):
    r = np.random.default_rng(1)
    model.set_weights([r.normal(0, scale, w.shape).astype("float32") for w in model.get_weights()])


def _history(h):
    return {k: [float(v) for v in vs] for k, vs in h.history.items()}


def callbacks_and_optimizers(keras):
    rng = np.random.default_rng(0)
    x = rng.normal(size=(64, 5)).astype("float32")
    y = (x[:, :1] > 0).astype("float32")

    def model_fn():
        i = keras.Input((5,))
        h = keras.layers.Dense(6, activation="relu", kernel_regularizer=keras.regularizers.l2(0.01))(i)
        m = keras.Model(i, keras.layers.Dense(1, activation="sigmoid")(h))
        _init(m)
        return m

    out = {}
    m = model_fn()
    m.compile(keras.optimizers.Adam(0.05, global_clipnorm=0.5), "binary_crossentropy",
              metrics=["accuracy", keras.metrics.AUC(name="auc"), keras.metrics.Precision(name="p")],
              weighted_metrics=["mse"])
    h = m.fit(x, y, batch_size=10, epochs=4, validation_split=0.25, shuffle=False, verbose=0,
              class_weight={0: 1.0, 1: 3.0},
              callbacks=[keras.callbacks.ReduceLROnPlateau(monitor="loss", patience=0, factor=0.5,
                                                           min_delta=10)])
    out["h1"] = _history(h)
    out["ev"] = {k: float(v) for k, v in m.evaluate(x, y, batch_size=7, verbose=0, return_dict=True).items()}
    out["ev_list"] = [float(v) for v in m.evaluate(x, y, batch_size=7, verbose=0)]
    out["pred"] = m.predict(x[:5], verbose=0)
    out["lr"] = float(np.array(m.optimizer.learning_rate))
    out["iterations"] = int(np.array(m.optimizer.iterations))
    m2 = model_fn()
    m2.compile(keras.optimizers.SGD(0.1, momentum=0.9, nesterov=True, clipvalue=0.1), "mse")
    h = m2.fit(x, y, batch_size=16, epochs=5, shuffle=False, verbose=0, initial_epoch=2,
               sample_weight=np.linspace(0.1, 2, 64).astype("float32"),
               callbacks=[keras.callbacks.LearningRateScheduler(lambda e, lr: lr * 0.5)])
    out["h2"], out["h2_epochs"] = _history(h), list(h.epoch)
    m3 = model_fn()
    m3.compile(keras.optimizers.AdamW(0.05, weight_decay=0.1), "mse")
    h = m3.fit(x, y, batch_size=16, epochs=6, shuffle=False, verbose=0, callbacks=[
        keras.callbacks.EarlyStopping(monitor="loss", patience=1, restore_best_weights=True, min_delta=0.01)])
    out["h3"], out["w3"] = _history(h), m3.get_weights()
    return out


def multi_output_and_subclass(keras):
    rng = np.random.default_rng(0)
    x = rng.normal(size=(48, 4)).astype("float32")
    y1 = x.sum(1, keepdims=True).astype("float32")
    y2 = (x[:, :1] > 0).astype("int32")
    out = {}
    i = keras.Input((4,), name="inp")
    h = keras.layers.Dense(8, activation="tanh")(i)
    m = keras.Model(i, {"reg": keras.layers.Dense(1, name="reg")(h), "cls": keras.layers.Dense(2, name="cls")(h)})
    _init(m, 0.4)
    m.compile("rmsprop",
              loss={"reg": "mae", "cls": keras.losses.SparseCategoricalCrossentropy(from_logits=True)},
              loss_weights={"reg": 0.3, "cls": 2.0},
              metrics={"cls": ["accuracy"], "reg": [keras.metrics.RootMeanSquaredError()]})
    out["multi"] = _history(m.fit(x, {"reg": y1, "cls": y2}, batch_size=12, epochs=3, shuffle=False, verbose=0))
    out["multi_eval"] = [float(v) for v in m.evaluate(x, {"reg": y1, "cls": y2}, verbose=0)]
    out["metrics_names"] = list(m.metrics_names)

    class Net(keras.Model):
        def __init__(self):
            super().__init__()
            self.d1 = keras.layers.Dense(5, activation="relu")
            self.d2 = keras.layers.Dense(1)
            self.tracker = keras.metrics.Mean(name="my_loss")
            self.mae = keras.metrics.MeanAbsoluteError(name="mae")

        def call(self, x, training=False):
            h = self.d1(x)
            self.add_loss(0.01 * keras.ops.sum(keras.ops.square(h)))
            return self.d2(h)

        def compute_loss(self, x=None, y=None, y_pred=None, sample_weight=None, training=True):
            base = super().compute_loss(x, y, y_pred, sample_weight, training=training)
            return base + 0.5 * keras.ops.mean(keras.ops.abs(y_pred))

        @property
        def metrics(self):
            return [self.tracker, self.mae]

    net = Net()
    net(x[:1])
    _init(net, 0.4)
    net.compile(keras.optimizers.Adam(0.02), "mse")
    batch_logs = []

    class Record(keras.callbacks.Callback):
        def on_train_batch_end(self, batch, logs=None):
            batch_logs.append({k: float(v) for k, v in logs.items()})

    out["sub"] = _history(net.fit(x, y1, batch_size=16, epochs=2, shuffle=False, verbose=0, callbacks=[Record()]))
    out["batch_logs"], out["sub_w"] = batch_logs, net.get_weights()
    out["sub_losses"] = [float(v) for v in net.losses]
    return out


def ops_and_losses(keras):
    o, losses = keras.ops, keras.losses
    a = np.array([-7, -3, 0, 3, 7], dtype="int32")
    b = np.array([2, 2, 3, -2, -3], dtype="int32")
    f = np.array([-2.5, -1.5, -0.5, 0.5, 1.5, 2.5], dtype="float32")
    img = np.arange(16, dtype="float32").reshape(1, 4, 4, 1)
    values = {
        "div": o.divide(a, b), "floordiv": o.floor_divide(a, b), "mod": o.mod(a, b),
        "true_div_int": o.true_divide(a, 2), "mean_int": o.mean(a), "round": o.round(f),
        "cast": o.cast(f, "int32"), "argmax_tie": o.argmax(np.array([1, 3, 3, 2])),
        "sum_bool": o.sum(np.array([True, False, True])), "add_int_float": o.add(a, 1.5),
        "mul_int8_int16": o.multiply(np.ones(2, "int8"), np.ones(2, "int16")), "sqrt_int": o.sqrt(a[2:]),
        "clip": o.clip(a, -3, 4), "clip_float_bounds": o.clip(a, -3.5, 4), "std": o.std(f), "var": o.var(f),
        "power": o.power(a, 2), "logsumexp": o.logsumexp(f),
        "softmax": o.softmax(np.array([[1., 2.], [3., 5.]])), "linspace": o.linspace(0, 1, 5),
        "arange": o.arange(0, 5, 1), "arange_float": o.arange(0, 1, 0.25),
        "norm": o.norm(np.array([[3., 4.], [1., 1.]])), "top_k": o.top_k(np.array([1., 3., 3., 2.]), 2)[1],
        "resize": o.image.resize(img, (2, 2)), "resize_antialias": o.image.resize(img, (3, 3), antialias=True),
        "resize_up": o.image.resize(np.arange(4, dtype="float32").reshape(1, 2, 2, 1), (3, 3)),
        "resize_nearest": o.image.resize(img, (3, 3), interpolation="nearest"),
        "resize_bicubic": o.image.resize(img, (3, 3), interpolation="bicubic"),
        "cumsum_int": o.cumsum(a), "one_hot": o.one_hot(np.array([0, 2, -1]), 3),
        "bincount": o.bincount(np.array([0, 1, 1, 3])), "median": o.median(np.array([1., 4., 2., 3.])),
        "quantile": o.quantile(np.array([1., 4., 2., 3.]), 0.3),
        "nan_to_num": o.nan_to_num(np.array([np.nan, np.inf, -np.inf], "float32")),
        "segment_sum": o.segment_sum(np.array([1., 2., 3., 4.]), np.array([0, 0, 2, 2]), num_segments=3),
        "cce_smoothing": losses.CategoricalCrossentropy(label_smoothing=0.2)(np.array([[0., 1.]]), np.array([[0.3, 0.7]])),
        "bce_logits": losses.BinaryCrossentropy(from_logits=True, label_smoothing=0.1)(
            np.array([[1.], [0.]]), np.array([[2.], [-1.]])),
        "huber": losses.Huber(delta=0.5)(np.array([[1.], [0.]]), np.array([[2.], [-1.]])),
        "cosine": losses.CosineSimilarity()(np.array([[1., 0.]]), np.array([[1., 1.]])),
        "kld": losses.KLDivergence()(np.array([[0.2, 0.8]]), np.array([[0.5, 0.5]])),
        "poisson": losses.Poisson()(np.array([[1., 2.]]), np.array([[0.5, 2.5]])),
        "sparse_ignore_class": losses.SparseCategoricalCrossentropy(ignore_class=1)(
            np.array([0, 1, 2]), np.array([[.5, .3, .2], [.1, .8, .1], [.2, .2, .6]])),
        "focal": losses.BinaryFocalCrossentropy(apply_class_balancing=True, gamma=2.)(
            np.array([[1.], [0.]]), np.array([[0.7], [0.4]])),
        "tversky": losses.Tversky()(np.array([[1., 0.]]), np.array([[0.6, 0.3]])),
        "dice": losses.Dice()(np.array([[1., 0.]]), np.array([[0.6, 0.3]])),
        "ctc": losses.CTC()(np.array([[1, 2]]), np.log(np.full((1, 4, 4), 0.25, "float32"))),
    }
    out = {}
    for name, value in values.items():
        array = np.asarray(o.convert_to_numpy(value))
        out[name], out[name + "_dtype"] = array, str(array.dtype)
    return out


def data_and_metrics(keras):
    rng = np.random.default_rng(0)
    x = rng.normal(size=(40, 3)).astype("float32")
    y = np.eye(3, dtype="float32")[rng.integers(0, 3, 40)]
    m = keras.Sequential([keras.Input((3,)), keras.layers.Dense(4, activation="relu"),
                          keras.layers.Dense(3, activation="softmax")])
    _init(m, 0.4)
    m.compile(keras.optimizers.Nadam(0.05), "categorical_crossentropy", metrics=[
        keras.metrics.F1Score(average="macro", threshold=0.4), keras.metrics.TopKCategoricalAccuracy(k=2),
        keras.metrics.CategoricalAccuracy(), keras.metrics.R2Score(),
        keras.metrics.MeanIoU(num_classes=3, sparse_y_true=False, sparse_y_pred=False)])

    def batches():
        i = 0
        while True:
            start = (i * 8) % 40
            yield x[start:start + 8], y[start:start + 8], np.linspace(0.5, 1.5, 8).astype("float32")
            i += 1

    class Batches(keras.utils.PyDataset):
        def __len__(self):
            return 5

        def __getitem__(self, i):
            return x[i * 8:(i + 1) * 8], y[i * 8:(i + 1) * 8]

    out = {"h": _history(m.fit(batches(), steps_per_epoch=3, epochs=3, verbose=0,
                               validation_data=Batches(), validation_freq=2))}
    out["train_on_batch"] = [float(v) for v in m.train_on_batch(x[:8], y[:8])]
    out["test_on_batch"] = {k: float(v) for k, v in m.test_on_batch(x[:8], y[:8], return_dict=True).items()}
    m.reset_metrics()
    out["evaluate"] = {k: float(v) for k, v in m.evaluate(Batches(), verbose=0, return_dict=True).items()}
    out["predict"] = m.predict(Batches(), verbose=0)
    out["metric_names"] = [metric.name for metric in m.metrics]
    return out


def _assert_same(ours, theirs, path="out"):
    if isinstance(theirs, dict):
        assert sorted(ours) == sorted(theirs), path
        for key in theirs:
            _assert_same(ours[key], theirs[key], f"{path}[{key!r}]")
    elif isinstance(theirs, (str, bool)) or (isinstance(theirs, list) and theirs and isinstance(theirs[0], str)):
        assert ours == theirs, path
    elif isinstance(theirs, list) and theirs and isinstance(theirs[0], (dict, np.ndarray, list)):
        assert len(ours) == len(theirs), path
        for i, (a, b) in enumerate(zip(ours, theirs)):
            _assert_same(a, b, f"{path}[{i}]")
    else:
        np.testing.assert_allclose(np.asarray(ours, dtype="float64"), np.asarray(theirs, dtype="float64"),
                                   rtol=1e-4, atol=1e-6, err_msg=path)


@pytest.mark.parametrize(
    "program",
    [
        callbacks_and_optimizers,
        multi_output_and_subclass,
        ops_and_losses,
        data_and_metrics,
    ],
    ids=lambda p: p.__name__,
)
def test_program_gives_keras_numbers(keras, program):
    keras.utils.set_random_seed(0)
    theirs = program(keras)
    keraslike.utils.set_random_seed(0)
    ours = program(keraslike)
    _assert_same(ours, theirs)
