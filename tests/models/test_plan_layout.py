"""Layout propagation in execution plans (keraslike/graph/layout.py): image layers pass
channels-first views along, with the numbers, gradients, BatchNorm statistics and hooks of the
plain plan, and far fewer permutes."""

import collections
import random

import pytest
import torch
from torch.utils._python_dispatch import TorchDispatchMode

import keraslike as keras
from keraslike import layers
from keraslike.graph import hook_registry, layout


class _Count(TorchDispatchMode):
    def __init__(self):
        super().__init__()
        self.ops = collections.Counter()

    def __torch_dispatch__(self, func, types, args=(), kwargs=None):
        self.ops[func.overloadpacket.__name__] += 1
        return func(*args, **(kwargs or {}))


@pytest.fixture
def without_layout(monkeypatch):
    """Turns the pass off (and back on) for the plans compiled next."""

    def switch(off):
        if off:
            monkeypatch.setattr(layout, "propagate", lambda nodes, steps, *args: (steps, None))
        else:
            monkeypatch.undo()
        hook_registry.bump()

    yield switch
    hook_registry.bump()


def _permutes(model, x, **kwargs):
    with torch.no_grad(), _Count() as count:
        model(x, **kwargs)
    return count.ops["permute"] + count.ops["movedim"]


def _block(x, rng, channels):
    kind = rng.choice(["conv", "depthwise", "residual", "se", "pad_stride", "pool", "pad_fold"])
    if kind == "conv":
        x = layers.Conv2D(channels, rng.choice([1, 3]), padding="same", activation=rng.choice([None, "relu"]))(x)
        x = layers.BatchNormalization()(x)
        return layers.Activation(rng.choice(["relu", "swish", "hard_swish"]))(x)
    if kind == "depthwise":
        x = layers.DepthwiseConv2D(3, padding="same", use_bias=False)(x)
        return layers.ReLU(6.0)(layers.BatchNormalization()(x))
    if kind == "residual":
        y = layers.Conv2D(channels, 3, padding="same")(x)
        y = layers.BatchNormalization()(y)
        return layers.Add()([x, y]) if rng.random() < 0.5 else x + y * 0.5
    if kind == "se":
        s = layers.GlobalAveragePooling2D(keepdims=rng.random() < 0.5)(x)
        if len(s.shape) == 2:
            s = layers.Reshape((1, 1, channels))(s)
        s = layers.Conv2D(channels, 1, activation="sigmoid")(s)
        return layers.Multiply()([x, s])
    if kind == "pool":
        pool = rng.choice([layers.MaxPooling2D, layers.AveragePooling2D])
        x = pool(rng.choice([1, 2, 3]), strides=rng.choice([1, 2]), padding=rng.choice(["valid", "same"]))(x)
        return layers.Activation("relu")(layers.BatchNormalization()(x))
    if kind == "pad_fold":  # a symmetric ZeroPadding folded into the "valid" convolution after it
        x = layers.ZeroPadding2D(rng.choice([1, (1, 2)]))(x)
        if rng.random() < 0.5:
            return layers.DepthwiseConv2D(3, strides=rng.choice([1, 2]), use_bias=False)(x)
        return layers.Conv2D(channels, 3, strides=rng.choice([1, 2]))(x)
    x = layers.ZeroPadding2D(((0, 1), (0, 1)))(x)
    return layers.Conv2D(channels, 3, strides=2, padding="valid")(x)


def _random_model(seed):
    rng = random.Random(seed)
    channels = rng.choice([4, 6])
    inputs = keras.Input((rng.choice([8, 9]), 8, 3))
    x = layers.Conv2D(channels, 3, padding="same")(inputs)
    for _ in range(rng.randint(2, 5)):
        x = _block(x, rng, channels)
    head = rng.choice(["gap", "flatten", "image"])
    if head == "gap":
        outputs = layers.Dense(3)(layers.GlobalAveragePooling2D()(x))
    elif head == "flatten":
        outputs = layers.Dense(3)(layers.Flatten()(x))
    else:
        outputs = x
    return keras.Model(inputs, outputs)


def _randomize_bn(model):
    for module in model.modules():
        if isinstance(module, layers.BatchNormalization):
            with torch.no_grad():
                module.running_mean.uniform_(-0.5, 0.5)
                module.running_var.uniform_(0.5, 2.0)


@pytest.mark.parametrize("seed", range(12))
def test_random_image_graphs_match_the_plain_plan(seed, without_layout):
    torch.manual_seed(seed)
    model = _random_model(seed)
    _randomize_bn(model)
    twin = _random_model(seed)
    twin.set_weights(model.get_weights())
    x = torch.randn(2, *model.input.shape[1:])

    def run(m, training):
        xin = x.clone().requires_grad_(True)
        out = m(xin, training=training)
        out.square().sum().backward()
        stats = [b.clone() for name, b in m.named_buffers() if "running" in name]
        return out.detach(), [xin.grad] + [p.grad for p in m.parameters()], stats

    fast_permutes = _permutes(model, x)
    for training in (False, True):
        got = run(model, training)
        without_layout(True)
        want = run(twin, training)
        slow_permutes = _permutes(twin, x)
        without_layout(False)
        torch.testing.assert_close(got[0], want[0], rtol=1e-5, atol=1e-5)
        for a, b in zip(got[1], want[1]):  # a folded padding sums in another order (grads ~1)
            torch.testing.assert_close(a, b, rtol=1e-4, atol=5e-5)
        for a, b in zip(got[2], want[2]):  # BatchNorm moving statistics after a training call
            torch.testing.assert_close(a, b, rtol=1e-6, atol=1e-6)
        model.zero_grad()
        twin.zero_grad()
    assert fast_permutes < slow_permutes


def test_conv_chain_permutes_only_at_the_ends():
    inputs = keras.Input((8, 8, 3))
    x = layers.Conv2D(4, 3, padding="same")(inputs)
    x = layers.BatchNormalization()(x)
    x = layers.ReLU()(x)
    y = layers.DepthwiseConv2D(3, padding="same")(x)
    x = layers.Add()([x, layers.BatchNormalization()(y)])
    model = keras.Model(inputs, x)
    assert _permutes(model, torch.randn(1, 8, 8, 3)) == 2  # in, and the output back
    assert tuple(model(torch.randn(2, 8, 8, 3)).shape) == (2, 8, 8, 4)


@pytest.mark.parametrize("reader", ["conv", "batchnorm", "add", "pool"])
def test_returned_image_read_by_later_layers_is_the_tensor_they_read(reader, without_layout):
    # Grad-CAM's `Model(inputs, [last_conv.output, predictions])`: the returned conv output
    # must be an ancestor of the predictions (`autograd.grad(preds, conv_output)`).
    def build():
        inputs = keras.Input((6, 6, 3))
        x = layers.Conv2D(4, 3, padding="same", name="first")(inputs)
        conv = layers.Conv2D(4, 3, padding="same", activation="relu", name="last_conv")(x)
        y = {
            "conv": lambda: layers.Conv2D(4, 1)(conv),
            "batchnorm": lambda: layers.BatchNormalization()(conv),
            "add": lambda: layers.Add()([conv, x]),
            "pool": lambda: layers.MaxPooling2D()(conv),
        }[reader]()
        preds = layers.Dense(3)(layers.GlobalAveragePooling2D()(y))
        return keras.Model(inputs, [conv, preds])

    model = build()
    twin = build()
    twin.set_weights(model.get_weights())
    x = torch.randn(2, 6, 6, 3)

    def grads(m):
        conv, preds = m(x)
        assert tuple(conv.shape) == (2, 6, 6, 4)
        return conv.detach(), preds.detach(), torch.autograd.grad(preds[:, 1].sum(), conv)[0]

    got = grads(model)
    without_layout(True)
    want = grads(twin)
    without_layout(False)
    for a, b in zip(got, want):
        torch.testing.assert_close(a, b, rtol=1e-5, atol=1e-6)


def _ops(model, x):
    with torch.no_grad(), _Count() as count:
        model(x)
    return count.ops


def test_pooling_keeps_channels_first(without_layout):
    inputs = keras.Input((9, 9, 3))
    x = layers.Conv2D(4, 3, padding="same")(inputs)
    x = layers.MaxPooling2D(3, strides=2, padding="same")(x)
    x = layers.BatchNormalization()(x)
    y = layers.MaxPooling2D(1, strides=2)(inputs)  # ResNetV2's shortcut
    x = layers.AveragePooling2D(2, strides=1, padding="same")(x)
    model = keras.Model(inputs, layers.Add()([x, layers.Conv2D(4, 1)(y)]))
    x = torch.randn(2, 9, 9, 3)
    assert _permutes(model, x) == 2  # in, and the output back
    got = model(x)
    without_layout(True)
    assert _permutes(model, x) > 2
    torch.testing.assert_close(got, model(x))


@pytest.mark.parametrize("keepdims", [True, False])
def test_squeeze_excite_runs_channels_first(keepdims, without_layout):
    inputs = keras.Input((6, 6, 8))
    x = layers.Conv2D(8, 3, padding="same")(inputs)
    s = layers.GlobalAveragePooling2D(keepdims=keepdims)(x)
    if not keepdims:
        s = layers.Reshape((1, 1, 8))(s)
    s = layers.Conv2D(2, 1, activation="relu")(s)
    s = layers.Conv2D(8, 1, activation="sigmoid")(s)
    x = layers.Multiply()([x, s])
    model = keras.Model(inputs, layers.BatchNormalization()(layers.Conv2D(4, 1)(x)))
    _randomize_bn(model)
    x = torch.randn(3, 6, 6, 8)
    assert _permutes(model, x) == 2  # in, and the output back
    assert _ops(model, x)["reshape"] + _ops(model, x)["view"] == (0 if keepdims else 1)
    with torch.no_grad():
        got = model(x)
    without_layout(True)
    assert _permutes(model, x) > 8
    torch.testing.assert_close(got, model(x), rtol=1e-5, atol=1e-6)


def test_reshape_to_an_image_runs_channels_first_only_for_a_reader_that_wants_it(without_layout):
    inputs = keras.Input((5, 5, 4))
    pooled = layers.GlobalAveragePooling2D()(layers.Conv2D(6, 3)(inputs))
    image = layers.Reshape((1, 1, 6))(pooled)
    flat = layers.Flatten()(layers.Reshape((1, 1, 6))(pooled))  # channels-last reader
    model = keras.Model(inputs, [layers.Conv2D(3, 1)(image), layers.Dense(2)(flat), image])
    x = torch.randn(2, 5, 5, 4)
    assert _permutes(model, x) == 3  # in, and the two returned images back (none for Flatten)
    got = model(x)
    without_layout(True)
    for a, b in zip(got, model(x)):
        torch.testing.assert_close(a, b)


@pytest.mark.parametrize("noise_shape", [(None, 1, 1, 1), (None, 1, 1, 4)])
def test_per_sample_dropout_keeps_channels_first(noise_shape, without_layout):
    inputs = keras.Input((6, 6, 4))
    x = layers.Conv2D(4, 3, padding="same")(inputs)
    y = layers.Dropout(0.5, noise_shape=noise_shape, seed=3)(layers.Conv2D(4, 1)(x))
    model = keras.Model(inputs, layers.Conv2D(3, 1)(layers.Add()([x, y])))
    twin = keras.Model.from_config(model.get_config())
    twin.set_weights(model.get_weights())
    x = torch.randn(2, 6, 6, 4)
    assert _permutes(model, x) == (2 if noise_shape == (None, 1, 1, 1) else 4)
    got = [model(x, training=True) for _ in range(2)]
    without_layout(True)
    want = [twin(x, training=True) for _ in range(2)]  # the same seeded draws
    for a, b in zip(got, want):
        torch.testing.assert_close(a, b)
    assert not torch.equal(got[0], got[1])


def test_dropout_noise_shape_changed_after_the_plan_compiled_is_seen(without_layout):
    inputs = keras.Input((6, 6, 4))
    drop = layers.Dropout(0.5, noise_shape=(None, 1, 1, 1), seed=3)
    model = keras.Model(inputs, layers.Conv2D(3, 1)(drop(layers.Conv2D(4, 1)(inputs))))
    x = torch.randn(2, 6, 6, 4)
    model(x, training=True)  # compiled with the per-sample mask
    drop.noise_shape = (None, 1, 1, 4)
    drop.seed_generator = type(drop.seed_generator)(3)
    got = model(x, training=True)
    without_layout(True)
    drop.seed_generator = type(drop.seed_generator)(3)
    torch.testing.assert_close(got, model(x, training=True))


def _padded_conv_model(padding, conv):
    inputs = keras.Input((8, 7, 3))
    x = layers.Conv2D(4, 1)(inputs)
    x = layers.ZeroPadding2D(padding, name="pad")(x)
    x = conv(x)
    return keras.Model(inputs, layers.BatchNormalization()(x))


@pytest.mark.parametrize(
    "conv",
    [
        lambda: layers.Conv2D(5, 3, name="conv"),
        lambda: layers.Conv2D(5, 3, strides=2, activation="relu", name="conv"),
        lambda: layers.DepthwiseConv2D(3, strides=2, name="conv"),
    ],
)
@pytest.mark.parametrize("padding", [1, (2, 1)])
def test_symmetric_zero_padding_folds_into_the_valid_convolution(padding, conv, without_layout):
    torch.manual_seed(0)
    model = _padded_conv_model(padding, conv())
    _randomize_bn(model)
    x = torch.randn(2, 8, 7, 3)
    assert _ops(model, x)["constant_pad_nd"] + _ops(model, x)["pad"] == 0  # no padded copy
    got = model(x)
    without_layout(True)
    assert _ops(model, x)["constant_pad_nd"] + _ops(model, x)["pad"] == 1
    torch.testing.assert_close(got, model(x), rtol=1e-5, atol=1e-6)


def _pads(model, x):
    ops = _ops(model, x)
    return ops["constant_pad_nd"] + ops["pad"]


def test_zero_padding_stays_where_it_cannot_fold(without_layout):
    torch.manual_seed(0)
    x = torch.randn(2, 8, 7, 3)
    asymmetric = _padded_conv_model(((0, 1), (1, 1)), layers.Conv2D(5, 3))
    same = _padded_conv_model(1, layers.Conv2D(5, 3, padding="same"))
    inputs = keras.Input((8, 7, 3))
    padded = layers.ZeroPadding2D(1)(inputs)
    twice = keras.Model(inputs, layers.Add()([layers.Conv2D(3, 3)(padded), layers.Conv2D(3, 3)(padded)]))
    returned = keras.Model(inputs, [padded, layers.Conv2D(3, 3)(padded)])
    for model in (asymmetric, same, twice, returned):
        assert _pads(model, x) == 1
    got = [twice(x), *returned(x)]
    without_layout(True)
    for a, b in zip(got, [twice(x), *returned(x)]):
        torch.testing.assert_close(a, b)
    assert tuple(got[1].shape) == (2, 10, 9, 3)


def test_lora_enabled_on_a_folded_convolution_is_seen(without_layout):
    torch.manual_seed(0)
    model = _padded_conv_model(1, layers.Conv2D(5, 3, name="conv"))
    x = torch.randn(2, 8, 7, 3)
    model(x)  # compiles the folded steps
    conv = model.get_layer("conv")
    conv.enable_lora(2)
    with torch.no_grad():
        conv.lora_kernel_b.normal_()
    got = model(x)
    without_layout(True)
    torch.testing.assert_close(got, model(x))


def _conv_model():
    inputs = keras.Input((6, 6, 3))
    conv = layers.Conv2D(4, 3, padding="same", name="conv")
    act = layers.Activation("relu", name="act")
    x = act(layers.BatchNormalization()(conv(inputs)))
    return keras.Model(inputs, layers.Conv2D(2, 1)(x)), conv, act


def test_lora_enabled_after_the_plan_compiled_is_seen(without_layout):
    torch.manual_seed(0)
    model, conv, _ = _conv_model()
    x = torch.randn(2, 6, 6, 3)
    model(x)  # compiles the channels-first steps
    conv.enable_lora(2)
    with torch.no_grad():
        conv.lora_kernel_b.normal_()
    got = model(x)
    without_layout(True)
    torch.testing.assert_close(got, model(x))


def test_activation_reassigned_after_the_plan_compiled_is_seen(without_layout):
    torch.manual_seed(0)
    model, _, act = _conv_model()
    x = torch.randn(2, 6, 6, 3)
    model(x)
    act.activation = keras.activations.softmax  # along the channels: not element by element
    got = model(x)
    without_layout(True)
    torch.testing.assert_close(got, model(x))


def test_hooked_layer_sees_channels_last_inputs():
    model, conv, _ = _conv_model()
    seen = []
    conv.register_forward_hook(lambda module, args, output: seen.append((args[0].shape, output.shape)))
    model(torch.randn(2, 6, 6, 3))
    assert seen == [(torch.Size([2, 6, 6, 3]), torch.Size([2, 6, 6, 4]))]


def test_channels_first_models_are_left_alone(without_layout):
    keras.config.set_image_data_format("channels_first")
    try:
        inputs = keras.Input((3, 6, 6))
        x = layers.Conv2D(4, 3, padding="same")(inputs)
        x = layers.BatchNormalization(axis=1)(x)
        model = keras.Model(inputs, layers.GlobalAveragePooling2D()(x))
    finally:
        keras.config.set_image_data_format("channels_last")
    x = torch.randn(2, 3, 6, 6)
    got = model(x)
    assert _permutes(model, x) == 0
    without_layout(True)
    torch.testing.assert_close(got, model(x))


@pytest.mark.slow
def test_layout_model_compiles_fullgraph():
    torch.manual_seed(0)
    model = _random_model(3)
    x = torch.randn(2, *model.input.shape[1:])
    # Inference only: BatchNormalization under torch.compile with autograd on fails on torch
    # 2.13 with or without this pass ("Multiple dispatch failed for aten.detach").
    with torch.no_grad():
        torch.testing.assert_close(torch.compile(model, fullgraph=True)(x), model(x))
    # Without BatchNormalization, forward and backward.
    inputs = keras.Input((6, 6, 3))
    a = layers.Conv2D(4, 3, padding="same", activation="relu")(inputs)
    b = layers.DepthwiseConv2D(3, padding="same")(a)
    out = layers.GlobalAveragePooling2D()(layers.Add()([a, b * 0.5]))
    small = keras.Model(inputs, out)
    assert _permutes(small, torch.randn(1, 6, 6, 3)) == 1
    x = torch.randn(2, 6, 6, 3)
    got = torch.compile(small, fullgraph=True)(x)
    torch.testing.assert_close(got, small(x))
    got.sum().backward()
    assert all(p.grad is not None for p in small.parameters())


@pytest.mark.cuda
@pytest.mark.parametrize("name", ["MobileNetV3Small", "EfficientNetB0", "ResNet50V2"])
def test_applications_on_cuda_match_the_plain_plan_with_fewer_ops(name, without_layout):
    model = getattr(keras.applications, name)(weights=None, input_shape=(64, 64, 3)).to("cuda")
    x = torch.rand(2, 64, 64, 3, device="cuda") * 255
    with torch.no_grad():
        got = model(x)
        with _Count() as fast:
            model(x)
        without_layout(True)
        want = model(x)
        with _Count() as slow:
            model(x)
    torch.testing.assert_close(got, want, rtol=1e-5, atol=1e-6)
    assert sum(fast.ops.values()) < sum(slow.ops.values())
