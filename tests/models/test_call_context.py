"""The call context: `training` given to a model or layer call reaches every layer inside it,
as Keras 3's `CallContext` does; Keras 3 (torch backend) is the oracle where it runs."""

import numpy as np
import pytest
import torch

import keraslike as keras
from keraslike import layers


def _probe_classes(lib):
    """Probe layers recording the `training` their `call` receives, written against `lib`."""

    class Probe(lib.layers.Layer):
        def __init__(self, **kwargs):
            super().__init__(**kwargs)
            self.seen = []

        def call(self, x, training=None):
            self.seen.append(training)
            return x

    class Outer(lib.layers.Layer):
        """Calls its sublayers eagerly without passing `training` on (the common pattern)."""

        def __init__(self, **kwargs):
            super().__init__(**kwargs)
            self.inner = Probe()
            self.after = Probe()

        def call(self, x):
            return self.after(self.inner(x))

    class ExplicitInner(lib.layers.Layer):
        """Calls one sublayer with an explicit `training=False`."""

        def __init__(self, **kwargs):
            super().__init__(**kwargs)
            self.forced = Probe()

        def call(self, x, training=None):
            return self.forced(x, training=False)

    class DefaultFalse(lib.layers.Layer):
        """A `call` whose `training` defaults to False: that default is the sublayers' context."""

        def __init__(self, **kwargs):
            super().__init__(**kwargs)
            self.inner = Probe()

        def call(self, x, training=False):
            return self.inner(x)

    return Probe, Outer, ExplicitInner, DefaultFalse


def _record(lib, convert):
    """Runs the same program on `lib` and returns what every probe saw."""
    Probe, Outer, ExplicitInner, DefaultFalse = _probe_classes(lib)
    inputs = lib.Input((3,))
    top = Probe(name="top")
    outer = Outer(name="outer")
    explicit = ExplicitInner(name="explicit")
    default = DefaultFalse(name="default")
    x = top(inputs)
    x = outer(x)
    x = explicit(x)
    inner_model = lib.Model(inputs, default(x), name="inner_model")
    wrapper_in = lib.Input((3,))
    model = lib.Model(wrapper_in, inner_model(wrapper_in))
    probes = {
        "top": top,
        "outer.inner": outer.inner,
        "outer.after": outer.after,
        "explicit.forced": explicit.forced,
        "default.inner": default.inner,
    }
    for p in probes.values():
        p.seen.clear()  # forget the symbolic calls
    data = convert(np.ones((2, 3), "float32"))
    results = {}
    for label, training in (("none", None), ("true", True), ("false", False)):
        if training is None:
            model(data)
        else:
            model(data, training=training)
        results[label] = {k: p.seen[-1] for k, p in probes.items()}
    return results


EXPECTED = {
    "none": {
        "top": None,
        "outer.inner": None,
        "outer.after": None,
        "explicit.forced": False,
        "default.inner": False,
    },
    "true": {
        "top": True,
        "outer.inner": True,
        "outer.after": True,
        "explicit.forced": False,
        "default.inner": True,
    },
    "false": {
        "top": False,
        "outer.inner": False,
        "outer.after": False,
        "explicit.forced": False,
        "default.inner": False,
    },
}


def test_training_reaches_every_layer():
    assert _record(keras, torch.as_tensor) == EXPECTED


def test_training_reaches_every_layer_as_in_keras(keras_oracle):
    assert _record(keras_oracle, lambda a: a) == EXPECTED


def test_direct_layer_call_passes_training_to_sublayers():
    Probe, Outer, _, _ = _probe_classes(keras)
    outer = Outer()
    data = torch.ones(2, 3)
    outer(data, training=True)
    assert outer.inner.seen[-1] is True and outer.after.seen[-1] is True
    outer(data)
    assert outer.inner.seen[-1] is None
    probe = Probe()
    probe(data)
    assert probe.seen[-1] is None  # nobody gave one: None, as Keras


def test_context_is_restored_after_the_call_and_after_errors():
    from keraslike.graph.call_context import state

    class Failing(layers.Layer):
        def call(self, x, training=None):
            if x.device.type != "meta":  # fails on real data only, not during shape inference
                raise RuntimeError("boom")
            return x

    inputs = keras.Input((3,))
    model = keras.Model(inputs, Failing()(inputs))
    with pytest.raises(RuntimeError):
        model(torch.ones(1, 3), training=True)
    assert state.training is None and state.losses is None
    Probe = _probe_classes(keras)[0]
    probe = Probe()
    probe(torch.ones(1, 3))
    assert probe.seen == [None]


def test_model_training_overrides_training_recorded_in_a_node(keras_oracle):
    # Keras: `Dropout(0.5)(x, training=True)` drops when the model call gives no value, but not
    # under `training=False` (`predict`).
    def run(lib, convert):
        inputs = lib.Input((400,))
        model = lib.Model(inputs, lib.layers.Dropout(0.5)(inputs, training=True))
        data = convert(np.ones((2, 400), "float32"))
        plain = np.asarray(model(data).detach().cpu())
        inference = np.asarray(model(data, training=False).detach().cpu())
        return bool((plain == 0).any()), bool((inference == 1).all())

    assert run(keras, torch.as_tensor) == run(keras_oracle, lambda a: a) == (True, True)


def test_dropout_inside_custom_layer_follows_model_training():
    class Block(layers.Layer):
        def __init__(self, **kwargs):
            super().__init__(**kwargs)
            self.dropout = layers.Dropout(0.5)

        def call(self, x):
            return self.dropout(x)

    inputs = keras.Input((1000,))
    model = keras.Model(inputs, Block()(inputs))
    model.train()  # the mode `fit` sets: the explicit value still decides
    data = torch.ones(2, 1000)
    torch.testing.assert_close(model(data, training=False), data)
    assert (model(data, training=True) == 0).any()


def test_training_context_compiles_without_graph_breaks():
    Probe, Outer, _, _ = _probe_classes(keras)

    class Noisy(layers.Layer):
        def __init__(self, **kwargs):
            super().__init__(**kwargs)
            self.dense = layers.Dense(4)

        def call(self, x, training=None):
            y = self.dense(x)
            return y * 2 if training else y

    class Wrapper(layers.Layer):
        def __init__(self, **kwargs):
            super().__init__(**kwargs)
            self.noisy = Noisy()

        def call(self, x):
            return self.noisy(x)

    inputs = keras.Input((4,))
    model = keras.Model(inputs, Wrapper()(Outer()(inputs)))
    data = torch.randn(3, 4)
    expected_train = model(data, training=True)
    expected_plain = model(data)
    torch._dynamo.reset()
    explanation = torch._dynamo.explain(model)(data, training=True)
    assert explanation.graph_break_count == 0
    compiled = torch.compile(model, fullgraph=True, backend="eager")
    torch.testing.assert_close(compiled(data, training=True), expected_train)
    torch.testing.assert_close(compiled(data), expected_plain)
    torch.testing.assert_close(expected_train, expected_plain * 2)
