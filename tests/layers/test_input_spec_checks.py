"""`InputSpec` checks on eager calls: Keras's ValueError naming the layer, every call, also
after the spec remembered a compatible shape (`assert_input_compatibility`'s fast path)."""

import numpy as np
import pytest
import torch

import keraslike as keras
from keraslike import layers
from keraslike.layers.input_spec import InputSpec, assert_input_compatibility


def test_dense_checks_each_eager_call_after_an_accepted_shape():
    dense = layers.Dense(3, name="head")
    dense(torch.zeros(2, 4))
    dense(torch.zeros(5, 4))  # another batch size: still compatible
    with pytest.raises(ValueError, match=r'layer "head" is incompatible.*axis -1.*value 4'):
        dense(torch.zeros(2, 5))
    with pytest.raises(ValueError, match=r"expected min_ndim=2, found ndim=1"):
        dense(torch.zeros(4))
    assert tuple(dense(torch.zeros(2, 4)).shape) == (2, 3)


def test_reassigned_spec_field_forgets_the_accepted_shape():
    spec = InputSpec(ndim=2, axes={-1: 4})
    assert_input_compatibility(spec, torch.zeros(2, 4), "layer")
    spec.axes = {-1: 6}
    with pytest.raises(ValueError, match=r"axis -1 of input shape to have value 6"):
        assert_input_compatibility(spec, torch.zeros(2, 4), "layer")
    spec.ndim = 3
    with pytest.raises(ValueError, match=r"expected ndim=3, found ndim=2"):
        assert_input_compatibility(spec, torch.zeros(2, 6), "layer")


def test_lists_and_symbolic_inputs_are_checked_as_before():
    spec = [InputSpec(ndim=2), InputSpec(ndim=3)]
    assert_input_compatibility(spec, [torch.zeros(1, 2), torch.zeros(1, 2, 3)], "merge")
    with pytest.raises(ValueError, match=r"expects 2 input\(s\), but it received 1"):
        assert_input_compatibility(spec, [torch.zeros(1, 2)], "merge")
    with pytest.raises(ValueError, match=r"Input 1 of layer \"merge\".*expected ndim=3"):
        assert_input_compatibility(spec, [torch.zeros(1, 2), torch.zeros(1, 2)], "merge")
    with pytest.raises(ValueError, match=r"axis -1 of input shape to have value 4"):
        layers.Dense(2)(keras.Input((4,)))  # builds for 4
        dense = layers.Dense(2)
        dense(np.zeros((1, 4), "float32"))
        dense(keras.Input((5,)))


def test_sublayer_called_directly_still_runs_hooks_and_module_compile():
    # A built layer called eagerly skips `nn.Module.__call__` only when nothing there would run.
    dense = layers.Dense(2)
    x = torch.randn(3, 4)
    dense(x)
    seen = []
    handle = dense.register_forward_hook(lambda module, args, output: seen.append(output.shape))
    dense(x)
    assert seen == [torch.Size([3, 2])]
    handle.remove()
    dense(x)
    assert len(seen) == 1
    calls = []

    def backend(gm, example_inputs):
        calls.append(1)
        return gm.forward

    dense.compile(backend=backend)  # torch's in-place compile: the call goes through it
    torch.testing.assert_close(dense(x), torch.nn.functional.linear(x, dense.weight, dense.bias))
    assert calls == [1]
