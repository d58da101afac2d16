"""Data-parallel `fit` / `evaluate` / `predict` on 2 gloo processes (CPU) equal one process.

The scenarios run in one launch of `worker.py` as 2 processes of a `torch.distributed` group (a
free port, a hard timeout: a hang fails the test instead of blocking the suite) and one as 1
plain process, then the tests compare what they wrote.
"""

import numpy as np
import pytest

from tests.distribution._launch import device_params, run_pair

pytestmark = pytest.mark.slow


def _assert_close(a, b, atol=1e-5):
    for x, y in zip(a, b):
        np.testing.assert_allclose(np.asarray(x), np.asarray(y), rtol=1e-5, atol=atol)


BASIC = "+sgd,adam,batchnorm,shuffle,early_stopping,evaluate_auc"


@pytest.fixture(scope="module", params=device_params())
def basic(tmp_path_factory, request):
    """All scenarios in one launch of 1 process and one of 2 (the start-up is paid once)."""
    tmp = tmp_path_factory.mktemp(f"basic_{request.param}")
    return run_pair(BASIC, tmp, device=request.param)


@pytest.mark.parametrize("scenario", ["sgd", "adam", "batchnorm"])
def test_two_processes_train_like_one(basic, scenario):
    single, ranks = basic[0][scenario], [r[scenario] for r in basic[1]]
    # Ranks hold bitwise-equal weights.
    assert ranks[0]["weights"] == ranks[1]["weights"]
    _assert_close(ranks[0]["weights"], single["weights"])
    for key, values in single["history"].items():
        np.testing.assert_allclose(ranks[0]["history"][key], values, rtol=1e-5, atol=1e-6, err_msg=key)
        assert ranks[0]["history"][key] == ranks[1]["history"][key]
    assert ranks[0]["evaluate"] == ranks[1]["evaluate"]
    for key, value in single["evaluate"].items():
        assert ranks[0]["evaluate"][key] == pytest.approx(value, rel=1e-5, abs=1e-6)
    # Every rank returns all rows, in order.
    np.testing.assert_allclose(ranks[0]["predict"], single["predict"], rtol=1e-5, atol=1e-6)
    assert ranks[0]["predict"] == ranks[1]["predict"]


def test_shuffled_global_batches_are_split_into_disjoint_halves(basic):
    single, ranks = basic[0]["shuffle"], [r["shuffle"] for r in basic[1]]
    assert ranks[0]["weights"] == ranks[1]["weights"]
    assert ranks[0]["history"] == ranks[1]["history"]
    # Rank 0 draws each epoch's permutation as one process does: shuffled training is equal too.
    _assert_close(ranks[0]["weights"], single["weights"])
    for key, values in single["history"].items():
        np.testing.assert_allclose(ranks[0]["history"][key], values, rtol=1e-5, atol=1e-6, err_msg=key)
    for step_1, step_a, step_b in zip(single["seen"], ranks[0]["seen"], ranks[1]["seen"]):
        assert sorted(step_1) == sorted(step_a + step_b)  # the same global batches
    for step_a, step_b in zip(ranks[0]["seen"], ranks[1]["seen"]):
        assert not set(step_a) & set(step_b)
    for epoch in range(2):
        steps = [ranks[r]["seen"][epoch * 7 : (epoch + 1) * 7] for r in range(2)]
        samples = sorted(v for r in range(2) for step in steps[r] for v in step)
        assert len(samples) == 50 and len(set(samples)) == 50  # each sample once per epoch
    first_epoch = [v for step in ranks[0]["seen"][:7] for v in step]
    second_epoch = [v for step in ranks[0]["seen"][7:] for v in step]
    assert first_epoch != second_epoch  # a new permutation each epoch


def test_early_stopping_on_one_rank_stops_all(basic):
    ranks = [r["early_stopping"] for r in basic[1]]
    assert ranks[0]["epochs_run"] == ranks[1]["epochs_run"] == 2


def test_evaluate_non_linear_metric_over_all_ranks(basic):
    single, ranks = basic[0]["evaluate_auc"], [r["evaluate_auc"] for r in basic[1]]
    assert ranks[0]["evaluate"] == ranks[1]["evaluate"]
    for key, value in single["evaluate"].items():
        assert ranks[0]["evaluate"][key] == pytest.approx(value, rel=1e-5, abs=1e-6)
