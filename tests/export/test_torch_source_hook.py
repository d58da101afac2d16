"""Layers that declare their own torch-source translation (`torch_source_translation()`):
the applications' private layers and user layers eject and match."""

import runpy

import pytest
import torch

import keraslike as keras
from keraslike import layers
from keraslike.applications import convnext, inception_resnet_v2
from keraslike.export import to_torch_source


def _eject(model, tmp_path, verify=False):
    path, weights = to_torch_source(model, tmp_path / "ejected.py", verify=verify)
    return runpy.run_path(str(path))["load"](weights)


def _assert_ejected_matches(model, tmp_path, x, atol=1e-5):
    ejected = _eject(model, tmp_path)
    with torch.no_grad():
        torch.testing.assert_close(ejected(x), model(x), atol=atol, rtol=1e-5)
    return ejected


@pytest.mark.slow
def test_small_convnext_with_layer_scale_and_stochastic_depth_ejects(tmp_path):
    model = convnext.ConvNeXt(
        depths=[1, 1, 1, 1], projection_dims=[8, 8, 16, 16], drop_path_rate=0.2,
        input_shape=(32, 32, 3), classes=5, name="convnext_small_test",
    )  # fmt: skip
    kinds = {type(layer).__name__ for layer in model.modules()}
    assert {"LayerScale", "StochasticDepth"} <= kinds
    for layer in model.modules():
        if type(layer).__name__ == "LayerScale":
            layer.gamma.data.uniform_(0.5, 1.5)  # not the 1e-6 init: the branch must count
    ejected = _assert_ejected_matches(model, tmp_path, torch.rand(2, 32, 32, 3) * 255)
    source = (tmp_path / "ejected.py").read_text()
    assert "class LayerScale(nn.Module)" in source and "class StochasticDepth(nn.Module)" in source
    assert "import keraslike" not in source and "from keraslike" not in source
    gammas = [k for k in ejected.state_dict() if k.endswith(".gamma")]
    assert len(gammas) == 4


@pytest.mark.slow
def test_convnext_tiny_ejects_and_matches(tmp_path):
    model = keras.applications.ConvNeXtTiny(weights=None, input_shape=(32, 32, 3))
    _assert_ejected_matches(model, tmp_path, torch.rand(1, 32, 32, 3) * 255)


def test_custom_scale_layer_ejects(tmp_path):
    a, b = keras.Input((4,)), keras.Input((4,))
    scaled = inception_resnet_v2.CustomScaleLayer(0.17)([layers.Dense(4)(a), b])
    model = keras.Model([a, b], scaled)
    ejected = _eject(model, tmp_path)
    xa, xb = torch.randn(3, 4), torch.randn(3, 4)
    with torch.no_grad():
        torch.testing.assert_close(ejected(xa, xb), model([xa, xb]))


class Scale(layers.Layer):
    """A user layer declaring its translation: a weight, a helper class and a helper function."""

    def build(self, input_shape):
        self.add_weight(shape=(input_shape[-1],), initializer="ones", name="alpha", torch_name="alpha")
        self.built = True

    def call(self, x):
        return torch.tanh(x) * self.alpha

    def torch_source_translation(self):
        return {
            "module": f"ScaleModule({self.alpha.shape[0]})",
            "state": {"alpha": self.alpha},
            "call": lambda module, inputs, node: f"{module}(squash({inputs[0]}))",
            "helpers": {
                "ScaleModule": """
                    class ScaleModule(nn.Module):
                        def __init__(self, n):
                            super().__init__()
                            self.alpha = nn.Parameter(torch.ones(n))

                        def forward(self, x):
                            return x * self.alpha
                """,
                "squash": "def squash(x):\n    return torch.tanh(x)\n",
            },
        }


def _scaled_model():
    inputs = keras.Input((5,))
    scale = Scale()
    model = keras.Model(inputs, layers.Dense(2)(scale(scale(inputs))))  # shared: one attribute
    with torch.no_grad():
        scale.alpha.uniform_(-2, 2)
    return model


def test_user_layer_declares_its_translation(tmp_path):
    ejected = _assert_ejected_matches(_scaled_model(), tmp_path, torch.randn(4, 5))
    assert sum(k.endswith(".alpha") for k in ejected.state_dict()) == 1
    source = (tmp_path / "ejected.py").read_text()
    assert source.count("class ScaleModule(nn.Module)") == 1 and source.count("def squash(") == 1


@pytest.mark.slow
def test_user_layer_translation_passes_the_fresh_process_check(tmp_path):
    to_torch_source(_scaled_model(), tmp_path / "checked.py")  # raises on a mismatch


def test_subclass_overriding_call_does_not_inherit_the_declaration(tmp_path):
    class Other(Scale):
        def call(self, x):
            return x * 2.0 * self.alpha

    inputs = keras.Input((5,))
    model = keras.Model(inputs, Other(name="other_scale")(inputs))
    with pytest.raises(ValueError, match='"other_scale" \\(Other\\) has no torch-source translation'):
        to_torch_source(model, tmp_path / "m.py")


def test_malformed_declaration_names_the_layer(tmp_path):
    class Broken(layers.Layer):
        def call(self, x):
            return x

        def torch_source_translation(self):
            return {"forward": "x"}

    inputs = keras.Input((5,))
    model = keras.Model(inputs, Broken(name="broken_layer")(inputs))
    with pytest.raises(ValueError, match='"broken_layer".*must return a dict with a \'call\''):
        to_torch_source(model, tmp_path / "m.py")


def test_helper_name_clash_is_refused(tmp_path):
    class Clash(layers.Layer):
        def call(self, x):
            return x

        def torch_source_translation(self):
            return {"call": lambda m, i, n: i[0], "helpers": {"same_pads": "def same_pads():\n    pass\n"}}

    inputs = keras.Input((5,))
    model = keras.Model(inputs, Clash(name="clash_layer")(inputs))
    with pytest.raises(ValueError, match='"clash_layer".*helper named "same_pads"'):
        to_torch_source(model, tmp_path / "m.py")


def _settled(model):
    for module in model.modules():
        if isinstance(module, layers.BatchNormalization):
            with torch.no_grad():
                module.running_mean.uniform_(-1, 1)
                module.running_var.uniform_(0.5, 2)
                if module.bias is not None:
                    module.bias.uniform_(-1, 1)
    return model


def test_inception_xception_nasnet_building_blocks_eject(tmp_path):
    # BatchNormalization with scale or center off, SeparableConv1D/2D, Cropping1D/2D.
    inputs = keras.Input((9, 9, 3))
    x = layers.SeparableConv2D(4, 3, padding="same", strides=2, depth_multiplier=2, activation="relu")(inputs)
    x = layers.BatchNormalization(scale=False)(x)
    x = layers.SeparableConv2D(5, 2, padding="valid", use_bias=False)(x)
    x = layers.BatchNormalization(center=False)(x)
    x = layers.Cropping2D(((1, 0), (0, 2)))(x)
    x = layers.Reshape((-1, 5))(x)
    x = layers.SeparableConv1D(3, 2, padding="same")(x)
    x = layers.Cropping1D((0, 1))(x)
    model = _settled(keras.Model(inputs, x))
    ejected = _assert_ejected_matches(model, tmp_path, torch.randn(2, 9, 9, 3))
    assert any(k.endswith("pointwise.weight") for k in ejected.state_dict())


@pytest.mark.slow
@pytest.mark.parametrize(
    "name,size", [("InceptionV3", 75), ("InceptionResNetV2", 75), ("Xception", 71), ("NASNetMobile", 32)]
)
def test_families_with_separable_convs_or_unscaled_batchnorm_eject(name, size, tmp_path):
    model = getattr(keras.applications, name)(weights=None, input_shape=(size, size, 3), include_top=False)
    _assert_ejected_matches(_settled(model), tmp_path, torch.rand(1, size, size, 3) * 2 - 1)
