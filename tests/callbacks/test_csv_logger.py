"""CSVLogger files compared byte for byte with Keras's CSVLogger for the same logs."""

import numpy as np
import pytest

from keraslike import callbacks
from tests.callbacks.helpers import FakeModel, float32_sequence


def _run(callback, epochs_logs, start_epoch=0):
    callback.set_model(FakeModel())
    callback.on_train_begin({})
    for i, logs in enumerate(epochs_logs):
        callback.on_epoch_end(start_epoch + i, dict(logs))
    callback.on_train_end({})


def _logs(n, with_val=True, seed=0):
    values = float32_sequence(4 * n, seed=seed)
    out = []
    for i in range(n):
        logs = {"loss": values[4 * i], "accuracy": values[4 * i + 1]}
        if with_val:
            logs.update(val_loss=values[4 * i + 2], val_accuracy=values[4 * i + 3])
        out.append(logs)
    return out


CASES = {
    "with_validation": dict(runs=[_logs(3)]),
    "without_validation_reserves_val_columns": dict(runs=[_logs(2, with_val=False)]),
    "separator": dict(runs=[_logs(2)], kwargs=dict(separator=";")),
    "append_continues_without_header": dict(runs=[_logs(2), _logs(2, seed=1)],
                                            kwargs=dict(append=True)),
    "overwrite": dict(runs=[_logs(2), _logs(1, seed=1)]),
    "strings_lists_and_missing": dict(runs=[[
        {"loss": 0.5, "note": "a,b", "vec": [1.0, 2.0]},
        {"loss": 0.25, "vec": np.array([3, 4])},
    ]]),
}


@pytest.mark.parametrize("case", list(CASES))
def test_csv_logger_file_matches_keras(keras_callbacks, tmp_path, case):
    spec = CASES[case]
    kwargs = spec.get("kwargs", {})
    contents = []
    for name, module in (("ours", callbacks), ("keras", keras_callbacks)):
        path = tmp_path / f"{name}.csv"
        for run, logs in enumerate(spec["runs"]):
            _run(module.CSVLogger(path, **kwargs), logs, start_epoch=run * 10)
        contents.append(path.read_bytes())
    assert contents[0] == contents[1]


def test_csv_logger_contents(tmp_path):
    path = tmp_path / "log.csv"
    _run(callbacks.CSVLogger(str(path)), [{"loss": 0.5, "val_loss": 0.75}, {"loss": 0.25}])
    assert path.read_bytes() == b"epoch,loss,val_loss\r\n0,0.5,0.75\r\n1,0.25,NA\r\n"


def test_csv_logger_accepts_tensor_values(tmp_path):
    import torch

    path = tmp_path / "log.csv"
    _run(callbacks.CSVLogger(path), [{"loss": torch.tensor(0.5)}])
    assert path.read_bytes() == b"epoch,loss,val_loss\r\n0,0.5,NA\r\n"
