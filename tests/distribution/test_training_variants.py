"""Data-parallel `fit` variants on 2 gloo processes equal one process: gradient accumulation
(`no_sync` micro-steps), a user's `train_step`, `jit_compile=True`, BackupAndRestore resuming
every rank, ModelCheckpoint / CSVLogger writing once, a DataLoader with a DistributedSampler
(`set_epoch` each epoch) and a generator split by batch.

The cheap scenarios share one launch (one process group runs them one after another), so the
interpreter start-up is paid once; `jit_compile` has its own.
"""

import csv

import pytest

from tests.distribution._launch import assert_trained_alike, device_params, run_pair

pytestmark = pytest.mark.slow

VARIANTS = "accumulate_sgd,accumulate_adam,custom_step,files,backup,reference_adam,iterables"


@pytest.fixture(scope="module", params=device_params())
def variants(tmp_path_factory, request):
    tmp = tmp_path_factory.mktemp(f"variants_{request.param}")
    single, ranks = run_pair(VARIANTS, tmp, device=request.param)
    return single, ranks, tmp


@pytest.mark.parametrize("scenario", ["accumulate_sgd", "accumulate_adam"])
def test_gradient_accumulation_equals_one_process(variants, scenario):
    single, ranks, _ = variants
    single, ranks = single[scenario], [r[scenario] for r in ranks]
    assert_trained_alike(single, ranks)
    # 21 micro-steps, an update every 3: `iterations` counts updates, as in Keras.
    assert single["iterations"] == ranks[0]["iterations"] == ranks[1]["iterations"] == 7


def test_custom_train_step_equals_one_process(variants):
    single, ranks, _ = variants
    assert_trained_alike(single["custom_step"], [r["custom_step"] for r in ranks])


def test_distributed_sampler_generator_and_py_dataset_equal_one_process(variants):
    single, ranks, _ = variants
    single, ranks = single["iterables"], [r["iterables"] for r in ranks]
    assert ranks[0]["epochs_set"] == ranks[1]["epochs_set"] == [0, 1]  # set_epoch each epoch
    assert_trained_alike(single, ranks)
    assert_trained_alike(single["generator"], [r["generator"] for r in ranks])
    assert len(ranks[0]["generator"]["history"]["loss"]) == 2
    # A PyDataset is split by batch too (rank r takes batches r, r + 2, ...): equal to one process.
    assert_trained_alike(single["py_dataset"], [r["py_dataset"] for r in ranks])
    assert ranks[0]["py_dataset"]["steps"] == 2


def test_backup_and_restore_resumes_every_rank(variants):
    single, ranks, _ = variants
    resumed = [r["backup"] for r in ranks]
    assert resumed[0]["weights"] == resumed[1]["weights"]
    assert len(resumed[0]["history"]["loss"]) == 2  # epochs 2 and 3 only: restored after 2
    assert_trained_alike(single["reference_adam"], [r["reference_adam"] for r in ranks])
    # The resumed 2-process run ends where the uninterrupted one-process run does.
    assert_trained_alike(single["reference_adam"], resumed)


def test_checkpoint_and_csv_logger_write_once(variants):
    single, _, tmp = variants
    two = tmp / f"{VARIANTS.replace(',', '-')}_2"
    one = tmp / f"{VARIANTS.replace(',', '-')}_1"
    assert (two / "ckpt_0.safetensors").exists() and (two / "log_0.csv").exists()
    assert not (two / "ckpt_1.safetensors").exists() and not (two / "log_1.csv").exists()
    with open(two / "log_0.csv") as f2, open(one / "log_0.csv") as f1:
        rows2, rows1 = list(csv.DictReader(f2)), list(csv.DictReader(f1))
    assert [r["epoch"] for r in rows2] == ["0", "1", "2"]
    for a, b in zip(rows2, rows1):
        assert a.keys() == b.keys()
        for key in b:
            if b[key] == "NA":
                assert a[key] == "NA"
            else:
                assert float(a[key]) == pytest.approx(float(b[key]), rel=1e-5, abs=1e-6), key


@pytest.mark.parametrize("device", device_params())
def test_jit_compile_equals_one_process(tmp_path, device):
    single, ranks = run_pair("+jit", tmp_path, device=device)
    single, ranks = single["jit"], [r["jit"] for r in ranks]
    assert_trained_alike(single, ranks)
