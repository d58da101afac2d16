"""Variable paths follow Keras's name scopes: a weight's path is the scopes it was created in.

A layer opens a scope named after itself while it builds and while it is called, re-opened
under the path where it first opened one; so a sublayer built by its parent's `build` or
`call` reads `block/dense/kernel`, a Sequential's layers `sequential/dense/kernel`, and a
functional model's layers (built while the graph is recorded) keep `dense/kernel`. Every case
is built the same way in Keras 3 and compared; layers are named explicitly so the two
libraries' name counters do not matter.
"""

import numpy as np
import pytest

import keraslike

keras = pytest.importorskip("keras")


def _cases(lib):
    """`{case: [variable paths]}` and `{case: layer path}` of the same constructions in `lib`."""
    paths, layer_paths = {}, {}

    class Block(lib.layers.Layer):
        def __init__(self, **kwargs):
            super().__init__(**kwargs)
            self.dense = lib.layers.Dense(3, name="inner")

        def call(self, x):
            return self.dense(x)

    class Scaled(lib.layers.Layer):
        def __init__(self, **kwargs):
            super().__init__(**kwargs)
            self.scale = self.add_weight(shape=(2,), name="scale")

        def call(self, x):
            return x * self.scale

    class BuildsInBuild(lib.layers.Layer):
        def build(self, input_shape):
            self.proj = lib.layers.Dense(2, name="proj")
            self.proj.build(input_shape)
            self.scaled = Scaled(name="scaled")
            self.bias = self.add_weight(shape=(2,), name="bias")

        def call(self, x):
            return self.scaled(self.proj(x)) + self.bias

    class Net(lib.Model):
        def __init__(self, **kwargs):
            super().__init__(**kwargs)
            self.block = Block(name="block")
            self.head = lib.layers.Dense(1, name="head")

        def call(self, x):
            return self.head(self.block(x))

    x = np.ones((2, 4), "float32")
    net = Net(name="net")
    net(x)
    paths["subclassed_model"] = [v.path for v in net.weights]
    layer_paths["subclassed_model"] = net.block.dense.path

    inputs = lib.Input((4,))
    outer = BuildsInBuild(name="outer")
    model = lib.Model(inputs, lib.layers.Dense(1, name="top")(outer(Block(name="blk")(inputs))))
    paths["functional"] = [v.path for v in model.weights]
    layer_paths["functional"] = outer.proj.path

    seq = lib.Sequential([lib.Input((4,)), lib.layers.Dense(2, name="d1"), Block(name="sb")],
                         name="seq")
    paths["sequential"] = [v.path for v in seq.weights]

    lazy = lib.Sequential([lib.layers.Dense(2, name="d2")], name="lazy")
    inputs = lib.Input((4,))
    paths["sequential_in_functional"] = [v.path for v in lib.Model(inputs, lazy(inputs)).weights]

    eager = Block(name="eager")
    eager.build((None, 4))  # creates nothing: the sublayer is built by the first call
    eager(x)
    paths["built_then_called"] = [v.path for v in eager.weights]
    layer_paths["built_then_called"] = eager.path

    with lib.name_scope("scope"):
        scoped = lib.layers.Dense(2, name="scoped")
        scoped.build((None, 3))
    paths["user_scope"] = [v.path for v in scoped.weights]

    lstm = lib.layers.LSTM(2, name="rnn")
    lstm.build((None, 3, 2))
    paths["lstm"] = [v.path for v in lstm.weights]
    bidirectional = lib.layers.Bidirectional(lib.layers.GRU(2, name="gru"), name="bi")
    bidirectional.build((None, 3, 2))
    paths["bidirectional"] = [v.path for v in bidirectional.weights]
    attention = lib.layers.MultiHeadAttention(2, 4, name="mha")
    seq_x = np.ones((1, 3, 4), "float32")
    attention(seq_x, seq_x)
    paths["multi_head_attention"] = [v.path for v in attention.weights]
    paths["weight_in_init"] = [v.path for v in Scaled(name="alone").weights]
    return paths, layer_paths


def test_variable_and_layer_paths_match_keras():
    theirs, their_layers = _cases(keras)
    ours, our_layers = _cases(keraslike)
    assert theirs["subclassed_model"][0] == "net/block/inner/kernel"  # the gap this closed
    assert ours == theirs
    assert our_layers == their_layers


def test_optimizer_slots_are_named_from_the_paths_and_weight_decay_reads_names():
    def slots(lib):
        class Block(lib.layers.Layer):
            def build(self, input_shape):
                self.dense = lib.layers.Dense(2, name="dense")

            def call(self, x):
                return self.dense(x)

        inputs = lib.Input((3,))
        model = lib.Model(inputs, Block(name="blk")(inputs))
        optimizer = lib.optimizers.AdamW(weight_decay=0.5)
        # Keras matches `exclude_from_weight_decay` against the variable's name, not its path:
        # excluding "blk" must exclude nothing.
        optimizer.exclude_from_weight_decay(var_names=["blk"])
        model.compile(optimizer=optimizer, loss="mse")
        model.set_weights([np.ones((3, 2), "float32"), np.ones((2,), "float32")])
        model.fit(np.ones((4, 3), "float32"), np.zeros((4, 2), "float32"), epochs=1, verbose=0,
                  batch_size=4)
        return model.get_weights()

    def names(lib):
        dense = lib.layers.Dense(2, name="dense")
        with lib.name_scope("blk"):
            dense.build((None, 3))
        optimizer = lib.optimizers.Adam()
        optimizer.build(dense.trainable_weights)
        return optimizer

    for a, b in zip(slots(keras), slots(keraslike)):
        np.testing.assert_allclose(b, a, rtol=1e-6, atol=1e-7)
    ours = names(keraslike).get_slot_state()
    assert "blk_dense_kernel_momentum" in ours and "blk_dense_bias_velocity" in ours, sorted(ours)


def test_optimizer_variable_paths_match_keras():
    def paths(lib):
        lib.backend.clear_session()
        inputs = lib.Input((3,))
        model = lib.Model(inputs, lib.layers.Dense(2, name="d")(inputs))
        result = []
        for optimizer in (lib.optimizers.Adam(), lib.optimizers.SGD(momentum=0.9), lib.optimizers.RMSprop()):
            optimizer.build(model.trainable_variables)
            result.append([v.path for v in optimizer.variables])
        return result

    assert paths(keraslike) == paths(keras)
