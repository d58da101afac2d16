"""Dice, Tversky, Circle, CategoricalGeneralizedCrossEntropy and CTC against Keras 3 (1e-5)."""

import numpy as np
import pytest
import torch

import keraslike

RNG = np.random.RandomState(0)
MASK_TRUE = (RNG.rand(4, 6) > 0.5).astype("float32")
MASK_PRED = RNG.rand(4, 6).astype("float32")
EMB = RNG.randn(8, 5).astype("float32")
EMB /= np.linalg.norm(EMB, axis=1, keepdims=True)
EMB_LABELS = RNG.randint(0, 3, 8)
PROBS = RNG.rand(5, 4).astype("float32")
PROBS /= PROBS.sum(1, keepdims=True)
PROB_LABELS = RNG.randint(0, 4, 5)
CTC_TRUE = RNG.randint(1, 5, (3, 4)).astype("int32")
CTC_TRUE[1, 3] = 0
CTC_TRUE[2, 2:] = 0
CTC_PRED = RNG.randn(3, 9, 6).astype("float32")

# (class name, kwargs, y_true, y_pred, sample_weight)
CASES = [
    ("Dice", {}, MASK_TRUE, MASK_PRED, None),
    ("Dice", {"axis": -1}, MASK_TRUE, MASK_PRED, np.arange(4, dtype="float32")),
    ("Tversky", {"alpha": 0.3, "beta": 0.7}, MASK_TRUE, MASK_PRED, None),
    ("Tversky", {"axis": 1, "reduction": "none"}, MASK_TRUE, MASK_PRED, None),
    ("Circle", {}, EMB_LABELS, EMB, None),
    ("Circle", {"gamma": 10.0, "margin": 0.25, "remove_diagonal": False}, EMB_LABELS, EMB, None),
    ("Circle", {"reduction": "sum"}, EMB_LABELS, EMB, np.linspace(0, 1, 8).astype("float32")),
    ("CategoricalGeneralizedCrossEntropy", {}, PROB_LABELS, PROBS, None),
    ("CategoricalGeneralizedCrossEntropy", {"q": 0.2}, PROB_LABELS, PROBS,
     np.ones(5, "float32")),
    ("CTC", {}, CTC_TRUE, CTC_PRED, None),
    ("CTC", {"reduction": "none"}, CTC_TRUE, CTC_PRED, None),
]


@pytest.mark.parametrize("name,kwargs,y_true,y_pred,sample_weight", CASES,
                         ids=[f"{c[0]}-{i}" for i, c in enumerate(CASES)])
def test_loss_matches_keras(keras_oracle, name, kwargs, y_true, y_pred, sample_weight):
    ours = getattr(keraslike.losses, name)(**kwargs)
    theirs = getattr(keras_oracle.losses, name)(**kwargs)
    args = [torch.from_numpy(np.array(y_true)), torch.from_numpy(y_pred)]
    weight = None if sample_weight is None else torch.from_numpy(sample_weight)
    a = ours(*args, sample_weight=weight)
    b = theirs(*args, sample_weight=weight)
    np.testing.assert_allclose(a.detach().numpy(), np.asarray(b.detach()), rtol=1e-5, atol=1e-5)
    assert ours.get_config() == theirs.get_config()
    rebuilt = type(ours).from_config(ours.get_config())
    np.testing.assert_allclose(rebuilt(*args, sample_weight=weight).detach().numpy(),
                               a.detach().numpy(), rtol=1e-6)


@pytest.mark.parametrize("fn", ["dice", "tversky", "circle", "categorical_generalized_cross_entropy", "ctc"])
def test_functions_match_keras(keras_oracle, fn):
    data = {
        "dice": (MASK_TRUE, MASK_PRED, {}),
        "tversky": (MASK_TRUE, MASK_PRED, {"alpha": 0.4, "beta": 0.6}),
        "circle": (EMB_LABELS, EMB, {}),
        "categorical_generalized_cross_entropy": (PROB_LABELS, PROBS, {"q": 0.5}),
        "ctc": (CTC_TRUE, CTC_PRED, {}),
    }[fn]
    y_true, y_pred, kwargs = torch.from_numpy(np.array(data[0])), torch.from_numpy(data[1]), data[2]
    ours = getattr(keraslike.losses, fn)(y_true, y_pred, **kwargs)
    theirs = getattr(keras_oracle.losses, fn)(y_true, y_pred, **kwargs)
    np.testing.assert_allclose(ours.detach().numpy(), np.asarray(theirs.detach()), rtol=1e-5, atol=1e-5)


def test_losses_resolve_by_name_and_train():
    assert isinstance(keraslike.losses.get("Dice"), keraslike.losses.Dice)
    assert keraslike.losses.get("tversky") is keraslike.losses.tversky
    with pytest.raises(ValueError, match="q must be"):
        keraslike.losses.CategoricalGeneralizedCrossEntropy(q=1.5)
    y_pred = torch.from_numpy(MASK_PRED).requires_grad_()
    keraslike.losses.Dice()(torch.from_numpy(MASK_TRUE), y_pred).backward()
    assert torch.isfinite(y_pred.grad).all()
