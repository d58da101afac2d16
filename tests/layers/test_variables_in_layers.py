"""`keras.Variable`s held by layers, compared with Keras 3: their place in `weights` (creation
order among `add_weight` weights, trainable ones first), their paths (the name scopes they are
created in), `assign` refusing another shape, and numpy operands keeping gradients."""

import numpy as np
import pytest

import keraslike

keras = pytest.importorskip("keras")


def _layer(lib):
    class Holder(lib.layers.Dense):
        def __init__(self, units, **kwargs):
            super().__init__(units, **kwargs)
            self.special = lib.Variable(np.ones((3,)), name="special", dtype="float32")

        def build(self, input_shape):
            self.pre = lib.Variable(np.ones((2,)), name="pre", dtype="float32")
            super().build(input_shape)
            self.post = lib.Variable(np.ones((1,)), name="post", dtype="float32", trainable=False)
            self.extra = self.add_weight(shape=(4,), name="extra")
            self.frozen = self.add_weight(shape=(5,), name="frozen", trainable=False)

    layer = Holder(3, name="holder")
    layer.build((None, 2))
    return layer


def test_variables_take_their_keras_place_and_path():
    theirs, ours = _layer(keras), _layer(keraslike)
    assert [w.path for w in ours.weights] == [w.path for w in theirs.weights]
    assert [w.path for w in ours.trainable_weights] == [w.path for w in theirs.trainable_weights]
    assert [w.path for w in ours.non_trainable_weights] == [w.path for w in theirs.non_trainable_weights]
    assert [w.shape for w in ours.get_weights()] == [tuple(w.shape) for w in theirs.get_weights()]
    assert theirs.weights[0].path == "special" and theirs.weights[1].path == "holder/pre"


def test_assign_refuses_another_shape_as_keras():
    for lib in (keras, keraslike):
        variable = lib.Variable(np.ones((2, 3)), dtype="float32")
        dense = lib.layers.Dense(3)
        dense.build((None, 3))
        for target in (variable, dense.kernel):
            with pytest.raises(ValueError, match="must match"):
                target.assign(np.zeros((3,)))  # broadcastable to (2, 3): still refused
        variable.assign(np.zeros((2, 3)))
        assert float(np.sum(np.array(variable))) == 0.0


def test_variable_times_array_keeps_the_gradient():
    for lib in (keras, keraslike):
        variable = lib.Variable(np.ones((2,)), dtype="float32")
        product = variable * np.array([2.0, 3.0], "float32")
        assert product.requires_grad, lib.__name__
        product.sum().backward()
        np.testing.assert_allclose(variable.value.grad.numpy(), [2.0, 3.0])


def test_unnamed_weights_are_named_as_keras():
    """`add_weight()` without a name: Keras's session-wide `variable`, `variable_1`, ... (shared
    with unnamed `keras.Variable`s), kept when the weight is assigned to an attribute (keraslike
    renamed it after the attribute); the torch parameter takes the attribute's name."""

    def names(lib):
        lib.backend.clear_session()

        class Unnamed(lib.layers.Layer):
            def build(self, input_shape):
                self.alpha = self.add_weight(shape=(2,))
                self.beta = self.add_weight(shape=(2,))

        first, second = Unnamed(), Unnamed()
        first.build((None, 2))
        second.build((None, 2))
        variable = lib.Variable(1.0)
        return [(w.name, w.path) for w in first.weights + second.weights] + [variable.name], first

    theirs, _ = names(keras)
    ours, layer = names(keraslike)
    assert ours == theirs
    assert list(layer.state_dict()) == ["alpha", "beta"]
