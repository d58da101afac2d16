"""Weights are what the module tree holds: torch submodules and `nn.Parameter`s assigned to a layer
count, train and save; `TorchModuleWrapper` (Keras 3's torch-backend layer) and the automatic
wrapping of a torch module called on a KerasTensor; the Keras Variable API on weights."""

import copy

import numpy as np
import pytest
import torch

import keraslike as keras
from keraslike import layers


def _block_class(lib):
    class Block(lib.layers.Layer):
        def __init__(self, **kwargs):
            super().__init__(**kwargs)
            self.seq = torch.nn.Sequential(
                torch.nn.Linear(4, 8), torch.nn.ReLU(), torch.nn.Linear(8, 2)
            )
            self.dense = lib.layers.Dense(2)

        def call(self, x):
            return self.dense(self.seq(x))

    return Block


def test_torch_submodule_weights_count_as_in_keras(keras_oracle):
    counts = []
    for lib in (keras, keras_oracle):
        inputs = lib.Input((4,))
        model = lib.Model(inputs, _block_class(lib)()(inputs))
        counts.append(
            (
                model.count_params(),
                len(model.trainable_weights),
                [tuple(w.shape) for w in model.get_weights()],
            )
        )
    assert counts[0] == counts[1]
    assert counts[0][0] == 4 * 8 + 8 + 8 * 2 + 2 + 2 * 2 + 2


def _custom_model():
    class Block(layers.Layer):
        def __init__(self, **kwargs):
            super().__init__(**kwargs)
            self.seq = torch.nn.Sequential(torch.nn.Linear(4, 8), torch.nn.Tanh())
            self.scale = torch.nn.Parameter(torch.ones(8))
            self.offset = torch.nn.Parameter(torch.zeros(8), requires_grad=False)

        def call(self, x):
            return self.seq(x) * self.scale + self.offset

    inputs = keras.Input((4,))
    return keras.Model(inputs, layers.Dense(1)(Block()(inputs)))


def test_parameters_and_submodules_are_weights_everywhere():
    model = _custom_model()
    block = model.layers[1]
    assert model.count_params() == 32 + 8 + 8 + 8 + 8 + 1
    assert len(model.weights) == len(list(model.parameters()))
    # The stored tensors are the module's parameters; `weights` shows the Dense kernel in
    # Keras's layout (a view of its parameter), every other one as the parameter itself.
    assert {id(w) for w in model._stored_weights()} == {id(p) for p in model.parameters()}
    assert [tuple(w.shape) for w in model.weights][-2:] == [(8, 1), (1,)]
    assert [id(w) for w in model.non_trainable_weights] == [id(block.offset)]
    assert len(model.trainable_weights) == 5
    lines = []
    model.summary(print_fn=lines.append)
    text = "\n".join(lines)
    assert "Total params: 65" in text and "Non-trainable params: 8" in text
    weights = model.get_weights()
    fresh = _custom_model()
    fresh.set_weights(weights)
    data = torch.randn(5, 4)
    torch.testing.assert_close(fresh(data), model(data))
    block.trainable = False
    assert not block.seq[0].weight.requires_grad and len(model.trainable_weights) == 2
    block.trainable = True
    assert block.seq[0].weight.requires_grad


def test_fit_trains_and_save_restores_torch_submodule_weights(tmp_path):
    model = _custom_model()
    block = model.layers[1]
    before = block.seq[0].weight.detach().clone()
    scale = block.scale.detach().clone()
    model.compile(optimizer="sgd", loss="mse")
    x, y = np.random.rand(16, 4).astype("float32"), np.random.rand(16, 1).astype("float32")
    model.fit(x, y, epochs=2, verbose=0)
    assert not torch.equal(block.seq[0].weight, before)
    assert not torch.equal(block.scale, scale)
    assert torch.equal(block.offset, torch.zeros(8))  # requires_grad=False: not trained
    path = tmp_path / "m.weights.safetensors"
    model.save_weights(path)
    fresh = _custom_model()
    fresh.load_weights(path)
    data = torch.randn(3, 4)
    torch.testing.assert_close(fresh(data), model(data))


def test_torch_module_wrapper_matches_keras(keras_oracle):
    linear = torch.nn.Linear(4, 3)
    outputs = []
    for lib in (keras, keras_oracle):
        inputs = lib.Input((4,))
        wrapped = lib.layers.TorchModuleWrapper(copy.deepcopy(linear), output_shape=(None, 3))
        model = lib.Model(inputs, lib.layers.Dense(2, kernel_initializer="ones")(wrapped(inputs)))
        assert wrapped.name == "torch_module_wrapper"
        assert model.count_params() == 15 + 8
        data = np.ones((2, 4), "float32")
        outputs.append(np.asarray(model.predict(data, verbose=0)))
    np.testing.assert_allclose(outputs[0], outputs[1], rtol=1e-6)


def test_torch_module_wrapper_mode_follows_training_as_keras():
    wrapper = layers.TorchModuleWrapper(torch.nn.Dropout(0.5))
    data = torch.ones(4, 100)
    torch.testing.assert_close(wrapper(data, training=False), data)
    assert (wrapper(data, training=True) == 0).any()
    assert (wrapper(data) == 0).any()  # Keras: train mode unless training is False


def test_torch_module_wrapper_config_never_pickles():
    wrapper = layers.TorchModuleWrapper(torch.nn.Linear(2, 2))
    with pytest.raises(NotImplementedError, match="never pickles"):
        wrapper.get_config()
    with pytest.raises(ValueError, match="torch.load"):
        layers.TorchModuleWrapper.from_config({"module": "gASV...", "name": "w"})
    rebuilt = layers.TorchModuleWrapper.from_config({"module": torch.nn.Linear(2, 2), "name": "w"})
    assert rebuilt.count_params() == 6


def test_torch_module_called_on_keras_tensor_is_wrapped():
    inputs = keras.Input((4,))
    seq = torch.nn.Sequential(torch.nn.Linear(4, 6), torch.nn.ReLU(), torch.nn.Flatten())
    x = seq(inputs)
    assert x.shape == (None, 6)
    linear = torch.nn.Linear(6, 1)
    outputs = linear(x)
    model = keras.Model(inputs, outputs)
    assert [type(layer).__name__ for layer in model.layers] == [
        "InputLayer",
        "TorchModuleWrapper",
        "TorchModuleWrapper",
    ]
    assert model.count_params() == 30 + 7
    data = torch.randn(3, 4)
    torch.testing.assert_close(model(data, training=False), linear(seq(data)))
    assert {id(p) for p in model.trainable_weights} == {
        id(p) for p in list(seq.parameters()) + list(linear.parameters())
    }


def test_weights_offer_the_keras_variable_api():
    dense = layers.Dense(3)
    dense.build((None, 2))
    kernel, bias = dense.weights
    assert kernel.value is kernel and kernel.path == "dense/kernel" and kernel.name == "kernel"
    assert kernel.trainable and bias.name == "bias" and tuple(kernel.shape) == (2, 3)
    dense(torch.ones(1, 2)).sum().backward()
    # The gradient in Keras's layout: the stored `(out, in)` parameter's, transposed.
    torch.testing.assert_close(kernel.value.grad, dense.weight.grad.T)
    kernel.assign(np.zeros((2, 3), "float32"))
    np.testing.assert_array_equal(kernel.numpy(), np.zeros((2, 3)))
    assert bias is dense.bias and isinstance(dense._stored_weights()[0], torch.nn.Parameter)
    assert list(dense.state_dict()) == ["weight", "bias"]
    bn = layers.BatchNormalization()
    bn.build((None, 3))
    moving = bn.non_trainable_weights[0]
    assert moving.path == "batch_normalization/moving_mean" and not moving.trainable
    moving.assign_add(torch.ones(3))
    np.testing.assert_array_equal(bn.running_mean.numpy(), np.ones(3))
    bn.to(torch.float64)
    assert bn.non_trainable_weights[0].path == "batch_normalization/moving_mean"
    assert copy.deepcopy(dense).weights[0].path == "dense/kernel"


def test_variable_weights_compile_without_graph_breaks():
    inputs = keras.Input((4,))
    x = layers.Dense(8)(inputs)
    x = layers.BatchNormalization()(x)
    model = keras.Model(inputs, layers.Dense(1)(x))
    data = torch.randn(6, 4)
    torch._dynamo.reset()
    explanation = torch._dynamo.explain(model)(data, training=True)
    assert explanation.graph_break_count == 0
    compiled = torch.compile(model, fullgraph=True, backend="eager")
    torch.testing.assert_close(compiled(data), model(data))
