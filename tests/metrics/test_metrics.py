"""Metrics against Keras 3 (the oracle): results after two updates (unweighted, then weighted),
reset, configs, serialization, names and the compile-time resolution of "accuracy"."""

import warnings

import numpy as np
import pytest
import torch

import keraslike
import keraslike.losses as L
import keraslike.metrics as M

keras = pytest.importorskip("keras")

B, C = 8, 4


@pytest.fixture
def keras_names():
    """Fresh default names in Keras (`precision`, not `precision_3`); cheaper than clear_session."""
    from keras.src.utils.naming import reset_uids

    reset_uids()


def _batch(kind, seed):
    """Returns `(args, sample_weight)` for one `update_state` call of a metric of this kind."""
    rng = np.random.default_rng(seed)
    f32 = np.float32
    sw = rng.uniform(0.1, 2.0, size=(B,)).astype(f32)
    labels = rng.integers(0, C, size=(B,))
    probs = rng.dirichlet(np.ones(C), size=B).astype(f32)
    if kind == "values":
        return (rng.normal(size=(B, 3)).astype(f32),), sw
    if kind == "regression":
        return (rng.normal(size=(B, C)).astype(f32), rng.normal(size=(B, C)).astype(f32)), sw
    if kind == "positive":
        return (rng.uniform(0.2, 3, size=(B, C)).astype(f32),
                rng.uniform(0.2, 3, size=(B, C)).astype(f32)), sw
    if kind == "binary":  # multi-label 0/1 targets, probabilities
        return ((rng.random((B, C)) > 0.5).astype(f32), rng.random((B, C)).astype(f32)), sw
    if kind == "binary_col":  # one output column
        return ((rng.random((B, 1)) > 0.5).astype(f32), rng.random((B, 1)).astype(f32)), sw
    if kind == "binary_logits":
        return ((rng.random((B, C)) > 0.5).astype(f32), rng.normal(scale=2, size=(B, C)).astype(f32)), sw
    if kind == "exact":
        return (rng.integers(0, 3, size=(B, 2)).astype(f32), rng.integers(0, 3, size=(B, 2)).astype(f32)), sw
    if kind == "categorical":
        return (np.eye(C, dtype=f32)[labels], probs), sw
    if kind == "categorical_logits":
        return (np.eye(C, dtype=f32)[labels], rng.normal(scale=2, size=(B, C)).astype(f32)), sw
    if kind == "sparse":
        return (labels.astype(f32), probs), sw
    if kind == "sparse_col":
        return (labels[:, None].astype(np.int64), probs), sw
    if kind == "sparse_seq":  # (B, T) labels, (B, T, C) scores
        return (rng.integers(0, C, size=(B, 3)).astype(f32), rng.random((B, 3, C)).astype(f32)), sw
    if kind == "classes":  # class ids for IoU
        return (labels, rng.integers(0, C, size=(B,))), sw
    if kind == "onehot_scores":
        return (np.eye(C, dtype=f32)[labels], probs), sw
    raise ValueError(kind)


# (class name, constructor kwargs, data kind)
CASES = [
    ("Mean", {}, "values"),
    ("Sum", {}, "values"),
    ("Accuracy", {}, "exact"),
    ("BinaryAccuracy", {}, "binary"),
    ("BinaryAccuracy", {"threshold": 0.7}, "binary_col"),
    ("CategoricalAccuracy", {}, "categorical"),
    ("SparseCategoricalAccuracy", {}, "sparse"),
    ("SparseCategoricalAccuracy", {}, "sparse_col"),
    ("SparseCategoricalAccuracy", {}, "sparse_seq"),
    ("TopKCategoricalAccuracy", {"k": 2}, "categorical"),
    ("SparseTopKCategoricalAccuracy", {"k": 2}, "sparse"),
    ("SparseTopKCategoricalAccuracy", {"k": 3}, "sparse_col"),
    ("AUC", {}, "binary"),
    ("AUC", {"curve": "PR"}, "binary"),
    ("AUC", {"curve": "PR", "summation_method": "majoring"}, "binary"),
    ("AUC", {"summation_method": "minoring", "num_thresholds": 50}, "binary"),
    ("AUC", {"curve": "PRGAIN"}, "binary"),
    ("AUC", {"multi_label": True}, "binary"),
    ("AUC", {"multi_label": True, "num_labels": C, "curve": "PR"}, "binary"),
    ("AUC", {"from_logits": True}, "binary_logits"),
    ("AUC", {"thresholds": [0.1, 0.4, 0.5, 0.9]}, "binary"),
    ("AUC", {"label_weights": [0.1, 0.2, 0.3, 0.4]}, "binary"),
    ("Precision", {}, "binary"),
    ("Precision", {"thresholds": [0.3, 0.6]}, "binary"),
    ("Precision", {"thresholds": [0.0, 0.5, 1.0]}, "binary"),
    ("Precision", {"top_k": 2}, "binary"),
    ("Precision", {"class_id": 1}, "binary"),
    ("Recall", {}, "binary"),
    ("Recall", {"thresholds": [0.2, 0.8], "class_id": 2}, "binary"),
    ("Recall", {"top_k": 1}, "binary"),
    ("TruePositives", {}, "binary"),
    ("FalsePositives", {"thresholds": [0.25, 0.75]}, "binary"),
    ("TrueNegatives", {}, "binary"),
    ("FalseNegatives", {}, "binary"),
    ("SensitivityAtSpecificity", {"specificity": 0.5}, "binary"),
    ("SpecificityAtSensitivity", {"sensitivity": 0.5, "num_thresholds": 20}, "binary"),
    ("PrecisionAtRecall", {"recall": 0.6}, "binary"),
    ("RecallAtPrecision", {"precision": 0.4, "class_id": 0}, "binary"),
    ("F1Score", {}, "binary"),
    ("F1Score", {"average": "micro", "threshold": 0.5}, "binary"),
    ("F1Score", {"average": "macro"}, "categorical"),
    ("FBetaScore", {"beta": 2.0, "average": "weighted", "threshold": 0.4}, "binary"),
    ("MeanSquaredError", {}, "regression"),
    ("RootMeanSquaredError", {}, "regression"),
    ("MeanAbsoluteError", {}, "regression"),
    ("MeanAbsolutePercentageError", {}, "positive"),
    ("MeanSquaredLogarithmicError", {}, "positive"),
    ("CosineSimilarity", {}, "regression"),
    ("LogCoshError", {}, "regression"),
    ("R2Score", {}, "regression"),
    ("R2Score", {"class_aggregation": "variance_weighted_average"}, "regression"),
    ("R2Score", {"class_aggregation": None, "num_regressors": 2}, "regression"),
    ("PearsonCorrelation", {}, "regression"),
    ("ConcordanceCorrelation", {}, "regression"),
    ("Hinge", {}, "binary"),
    ("SquaredHinge", {}, "binary"),
    ("CategoricalHinge", {}, "categorical"),
    ("KLDivergence", {}, "onehot_scores"),
    ("Poisson", {}, "positive"),
    ("BinaryCrossentropy", {}, "binary"),
    ("BinaryCrossentropy", {"from_logits": True, "label_smoothing": 0.1}, "binary_logits"),
    ("CategoricalCrossentropy", {}, "categorical"),
    ("CategoricalCrossentropy", {"from_logits": True, "label_smoothing": 0.2}, "categorical_logits"),
    ("SparseCategoricalCrossentropy", {}, "sparse"),
    ("SparseCategoricalCrossentropy", {"from_logits": True, "ignore_class": 1}, "sparse"),
    ("MeanIoU", {"num_classes": C}, "classes"),
    ("MeanIoU", {"num_classes": C, "ignore_class": 0, "dtype": "float32"}, "classes"),
    ("IoU", {"num_classes": C, "target_class_ids": [0, 2]}, "classes"),
    ("BinaryIoU", {"threshold": 0.4}, "binary_col"),
    ("OneHotIoU", {"num_classes": C, "target_class_ids": [1, 3]}, "onehot_scores"),
    ("OneHotMeanIoU", {"num_classes": C}, "onehot_scores"),
]
IDS = [f"{c}-{'-'.join(f'{k}={v}' for k, v in kw.items()) or 'default'}-{d}" for c, kw, d in CASES]

INT_WEIGHTS = {"MeanIoU", "IoU", "BinaryIoU", "OneHotIoU", "OneHotMeanIoU"}


def to_numpy(x):
    if isinstance(x, torch.Tensor):
        return x.detach().cpu().numpy()
    return keras.ops.convert_to_numpy(x)


def assert_close(ours, theirs):
    np.testing.assert_allclose(to_numpy(ours), to_numpy(theirs), rtol=1e-5, atol=1e-6, equal_nan=True)


def _pair(name, kwargs):
    return getattr(M, name)(**kwargs), getattr(keras.metrics, name)(**kwargs)


@pytest.mark.parametrize("name,kwargs,kind", CASES, ids=IDS)
def test_metric_matches_keras(name, kwargs, kind):
    ours, theirs = _pair(name, kwargs)
    (args1, _), (args2, sw2) = _batch(kind, 0), _batch(kind, 1)
    if name in INT_WEIGHTS and kwargs.get("dtype") is None:
        sw2 = np.round(sw2 * 2).astype(np.int32)  # integer state: integer weights
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for metric in (ours, theirs):
            metric.update_state(*args1)
            metric.update_state(*args2, sample_weight=sw2)
        assert_close(ours.result(), theirs.result())
        ours.reset_state()
        theirs.reset_state()
        assert_close(ours.result(), theirs.result())
        args3, _ = _batch(kind, 2)
        assert_close(ours(*args3), theirs(*args3))


_ZERO_ONE_TARGETS = {"binary", "binary_col", "binary_logits", "categorical", "categorical_logits",
                     "onehot_scores"}
BOOL_CASES = [(c, kw, d) for c, kw, d in CASES if d in _ZERO_ONE_TARGETS]


@pytest.mark.parametrize("name,kwargs,kind", BOOL_CASES,
                         ids=[i for i, c in zip(IDS, CASES) if c[2] in _ZERO_ONE_TARGETS])
def test_bool_targets_match_keras(name, kwargs, kind):
    """Bool one-hot / multi-label targets (what `np.eye(n, dtype=bool)` gives) work in every metric
    and give Keras's numbers (Keras's `argmax` reads bool as 0/1)."""
    ours, theirs = _pair(name, kwargs)
    (y_true, y_pred), sw = _batch(kind, 3)
    y_true = y_true.astype(bool)
    if name in INT_WEIGHTS:
        sw = np.round(sw * 2).astype(np.int32)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for metric in (ours, theirs):
            metric.update_state(y_true, y_pred)
            metric.update_state(y_true, y_pred, sample_weight=sw)
    assert_close(ours.result(), theirs.result())


@pytest.mark.parametrize("name,kwargs,kind", CASES, ids=IDS)
def test_config_and_serialization_match_keras(name, kwargs, kind, keras_names):
    ours, theirs = _pair(name, kwargs)
    assert ours.name == theirs.name
    assert ours.get_config() == theirs.get_config() or "label_weights" in kwargs
    if "label_weights" in kwargs:  # Keras keeps a tensor there; we keep the list
        assert ours.get_config()["label_weights"] == kwargs["label_weights"]
        return
    assert M.serialize(ours) == keras.metrics.serialize(theirs)
    assert M.deserialize(keras.metrics.serialize(theirs)).get_config() == theirs.get_config()
    assert keras.metrics.deserialize(M.serialize(ours)).get_config() == ours.get_config()
    assert type(ours).from_config(ours.get_config()).get_config() == ours.get_config()


@pytest.mark.parametrize("weights", [None, "batch"])
def test_mean_metric_wrapper_of_a_function(weights):
    ours = M.MeanMetricWrapper(L.mean_squared_error, name="w")
    theirs = keras.metrics.MeanMetricWrapper(keras.losses.mean_squared_error, name="w")
    (y_true, y_pred), sw = _batch("regression", 4)
    sw = sw if weights else None
    for metric in (ours, theirs):
        metric.update_state(y_true, y_pred, sample_weight=sw)
        metric.update_state(y_pred, y_true)
    assert_close(ours.result(), theirs.result())
    assert M.serialize(ours) == keras.metrics.serialize(theirs)
    clone = M.deserialize(M.serialize(ours))
    assert clone._fn is L.mean_squared_error


def test_mask_on_predictions_matches_keras():
    from keras.src import backend as keras_backend

    rng = np.random.default_rng(3)
    y_true = rng.integers(0, C, size=(B, 5)).astype(np.float32)
    y_pred = rng.random((B, 5, C)).astype(np.float32)
    mask = torch.as_tensor(rng.random((B, 5)) > 0.3)
    keras_pred = torch.as_tensor(y_pred)
    keras_backend.set_keras_mask(keras_pred, mask)
    theirs = keras.metrics.SparseCategoricalAccuracy()
    theirs.update_state(y_true, keras_pred)
    ours = M.SparseCategoricalAccuracy()
    ours.update_state(y_true, y_pred, mask=mask)
    assert_close(ours.result(), theirs.result())
    ours.reset_state()
    ours.update_state(y_true, keras_pred)  # the `_keras_mask` attribute works too
    assert_close(ours.result(), theirs.result())


# ---- names and resolution ------------------------------------------------------------------------

KERAS_ABSTRACT = {"Metric", "metric"}


def test_every_keras_name_resolves_to_the_same_class():
    from keras.src import metrics as keras_metrics

    assert set(keras_metrics.ALL_OBJECTS_DICT) == set(M.ALL_OBJECTS_DICT)
    for key, cls in keras_metrics.ALL_OBJECTS_DICT.items():
        assert M.ALL_OBJECTS_DICT[key].__name__ == cls.__name__, key


@pytest.mark.parametrize("identifier", ["accuracy", "auc", "precision", "recall", "mse", "MAE", "mape",
                                        "msle", "bce", "binary_accuracy", "sparse_top_k_categorical_accuracy",
                                        "f1_score", "r2_score", "root_mean_squared_error", "log_cosh_error",
                                        "AUC", "Precision"])
def test_get_strings_like_keras(identifier, keras_names):
    ours, theirs = M.get(identifier), keras.metrics.get(identifier)
    assert type(ours).__name__ == type(theirs).__name__
    assert ours.name == theirs.name


@pytest.mark.parametrize("identifier", ["acc", "foo", "categorical_crossentropyy"])
def test_unknown_names_are_value_errors_naming_the_identifier(identifier):
    with pytest.raises(ValueError, match=identifier):
        M.get(identifier)


def test_get_other_identifiers():
    assert M.get(None) is None
    assert isinstance(M.get(M.AUC), M.AUC)
    metric = M.Mean()
    assert M.get(metric) is metric
    assert M.get(M.binary_accuracy) is M.binary_accuracy
    assert isinstance(M.get({"class_name": "BinaryAccuracy", "config": {"threshold": 0.3}}), M.BinaryAccuracy)


SHAPES = [
    ((B, 1), (B, 1)),  # binary
    ((B,), (B, 1)),
    ((B,), (B, C)),  # sparse
    ((B, 1), (B, C)),
    ((B, 5), (B, 5, C)),
    ((B, C), (B, C)),  # categorical
    ((B, 5, C), (B, 5, C)),
]


@pytest.mark.parametrize("identifier", ["accuracy", "acc", "Accuracy", "ACC"])
@pytest.mark.parametrize("y_true_shape,y_pred_shape", SHAPES)
def test_resolve_accuracy_matches_keras_get_metric(identifier, y_true_shape, y_pred_shape):
    from keras.src.trainers.compile_utils import get_metric

    theirs = get_metric(identifier, torch.zeros(y_true_shape), torch.zeros(y_pred_shape))
    for ours in (M.resolve_accuracy(identifier, y_true_shape, y_pred_shape),
                 M.resolve(identifier, torch.zeros(y_true_shape), torch.zeros(y_pred_shape))):
        assert type(ours).__name__ == type(theirs).__name__
        assert ours.name == theirs.name == identifier


@pytest.mark.parametrize("loss,expected", [
    ("binary_crossentropy", "BinaryAccuracy"), (L.BinaryCrossentropy(), "BinaryAccuracy"),
    ("sparse_categorical_crossentropy", "SparseCategoricalAccuracy"),
    (L.SparseCategoricalCrossentropy(), "SparseCategoricalAccuracy"),
    ("categorical_crossentropy", "CategoricalAccuracy"), ("mse", "CategoricalAccuracy"),
])
def test_resolve_accuracy_from_the_loss_when_targets_are_unknown(loss, expected):
    assert type(M.resolve_accuracy("acc", None, (B, C), loss=loss)).__name__ == expected


def test_resolve_names_like_keras(keras_names):
    from keras.src.trainers.compile_utils import get_metric

    y_true, y_pred = torch.zeros(B, 1), torch.zeros(B, 1)
    for ours_id, keras_id in [("mse", "mse"), ("auc", "auc"), (M.binary_accuracy, keras.metrics.binary_accuracy),
                              (L.mean_absolute_error, keras.losses.mean_absolute_error)]:
        ours, theirs = M.resolve(ours_id, y_true, y_pred), get_metric(keras_id, y_true, y_pred)
        assert ours.name == theirs.name
        assert type(ours).__name__ == type(theirs).__name__
    metric = M.Precision(name="p")
    assert M.resolve(metric, y_true, y_pred) is metric and metric.name == "p"


# ---- state, devices, compile, host syncs ----------------------------------------------------------

def test_state_is_module_buffers():
    metric = M.AUC(num_thresholds=10)
    assert [v.shape for v in metric.variables] == [(10,)] * 4
    assert set(metric.state_dict()) == {"true_positives", "false_positives", "true_negatives", "false_negatives"}
    metric.to(torch.float64)
    assert all(v.dtype == torch.float64 for v in metric.variables)


def test_reset_keeps_the_same_tensors():
    metric = M.Mean()
    before = [v.data_ptr() for v in metric.variables]
    metric.update_state([1.0, 2.0])
    metric.reset_state()
    assert [v.data_ptr() for v in metric.variables] == before
    assert float(metric.count) == 0.0


@pytest.fixture
def no_host_sync(monkeypatch):
    """Makes every way of reading a tensor value on the host raise."""

    def refuse(*args, **kwargs):
        raise AssertionError("host sync: a tensor value was read on the host")

    for attr in ("item", "tolist", "numpy", "__bool__", "__float__", "__int__"):
        monkeypatch.setattr(torch.Tensor, attr, refuse)
    yield


@pytest.mark.parametrize("name,kwargs,kind", CASES, ids=IDS)
def test_update_result_reset_do_not_sync(name, kwargs, kind, no_host_sync):
    (args1, _), (args2, sw) = _batch(kind, 0), _batch(kind, 1)
    args1 = [torch.as_tensor(a) for a in args1]
    args2 = [torch.as_tensor(a) for a in args2]
    sw = torch.as_tensor(np.round(sw * 2).astype(np.int32) if name in INT_WEIGHTS else sw)
    metric = getattr(M, name)(**kwargs)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        metric.update_state(*args1)
        metric.update_state(*args2, sample_weight=sw)
    metric.result()
    metric.reset_state()


def test_losses_do_not_sync(no_host_sync):
    rng = np.random.default_rng(0)
    labels = torch.as_tensor(rng.integers(0, C, size=(B, 5)))
    logits = torch.as_tensor(rng.normal(size=(B, 5, C)).astype(np.float32))
    mask = torch.as_tensor(rng.random((B, 5)) > 0.5)
    sw = torch.as_tensor(rng.random((B,)).astype(np.float32))
    L.SparseCategoricalCrossentropy(from_logits=True, ignore_class=0)(labels, logits, sample_weight=sw[:, None],
                                                                      mask=mask)
    y = torch.as_tensor((rng.random((B, C)) > 0.5).astype(np.float32))
    for loss in (L.BinaryCrossentropy(), L.Hinge(), L.SquaredHinge(), L.MeanSquaredError(),
                 L.CategoricalCrossentropy(label_smoothing=0.1), L.Huber(), L.KLDivergence(),
                 L.MeanSquaredError(reduction="mean_with_sample_weight")):
        loss(y, torch.sigmoid(logits[:, 0]), sample_weight=sw)


def test_loss_and_metric_step_compiles_without_graph_breaks():
    torch._dynamo.reset()
    loss_fn = L.SparseCategoricalCrossentropy(from_logits=True)
    metrics = [M.SparseCategoricalAccuracy(), M.Mean(name="loss"), M.AUC(num_thresholds=20)]

    def step(labels, logits, sw):
        loss = loss_fn(labels, logits, sample_weight=sw)
        metrics[0].update_state(labels, logits, sample_weight=sw)
        metrics[1].update_state(loss)
        metrics[2].update_state(torch.nn.functional.one_hot(labels, C), torch.softmax(logits, -1))
        return loss

    compiled = torch.compile(step, fullgraph=True, backend="aot_eager")
    rng = np.random.default_rng(0)
    labels = torch.as_tensor(rng.integers(0, C, size=(B,)))
    logits = torch.as_tensor(rng.normal(size=(B, C)).astype(np.float32))
    sw = torch.as_tensor(rng.random((B,)).astype(np.float32))
    eager_loss = step(labels, logits, sw)
    eager_results = [m.result().clone() for m in metrics]
    for m in metrics:
        m.reset_state()
    torch.testing.assert_close(compiled(labels, logits, sw), eager_loss)
    for m, expected in zip(metrics, eager_results):
        torch.testing.assert_close(m.result(), expected)


@pytest.mark.cuda
def test_metrics_and_losses_on_cuda():
    (y_true, y_pred), sw = _batch("binary", 0)
    follower = M.Mean()  # state on the CPU, CUDA inputs: the state moves to the GPU
    follower.update_state(torch.ones(3, device="cuda"))
    follower.update_state(np.array([4.0]))
    assert follower.total.device.type == "cuda" and float(follower.result()) == 1.75
    metric = M.AUC().to("cuda")
    metric.update_state(torch.as_tensor(y_true, device="cuda"), torch.as_tensor(y_pred, device="cuda"))
    metric.update_state(y_true, y_pred, sample_weight=sw)  # numpy joins the state on the GPU
    assert metric.result().device.type == "cuda"
    cpu = M.AUC()
    cpu.update_state(y_true, y_pred)
    cpu.update_state(y_true, y_pred, sample_weight=sw)
    torch.testing.assert_close(metric.result().cpu(), cpu.result())
    lazy = M.F1Score()  # state created on the first update, on the inputs' device
    lazy.update_state(torch.as_tensor(y_true, device="cuda"), torch.as_tensor(y_pred, device="cuda"))
    assert all(v.device.type == "cuda" for v in lazy.variables)
    loss = L.BinaryCrossentropy()(torch.as_tensor(y_true, device="cuda"), torch.as_tensor(y_pred, device="cuda"),
                                  sample_weight=sw)
    assert loss.device.type == "cuda"
    # Made before the check: copying host memory to the GPU is itself a synchronizing call, and
    # the first update makes the thresholds' constant on the GPU once (per dtype and device).
    m = M.Precision(thresholds=[0.3, 0.6]).to("cuda")
    targets, predictions = torch.as_tensor(y_true, device="cuda"), torch.as_tensor(y_pred, device="cuda")
    m.update_state(targets, predictions)
    torch.cuda.synchronize()
    with torch.cuda.device(0):
        torch.cuda.set_sync_debug_mode("error")
        try:
            m.update_state(targets, predictions)
            result = m.result()
        finally:
            torch.cuda.set_sync_debug_mode("default")
    assert result.device.type == "cuda"


COMPILE_CASES = [
    ("Precision", {"top_k": 2}, "binary"),
    ("F1Score", {"average": "weighted"}, "binary"),
    ("MeanIoU", {"num_classes": C, "ignore_class": 0, "dtype": "float32"}, "classes"),
    ("R2Score", {"num_regressors": 1}, "regression"),
    ("SparseCategoricalCrossentropy", {"ignore_class": 1}, "sparse"),
]


@pytest.mark.parametrize("name,kwargs,kind", COMPILE_CASES, ids=[c[0] for c in COMPILE_CASES])
def test_metric_update_compiles_without_graph_breaks(name, kwargs, kind):
    torch._dynamo.reset()
    (args1, _), (args2, sw) = _batch(kind, 0), _batch(kind, 1)
    args1, args2 = [torch.as_tensor(a) for a in args1], [torch.as_tensor(a) for a in args2]
    sw = torch.as_tensor(sw)
    eager, compiled_metric = getattr(M, name)(**kwargs), getattr(M, name)(**kwargs)
    for metric in (eager, compiled_metric):
        metric.update_state(*args1)  # lazily built state is created outside the compiled step

    def step(*args, sample_weight=None):
        compiled_metric.update_state(*args, sample_weight=sample_weight)
        return compiled_metric.result()

    eager.update_state(*args2, sample_weight=sw)
    out = torch.compile(step, fullgraph=True, backend="aot_eager")(*args2, sample_weight=sw)
    torch.testing.assert_close(out, eager.result())


def test_mean_as_a_batch_size_weighted_loss_tracker():
    tracker = M.Mean(name="loss")
    tracker.update_state(torch.tensor(2.0), sample_weight=32)
    tracker.update_state(torch.tensor(5.0), sample_weight=8)  # a short last batch counts less
    torch.testing.assert_close(tracker.result(), torch.tensor((2.0 * 32 + 5.0 * 8) / 40))


def test_call_updates_then_returns_the_result():
    metric = M.BinaryAccuracy()
    assert float(metric([1.0, 0.0], [0.9, 0.8])) == 0.5
    assert float(metric([1.0, 1.0], [0.9, 0.8])) == 0.75
    assert repr(metric) == "<BinaryAccuracy name=binary_accuracy>"


def test_default_names_are_unique_per_session_like_keras(keras_names):
    ours = [M.Precision().name for _ in range(3)] + [M.MeanIoU(2).name]
    theirs = [keras.metrics.Precision().name for _ in range(3)] + [keras.metrics.MeanIoU(2).name]
    assert ours == theirs == ["precision", "precision_1", "precision_2", "mean_io_u"]


def test_custom_metric_in_the_keras_style():
    class CountPositives(M.Metric):
        def __init__(self, name="count_positives", **kwargs):
            super().__init__(name=name, **kwargs)
            self.positives = self.add_variable(shape=(), initializer="zeros", name="tp")

        def update_state(self, y_true, y_pred, sample_weight=None):
            (y_pred,) = self._inputs(y_pred)
            self.positives.add_((y_pred > 0.5).sum())

        def result(self):
            return self.positives.clone()

    metric = CountPositives()
    metric.to(torch.float64)  # the attribute follows the buffer that `.to()` replaces
    assert metric.positives.dtype == torch.float64 and metric.variables[0] is metric.positives
    metric.update_state(None, torch.tensor([0.2, 0.7, 0.9]))
    assert float(metric.result()) == 2.0
    metric.reset_state()
    assert float(metric.result()) == 0.0


def _true_positives_class(lib):
    """keras-io's training guide's custom metric, written against `lib`."""
    ops = lib.ops

    class CategoricalTruePositives(lib.metrics.Metric):
        def __init__(self, name="categorical_true_positives", **kwargs):
            super().__init__(name=name, **kwargs)
            self.true_positives = self.add_variable(shape=(), name="ctp", initializer="zeros")

        def update_state(self, y_true, y_pred, sample_weight=None):
            y_pred = ops.reshape(ops.argmax(y_pred, axis=1), (-1, 1))
            values = ops.cast(ops.cast(y_true, "int32") == ops.cast(y_pred, "int32"), "float32")
            if sample_weight is not None:
                values = ops.multiply(values, ops.cast(sample_weight, "float32"))
            self.true_positives.assign_add(ops.sum(values))

        def result(self):
            return self.true_positives.value

        def reset_state(self):
            self.true_positives.assign(0.0)

    return CategoricalTruePositives


def test_metric_state_has_the_variable_api_custom_metrics_use():
    rng = np.random.default_rng(3)
    y_true = rng.integers(0, 4, size=(12, 1))
    y_pred = rng.random((12, 4)).astype("float32")
    weights = rng.random((12, 1)).astype("float32")
    ours, theirs = _true_positives_class(keraslike)(), _true_positives_class(keras)()
    for metric in (ours, theirs):
        metric.update_state(y_true, y_pred)
        metric.update_state(y_true, y_pred, sample_weight=weights)
    np.testing.assert_allclose(float(ours.result()), float(theirs.result()), rtol=1e-6)
    assert float(ours.result()) > 0
    ours.reset_state()
    assert float(ours.result()) == 0.0
    assert ours.true_positives.name == "ctp" and ours.variables[0] is ours.true_positives
    ours.to(torch.float64)  # a move replaces the buffer: it keeps the Variable API
    ours.true_positives.assign_add(2.0)
    assert ours.true_positives.dtype == torch.float64 and float(ours.true_positives.numpy()) == 2.0
