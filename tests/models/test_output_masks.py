"""A graph model's outputs carry their Keras masks (`model(x)._keras_mask`), so the compiled
losses and metrics skip masked steps as Keras's do (Keras 3 as the oracle). Before, a
functional or Sequential model returned unmasked outputs: `evaluate` averaged over the padding
too (a silently different loss and accuracy), and `fit`'s metrics dropped every model's output
mask (subclassed models' too) when they detached the outputs."""

import numpy as np
import pytest
import torch

import keraslike

keras = pytest.importorskip("keras")

TOKENS = np.array([[1, 2, 3, 0, 0], [4, 5, 0, 0, 0], [2, 0, 0, 0, 0]], "int32")
TARGETS = np.array([[1, 2, 3, 5, 5], [4, 5, 1, 1, 1], [2, 3, 3, 3, 3]], "int32")


def _functional(lib):
    inputs = lib.Input((None,), dtype="int32")
    x = lib.layers.Embedding(6, 4, mask_zero=True)(inputs)
    return lib.Model(inputs, lib.layers.Dense(6, activation="softmax")(x))


def _sequential(lib):
    return lib.Sequential([
        lib.Input((5,), dtype="int32"),
        lib.layers.Embedding(6, 4, mask_zero=True),
        lib.layers.LSTM(3, return_sequences=True),
        lib.layers.Dense(6, activation="softmax"),
    ])


def _subclassed(lib):
    class Tagger(lib.Model):
        def __init__(self):
            super().__init__()
            self.embed = lib.layers.Embedding(6, 4, mask_zero=True)
            self.head = lib.layers.Dense(6, activation="softmax")

        def call(self, tokens):
            return self.head(self.embed(tokens))

    model = Tagger()
    model(TOKENS)
    return model


def _two_outputs(lib):
    inputs = lib.Input((5,), dtype="int32")
    x = lib.layers.Embedding(6, 4, mask_zero=True)(inputs)
    seq = lib.layers.Dense(6, activation="softmax", name="seq")(x)
    pooled = lib.layers.Dense(6, activation="softmax", name="pooled")(lib.layers.GlobalAveragePooling1D()(x))
    return lib.Model(inputs, {"seq": seq, "pooled": pooled})


def _pair(build):
    theirs = build(keras)
    ours = build(keraslike)
    ours.set_weights(theirs.get_weights())
    return theirs, ours


@pytest.mark.parametrize("build", [_functional, _sequential, _subclassed])
def test_evaluate_and_fit_skip_masked_steps_like_keras(build):
    theirs, ours = _pair(build)
    for model in (theirs, ours):
        model.compile(optimizer="sgd", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    np.testing.assert_allclose(
        ours.evaluate(TOKENS, TARGETS, verbose=0), theirs.evaluate(TOKENS, TARGETS, verbose=0), rtol=1e-5
    )
    mask = ours(TOKENS)._keras_mask
    np.testing.assert_array_equal(mask.numpy(), np.asarray(theirs(TOKENS)._keras_mask))
    got = ours.fit(TOKENS, TARGETS, epochs=2, batch_size=2, shuffle=False, verbose=0).history
    want = theirs.fit(TOKENS, TARGETS, epochs=2, batch_size=2, shuffle=False, verbose=0).history
    for key in want:
        np.testing.assert_allclose(got[key], want[key], rtol=1e-5, err_msg=key)


def test_only_the_masked_output_of_several_carries_a_mask():
    theirs, ours = _pair(_two_outputs)
    got, want = ours(TOKENS), theirs(TOKENS)
    np.testing.assert_array_equal(got["seq"]._keras_mask.numpy(), np.asarray(want["seq"]._keras_mask))
    assert getattr(got["pooled"], "_keras_mask", None) is None
    assert getattr(want["pooled"], "_keras_mask", None) is None


def test_mask_nodes_stay_out_of_the_model_graph():
    model = _functional(keraslike)
    assert [type(layer).__name__ for layer in model.layers] == ["InputLayer", "Embedding", "Dense"]
    config_layers = [entry["class_name"] for entry in model.get_config()["layers"]]
    assert config_layers == ["InputLayer", "Embedding", "Dense"]


def test_compiled_model_output_carries_its_mask():
    model = _functional(keraslike)
    compiled = torch.compile(model, fullgraph=True, backend="eager")
    tokens = torch.as_tensor(TOKENS)
    out = compiled(tokens)
    torch.testing.assert_close(out, model(tokens))
    assert torch.equal(out._keras_mask, tokens != 0)
