"""Execution-plan fusion (keraslike/graph/fusion.py): fused chains compute what the unfused
nodes compute, forward and backward, and near-misses are left alone."""

import copy
import random

import pytest
import torch
import torch.nn.functional as F

import keraslike as keras
from keraslike import layers


def _hard_sigmoid(x, variant):
    if variant == "relu_layer":
        return layers.ReLU(6.0)(x + 3.0) * (1.0 / 6.0)
    if variant == "reflected_div":
        return layers.ReLU(max_value=6)(3.0 + x) / 6.0
    if variant == "relu6_activation":
        return (1.0 / 6.0) * layers.Activation("relu6")(x + 3)
    if variant == "activation":
        return layers.Activation("hard_sigmoid")(x)
    raise AssertionError(variant)


def _reference(x, variant):
    # The unfused chain, computed op by op on real tensors.
    if variant == "activation":
        return F.hardsigmoid(x)
    y = F.relu6(x + 3.0)
    return y / 6.0 if variant == "reflected_div" else y * (1.0 / 6.0)


def _num_steps(model):
    return len(model._plan.current_steps())


def _random_model(seed, variant, swish, multiply_layer=False):
    rng = random.Random(seed)
    width = rng.choice([3, 5, 8])
    inputs = keras.Input((width,))
    x = inputs
    for _ in range(rng.randint(0, 2)):
        x = layers.Dense(width)(x)
    h = _hard_sigmoid(x, variant)
    if swish:
        h = layers.Multiply()([x, h]) if multiply_layer else (h * x if seed % 2 else x * h)
    outputs = layers.Dense(2)(h) if rng.random() < 0.5 else h
    return keras.Model(inputs, outputs), width


def _eager_reference(model, x, variant, swish):
    # The same layers run eagerly node by node: Dense stack, then the chain, then the head.
    dense = [layer for layer in model.layers if isinstance(layer, layers.Dense)]
    head = dense[-1] if dense and dense[-1].units == 2 else None
    body = dense[:-1] if head is not None else dense
    for layer in body:
        x = layer(x)
    h = _reference(x, variant)
    if swish:
        h = x * h
    return head(h) if head is not None else h


@pytest.mark.parametrize("seed", range(6))
@pytest.mark.parametrize("variant", ["relu_layer", "reflected_div", "relu6_activation", "activation"])
@pytest.mark.parametrize("swish", [False, True])
def test_fused_equals_unfused_forward_and_backward(seed, variant, swish):
    keras.utils.set_random_seed(seed)  # initial weights draw seeds from Python's `random`
    model, width = _random_model(seed, variant, swish, multiply_layer=seed % 3 == 0)
    unfused_steps = len(model._plan.step_nodes)
    fused_chain = 1 if variant == "activation" else 3
    expected = unfused_steps - (fused_chain + swish) + 1
    assert _num_steps(model) == expected
    # Values around the kinks (-3, 3) included.
    x = torch.cat([torch.randn(6, width) * 4, torch.full((1, width), -3.0), torch.full((1, width), 3.0)])
    x_ref = x.clone().requires_grad_(True)
    x_fused = x.clone().requires_grad_(True)
    got = model(x_fused)
    want = _eager_reference(model, x_ref, variant, swish)
    torch.testing.assert_close(got, want, rtol=1e-6, atol=1e-6)
    got.square().sum().backward()
    grads_fused = [x_fused.grad] + [p.grad.clone() for p in model.parameters()]
    model.zero_grad()
    want.square().sum().backward()
    grads_ref = [x_ref.grad] + [p.grad for p in model.parameters()]
    for a, b in zip(grads_fused, grads_ref):
        # Fusion reorders float32 sums: an element that cancels to near zero may differ by a
        # few ulps of the tensor's largest value, not of itself.
        torch.testing.assert_close(a, b, rtol=1e-5, atol=1e-6 + 1e-5 * b.abs().max().item())


def test_mobilenet_style_squeeze_excite_is_fused():
    inputs = keras.Input((4, 4, 8))
    s = layers.GlobalAveragePooling2D(keepdims=True)(inputs)
    s = layers.Conv2D(8, 1)(s)
    s = layers.ReLU(6.0)(s + 3.0) * (1.0 / 6.0)
    model = keras.Model(inputs, layers.Multiply()([inputs, s]))
    assert _num_steps(model) == len(model._plan.step_nodes) - 2
    x = torch.randn(2, 4, 4, 8)
    conv = model.layers[2]
    s_ref = conv(x.mean(dim=(1, 2), keepdim=True))
    torch.testing.assert_close(model(x), x * F.relu6(s_ref + 3.0) * (1.0 / 6.0), rtol=1e-6, atol=1e-6)


def _near_miss(kind):
    inputs = keras.Input((5,))
    if kind == "max_value_5":
        return keras.Model(inputs, layers.ReLU(5.0)(inputs + 3.0) * (1.0 / 6.0))
    if kind == "negative_slope":
        return keras.Model(inputs, layers.ReLU(6.0, negative_slope=0.1)(inputs + 3.0) * (1.0 / 6.0))
    if kind == "threshold":
        return keras.Model(inputs, layers.ReLU(6.0, threshold=0.5)(inputs + 3.0) * (1.0 / 6.0))
    if kind == "add_2":
        return keras.Model(inputs, layers.ReLU(6.0)(inputs + 2.0) * (1.0 / 6.0))
    if kind == "scale_0.17":
        return keras.Model(inputs, layers.ReLU(6.0)(inputs + 3.0) * 0.17)
    if kind == "sub_not_add":
        return keras.Model(inputs, layers.ReLU(6.0)(inputs - 3.0) * (1.0 / 6.0))
    if kind == "intermediate_is_output":
        shifted = inputs + 3.0
        return keras.Model(inputs, [layers.ReLU(6.0)(shifted) * (1.0 / 6.0), shifted])
    if kind == "intermediate_used_twice":
        clipped = layers.ReLU(6.0)(inputs + 3.0)
        return keras.Model(inputs, clipped * (1.0 / 6.0) + clipped)
    if kind == "x_read_after_chain":
        # Swish with `x` read by another node between: left alone (the fused step could not free x).
        h = layers.ReLU(6.0)(inputs + 3.0) * (1.0 / 6.0)
        return keras.Model(inputs, [x_times(inputs, h), layers.Dense(2)(inputs)])
    raise AssertionError(kind)


def x_times(x, h):
    return layers.Multiply()([x, layers.Dense(5)(h)])


@pytest.mark.parametrize(
    "kind",
    [
        "max_value_5", "negative_slope", "threshold", "add_2", "scale_0.17", "sub_not_add",
        "intermediate_is_output", "intermediate_used_twice",
    ],
)  # fmt: skip
def test_near_misses_are_left_alone(kind):
    model = _near_miss(kind)
    assert _num_steps(model) == len(model._plan.step_nodes)
    x = torch.randn(4, 5) * 4
    relu = next(layer for layer in model.layers if isinstance(layer, layers.ReLU))
    added = x + (2.0 if kind == "add_2" else -3.0 if kind == "sub_not_add" else 3.0)
    clipped = relu(added)
    scaled = clipped * (0.17 if kind == "scale_0.17" else 1.0 / 6.0)
    outputs = model(x)
    if kind == "intermediate_is_output":
        torch.testing.assert_close(outputs[0], scaled)
        torch.testing.assert_close(outputs[1], added)
    elif kind == "intermediate_used_twice":
        torch.testing.assert_close(outputs, scaled + clipped)
    else:
        torch.testing.assert_close(outputs, scaled)


def test_chain_with_input_read_later_is_fused_only_where_safe():
    model = _near_miss("x_read_after_chain")
    # The hard sigmoid itself is fused (its input is read by other nodes but the chain's
    # intermediates are not); no swish exists here.
    assert _num_steps(model) == len(model._plan.step_nodes) - 2
    x = torch.randn(3, 5)
    a, b = model(x)
    dense_h, dense_x = [layer for layer in model.layers if isinstance(layer, layers.Dense)]
    torch.testing.assert_close(a, x * dense_h(F.hardsigmoid(x)), rtol=1e-6, atol=1e-6)
    torch.testing.assert_close(b, dense_x(x))


def test_swish_with_x_read_in_between_stays_correct():
    inputs = keras.Input((5,))
    h = layers.ReLU(6.0)(inputs + 3.0) * (1.0 / 6.0)
    side = layers.Dense(5)
    model = keras.Model(inputs, [inputs * h, side(inputs)])
    # Wherever the topological order puts `side`, no step may read a freed slot.
    x = torch.randn(3, 5)
    a, b = model(x)
    torch.testing.assert_close(a, F.hardswish(x), rtol=1e-6, atol=1e-6)
    torch.testing.assert_close(b, side(x))


def test_config_edit_after_build_falls_back_and_returns():
    inputs = keras.Input((5,))
    relu = layers.ReLU(6.0)
    model = keras.Model(inputs, relu(inputs + 3.0) * (1.0 / 6.0))
    x = torch.linspace(-6, 6, 15).reshape(3, 5)
    torch.testing.assert_close(model(x), F.hardsigmoid(x), rtol=1e-6, atol=1e-6)
    relu.max_value = 5.0  # the fused step sees it on the next call
    torch.testing.assert_close(model(x), torch.clamp(x + 3.0, 0.0, 5.0) * (1.0 / 6.0))
    relu.max_value = 6.0
    torch.testing.assert_close(model(x), F.hardsigmoid(x), rtol=1e-6, atol=1e-6)


def test_hook_on_a_chain_layer_disables_the_fusion():
    inputs = keras.Input((5,))
    relu = layers.ReLU(6.0)
    model = keras.Model(inputs, relu(inputs + 3.0) * (1.0 / 6.0))
    fused = _num_steps(model)
    seen = []
    handle = relu.register_forward_hook(lambda module, args, output: seen.append(output))
    assert _num_steps(model) == fused + 2
    x = torch.randn(2, 5)
    model(x)
    assert len(seen) == 1
    torch.testing.assert_close(seen[0], F.relu6(x + 3.0))
    handle.remove()


def test_errors_in_steps_after_fusion_name_the_right_layer():
    inputs = keras.Input((5,))
    h = layers.ReLU(6.0)(inputs + 3.0) * (1.0 / 6.0)
    dense = layers.Dense(3, name="after_fusion")
    model = keras.Model(inputs, dense(h))
    dense.weight.data = torch.zeros(3, 4)  # a broken weight: the matmul fails at run time
    with pytest.raises(RuntimeError) as info:
        model(torch.randn(2, 5))
    assert any("after_fusion" in note for note in getattr(info.value, "__notes__", []))


@pytest.mark.slow
def test_fused_model_compiles_fullgraph_and_trains():
    inputs = keras.Input((6,))
    x = layers.Dense(6)(inputs)
    h = x * (layers.ReLU(6.0)(x + 3.0) * (1.0 / 6.0))
    model = keras.Model(inputs, layers.Dense(1)(h))
    assert _num_steps(model) == len(model._plan.step_nodes) - 3
    data = torch.randn(8, 6)
    eager = model(data)
    compiled = torch.compile(model, fullgraph=True)
    out = compiled(data)
    torch.testing.assert_close(out, eager)
    out.sum().backward()
    assert all(p.grad is not None for p in model.parameters())


@pytest.mark.parametrize("called_first", [False, True])
def test_deepcopied_model_runs_its_own_layers(called_first):
    # The plan's slots are keyed by tensor ids and its steps close over layers: a deep copy
    # rebuilds it over the copied graph (it failed with a KeyError, or ran the original's layers).
    inputs = keras.Input((4,))
    h = layers.Dense(4)(inputs)
    model = keras.Model(inputs, layers.Dense(2)(layers.ReLU(6.0)(h + 3.0) * (1.0 / 6.0)))
    x = torch.randn(3, 4)
    if called_first:
        model(x)
    twin = copy.deepcopy(model)
    torch.testing.assert_close(twin(x), model(x))
    with torch.no_grad():
        for p in twin.parameters():
            p.zero_()
    assert torch.count_nonzero(twin(x)) == 0
    assert torch.count_nonzero(model(x)) > 0
