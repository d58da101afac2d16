"""A subclassed model built by `fit` saves the shape it was built with (`build_config`) and is
rebuilt from it on loading, as in Keras: keraslike wrote none, so its own `.keras` files failed
to load ("d1 (dense_1): 2 variables in the file vs 0 in the model"). Both ways with Keras 3.
Also: a layer's `build` called directly records its arguments for `get_build_config`, as Keras's
build wrapper does (it recorded nothing, so such layers were saved without a build config)."""

import numpy as np
import pytest

import keraslike

keras = pytest.importorskip("keras")

_X = np.array([[1.0, 2.0]], "float32")


def _trained(lib):
    @lib.saving.register_keras_serializable(package="subclassed_files")
    class Net(lib.Model):
        def __init__(self, **kwargs):
            super().__init__(**kwargs)
            self.d1 = lib.layers.Dense(3)

        def call(self, x):
            return self.d1(x)

    model = Net()
    model.compile("sgd", "mse")
    model.fit(np.ones((4, 2), "float32"), np.ones((4, 3), "float32"), verbose=0)
    return model


@pytest.mark.parametrize("writer,reader", [(keraslike, keraslike), (keraslike, keras), (keras, keraslike)])
def test_subclassed_model_round_trips(tmp_path, writer, reader):
    model = _trained(writer)
    assert model.get_build_config() == {"input_shape": (4, 2)}
    path = str(tmp_path / "net.keras")
    model.save(path)
    _trained(reader)  # registers the class in the reading library
    restored = reader.models.load_model(path)
    np.testing.assert_allclose(restored.predict(_X, verbose=0), model.predict(_X, verbose=0), rtol=1e-6)


def test_direct_build_records_its_arguments_as_keras():
    def configs(lib):
        class TwoArgs(lib.layers.Layer):
            def build(self, input_shape, layer_init):
                super().build(input_shape)
                self.w = self.add_weight(shape=(input_shape[-1], 2), initializer=layer_init)

        class OneArg(lib.layers.Layer):
            def build(self, shape):
                self.w = self.add_weight(shape=(shape[-1], 2))

        two, one = TwoArgs(), OneArg()
        two.build(input_shape=(8,), layer_init="zeros")
        one.build((None, 3))
        return two.get_build_config(), one.get_build_config()

    ours, theirs = configs(keraslike), configs(keras)
    assert ours == theirs
    assert ours[0] == {"shapes_dict": {"input_shape": (8,), "layer_init": "zeros"}}


def _weight_paths(path):
    import io
    import zipfile

    import h5py

    with zipfile.ZipFile(path) as archive:
        data = archive.read("model.weights.h5")
    found = []
    with h5py.File(io.BytesIO(data), "r") as f:
        f.visititems(lambda name, obj: found.append(name) if isinstance(obj, h5py.Dataset) else None)
    return sorted(found)


def _attribute_net(lib):
    class Attributes(lib.Model):
        def __init__(self, **kwargs):
            super().__init__(**kwargs)
            self.zz = lib.layers.Dense(3)  # named after "layers": Keras files it in that list
            self.aa = lib.layers.Dense(2)
            self.blocks = [lib.layers.Dense(3), lib.layers.Dense(3)]
            self.inner = lib.Sequential([lib.layers.Dense(3)])

        def call(self, x):
            return self.aa(self.inner(self.blocks[1](self.blocks[0](self.zz(x)))))

    return Attributes


@pytest.mark.parametrize("writer,reader", [(keraslike, keras), (keras, keraslike)])
def test_sublayer_attributes_after_layers_are_filed_as_keras_files_them(tmp_path, writer, reader):
    model = _attribute_net(writer)()
    model(np.ones((2, 4), "float32"))
    path = str(tmp_path / "attributes.keras")
    model.save(path)
    expected = ["aa/vars/0", "aa/vars/1", "blocks/dense/vars/0", "blocks/dense/vars/1",
                "blocks/dense_1/vars/0", "blocks/dense_1/vars/1", "inner/layers/dense/vars/0",
                "inner/layers/dense/vars/1", "layers/dense/vars/0", "layers/dense/vars/1"]
    assert _weight_paths(path) == expected
    restored = reader.models.load_model(path, custom_objects={"Attributes": _attribute_net(reader)})
    x = np.random.default_rng(0).random((2, 4)).astype("float32")
    np.testing.assert_allclose(restored.predict(x, verbose=0), model.predict(x, verbose=0),
                               rtol=1e-6, atol=1e-6)


@pytest.mark.parametrize("lib", [keras, keraslike], ids=["keras", "keraslike"])
def test_loading_a_model_with_its_own_compile_leaves_it_uncompiled_with_a_warning(tmp_path, lib):
    class OwnCompile(lib.Model):
        def __init__(self, **kwargs):
            super().__init__(**kwargs)
            self.dense = lib.layers.Dense(2)

        def call(self, x):
            return self.dense(x)

        def compile(self, optimizer="adam", loss=None, **kwargs):
            if loss is None:
                raise ValueError("this compile needs a loss")
            super().compile(optimizer=optimizer, loss=loss, **kwargs)

    model = OwnCompile()
    model(np.zeros((1, 3), "float32"))
    model.compile(loss="mse")
    path = str(tmp_path / "own_compile.keras")
    model.save(path)
    with pytest.warns(UserWarning, match="`compile\\(\\)` was not called as part of model loading"):
        restored = lib.saving.load_model(path, custom_objects={"OwnCompile": OwnCompile})
    if lib is keraslike:  # Keras 3.15.1 says `compiled` although the model has no optimizer
        assert not restored.compiled


def test_a_sublayer_filed_under_its_attribute_still_loads(tmp_path):
    # keraslike's files before it followed Keras's walk (and Keras's loader, which retries a
    # layer at its later paths) filed `self.zz` under "zz": such a file loads, with its weights.
    import io
    import zipfile

    import h5py

    model = _attribute_net(keraslike)()
    x = np.random.default_rng(1).random((2, 4)).astype("float32")
    expected = model.predict(x, verbose=0)
    path, moved = str(tmp_path / "new.keras"), str(tmp_path / "old.keras")
    model.save(path)
    with zipfile.ZipFile(path) as source, zipfile.ZipFile(moved, "w") as target:
        for item in source.infolist():
            data = source.read(item.filename)
            if item.filename == "model.weights.h5":
                buffer = io.BytesIO(data)
                with h5py.File(buffer, "r+") as f:
                    f.move("layers/dense", "zz")
                    del f["layers"]
                data = buffer.getvalue()
            target.writestr(item, data)
    assert "zz/vars/0" in _weight_paths(moved) and "layers/dense/vars/0" not in _weight_paths(moved)
    restored = keraslike.models.load_model(moved, custom_objects={"Attributes": _attribute_net(keraslike)})
    np.testing.assert_allclose(restored.predict(x, verbose=0), expected, rtol=1e-6, atol=1e-6)
