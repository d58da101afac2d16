"""Losses against Keras 3 (the oracle): values, reductions, weights, masks, configs, names."""

import inspect
import warnings

import numpy as np
import pytest
import torch

import keraslike.losses as L

keras = pytest.importorskip("keras")
from keras.src import backend as keras_backend  # noqa: E402

B, C = 6, 4  # batch, classes/features


def _data(kind, seed=0, shape=(B, C)):
    """Returns `(y_true, y_pred)` float32 numpy arrays of the kind a loss expects."""
    rng = np.random.default_rng(seed)
    f32 = np.float32
    if kind == "regression":
        return rng.normal(size=shape).astype(f32), rng.normal(size=shape).astype(f32)
    if kind == "positive":  # MAPE, MSLE, Poisson
        return rng.uniform(0.2, 3.0, size=shape).astype(f32), rng.uniform(0.2, 3.0, size=shape).astype(f32)
    if kind == "binary":
        return (rng.random(shape) > 0.5).astype(f32), rng.uniform(0.0, 1.0, size=shape).astype(f32)
    if kind == "binary_logits":
        return (rng.random(shape) > 0.5).astype(f32), rng.normal(scale=3.0, size=shape).astype(f32)
    if kind == "signed":  # hinge with -1/1 labels
        return np.where(rng.random(shape) > 0.5, 1.0, -1.0).astype(f32), rng.normal(size=shape).astype(f32)
    labels = rng.integers(0, shape[-1], size=shape[:-1])
    one_hot = np.eye(shape[-1], dtype=f32)[labels]
    logits = rng.normal(scale=2.0, size=shape).astype(f32)
    probs = (np.exp(logits) / np.exp(logits).sum(-1, keepdims=True)).astype(f32)
    if kind == "probs":  # KLD: two distributions
        return probs[::-1].copy(), probs
    if kind == "categorical":
        return one_hot, probs
    if kind == "categorical_logits":
        return one_hot, logits
    if kind == "sparse":
        return labels.astype(np.int64), probs
    if kind == "sparse_logits":
        return labels.astype(np.int64), logits
    raise ValueError(kind)


# (class name, constructor kwargs, data kind, function name)
CASES = [
    ("MeanSquaredError", {}, "regression", "mean_squared_error"),
    ("MeanAbsoluteError", {}, "regression", "mean_absolute_error"),
    ("MeanAbsolutePercentageError", {}, "positive", "mean_absolute_percentage_error"),
    ("MeanSquaredLogarithmicError", {}, "positive", "mean_squared_logarithmic_error"),
    ("CosineSimilarity", {}, "regression", "cosine_similarity"),
    ("CosineSimilarity", {"axis": 0}, "regression", "cosine_similarity"),
    ("Huber", {}, "regression", "huber"),
    ("Huber", {"delta": 0.5}, "regression", "huber"),
    ("LogCosh", {}, "regression", "log_cosh"),
    ("KLDivergence", {}, "probs", "kl_divergence"),
    ("Poisson", {}, "positive", "poisson"),
    ("Hinge", {}, "binary", "hinge"),
    ("Hinge", {}, "signed", "hinge"),
    ("SquaredHinge", {}, "binary", "squared_hinge"),
    ("SquaredHinge", {}, "signed", "squared_hinge"),
    ("CategoricalHinge", {}, "categorical", "categorical_hinge"),
    ("BinaryCrossentropy", {}, "binary", "binary_crossentropy"),
    ("BinaryCrossentropy", {"from_logits": True}, "binary_logits", "binary_crossentropy"),
    ("BinaryCrossentropy", {"label_smoothing": 0.2}, "binary", "binary_crossentropy"),
    ("BinaryCrossentropy", {"from_logits": True, "label_smoothing": 0.1, "axis": 0}, "binary_logits",
     "binary_crossentropy"),
    ("BinaryFocalCrossentropy", {}, "binary", "binary_focal_crossentropy"),
    ("BinaryFocalCrossentropy", {"apply_class_balancing": True, "alpha": 0.3, "gamma": 1.5,
                                 "from_logits": True, "label_smoothing": 0.1}, "binary_logits",
     "binary_focal_crossentropy"),
    ("CategoricalCrossentropy", {}, "categorical", "categorical_crossentropy"),
    ("CategoricalCrossentropy", {"from_logits": True}, "categorical_logits", "categorical_crossentropy"),
    ("CategoricalCrossentropy", {"label_smoothing": 0.1}, "categorical", "categorical_crossentropy"),
    ("CategoricalCrossentropy", {"from_logits": True, "label_smoothing": 0.3, "axis": 0},
     "categorical_logits", "categorical_crossentropy"),
    ("CategoricalFocalCrossentropy", {}, "categorical", "categorical_focal_crossentropy"),
    ("CategoricalFocalCrossentropy", {"alpha": 0.5, "gamma": 3.0, "from_logits": True,
                                      "label_smoothing": 0.1}, "categorical_logits",
     "categorical_focal_crossentropy"),
    ("SparseCategoricalCrossentropy", {}, "sparse", "sparse_categorical_crossentropy"),
    ("SparseCategoricalCrossentropy", {"from_logits": True}, "sparse_logits", "sparse_categorical_crossentropy"),
    ("SparseCategoricalCrossentropy", {"ignore_class": 1}, "sparse", "sparse_categorical_crossentropy"),
    ("SparseCategoricalCrossentropy", {"from_logits": True, "ignore_class": 0}, "sparse_logits",
     "sparse_categorical_crossentropy"),
]
IDS = [f"{c}-{'-'.join(f'{k}={v}' for k, v in kw.items()) or 'default'}-{d}" for c, kw, d, _ in CASES]

REDUCTIONS = ["sum_over_batch_size", "sum", "none", "mean", "mean_with_sample_weight"]


def to_numpy(x):
    return keras.ops.convert_to_numpy(x) if not isinstance(x, torch.Tensor) else x.detach().cpu().numpy()


def assert_close(ours, theirs):
    np.testing.assert_allclose(to_numpy(ours), to_numpy(theirs), rtol=1e-5, atol=1e-6)


def _sample_weight(kind, seed=1):
    rng = np.random.default_rng(seed)
    return {None: None, "batch": rng.uniform(0, 2, size=(B,)).astype(np.float32),
            "batch1": rng.uniform(0, 2, size=(B, 1)).astype(np.float32)}[kind]


def _pair(name, kwargs, **extra):
    kw = {**kwargs, **extra}
    return getattr(L, name)(**kw), getattr(keras.losses, name)(**kw)


# Every case with every reduction and sample-weight shape; `axis=0` reduces over the batch, so
# per-sample weights do not apply there.
CALLS = [pytest.param(case, reduction, weights, id=f"{case_id}-{reduction}-{weights}")
         for case, case_id in zip(CASES, IDS) for reduction in REDUCTIONS
         for weights in (None, "batch", "batch1") if weights is None or case[1].get("axis") != 0]


@pytest.mark.parametrize("case,reduction,weights", CALLS)
def test_loss_matches_keras(case, reduction, weights):
    name, kwargs, kind, _ = case
    y_true, y_pred = _data(kind)
    sw = _sample_weight(weights)
    ours, theirs = _pair(name, kwargs, reduction=reduction)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        assert_close(ours(y_true, y_pred, sample_weight=sw), theirs(y_true, y_pred, sample_weight=sw))


@pytest.mark.parametrize("name,kwargs,kind,fn", CASES, ids=IDS)
def test_function_matches_keras(name, kwargs, kind, fn):
    y_true, y_pred = _data(kind, seed=3)
    ours, theirs = getattr(L, fn), getattr(keras.losses, fn)
    # Keras's functions take torch tensors (their label handling differs on numpy ints).
    t_true, t_pred = torch.as_tensor(y_true), torch.as_tensor(y_pred)
    assert_close(ours(t_true, t_pred, **kwargs), theirs(t_true, t_pred, **kwargs))


@pytest.mark.parametrize("name,kwargs,kind,fn", CASES, ids=IDS)
def test_config_and_serialization_match_keras(name, kwargs, kind, fn):
    ours, theirs = _pair(name, kwargs)
    assert ours.get_config() == theirs.get_config()
    assert L.serialize(ours) == keras.losses.serialize(theirs)
    # Round trips, both ways: our config rebuilt by Keras and Keras's by us.
    assert L.deserialize(keras.losses.serialize(theirs)).get_config() == theirs.get_config()
    assert keras.losses.deserialize(L.serialize(ours)).get_config() == ours.get_config()
    assert type(L.get(L.serialize(ours))) is type(ours)
    clone = type(ours).from_config(ours.get_config())
    assert clone.get_config() == ours.get_config()


@pytest.mark.parametrize("reduction", ["sum_over_batch_size", "sum", "none", "mean"])
@pytest.mark.parametrize("weights", [None, "batch"])
def test_mask_matches_keras_masked_averaging(reduction, weights):
    rng = np.random.default_rng(5)
    y_true = rng.normal(size=(B, 5, 3)).astype(np.float32)
    y_pred = rng.normal(size=(B, 5, 3)).astype(np.float32)
    mask = torch.as_tensor(rng.random((B, 5)) > 0.4)
    sw = None if weights is None else rng.uniform(0, 2, size=(B, 5)).astype(np.float32)
    keras_pred = torch.as_tensor(y_pred)
    keras_backend.set_keras_mask(keras_pred, mask)
    expected = keras.losses.MeanSquaredError(reduction=reduction)(y_true, keras_pred, sample_weight=sw)
    ours = L.MeanSquaredError(reduction=reduction)
    assert_close(ours(y_true, y_pred, sample_weight=sw, mask=mask), expected)
    # The Keras way of passing a mask, an attribute on y_pred, works too.
    assert_close(ours(y_true, keras_pred, sample_weight=sw), expected)


def test_mask_combines_with_ignore_class():
    rng = np.random.default_rng(6)
    labels = rng.integers(0, 4, size=(B, 5))
    logits = rng.normal(size=(B, 5, 4)).astype(np.float32)
    mask = torch.as_tensor(rng.random((B, 5)) > 0.3)
    keras_pred = torch.as_tensor(logits)
    keras_backend.set_keras_mask(keras_pred, mask)
    expected = keras.losses.SparseCategoricalCrossentropy(from_logits=True, ignore_class=2)(
        torch.as_tensor(labels), keras_pred)
    ours = L.SparseCategoricalCrossentropy(from_logits=True, ignore_class=2)
    assert_close(ours(torch.as_tensor(labels), logits, mask=mask), expected)


@pytest.mark.parametrize("label_dtype", [np.int32, np.int64, np.float32, np.float64])
@pytest.mark.parametrize("trailing_axis", [False, True])
def test_sparse_labels_of_any_dtype_and_shape(label_dtype, trailing_axis):
    y_true, y_pred = _data("sparse_logits", seed=7)
    y_true = y_true.astype(label_dtype)
    if trailing_axis:
        y_true = y_true[:, None]
    expected = keras.losses.SparseCategoricalCrossentropy(from_logits=True)(y_true, y_pred)
    assert_close(L.SparseCategoricalCrossentropy(from_logits=True)(y_true, y_pred), expected)
    assert_close(L.SparseCategoricalCrossentropy(from_logits=True)(torch.as_tensor(y_true), y_pred), expected)


def test_sequence_outputs_with_class_axis():
    rng = np.random.default_rng(8)
    labels = rng.integers(0, 3, size=(B, 4, 5))
    logits = rng.normal(size=(B, 3, 4, 5)).astype(np.float32)  # classes on axis 1
    expected = keras.losses.SparseCategoricalCrossentropy(from_logits=True, axis=1)(labels, logits)
    assert_close(L.SparseCategoricalCrossentropy(from_logits=True, axis=1)(labels, logits), expected)


def test_binary_shapes_expand_like_keras():
    y_true, y_pred = _data("binary", seed=9, shape=(B, 1))
    flat_true = y_true[:, 0]
    expected = keras.losses.BinaryCrossentropy()(flat_true, y_pred)
    assert_close(L.BinaryCrossentropy()(flat_true, y_pred), expected)


def test_gradients_flow_and_stay_finite():
    y_true, y_pred = _data("sparse", seed=10)
    pred = torch.tensor(y_pred, requires_grad=True)
    loss = L.SparseCategoricalCrossentropy(ignore_class=1)(y_true, pred)
    loss.backward()
    assert torch.isfinite(pred.grad).all()


def test_torch_dtype_inputs_and_dtype_argument():
    y_true, y_pred = _data("regression", seed=11)
    loss = L.MeanSquaredError(dtype="float64")
    out = loss(torch.as_tensor(y_true), torch.as_tensor(y_pred))
    assert out.dtype == torch.float64 and loss.dtype == "float64"
    assert out.shape == ()


# ---- names, get, serialize -------------------------------------------------------------------

KERAS_ONLY = {"CTC", "Circle", "Dice", "Tversky", "ctc", "circle", "dice", "tversky"}


def test_every_keras_name_resolves_to_the_same_object():
    from keras.src import losses as keras_losses

    for key, keras_obj in keras_losses.ALL_OBJECTS_DICT.items():
        if key in KERAS_ONLY:
            continue
        ours = L.ALL_OBJECTS_DICT[key]
        assert ours.__name__ == keras_obj.__name__, key
        assert inspect.isclass(ours) == inspect.isclass(keras_obj), key


@pytest.mark.parametrize("identifier,expected", [
    ("mse", L.mean_squared_error), ("MSE", L.mean_squared_error), ("mae", L.mean_absolute_error),
    ("mape", L.mean_absolute_percentage_error), ("msle", L.mean_squared_logarithmic_error),
    ("kld", L.kl_divergence), ("kl_divergence", L.kl_divergence), ("bce", L.binary_crossentropy),
    ("logcosh", L.log_cosh), ("log_cosh", L.log_cosh), ("huber", L.huber),
    ("categorical_crossentropy", L.categorical_crossentropy),
])
def test_get_function_names(identifier, expected):
    assert L.get(identifier) is expected


def test_get_classes_instances_dicts_callables():
    assert isinstance(L.get("CategoricalCrossentropy"), L.CategoricalCrossentropy)
    assert isinstance(L.get(L.Huber), L.Huber)
    loss = L.Poisson()
    assert L.get(loss) is loss
    fn = lambda y_true, y_pred: (y_true - y_pred).abs()  # noqa: E731
    assert L.get(fn) is fn
    obj = L.get({"class_name": "CategoricalCrossentropy", "config": {"from_logits": True}})
    assert isinstance(obj, L.CategoricalCrossentropy) and obj.from_logits
    assert L.get(None) is None


@pytest.mark.parametrize("identifier", ["foo", "accuracy", "MeanSquaredErrorr"])
def test_unknown_names_are_value_errors_naming_the_identifier(identifier):
    with pytest.raises(ValueError, match=identifier):
        L.get(identifier)


def test_function_serialization_matches_keras():
    assert L.serialize(L.mean_squared_error) == keras.losses.serialize(keras.losses.mean_squared_error)
    assert L.deserialize(L.serialize(L.huber)) is L.huber
    assert L.deserialize("mse") is L.mean_squared_error


def test_loss_function_wrapper_config_matches_keras():
    from keras.src.losses import LossFunctionWrapper

    ours = L.LossFunctionWrapper(L.huber, name="w", delta=2.0)
    theirs = LossFunctionWrapper(keras.losses.huber, name="w", delta=2.0)
    assert L.serialize(ours) == keras.losses.serialize(theirs)
    clone = L.deserialize(L.serialize(ours))
    y_true, y_pred = _data("regression")
    assert_close(clone(y_true, y_pred), theirs(y_true, y_pred))
    assert keras.losses.deserialize(L.serialize(ours)).get_config() == theirs.get_config()


def test_custom_registered_loss_round_trips():
    from keraslike.backend.serialization import register_keras_serializable

    @register_keras_serializable(package="test_pkg")
    class ScaledMSE(L.Loss):
        def __init__(self, scale=2.0, **kwargs):
            super().__init__(**kwargs)
            self.scale = scale

        def call(self, y_true, y_pred):
            return self.scale * torch.mean(torch.square(y_true - y_pred), dim=-1)

        def get_config(self):
            return {**super().get_config(), "scale": self.scale}

    config = L.serialize(ScaledMSE(scale=3.0, name="s"))
    assert config["registered_name"] == "test_pkg>ScaledMSE"
    clone = L.deserialize(config)
    assert isinstance(clone, ScaledMSE) and clone.scale == 3.0 and clone.name == "s"


def test_missing_custom_class_is_a_type_error_naming_it():
    config = {"module": "x", "class_name": "Nope", "config": {}, "registered_name": "pkg>Nope"}
    with pytest.raises(TypeError, match="Nope"):
        L.deserialize(config)


def test_invalid_reduction():
    with pytest.raises(ValueError, match="reduction"):
        L.MeanSquaredError(reduction="average")


@pytest.mark.parametrize("identifier", ["crossentropy", "ce", "CE"])
@pytest.mark.parametrize("y_true_shape,y_pred_shape,expected", [
    ((B, 1), (B, 1), "binary_crossentropy"),
    ((B,), (B, C), "sparse_categorical_crossentropy"),
    ((B, 1), (B, C), "sparse_categorical_crossentropy"),
    ((B, C), (B, C), "categorical_crossentropy"),
])
def test_resolve_crossentropy_like_keras(identifier, y_true_shape, y_pred_shape, expected):
    from keras.src.trainers.compile_utils import get_loss

    theirs = get_loss(identifier, torch.zeros(y_true_shape), torch.zeros(y_pred_shape))
    ours = L.resolve(identifier, y_true_shape, y_pred_shape)
    assert ours.fn.__name__ == theirs.fn.__name__ == expected
    assert ours.name == theirs.name == identifier


def test_resolve_names_like_keras():
    from keras.src.trainers.compile_utils import get_loss

    for identifier, ours_id in [("mse", "mse"), (keras.losses.mean_absolute_error, L.mean_absolute_error)]:
        theirs = get_loss(identifier, torch.zeros(B, 1), torch.zeros(B, 1))
        assert L.resolve(ours_id, (B, 1), (B, 1)).name == theirs.name
    loss = L.Huber(name="h")
    assert L.resolve(loss, (B, 1), (B, 1)) is loss


@pytest.mark.parametrize("name,kwargs,kind", [
    ("SparseCategoricalCrossentropy", {"from_logits": True, "ignore_class": 0}, "sparse_logits"),
    ("BinaryFocalCrossentropy", {"apply_class_balancing": True}, "binary"),
    ("Hinge", {}, "binary"),
])
def test_loss_compiles_without_graph_breaks(name, kwargs, kind):
    torch._dynamo.reset()
    y_true, y_pred = (torch.as_tensor(a) for a in _data(kind))
    sw, mask = torch.rand(B), torch.rand(B) > 0.3
    loss = getattr(L, name)(**kwargs)
    compiled = torch.compile(lambda *a: loss(a[0], a[1], sample_weight=a[2], mask=a[3]), fullgraph=True,
                             backend="aot_eager")
    torch.testing.assert_close(compiled(y_true, y_pred, sw, mask), loss(y_true, y_pred, sample_weight=sw, mask=mask))


@pytest.mark.parametrize("policy,expected", [("mixed_float16", "float16"), ("mixed_bfloat16", "bfloat16"),
                                             (torch.float64, "float64"), (None, "float32")])
def test_dtype_policies(policy, expected):
    assert L.MeanSquaredError(dtype=policy).dtype == expected
    assert keras.losses.MeanSquaredError(dtype=policy if not isinstance(policy, torch.dtype) else expected).dtype \
        == expected


def test_half_precision_predictions_are_computed_in_the_loss_dtype():
    y_true, y_pred = _data("categorical_logits")
    out = L.CategoricalCrossentropy(from_logits=True)(y_true, torch.as_tensor(y_pred).half())
    assert out.dtype == torch.float32


@pytest.mark.parametrize("from_logits", [False, True])
@pytest.mark.parametrize("ignore_class", [None, 2])
def test_sparse_crossentropy_on_image_scores_trains(from_logits, ignore_class):
    # Per-pixel scores (N, H, W, C), as a segmentation model's softmax output: the loss equals
    # Keras's and its gradient torch's NLL on a contiguous copy (torch 2.13's NLLLoss2d backward
    # rejected the strided class-axis view with "grad_input must be contiguous", in Keras too).
    rng = np.random.default_rng(11)
    labels = rng.integers(0, 3, size=(2, 4, 5, 1))
    scores = rng.normal(size=(2, 4, 5, 3)).astype(np.float32)
    if not from_logits:
        scores = np.exp(scores) / np.exp(scores).sum(-1, keepdims=True)
    expected = keras.losses.SparseCategoricalCrossentropy(from_logits=from_logits, ignore_class=ignore_class)(
        labels, scores)
    pred = torch.tensor(scores, requires_grad=True)
    loss = L.SparseCategoricalCrossentropy(from_logits=from_logits, ignore_class=ignore_class)(labels, pred)
    assert_close(loss, expected)
    loss.backward()
    reference = torch.tensor(scores, requires_grad=True)
    target = torch.as_tensor(labels[..., 0])
    log_probs = (torch.log_softmax(reference, -1) if from_logits
                 else torch.log(torch.clamp(reference / reference.sum(-1, keepdim=True), 1e-7, 1 - 1e-7)))
    per_pixel = torch.nn.functional.nll_loss(log_probs.permute(0, 3, 1, 2).contiguous(), target, reduction="none")
    if ignore_class is not None:
        valid = target != ignore_class
        (per_pixel * valid).sum().div(valid.sum()).backward()
    else:
        per_pixel.mean().backward()
    np.testing.assert_allclose(pred.grad.numpy(), reference.grad.numpy(), rtol=1e-5, atol=1e-7)
