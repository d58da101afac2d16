"""Keras 3's own `run_layer_test` cases, checked on keraslike.

The cases are data (`keras_layer_specs_table.py`, generated from Keras's test files by
`scripts/extract_keras_layer_specs.py`). For each one, as Keras's `run_layer_test` does:

- `test_spec_config`: `get_config()` equals Keras's for the same arguments, and
  `from_config(get_config())` round trips; `supports_masking` is Keras's expected value.
- `test_spec_build`: `build(input_shape)`, a symbolic call and an eager call give the expected
  output shapes (and values, where the case has them), weight counts, loss counts and mask shape.
  Counts the case leaves out are read from Keras's own layer (built the same way): the oracle.
- `test_spec_training`: the layer inside a subclassed Model trains one `fit` step with a
  sum-of-outputs loss (Keras's check); where the layer's training output is deterministic, the
  step's loss must equal the sum of that output plus the layer's own losses (so `training=True`
  reached the layer and regularization losses were added).

Cases keraslike cannot run yet are `xfail(strict=True)` in `KNOWN_FAILURES` with the bug; a
layer keraslike does not have is skipped with its name (so it is checked as soon as it lands).
"""

import numpy as np
import pytest
import torch

import keraslike
from tests.layer_harness import assert_configs_equal
from tests.layers.keras_layer_specs_table import KERAS_VERSION, SPECS, UNPARSED

# Specs that need what the torch backend of Keras itself lacks.
_TORCH_UNSUPPORTED_MARKS = ("SUPPORTS_SPARSE_TENSORS", "SUPPORTS_RAGGED_TENSORS")

# Known keraslike bugs these specs expose: (check, Keras test id substring) -> (owner, bug).
# Strict xfails, so a fix shows up as XPASS: whoever fixes the bug deletes its line here.
KNOWN_FAILURES = [
]


def _known_failure(check, spec_id):
    for checks, fragment, owner, bug in KNOWN_FAILURES:
        if check in checks and fragment in spec_id:
            return f"{owner}: {bug}"
    return None


# ---------------------------------------------------------------------------- spec resolution


def _lookup(lib, path):
    obj = lib
    for part in path.split("."):
        obj = getattr(obj, part)
    return obj


def resolve(value, lib, rng):
    """Turns a spec value into real objects of `lib` (`keraslike` or `keras`)."""
    if isinstance(value, dict):
        if "__ref__" in value:
            return _lookup(lib, value["__ref__"])
        if "__obj__" in value:
            fn = _lookup(lib, value["__obj__"])
            return fn(*resolve(value["args"], lib, rng), **resolve(value["kwargs"], lib, rng))
        if "__np__" in value:
            return _numpy(value, rng)
        return {k: resolve(v, lib, rng) for k, v in value.items()}
    if isinstance(value, list):
        return [resolve(v, lib, rng) for v in value]
    if isinstance(value, tuple):
        return tuple(resolve(v, lib, rng) for v in value)
    return value


def _numpy(value, rng):
    from scripts.extract_keras_layer_specs import np_shape

    kind, args, kwargs = value["__np__"], value["args"], dict(value["kwargs"])
    dtype = value.get("dtype") or kwargs.pop("dtype", None)
    if kind == "array":
        out = np.asarray(args[0], dtype=dtype)
    elif kind == "arange":
        out = np.arange(*args, dtype=dtype)
    elif kind == "ones":
        out = np.ones(np_shape(value), dtype=dtype or "float32")
    elif kind == "zeros":
        out = np.zeros(np_shape(value), dtype=dtype or "float32")
    elif kind == "randint":
        low, high = (args + [None, None])[:2] if args else (kwargs.get("low", 0), kwargs.get("high"))
        if high is None:
            low, high = 0, low
        out = rng.integers(low, high, size=np_shape(value))
    elif kind in ("random", "rand", "uniform"):
        out = rng.random(np_shape(value))
    else:
        out = rng.standard_normal(np_shape(value))
    out = out.astype(dtype or out.dtype if kind in ("array", "arange", "randint") else dtype or "float64")
    return out.reshape(value["reshape"]) if "reshape" in value else out


def _is_shape(x):
    return isinstance(x, (list, tuple)) and all(isinstance(e, (int, type(None))) for e in x)


def _map_shapes(fn, shape, dtype):
    """Keras's map_shape_dtype_structure: applies fn(shape, dtype) to each shape tuple."""
    if _is_shape(shape):
        return fn(tuple(shape), dtype)
    if isinstance(shape, dict):
        return {k.removesuffix("_shape"): _map_shapes(fn, v, dtype[k]) for k, v in shape.items()}
    if isinstance(shape, list):
        return [_map_shapes(fn, s, d) for s, d in zip(shape, dtype)]
    return tuple(_map_shapes(fn, s, d) for s, d in zip(shape, dtype))


def _default_dtypes(shape):
    if _is_shape(shape):
        return "float32"
    if isinstance(shape, dict):
        return {k: _default_dtypes(v) for k, v in shape.items()}
    return type(shape)(_default_dtypes(s) for s in shape)


def _flat(x):
    if isinstance(x, dict):
        return [v for k in x for v in _flat(x[k])]
    if isinstance(x, (list, tuple)):
        return [v for e in x for v in _flat(e)]
    return [x]


def _to_numpy(x):
    if isinstance(x, torch.Tensor):
        if x.dtype == torch.bfloat16:  # numpy has no bfloat16
            x = x.float()
        return x.detach().cpu().numpy()
    return np.asarray(x)


# Keras test classes named by their module's class, exported under another public name.
_PUBLIC_NAMES = {"GroupedQueryAttention": "GroupQueryAttention"}


class Case:
    """One spec, resolved: layer classes, arguments and input data for keraslike and Keras."""

    def __init__(self, spec):
        self.spec = spec
        self.id = spec["id"]
        self.name = _PUBLIC_NAMES.get(spec["layer"], spec["layer"])
        self.init = spec.get("init_kwargs") or {}
        self.call_kwargs = spec.get("call_kwargs") or {}
        self.input_shape = spec.get("input_shape")
        self.input_dtype = spec.get("input_dtype")
        if self.input_shape is not None and self.input_dtype is None:
            self.input_dtype = _default_dtypes(self.input_shape)
        self.input_data = spec.get("input_data")

    def has_input(self):
        return self.input_shape is not None or self.input_data is not None

    def layer(self, lib):
        cls = getattr(lib.layers, self.name)
        return cls(**resolve(self.init, lib, np.random.default_rng(0)))

    def call_args(self, lib):
        return resolve(self.call_kwargs, lib, np.random.default_rng(0))

    def numpy_inputs(self):
        """Eager input data as numpy (Keras: uniform [0, 3) cast to the dtype), seeded."""
        rng = np.random.default_rng(0)
        if self.input_data is not None:
            return resolve(self.input_data, keraslike, rng)
        return _map_shapes(lambda s, d: (rng.random(s) * 3).astype(d), self.input_shape, self.input_dtype)

    def build_shape(self):
        if self.input_shape is not None:
            return self.input_shape
        return _map_shapes(lambda s, d: s, _shapes_of(self.numpy_inputs()), _dtypes_of(self.numpy_inputs()))

    def symbolic_inputs(self, lib):
        shape = self.input_shape
        dtype = self.input_dtype
        if shape is None:
            data = self.numpy_inputs()
            shape, dtype = _shapes_of(data), _dtypes_of(data)

        return _map_shapes(lambda s, d: lib.KerasTensor(s, dtype=d), shape, dtype)


def _shapes_of(data):
    if isinstance(data, dict):
        return {k: _shapes_of(v) for k, v in data.items()}
    if isinstance(data, (list, tuple)):
        return type(data)(_shapes_of(v) for v in data)
    return tuple(np.shape(data))


def _dtypes_of(data):
    if isinstance(data, dict):
        return {k: _dtypes_of(v) for k, v in data.items()}
    if isinstance(data, (list, tuple)):
        return type(data)(_dtypes_of(v) for v in data)
    return str(np.asarray(data).dtype)


def _to_torch(data):
    if isinstance(data, dict):
        return {k: _to_torch(v) for k, v in data.items()}
    if isinstance(data, (list, tuple)):
        return type(data)(_to_torch(v) for v in data)
    return torch.as_tensor(np.asarray(data))


def _call(layer, inputs, call_kwargs):
    if isinstance(inputs, dict):
        return layer(**inputs, **call_kwargs)
    return layer(inputs, **call_kwargs)


def _build(layer, shape):
    if isinstance(shape, dict):
        layer.build(**shape)
    else:
        layer.build(shape)


# ---------------------------------------------------------------------------- parametrization


def _skip_reason(spec):
    if spec.get("input_sparse") or spec.get("input_ragged") or spec.get("expected_output_sparse"):
        return "sparse/ragged tensors: not supported by Keras's torch backend either"
    for mark in spec.get("marks", ()):
        if any(m in mark for m in _TORCH_UNSUPPORTED_MARKS):
            return f"Keras skips it on torch: {mark}"
    return None


def _params(check):
    out = []
    for spec in SPECS:
        marks = []
        reason = _skip_reason(spec)
        if reason:
            marks.append(pytest.mark.skip(reason=reason))
        elif _known_failure(check, spec["id"]):
            marks.append(pytest.mark.xfail(reason=_known_failure(check, spec["id"]), strict=True))
        out.append(pytest.param(spec, id=spec["id"].removeprefix("src/layers/"), marks=marks))
    return out


def _case(spec, check="config"):
    if check != "config" and spec.get("expect_error"):
        pytest.skip("an invalid-usage case: checked by test_spec_config")
    case = Case(spec)
    if not hasattr(keraslike.layers, case.name):
        pytest.skip(f"keraslike lacks layers.{case.name}")
    return case


@pytest.fixture(scope="module")
def keras():
    keras = pytest.importorskip("keras")
    if keras.__version__ != KERAS_VERSION:
        pytest.skip(f"specs are from Keras {KERAS_VERSION}; installed {keras.__version__}")
    return keras


def _keras_layer(case, keras):
    """Keras's own layer; skips where Keras 3 on torch cannot build it (it needs TensorFlow)."""
    try:
        return case.layer(keras)
    except ImportError as e:
        pytest.skip(f"Keras 3 on torch cannot build this layer: {e}")


def _keras_counts(case, keras):
    """Weight counts of Keras's own layer after an eager call (what run_layer_test defaults to)."""
    layer = _keras_layer(case, keras)
    inputs = keras.tree.map_structure(keras.ops.convert_to_tensor, case.numpy_inputs())
    try:
        _call(layer, inputs, case.call_args(keras))
    except Exception as e:  # the extracted inputs are not the ones Keras's test reshapes later
        pytest.skip(f"Keras itself fails on this case's inputs: {type(e).__name__}: {e}")
    return len(layer.trainable_weights), len(layer.non_trainable_weights)


# ---------------------------------------------------------------------------- checks


@pytest.mark.parametrize("spec", _params("config"))
def test_spec_config(spec, keras):
    case = _case(spec)
    if spec.get("expect_error"):
        # Keras's case wraps run_layer_test in assertRaises: the same type must come out of
        # construction, build or call.
        import builtins

        with pytest.raises(getattr(builtins, spec["expect_error"])):
            layer = case.layer(keraslike)
            if case.has_input():
                _call(layer, _to_torch(case.numpy_inputs()), case.call_args(keraslike))
        return
    layer = case.layer(keraslike)
    config = layer.get_config()
    try:
        keras_layer = case.layer(keras)
    except ImportError:  # e.g. HashedCrossing needs TensorFlow in Keras, not in keraslike
        keras_layer = None
    if keras_layer is not None:
        # Keras's random layers draw a fresh seed when none is given: not comparable.
        ignore = ("name",) if "seed" in case.init else ("name", "seed")
        assert_configs_equal(config, keras_layer.get_config(), ignore=ignore)
    revived = type(layer).from_config(config)
    assert_configs_equal(revived.get_config(), config, ignore=())
    if spec.get("supports_masking") is not None:
        assert layer.supports_masking == spec["supports_masking"], "supports_masking"


def _check_shapes(expected, outputs, what):
    if expected is None:
        return
    flat_out = _flat(outputs)
    flat_expected = [expected] if _is_shape(expected) else _flat_shapes(expected)
    assert len(flat_out) == len(flat_expected), f"{what}: {len(flat_out)} outputs, expected {len(flat_expected)}"
    for out, exp in zip(flat_out, flat_expected):
        shape = tuple(out.shape)
        assert len(shape) == len(exp) and all(e is None or e == s for e, s in zip(exp, shape)), (
            f"{what}: output shape {shape}, expected {tuple(exp)}"
        )


def _flat_shapes(expected):
    if _is_shape(expected):
        return [tuple(expected)]
    if isinstance(expected, dict):
        return [s for k in expected for s in _flat_shapes(expected[k])]
    return [s for e in expected for s in _flat_shapes(e)]


def _check_counts(layer, trainable, non_trainable, what):
    assert len(layer.trainable_weights) == trainable, (
        f"{what}: {len(layer.trainable_weights)} trainable weights, expected {trainable}"
    )
    assert len(layer.non_trainable_weights) == non_trainable, (
        f"{what}: {len(layer.non_trainable_weights)} non-trainable weights, expected {non_trainable}"
    )


@pytest.mark.parametrize("spec", _params("build"))
def test_spec_build(spec, keras):
    case = _case(spec, "build")
    if not case.has_input():
        pytest.skip("the Keras case has no input (config only)")
    trainable = spec.get("expected_num_trainable_weights")
    non_trainable = spec.get("expected_num_non_trainable_weights")
    if trainable is None or non_trainable is None:
        k_trainable, k_non_trainable = _keras_counts(case, keras)
        trainable = k_trainable if trainable is None else trainable
        non_trainable = k_non_trainable if non_trainable is None else non_trainable
    call_kwargs = case.call_args(keraslike)

    layer = case.layer(keraslike)
    _build(layer, case.build_shape())
    assert layer.built
    _check_counts(layer, trainable, non_trainable, "build")

    layer = case.layer(keraslike)
    symbolic_in = case.symbolic_inputs(keraslike)
    out = _call(layer, symbolic_in, call_kwargs)
    _check_counts(layer, trainable, non_trainable, "symbolic call")
    _check_shapes(spec.get("expected_output_shape"), out, "symbolic call")
    if spec.get("expected_mask_shape") is not None:
        mask = layer.compute_mask(symbolic_in, None)
        assert tuple(mask.shape) == tuple(spec["expected_mask_shape"]), "mask shape"

    layer = case.layer(keraslike)
    out = _call(layer, _to_torch(case.numpy_inputs()), call_kwargs)
    _check_shapes(spec.get("expected_output_shape"), out, "eager call")
    if spec.get("expected_output_dtype") is not None:
        for o in _flat(out):
            assert str(o.dtype).replace("torch.", "") == spec["expected_output_dtype"], "output dtype"
    if spec.get("expected_output") is not None:
        expected = resolve(spec["expected_output"], keraslike, np.random.default_rng(0))
        for o, e in zip(_flat(out), _flat(expected)):
            np.testing.assert_allclose(_to_numpy(o), np.asarray(e), rtol=1e-5, atol=1e-5)
    if spec.get("expected_num_losses") is not None:
        assert len(layer.losses) == spec["expected_num_losses"], (
            f"{len(layer.losses)} losses, expected {spec['expected_num_losses']}"
        )


class _SumLoss(keraslike.losses.Loss):
    """Keras's training-check loss: the sum of the predictions, no reduction."""

    def __call__(self, y_true, y_pred, sample_weight=None):
        return sum(torch.sum(p) for p in _flat(y_pred))


class _Wrapper(keraslike.Model):
    def __init__(self, layer):
        super().__init__()
        self.layer = layer

    def call(self, x, training=False):
        if isinstance(x, dict):
            return self.layer(**x, training=training)
        return self.layer(x, training=training)


@pytest.mark.parametrize("spec", _params("training"))
def test_spec_training(spec, keras):
    case = _case(spec, "training")
    if not case.has_input():
        pytest.skip("the Keras case has no input")
    if spec.get("run_training_check") is False:
        pytest.skip("Keras's case skips its training check")
    layer = case.layer(keraslike)
    inputs = case.numpy_inputs()
    torch_in = _to_torch(inputs)
    outputs = _call(layer, torch_in, {})
    targets = [_to_numpy(o) for o in _flat(outputs)]
    targets = targets[0] if len(targets) == 1 else targets

    # Deterministic in training mode? Then the first step's loss is known in advance.
    before = [t.detach().clone() for t in layer.state_dict().values()]
    first = _call(layer, torch_in, {"training": True})
    second = _call(layer, torch_in, {"training": True})
    after = list(layer.state_dict().values())
    deterministic = all(
        torch.equal(a, b) for a, b in zip(_flat(first), _flat(second))
    ) and not any(isinstance(m, keraslike.random.SeedGenerator) for m in layer.modules())
    # (a layer with a SeedGenerator is random even when two draws happen to agree; one whose
    # training calls change its state, e.g. float8 scales, gives a third result in `fit`)
    deterministic = deterministic and all(torch.equal(a, b) for a, b in zip(before, after))
    # Keras adds the layer's own losses (weight regularizers, add_loss) to the compiled loss.
    expected_loss = float(sum(torch.sum(o).double() for o in _flat(first)))
    expected_loss += float(sum(torch.sum(l).double() for l in layer.losses))

    model = _Wrapper(layer)
    model.compile(optimizer="sgd", loss=_SumLoss())
    x = inputs if not isinstance(inputs, tuple) else list(inputs)
    if len({len(a) for a in _flat(inputs) + _flat(targets)}) > 1:
        # An unbatched input (MelSpectrogram's `(samples,)`): `fit` could not slice it into
        # batches; Keras's own check feeds the one batch as it is, so does this one.
        history = model.fit(iter([(x, targets)]), epochs=1, verbose=0)
    else:
        history = model.fit(x, targets, batch_size=len(_flat(inputs)[0]), epochs=1, verbose=0,
                            shuffle=False)
    loss = history.history["loss"][0]
    assert np.isfinite(loss)
    if deterministic:
        np.testing.assert_allclose(loss, expected_loss, rtol=1e-4, atol=1e-4)


def test_fit_without_trainable_weights():
    """Keras warns and trains nothing (a bug found by the training check of these specs)."""
    inputs = keraslike.Input((4,))
    model = keraslike.Model(inputs, keraslike.layers.Flatten()(inputs))
    model.compile(optimizer="sgd", loss="mse")
    x = np.ones((2, 4), "float32")
    with pytest.warns(UserWarning):
        history = model.fit(x, x, epochs=1, verbose=0)
    np.testing.assert_allclose(history.history["loss"][0], 0.0)


def test_table_is_from_installed_keras(keras):
    """The table names its Keras version; a count guards against a truncated regeneration."""
    assert KERAS_VERSION == keras.__version__
    assert len(SPECS) > 400
    assert all("reason" in u for u in UNPARSED)
