"""A built model is an ordinary torch module: torch.export with a dynamic batch, compile, state_dict."""

import pytest
import torch

import keraslike
from tests.models import seed_models


@pytest.mark.parametrize(
    "builder,shape",
    [(seed_models.mnist_model, (784,)), (seed_models.toy_resnet, (32, 32, 3))],
    ids=["mlp", "toy_resnet"],
)
def test_torch_export_with_dynamic_batch(builder, shape):
    model = builder(keraslike)
    batch = torch.export.Dim("batch", min=2, max=1024)
    program = torch.export.export(model, (torch.randn(4, *shape),), dynamic_shapes=({0: batch},))
    x = torch.randn(7, *shape)
    torch.testing.assert_close(program.module()(x), model(x))


def test_sequential_exports_too():
    model = keraslike.Sequential([keraslike.Input((5,)), keraslike.layers.Dense(3)])
    batch = torch.export.Dim("batch", min=2, max=64)
    program = torch.export.export(model, (torch.randn(4, 5),), dynamic_shapes=({0: batch},))
    x = torch.randn(9, 5)
    torch.testing.assert_close(program.module()(x), model(x))


def test_toy_resnet_compiles_fullgraph_with_eager_backend():
    model = seed_models.toy_resnet(keraslike)
    compiled = torch.compile(model, fullgraph=True, backend="eager")
    x = torch.randn(2, 32, 32, 3)
    torch.testing.assert_close(compiled(x), model(x))
