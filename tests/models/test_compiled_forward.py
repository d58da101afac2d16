"""`torch.compile(model, fullgraph=True)`: the first compiled call is the only compile.

The execution plan builds its steps and the layers cache their call signatures before any call,
so the first call, traced by dynamo, changes nothing its own guards read (it used to build the
steps inside the trace and compile a second time on the next call)."""

import pytest
import torch

import keraslike as keras
from keraslike import layers


def _mlp():
    inputs = keras.Input((12,))
    x = layers.Dense(8, activation="relu")(inputs)
    return keras.Model(inputs, layers.Dense(3)(x))


def _conv():
    inputs = keras.Input((8, 8, 3))
    x = layers.Conv2D(4, 3, padding="same")(inputs)
    x = layers.BatchNormalization()(x)
    y = layers.Activation("relu")(x)
    x = layers.add([x, y])
    x = layers.GlobalAveragePooling2D()(x)
    return keras.Model(inputs, layers.Dense(2)(x))


@pytest.mark.slow
@pytest.mark.parametrize("build, shape", [(_mlp, (1, 12)), (_conv, (1, 8, 8, 3))])
def test_first_compiled_call_is_the_only_compile(build, shape):
    torch._dynamo.reset()
    model = build().eval()  # never called eagerly before compiling
    x = torch.randn(shape)
    compiled = torch.compile(model, fullgraph=True, backend="eager")
    with torch._dynamo.config.patch(error_on_recompile=True), torch.no_grad():
        first = compiled(x)
        for _ in range(3):
            again = compiled(x)
    torch.testing.assert_close(again, first)
    torch.testing.assert_close(first, model(x))
