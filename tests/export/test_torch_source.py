"""Ejecting to plain PyTorch source: every seed model of the guide runs without keraslike and matches."""

import os
import subprocess
import sys

import pytest
import torch

import keraslike as keras
from keraslike import layers
from keraslike.export import to_torch_source
from tests.models import seed_models


def _settle(model):
    for module in model.modules():
        if hasattr(module, "running_mean"):
            with torch.no_grad():
                module.running_mean.uniform_(-1, 1)
                module.running_var.uniform_(0.5, 2)
    return model


def _ticket():
    return seed_models.ticket_model(keras, num_words=50)


def _encoder_decoder():
    return seed_models.encoder_decoder(keras)[2]


def _shared_graph_autoencoder():
    return seed_models.shared_graph_autoencoder(keras)[1]


def _shared_embedding():
    # The guide's shared layers: one Embedding used by two inputs.
    shared = layers.Embedding(100, 16)
    text_a = keras.Input(shape=(None,), dtype="int32")
    text_b = keras.Input(shape=(None,), dtype="int32")
    merged = layers.concatenate([shared(text_a), shared(text_b)], axis=1)
    return keras.Model([text_a, text_b], layers.GlobalAveragePooling1D()(merged))


def _everything_else():
    inputs = keras.Input((12, 12, 3))
    x = layers.ZeroPadding2D(1)(inputs)
    x = layers.Conv2D(6, 3, strides=2, padding="same", use_bias=False)(x)
    x = layers.BatchNormalization()(x)
    x = layers.Activation("gelu")(x)
    x = layers.AveragePooling2D(2, padding="same")(x)
    x = layers.Conv2DTranspose(4, 3, strides=2, padding="same", activation="sigmoid")(x)
    x = layers.MaxPooling2D(3, strides=2, padding="same")(x)
    x = layers.Reshape((-1, 4))(x)
    x = layers.LayerNormalization()(x)
    x = layers.Conv1D(5, 2, padding="causal", dilation_rate=2)(x)
    x = layers.GRU(3, return_sequences=True, go_backwards=True)(x)
    x = layers.SimpleRNN(4)(x)
    y = layers.Dense(4, activation="softmax")(x)
    z = layers.subtract([x, y])
    z = layers.maximum([z, layers.multiply([x, y])])
    return keras.Model(inputs, [z, x * 2.0 + 1.0])


def _mobile_blocks():
    # The layers the mobile application families add: preprocessing, depthwise convolutions, ReLU.
    inputs = keras.Input((12, 12, 3))
    x = layers.Rescaling(1 / 127.5, offset=-1)(inputs)
    x = layers.Normalization(mean=[0.1, 0.2, 0.3], variance=[1.0, 2.0, 3.0])(x)
    x = layers.DepthwiseConv2D(3, strides=2, padding="same", depth_multiplier=2, activation="relu")(x)
    x = layers.ReLU(6.0)(x)
    x = layers.ReLU(2.5)(x + 3.0) * (1.0 / 6.0)
    adapted = layers.Normalization(axis=-1)
    adapted.adapt(torch.rand(20, 6, 6, 6).numpy())
    x = layers.DepthwiseConv1D(2)(layers.Reshape((-1, 6))(adapted(x)))
    return keras.Model(inputs, layers.ReLU()(x))


def _application(name):
    return lambda: getattr(keras.applications, name)(weights=None, input_shape=(32, 32, 3))


CASES = {
    "mobile_blocks": _mobile_blocks,
    "EfficientNetB0": _application("EfficientNetB0"),
    "MobileNetV3Small": _application("MobileNetV3Small"),
    "mnist_model": lambda: seed_models.mnist_model(keras),
    "toy_resnet": lambda: seed_models.toy_resnet(keras),
    "encoder_decoder_nested": _encoder_decoder,
    "shared_graph_autoencoder": _shared_graph_autoencoder,
    "ensemble_of_nested_models": lambda: seed_models.ensemble(keras),
    "ticket_routing_dict_outputs": _ticket,
    "shared_embedding": _shared_embedding,
    "many_layer_kinds": _everything_else,
}


def _sample_inputs(model):
    inputs = []
    for tensor in model.inputs:
        shape = [3] + [7 if d is None else d for d in tensor.shape[1:]]
        if "int" in str(tensor.dtype) or tensor._keras_history[0].name in ("title", "body"):
            inputs.append(torch.randint(0, 50, shape).to(torch.float32 if "float" in str(tensor.dtype) else torch.int32))
        else:
            inputs.append(torch.randn(shape))
    return inputs


@pytest.mark.parametrize(
    "case", [c if c in ("many_layer_kinds", "mobile_blocks") else pytest.param(c, marks=pytest.mark.slow)
             for c in sorted(CASES)]
)
def test_ejected_source_matches_in_a_fresh_process(case, tmp_path):
    model = _settle(CASES[case]())
    path = tmp_path / f"{case}.py"
    to_torch_source(model, path, inputs=_sample_inputs(model))  # raises when outputs differ
    source = path.read_text()
    assert "import keraslike" not in source and "from keraslike" not in source
    compile(source, str(path), "exec")


@pytest.mark.slow
def test_big_conv_sequential_of_the_guide_ejects(tmp_path):
    """Seed 001's 92,218,123-parameter Sequential model: 352 MB of weights through the file."""
    model = seed_models.big_conv_sequential(keras)
    path = tmp_path / "s_model.py"
    to_torch_source(model, path, inputs=[torch.rand(1, 224, 224, 3)])
    assert "class SModel(nn.Module):" in path.read_text()
    assert (tmp_path / "s_model.safetensors").stat().st_size > 92_218_123 * 4


def test_ejected_module_loads_strictly_and_reads_like_torch(tmp_path):
    model = seed_models.toy_resnet(keras)
    path = tmp_path / "toy_resnet.py"
    to_torch_source(model, path, verify=False)
    source = path.read_text()
    assert "class ToyResnet(nn.Module):" in source
    assert "self.conv2d = nn.Conv2d(3, 32, kernel_size=(3, 3))" in source
    assert "# (B, 30, 30, 32)" in source
    program = (
        "import runpy, sys, torch\n"
        f"module = runpy.run_path({str(path)!r})\n"
        "model = module['load']()\n"
        "assert not any(n.startswith('keraslike') for n in sys.modules)\n"
        "print(sum(p.numel() for p in model.parameters()))\n"
    )
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    out = subprocess.run([sys.executable, "-c", program], capture_output=True, text=True, env=env, cwd=tmp_path, timeout=300)
    assert out.returncode == 0, out.stderr[-2000:]
    assert int(out.stdout.strip()) == model.count_params()


class _Custom(layers.Layer):
    def call(self, x):
        return x * 3


def test_untranslatable_layers_are_all_named(tmp_path):
    inputs = keras.Input((4,))
    x = _Custom(name="tripler")(inputs)
    x = layers.Dense(2, activation=lambda t: t * 2, name="odd_activation")(x)
    model = keras.Model(inputs, x)
    with pytest.raises(ValueError) as info:
        to_torch_source(model, tmp_path / "m.py")
    message = str(info.value)
    assert '"tripler" (_Custom)' in message and '"odd_activation" (Dense)' in message
    assert not (tmp_path / "m.py").exists()


def test_subclassed_model_is_refused(tmp_path):
    class Sub(keras.Model):
        def call(self, x):
            return x

    with pytest.raises(ValueError, match="has no graph"):
        to_torch_source(Sub(), tmp_path / "m.py")


def test_state_dict_of_the_hand_written_module_loads_into_the_model_and_back(tmp_path):
    """Interop both ways: torch's BatchNorm2d keys (num_batches_tracked included) load into the
    Keras model, and the model's state_dict loads into the torch modules."""
    model = _settle(_everything_else())
    conv = model.layers[2]
    norm = model.layers[3]
    torch_conv = torch.nn.Conv2d(3, 6, 3, stride=2, bias=False)
    torch_norm = torch.nn.BatchNorm2d(6, eps=1e-3)
    torch_conv.load_state_dict({"weight": conv.weight.detach()})
    with torch.no_grad():
        torch_norm.running_mean.uniform_(-1, 1)
        torch_norm.weight.uniform_(0.5, 1.5)
    state = {f"{norm.name}.{k}": v for k, v in torch_norm.state_dict().items()}
    assert f"{norm.name}.num_batches_tracked" in state
    result = model.load_state_dict(state, strict=False)
    assert not result.unexpected_keys
    torch.testing.assert_close(norm.running_mean, torch_norm.running_mean)
    torch.testing.assert_close(norm.weight, torch_norm.weight)
    back = torch.nn.BatchNorm2d(6, eps=1e-3)
    prefix = norm.name + "."
    back.load_state_dict({k[len(prefix):]: v for k, v in model.state_dict().items() if k.startswith(prefix)}, strict=True)
    torch.testing.assert_close(back.running_var, norm.running_var)
    x = torch.randn(2, 5, 5, 6)
    with torch.no_grad():
        torch.testing.assert_close(norm(x, training=False), back.eval()(x.permute(0, 3, 1, 2)).permute(0, 2, 3, 1))


def test_verification_catches_an_ejected_file_that_computes_other_numbers(tmp_path):
    # The check must be able to fail: a weight off by 1e-3 in the written file is caught.
    from safetensors.torch import load_file, save_file

    from keraslike.export.torch_source import verify_torch_source

    model = seed_models.mnist_model(keras)
    path = tmp_path / "mnist.py"
    weights_path = tmp_path / "mnist.safetensors"
    x = torch.rand(2, 784)
    to_torch_source(model, path, inputs=x)
    verify_torch_source(model, str(path), str(weights_path), inputs=x)  # as written: passes
    tensors = load_file(str(weights_path))
    name = sorted(tensors)[0]
    tensors[name] = tensors[name] + 1e-3
    save_file(tensors, str(weights_path))
    with pytest.raises(ValueError, match="differs from the model's"):
        verify_torch_source(model, str(path), str(weights_path), inputs=x)
