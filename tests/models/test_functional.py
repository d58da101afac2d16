"""The functional API: graphs, calls, nesting, shared layers, Sequential, and the errors."""

import numpy as np
import pytest
import torch

import keraslike as keras
from keraslike import layers


def test_input_is_symbolic_with_keras_shape_and_dtype():
    x = keras.Input(shape=(784,))
    assert x.shape == (None, 784)
    assert x.dtype == "float32"
    named = keras.Input(shape=(None, 3), name="title", batch_size=8, dtype="int32")
    assert named.shape == (8, None, 3) and named.name == "title" and named.dtype == "int32"
    assert keras.Input(batch_shape=(4, 2)).shape == (4, 2)


@pytest.mark.parametrize("bad", [3, (-1,), (2.5,), ("a",)])
def test_input_rejects_bad_shapes(bad):
    with pytest.raises(ValueError, match="shape"):
        keras.Input(shape=bad)


def test_layer_names_are_unique_and_reset_by_clear_session():
    assert [layers.Dense(1).name for _ in range(3)] == ["dense", "dense_1", "dense_2"]
    keras.backend.clear_session()
    assert layers.Dense(1).name == "dense"
    assert layers.Conv2D(1, 1).name == "conv2d"
    assert keras.Input((3,))._keras_history[0].name == "input_layer"


def test_model_calls_accept_tensor_list_dict_positional_and_numpy():
    a = keras.Input((3,), name="a")
    b = keras.Input((3,), name="b")
    out = layers.Dense(2)(layers.concatenate([a, b]))
    model = keras.Model([a, b], out)
    x, y = torch.randn(4, 3), torch.randn(4, 3)
    expected = model([x, y])
    torch.testing.assert_close(model((x, y)), expected)
    torch.testing.assert_close(model(x, y), expected)
    torch.testing.assert_close(model({"a": x, "b": y}), expected)
    from_numpy = model([x.numpy().astype("float64"), y.numpy()])
    assert isinstance(from_numpy, torch.Tensor)
    torch.testing.assert_close(from_numpy, expected)


def test_outputs_keep_their_structure():
    x = keras.Input((3,))
    y1, y2 = layers.Dense(1, name="p")(x), layers.Dense(2, name="q")(x)
    assert isinstance(keras.Model(x, [y1, y2])(torch.ones(1, 3)), list)
    out = keras.Model(x, {"p": y1, "q": y2})(torch.ones(1, 3))
    assert set(out) == {"p", "q"} and out["q"].shape == (1, 2)
    assert keras.Model(x, {"q": y2, "p": y1}).output_names == ["p", "q"]  # sorted, as Keras
    assert keras.Model(x, [y1, y2]).output_names == ["p", "q"]


def test_built_model_is_an_nn_module_in_eval_mode_with_torch_names():
    x = keras.Input((4,))
    model = keras.Model(x, layers.Dense(3, name="head")(layers.Dropout(0.5)(x)))
    assert isinstance(model, torch.nn.Module) and not model.training
    assert list(model.state_dict()) == ["head.weight", "head.bias"]
    linear = torch.nn.Linear(4, 3)
    linear.load_state_dict({k.split(".", 1)[1]: v for k, v in model.state_dict().items()})
    data = torch.randn(5, 4)
    torch.testing.assert_close(model(data), linear(data))
    model.train()
    assert not torch.equal(model(torch.ones(2000, 4)), model(torch.ones(2000, 4)))
    model.eval()
    torch.testing.assert_close(model(data, training=False), linear(data))


def test_keras_layout_views_and_weight_round_trip():
    layer = layers.Dense(3)
    layer(torch.zeros(1, 5))
    assert layer.weight.shape == (3, 5) and layer.kernel.shape == (5, 3)
    kernel, bias = np.arange(15.0).reshape(5, 3), np.ones(3)
    layer.set_weights([kernel, bias])
    np.testing.assert_array_equal(layer.get_weights()[0], kernel)
    np.testing.assert_array_equal(layer.weight.detach().numpy(), kernel.T)
    with pytest.raises(ValueError, match="dense.*kernel.*\\(5, 3\\)"):
        layer.set_weights([kernel.T, bias])
    with pytest.raises(ValueError, match="expected 2 weights"):
        layer.set_weights([kernel])


def test_shared_layer_has_one_parameter_set_and_gets_both_gradients():
    shared = layers.Dense(4, name="shared")
    a, b = keras.Input((3,)), keras.Input((3,))
    model = keras.Model([a, b], layers.add([shared(a), shared(b)]))
    assert len(list(model.parameters())) == 2
    assert model.count_params() == 16
    assert len(shared._inbound_nodes) == 2
    x1, x2 = torch.randn(2, 3), torch.zeros(2, 3)
    model([x1, x2]).sum().backward()
    # d/dW of sum(W x1 + b) + sum(W x2 + b): per output unit, sum of x1 + x2 rows.
    expected = (x1 + x2).sum(0).expand(4, 3)
    torch.testing.assert_close(shared.weight.grad, expected)
    torch.testing.assert_close(shared.bias.grad, torch.full((4,), 4.0))


def test_nested_model_called_on_symbolic_and_real_tensors():
    inner_in = keras.Input((3,))
    inner = keras.Model(inner_in, layers.Dense(2)(inner_in), name="inner")
    x = keras.Input((3,))
    outer = keras.Model(x, layers.Dense(1)(inner(x)))
    data = torch.randn(4, 3)
    expected = outer.layers[-1](inner(data))
    torch.testing.assert_close(outer(data), expected)
    assert outer.get_layer("inner") is inner
    assert outer.get_layer(index=1) is inner
    assert "inner.dense.weight" in outer.state_dict()


def test_feature_extraction_shares_weights():
    x = keras.Input((5,))
    h = layers.Dense(4, activation="relu")(x)
    y = layers.Dense(2)(h)
    model = keras.Model(x, y)
    extractor = keras.Model(inputs=model.input, outputs=[layer.output for layer in model.layers])
    features = extractor(torch.ones(1, 5))
    assert [tuple(f.shape) for f in features] == [(1, 5), (1, 4), (1, 2)]
    torch.testing.assert_close(features[-1], model(torch.ones(1, 5)))
    assert {id(p) for p in extractor.parameters()} == {id(p) for p in model.parameters()}


def test_python_operators_and_torch_functions_record_nodes():
    x = keras.Input((4,))
    y = (x * 2 + 1) @ torch.ones(4, 2)
    z = torch.cat([y, -y[:, :1]], dim=1)
    model = keras.Model(x, z)
    assert z.shape == (None, 3)
    data = torch.randn(3, 4)
    yy = (data * 2 + 1) @ torch.ones(4, 2)
    torch.testing.assert_close(model(data), torch.cat([yy, -yy[:, :1]], dim=1))
    assert model.layers == [model.layers[0]]


def test_custom_layer_needs_no_shape_code_and_gets_keras_named_weights():
    class CustomDense(layers.Layer):
        def __init__(self, units=32, **kwargs):
            super().__init__(**kwargs)
            self.units = units

        def build(self, input_shape):
            self.w = self.add_weight(
                shape=(input_shape[-1], self.units), initializer="random_normal", trainable=True
            )
            self.b = self.add_weight(shape=(self.units,), initializer="random_normal", trainable=True)

        def call(self, inputs):
            return torch.matmul(inputs, self.w) + self.b

    inputs = keras.Input((4,))
    outputs = CustomDense(10)(inputs)
    model = keras.Model(inputs, outputs)
    assert outputs.shape == (None, 10)
    assert model.count_params() == 50
    assert sorted(model.state_dict()) == ["custom_dense.b", "custom_dense.w"]
    assert [w.shape for w in model.get_weights()] == [(4, 10), (10,)]


def test_sequential_add_pop_deferred_and_input_shape():
    model = keras.Sequential([layers.Dense(4, input_shape=(3,)), layers.Dense(2)])
    assert model.built and model.output_shape == (None, 2) and model.count_params() == 26
    deferred = keras.Sequential()
    deferred.add(layers.Dense(4))
    assert not deferred.built
    out = deferred(torch.ones(5, 7))
    assert out.shape == (5, 4) and deferred.built and deferred.count_params() == 32
    model.add(layers.Dense(1))
    assert model.output_shape == (None, 1)
    popped = model.pop()
    assert popped.units == 1 and model.output_shape == (None, 2)
    assert [layer.name for layer in model.layers] == ["dense", "dense_1"]
    assert model.name == "sequential"


def test_graph_disconnected_names_the_input_and_layer():
    unrelated_input = keras.Input(shape=(64,), name="unrelated_input")
    x = keras.Input(shape=(8,), name="data")
    h = layers.Dense(4, name="hidden")(x)
    with pytest.raises(ValueError, match=r'Graph disconnected.*"data".*layer "hidden"'):
        keras.Model(unrelated_input, h)


def test_an_unused_input_is_accepted_and_ignored_as_keras_does():
    import keras as real_keras

    used, unused = np.ones((2, 2), "float32"), np.full((2, 3), 7.0, "float32")
    configs, outputs = [], []
    for library in (keras, real_keras):
        library.backend.clear_session()
        a, b = library.Input((2,), name="used"), library.Input((3,), name="unused")
        model = library.Model([a, b], library.layers.Dense(1, kernel_initializer="ones")(a))
        assert [layer.name for layer in model.layers] == ["used", "unused", "dense"]
        outputs.append(model.predict([used, unused], verbose=0))
        configs.append(model.get_config())
    np.testing.assert_array_equal(outputs[0], outputs[1])
    np.testing.assert_array_equal(outputs[0], [[2.0], [2.0]])
    assert configs[0]["input_layers"] == configs[1]["input_layers"]
    assert [entry["name"] for entry in configs[0]["layers"]] == [e["name"] for e in configs[1]["layers"]]


def test_duplicate_layer_names_are_rejected():
    x = keras.Input((2,))
    y = layers.Dense(2, name="twin")(layers.Dense(2, name="twin")(x))
    with pytest.raises(ValueError, match='"twin" is used 2 times'):
        keras.Model(x, y)


def test_wrong_rank_is_reported_with_layer_and_shape():
    with pytest.raises(ValueError, match=r'layer "conv2d".*expected (min_)?ndim=4, found ndim=2.*\(None, 32\)'):
        layers.Conv2D(4, 3)(keras.Input((32,)))


def test_reusing_built_layer_on_other_last_dimension_fails():
    dense = layers.Dense(3)
    dense(keras.Input((4,)))
    with pytest.raises(ValueError, match=r'"dense".*axis -1.*value 4.*\(None, 5\)'):
        dense(keras.Input((5,)))


def test_bad_model_calls_name_the_culprit():
    a, b = keras.Input((3,), name="a"), keras.Input((3,), name="b")
    model = keras.Model([a, b], layers.add([a, b]))
    with pytest.raises(ValueError, match=r"expects 2 input\(s\).*received 1"):
        model(torch.ones(1, 3))
    with pytest.raises(ValueError, match=r'Missing data for input "b"'):
        model({"a": torch.ones(1, 3)})
    with pytest.raises(TypeError, match=r'Input "b".*must be a tensor.*str'):
        model([torch.ones(1, 3), "oops"])
    with pytest.raises(ValueError, match=r'Input "a".*expected shape=\(None, 3\).*\(1, 4\)'):
        model([torch.ones(1, 4), torch.ones(1, 3)])


def test_errors_inside_the_graph_name_the_layer():
    x = keras.Input((3, 3))
    model = keras.Model(x, layers.Lambda(torch.linalg.cholesky, name="factorizer")(x))
    with pytest.raises(RuntimeError) as info:
        model(-torch.ones(1, 3, 3))  # not positive-definite: fails only on real data
    assert any("factorizer" in note for note in getattr(info.value, "__notes__", ["factorizer"]))


def test_building_a_deep_chain_needs_no_recursion_limit():
    x = keras.Input((8,))
    y = x
    for _ in range(1500):
        y = layers.Dense(8)(y)
    model = keras.Model(x, y)
    assert len(model.layers) == 1501
    assert model(torch.ones(1, 8)).shape == (1, 8)


def test_forward_hooks_see_layer_calls_inside_a_model():
    x = keras.Input((3,))
    hidden = layers.Dense(4, name="hidden")
    model = keras.Model(x, layers.Dense(1)(hidden(x)))
    seen = []
    handle = hidden.register_forward_hook(lambda module, args, out: seen.append(out.shape))
    model(torch.ones(2, 3))
    handle.remove()
    assert seen == [torch.Size([2, 4])]


def test_torch_compile_fullgraph_matches_eager():
    x = keras.Input((6,))
    h = layers.Dense(8, activation="relu")(x)
    model = keras.Model(x, layers.Dense(2)(layers.Dropout(0.2)(h)))
    compiled = torch.compile(model, fullgraph=True, backend="eager")
    data = torch.randn(3, 6)
    torch.testing.assert_close(compiled(data), model(data))


def test_explicit_training_reaches_sublayers_of_custom_layers():
    class NoisyBlock(layers.Layer):
        def __init__(self, **kwargs):
            super().__init__(**kwargs)
            self.dropout = layers.Dropout(0.5)

        def call(self, inputs):  # does not pass `training` on, as many Keras layers don't
            return self.dropout(inputs)

    x = keras.Input((1000,))
    model = keras.Model(x, NoisyBlock()(x))
    data = torch.ones(2, 1000)
    assert torch.equal(model(data), data)  # eval mode: identity
    dropped = model(data, training=True)
    assert (dropped == 0).any() and not model.training  # mode restored after the call
    model.train()
    torch.testing.assert_close(model(data, training=False), data)
    assert model.training


def test_sequential_runs_on_other_sizes_than_it_was_built_for_as_in_keras():
    # Keras's Sequential checks the rank, not the sizes (keras-io's Transformer blocks build a
    # feed-forward Sequential on one sequence length and run it on others); a Functional model
    # keeps checking its Inputs' sizes.
    stack = keras.Sequential([layers.Dense(4)])
    out = stack(np.ones((2, 10, 16), "float32"))
    shorter = np.random.default_rng(0).random((3, 7, 16)).astype("float32")
    kernel, bias = stack.layers[0].get_weights()
    np.testing.assert_allclose(stack(shorter).detach().numpy(), shorter @ kernel + bias, rtol=1e-5, atol=1e-6)
    assert tuple(out.shape) == (2, 10, 4)
    np.testing.assert_allclose(stack.predict(shorter, verbose=0), shorter @ kernel + bias, rtol=1e-5, atol=1e-6)
    with pytest.raises(ValueError, match=r'model "sequential.*expected shape=\(None, 10, 16\).*\(3, 16\)'):
        stack(np.ones((3, 16), "float32"))  # another rank
    with pytest.raises(ValueError, match=r"expected shape=\(None, 10, 16\).*\(3, 10, 5\)"):
        stack(np.ones((3, 10, 5), "float32"))  # another feature size: still a ValueError
    x = keras.Input((10, 16))
    functional = keras.Model(x, layers.Dense(4)(x))
    with pytest.raises(ValueError, match=r"expected shape=\(None, 10, 16\).*\(3, 7, 16\)"):
        functional(shorter)


def test_from_config_custom_objects_reach_a_layers_own_from_config():
    # keras-io's saving guide rebuilds a model whose Dense uses a registered custom activation,
    # passing it only through `custom_objects`: Dense's own `from_config` must see it too.
    def custom_fn(x):
        return x**2

    registered = keras.saving.register_keras_serializable(package="ports_test", name="square")(custom_fn)
    x = keras.Input((3,))
    model = keras.Model(x, layers.Dense(2, activation=registered)(x))
    config = model.get_config()
    keras.saving.get_custom_objects().pop("ports_test>square")
    rebuilt = keras.Model.from_config(config, custom_objects={"ports_test>square": custom_fn})
    assert rebuilt.layers[1].activation is custom_fn
    stack = keras.Sequential([keras.Input((3,)), layers.Dense(2, activation=registered)])
    rebuilt = keras.Sequential.from_config(stack.get_config(), custom_objects={"ports_test>square": custom_fn})
    assert rebuilt.layers[0].activation is custom_fn


def test_not_equal_and_round_on_keras_tensors_record_ops_as_keras():
    # Keras's KerasTensor makes `x != 0` an op (a padding mask) and `x == y` identity; a Python
    # `True` there would silently turn the mask into a constant.
    import keras as real_keras

    data = np.array([[0.0, 1.44, 0.0, 2.66]], "float32")
    outputs = []
    for library in (keras, real_keras):
        x = library.Input((4,), name="x")
        model = library.Model(x, [library.ops.cast(x != 0, "float32"), round(x, 1), round(x)])
        outputs.append([np.asarray(o.detach().cpu()) for o in model(data)])
        assert (x == x) is True
    for ours, theirs in zip(*outputs):
        np.testing.assert_allclose(ours, theirs, atol=1e-6)
    np.testing.assert_array_equal(outputs[0][0], [[0.0, 1.0, 0.0, 1.0]])


@pytest.mark.parametrize("save", ["pickle", "torch.save"])
def test_pickling_a_graph_model_says_how_to_save_it(save):
    import io
    import pickle

    inputs = keras.Input((3,))
    model = keras.Model(inputs, layers.Dense(1)(inputs))
    with pytest.raises(TypeError, match=r"never pickles.*model\.save"):
        if save == "pickle":
            pickle.dumps(model)
        else:
            torch.save(model, io.BytesIO())


def test_intermediate_tensors_as_inputs_get_their_own_inputs_as_in_keras():
    keras3 = pytest.importorskip("keras")

    def build(lib):
        a, b = lib.Input((1,), name="a"), lib.Input((2,), name="b")
        pre = lib.layers.Dense(3, name="pre")(a)
        head = lib.layers.Dense(1, name="head")(lib.layers.Concatenate()([pre, b]))
        return lib.Model({"a": pre, "b": b}, head), lib.Model([a, b], head)

    (theirs, theirs_whole), (ours, ours_whole) = build(keras3), build(keras)
    names = [layer.name for layer in ours.layers]
    pre_output = ours_whole.get_layer("pre").output.name  # the tensors' own counters differ
    assert names == [pre_output + "CLONE", "b", "concatenate", "head"]
    assert [layer.name for layer in theirs.layers][1:] == names[1:]
    assert theirs.layers[0].name.endswith("CLONE")
    assert ours.count_params() == theirs.count_params() == 6
    assert len(ours.get_weights()) == 2 and len(ours_whole.get_weights()) == 4
    assert ours.get_config()["input_layers"] == {"a": [names[0], 0, 0], "b": ["b", 0, 0]}
    ours.set_weights([np.asarray(w) for w in theirs.get_weights()])
    x = {"a": np.ones((2, 3), "float32"), "b": np.full((2, 2), 0.5, "float32")}
    np.testing.assert_allclose(ours.predict(x, verbose=0), theirs.predict(x, verbose=0), rtol=1e-6)
    rebuilt = keras.Model.from_config(ours.get_config())
    assert [layer.name for layer in rebuilt.layers] == [layer.name for layer in ours.layers]
    # The original graph is untouched: the whole model still runs `pre`.
    assert "pre" in [layer.name for layer in ours_whole.layers]


def test_a_graph_model_of_a_model_subclass_takes_the_subclass_name_as_keras():
    class EmbeddingModel(keras.Model):
        pass

    inputs = keras.Input((3,))
    assert EmbeddingModel(inputs, layers.Dense(2)(inputs)).name == "embedding_model"
    assert keras.Model(inputs, layers.Dense(2)(inputs)).name == "functional"
