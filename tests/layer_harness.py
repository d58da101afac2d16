"""One harness that checks any layer against Keras 3: outputs, symbolic shapes, configs, weights.

Usage in a test:

    check_layer("Dense", {"units": 3}, input_shape=(2, 4))

builds the layer in Keras 3 (torch backend) and in keraslike, copies Keras's weights across with
`get_weights`/`set_weights`, and asserts that eager outputs agree, that the symbolic output
shape equals Keras's, that `get_config()` is equal key for key, and that `from_config` round trips.
"""

import numpy as np
import pytest
import torch

import keraslike


def _normalize(value):
    if isinstance(value, (list, tuple)):
        return [_normalize(v) for v in value]
    if isinstance(value, dict):
        return {k: _normalize(v) for k, v in value.items()}
    if isinstance(value, np.generic):
        return value.item()
    return value


def _strip(value, keys):
    if isinstance(value, dict):
        return {k: _strip(v, keys) for k, v in value.items() if k not in keys}
    if isinstance(value, list):
        return [_strip(v, keys) for v in value]
    return value


def assert_configs_equal(ours, theirs, ignore=("name",)):
    """Asserts two configs are equal, treating tuples and lists alike.

    Keys in `ignore` are dropped at every depth (nested layer configs carry names from
    per-session counters that differ between the two libraries).
    """
    a = _strip(_normalize(ours), set(ignore))
    b = _strip(_normalize(theirs), set(ignore))
    if a != b:
        diff = {k: (a.get(k, "<missing>"), b.get(k, "<missing>")) for k in sorted(set(a) | set(b))
                if a.get(k, "<missing>") != b.get(k, "<missing>")}
        raise AssertionError(f"config mismatch (key: (ours, Keras)): {diff}")


def _random_input(shape, dtype, rng, int_high):
    if dtype.startswith("int"):
        return rng.integers(0, int_high, size=shape).astype(dtype)
    if dtype == "bool":
        return rng.random(size=shape) > 0.3
    return rng.standard_normal(size=shape).astype(dtype)


def _to_numpy(x):
    if isinstance(x, (list, tuple)):
        return [_to_numpy(v) for v in x]
    if isinstance(x, dict):
        return {k: _to_numpy(v) for k, v in x.items()}
    if hasattr(x, "detach"):
        return x.detach().cpu().numpy()
    return np.asarray(x)


def _flat(x):
    if isinstance(x, (list, tuple)):
        out = []
        for v in x:
            out.extend(_flat(v))
        return out
    if isinstance(x, dict):
        return [v for k in sorted(x) for v in _flat(x[k])]
    return [x]


def check_layer(
    class_name,
    init_kwargs=None,
    input_shape=None,
    input_data=None,
    input_dtype="float32",
    call_kwargs=None,
    rtol=1e-5,
    atol=1e-5,
    compare_config=True,
    int_high=10,
    seed=0,
):
    """Builds `class_name` in Keras 3 and keraslike and checks they agree.

    Args:
        class_name: Name in `keras.layers` (and `keraslike.layers`).
        init_kwargs: Constructor arguments, used for both.
        input_shape: Shape of the random input (batch included), or a list of shapes.
        input_data: Explicit numpy input(s) instead of `input_shape`.
        input_dtype: dtype of random inputs.
        call_kwargs: Extra call arguments (e.g. `{"training": False}`), used for both.
        rtol, atol: Output tolerances.
        compare_config: Whether to compare `get_config()` with Keras's.

    Returns:
        `(our_layer, keras_layer, our_output, keras_output)` for further checks.
    """
    keras = pytest.importorskip("keras")
    init_kwargs = dict(init_kwargs or {})
    call_kwargs = dict(call_kwargs or {})
    rng = np.random.default_rng(seed)
    if input_data is None:
        if isinstance(input_shape, list):
            input_data = [_random_input(s, input_dtype, rng, int_high) for s in input_shape]
        else:
            input_data = _random_input(input_shape, input_dtype, rng, int_high)

    keras_layer = getattr(keras.layers, class_name)(**init_kwargs)
    keras_in = keras.tree.map_structure(lambda a: keras.ops.convert_to_tensor(a), input_data)
    keras_out = _to_numpy(keras_layer(keras_in, **call_kwargs))

    our_layer = getattr(keraslike.layers, class_name)(**init_kwargs)
    our_in = keras.tree.map_structure(lambda a: torch.as_tensor(a), input_data)
    our_layer(our_in, **call_kwargs)
    our_layer.set_weights(keras_layer.get_weights())
    our_out = _to_numpy(our_layer(our_in, **call_kwargs))

    theirs, ours = _flat(keras_out), _flat(our_out)
    assert len(theirs) == len(ours), f"{class_name}: {len(ours)} outputs, Keras {len(theirs)}"
    for a, b in zip(ours, theirs):
        assert a.shape == b.shape, f"{class_name}: shape {a.shape} != Keras {b.shape}"
        np.testing.assert_allclose(a, b, rtol=rtol, atol=atol, err_msg=class_name)

    # Symbolic: same output shape as Keras's symbolic call, batch unknown.
    def sym(shape, lib):
        return lib.Input(batch_shape=(None,) + tuple(shape[1:]), dtype=input_dtype)

    shapes = [a.shape for a in input_data] if isinstance(input_data, list) else input_data.shape
    if isinstance(shapes, list):
        k_sym = keras_layer([sym(s, keras) for s in shapes], **call_kwargs)
        o_sym = our_layer([sym(s, keraslike) for s in shapes], **call_kwargs)
    else:
        k_sym = keras_layer(sym(shapes, keras), **call_kwargs)
        o_sym = our_layer(sym(shapes, keraslike), **call_kwargs)
    for a, b in zip(_flat(o_sym), _flat(k_sym)):
        assert tuple(a.shape) == tuple(b.shape), f"{class_name}: symbolic {a.shape} != {b.shape}"

    if compare_config:
        config = our_layer.get_config()
        assert_configs_equal(config, keras_layer.get_config())
        clone = type(our_layer).from_config(config)
        assert_configs_equal(clone.get_config(), config)
    return our_layer, keras_layer, our_out, keras_out


# ---------------------------------------------------------------------------- the layer in a model


def _inputs_for(input_shape, input_dtype, rng, int_high):
    if isinstance(input_shape, list):
        return [_random_input(s, input_dtype, rng, int_high) for s in input_shape]
    return _random_input(input_shape, input_dtype, rng, int_high)


def _record_training(layer, seen):
    """Wraps `layer.call` on the instance so every `training` value it receives lands in `seen`."""
    import inspect

    original = layer.call
    if "training" not in inspect.signature(original).parameters:
        return False

    # Same `training` parameter as the layer's own call, so the model passes it the same way.
    def call(*args, training=None, **kwargs):
        seen.append(training)
        return original(*args, training=training, **kwargs)

    layer.call = call
    return True


def _functional(class_name, init_kwargs, input_shape, input_dtype, call_kwargs, seen=None):
    layer = getattr(keraslike.layers, class_name)(**init_kwargs)
    recorded = _record_training(layer, seen) if seen is not None else False
    shapes = input_shape if isinstance(input_shape, list) else [input_shape]
    inputs = [keraslike.Input(shape=tuple(s[1:]), dtype=input_dtype) for s in shapes]
    outputs = layer(inputs if isinstance(input_shape, list) else inputs[0], **call_kwargs)
    if isinstance(outputs, (list, tuple)):
        outputs = list(outputs)
    model = keraslike.Model(inputs if isinstance(input_shape, list) else inputs[0], outputs)
    return model, layer, recorded


def check_layer_in_model(
    class_name,
    init_kwargs=None,
    input_shape=None,
    input_dtype="float32",
    call_kwargs=None,
    int_high=10,
    seed=0,
    tmp_path=None,
    compile_check=False,
    atol=1e-5,
):
    """Runs a built-in layer where users use it: inside a functional Model.

    Checks, in order:
    - one `fit` step (MSE to zero targets, SGD): the loss is finite, trainable weights change
      (when the layer has any and receives a gradient), and `training=True` reaches the layer's
      `call` during `fit`, `False` during `predict` and `evaluate` (for layers whose `call` takes
      `training`);
    - a save/load round trip (`model.save` + `keraslike.saving.load_model`, when `tmp_path` is
      given): same weights, same `predict` outputs;
    - with `compile_check=True`, `torch.compile(model, fullgraph=True)` gives the eager outputs.

    Returns the model.
    """
    init_kwargs = dict(init_kwargs or {})
    call_kwargs = dict(call_kwargs or {})
    rng = np.random.default_rng(seed)
    x = _inputs_for(input_shape, input_dtype, rng, int_high)
    seen = []
    model, layer, recorded = _functional(class_name, init_kwargs, input_shape, input_dtype, call_kwargs, seen)

    seen.clear()  # drop the symbolic calls made while building the graph
    y_pred = model.predict(x, verbose=0)
    predict_flags = list(seen)
    targets = [np.zeros_like(p) for p in _flat(y_pred)]
    targets = targets[0] if len(targets) == 1 else targets
    floating = all(np.issubdtype(t.dtype, np.floating) for t in _flat(targets))

    before = [w.copy() for w in layer.get_weights()]
    if floating:
        model.compile(optimizer=keraslike.optimizers.SGD(learning_rate=0.1), loss="mse")
        seen.clear()
        history = model.fit(x, targets, batch_size=len(_flat(x)[0]), epochs=1, verbose=0, shuffle=False)
        fit_flags = list(seen)
        assert np.isfinite(history.history["loss"][0]), f"{class_name}: loss not finite"
        if recorded:
            # Keras too makes one build call with training=False before the first step (on
            # `meta` tensors); the step itself must see True.
            assert fit_flags and fit_flags[-1] is True and None not in fit_flags, (
                f"{class_name}: `training` in fit was {fit_flags}, expected True in the step"
            )
            seen.clear()
            model.evaluate(x, targets, verbose=0)
            assert seen and all(f is False for f in seen), (
                f"{class_name}: `training` in evaluate was {seen}, expected False"
            )
        if layer.trainable_weights:
            after = layer.get_weights()
            changed = any(not np.array_equal(a, b) for a, b in zip(before, after))
            assert changed, f"{class_name}: fit changed no weight"
    if recorded:
        assert predict_flags and all(f is False for f in predict_flags), (
            f"{class_name}: `training` in predict was {predict_flags}, expected False"
        )

    expected = _flat(model.predict(x, verbose=0))
    if tmp_path is not None:
        path = str(tmp_path / f"{class_name}.safetensors")
        model.save(path)
        loaded = keraslike.saving.load_model(path)
        for a, b in zip(loaded.get_weights(), model.get_weights()):
            np.testing.assert_array_equal(a, b, err_msg=f"{class_name}: weights after load")
        for a, b in zip(_flat(loaded.predict(x, verbose=0)), expected):
            np.testing.assert_allclose(a, b, rtol=1e-6, atol=1e-6, err_msg=f"{class_name}: load")

    if compile_check:
        torch._dynamo.reset()
        model.eval()
        tensors = [torch.as_tensor(v) for v in _flat(x)]
        compiled = torch.compile(model, fullgraph=True)
        with torch.no_grad():
            eager = _flat(model(*tensors) if len(tensors) > 1 else model(tensors[0]))
            got = _flat(compiled(*tensors) if len(tensors) > 1 else compiled(tensors[0]))
        for a, b in zip(got, eager):
            np.testing.assert_allclose(_to_numpy(a), _to_numpy(b), rtol=1e-5, atol=atol,
                                       err_msg=f"{class_name}: torch.compile")
    return model
