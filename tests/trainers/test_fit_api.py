"""fit / evaluate / predict: data formats, return values, callbacks, devices and bad input."""

import numpy as np
import pytest
import torch

import keraslike as keras
from keraslike import layers


def _model(compile=True, **compile_kwargs):
    inputs = keras.Input((4,), name="features")
    x = layers.Dense(8, activation="relu")(inputs)
    outputs = layers.Dense(3, name="logits")(x)
    model = keras.Model(inputs, outputs)
    if compile:
        options = dict(
            optimizer="adam",
            loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
            metrics=["acc"],
        )
        options.update(compile_kwargs)
        model.compile(**options)
    return model


def _data(n=64, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((n, 4)).astype("float32")
    y = (x[:, 0] > 0).astype("int64") + (x[:, 1] > 1).astype("int64")
    return x, y


def test_fit_learns_and_history_keeps_the_users_metric_name():
    x, y = _data(256)
    model = _model()
    history = model.fit(x, y, epochs=8, batch_size=8, verbose=0, validation_split=0.25)
    assert sorted(history.history) == ["acc", "loss", "val_acc", "val_loss"]
    assert len(history.history["loss"]) == 8 and history.epoch == list(range(8))
    assert history.history["loss"][-1] < history.history["loss"][0]
    assert history.history["acc"][-1] > 0.6
    assert not model.training  # fit leaves the model as it found it


def test_evaluate_and_predict_return_values():
    x, y = _data()
    model = _model()
    model.fit(x, y, epochs=1, verbose=0)
    result = model.evaluate(x, y, verbose=0)
    assert isinstance(result, list) and len(result) == 2 and all(isinstance(v, float) for v in result)
    as_dict = model.evaluate(x, y, verbose=0, return_dict=True)
    assert set(as_dict) == {"loss", "acc"} and as_dict["loss"] == pytest.approx(result[0])
    only_loss = _model(metrics=None)
    assert isinstance(only_loss.evaluate(x, y, verbose=0), float)
    predictions = model.predict(x, batch_size=10, verbose=0)
    assert isinstance(predictions, np.ndarray) and predictions.shape == (64, 3)
    device = next(model.parameters()).device  # fit moves the model to CUDA where there is one
    eager = model(torch.from_numpy(x).to(device)).detach().cpu().numpy()
    np.testing.assert_allclose(predictions, eager, atol=1e-6)
    assert model.predict_on_batch(x[:5]).shape == (5, 3)
    assert isinstance(model.train_on_batch(x[:8], y[:8]), list)
    assert isinstance(model.test_on_batch(x[:8], y[:8], return_dict=True), dict)


@pytest.mark.parametrize("kind", ["tensors", "dict", "dataset", "dataloader", "generator", "pydataset"])
def test_fit_accepts_every_data_format(kind):
    x, y = _data()
    model = _model()
    if kind == "tensors":
        data = dict(x=torch.from_numpy(x), y=torch.from_numpy(y))
    elif kind == "dict":
        data = dict(x={"features": x}, y={"logits": y})
    elif kind == "dataset":
        data = dict(x=torch.utils.data.TensorDataset(torch.from_numpy(x), torch.from_numpy(y)), batch_size=16)
    elif kind == "dataloader":
        data = dict(x=torch.utils.data.DataLoader(
            torch.utils.data.TensorDataset(torch.from_numpy(x), torch.from_numpy(y)), batch_size=16))
    elif kind == "generator":
        def gen():
            while True:
                for i in range(0, 64, 16):
                    yield x[i : i + 16], y[i : i + 16]
        data = dict(x=gen(), steps_per_epoch=4)
    else:
        class Batches(keras.utils.PyDataset):
            def __len__(self):
                return 4

            def __getitem__(self, i):
                return x[i * 16 : (i + 1) * 16], y[i * 16 : (i + 1) * 16]
        data = dict(x=Batches())
    history = model.fit(epochs=2, verbose=0, **data)
    assert len(history.history["loss"]) == 2
    assert np.isfinite(history.history["loss"]).all()


def test_generator_is_consumed_across_epochs_without_losing_batches():
    seen = []

    def gen():
        i = 0
        while True:
            seen.append(i)
            yield np.full((2, 4), i, "float32"), np.zeros(2, "int64")
            i += 1

    _model().fit(gen(), steps_per_epoch=3, epochs=2, verbose=0)
    assert seen == [0, 1, 2, 3, 4, 5]


def test_sample_and_class_weights_change_the_loss():
    x, y = _data()
    base = _model(metrics=None)
    weights = base.get_weights()
    plain = base.evaluate(x, y, verbose=0)
    zero_weighted = base.evaluate(x, y, sample_weight=np.zeros(len(y)), verbose=0)
    assert zero_weighted == pytest.approx(0.0) and plain > 0
    model = _model(metrics=None)
    model.set_weights(weights)
    history = model.fit(x, y, epochs=1, verbose=0, class_weight={0: 0.0, 1: 0.0, 2: 0.0}, shuffle=False)
    assert history.history["loss"][0] == pytest.approx(0.0)


def test_regularization_losses_join_the_total():
    inputs = keras.Input((4,))
    outputs = layers.Dense(2, kernel_regularizer=keras.regularizers.L2(10.0))(inputs)
    model = keras.Model(inputs, outputs)
    model.compile("sgd", "mse")
    x, y = np.zeros((8, 4), "float32"), np.zeros((8, 2), "float32")
    penalty = 10.0 * float((model.layers[1].kernel ** 2).sum())
    assert model.evaluate(x, y, verbose=0) == pytest.approx(penalty, rel=1e-5)
    assert len(model.losses) == 1


def test_frozen_layers_are_not_updated():
    x, y = _data()
    model = _model(compile=False)
    model.layers[1].trainable = False
    model.compile("sgd", keras.losses.SparseCategoricalCrossentropy(from_logits=True))
    frozen = [w.copy() for w in model.layers[1].get_weights()]
    model.fit(x, y, epochs=1, verbose=0)
    for before, after in zip(frozen, model.layers[1].get_weights()):
        np.testing.assert_array_equal(before, after)
    assert model.layers[2].get_weights()[0].std() > 0


def test_early_stopping_stops_at_the_right_epoch():
    x, y = _data()
    model = _model(optimizer=keras.optimizers.SGD(0.0))  # loss never improves
    stop = keras.callbacks.EarlyStopping(monitor="loss", patience=2)
    history = model.fit(x, y, epochs=20, verbose=0, callbacks=[stop], shuffle=False)
    assert len(history.history["loss"]) == 3
    assert model.stop_training


def test_jit_compile_trains_like_eager():
    x, y = _data()
    eager, compiled = _model(optimizer="sgd"), _model(optimizer="sgd", jit_compile=True)
    compiled.set_weights(eager.get_weights())
    h1 = eager.fit(x, y, epochs=1, verbose=0, shuffle=False)
    h2 = compiled.fit(x, y, epochs=1, verbose=0, shuffle=False)
    np.testing.assert_allclose(h1.history["loss"], h2.history["loss"], rtol=1e-5)


def test_progress_bar_output(capsys):
    x, y = _data()
    _model().fit(x, y, epochs=2, verbose=2)
    out = capsys.readouterr().out
    assert "Epoch 1/2" in out and "Epoch 2/2" in out and "2/2 - " in out and "acc:" in out and "loss:" in out
    _model().fit(x, y, epochs=1, verbose=0)
    assert capsys.readouterr().out == ""


# ---------------------------------------------------------------------- bad input


def test_fit_before_compile():
    with pytest.raises(ValueError, match="compile"):
        _model(compile=False).fit(*_data(), verbose=0)


def test_mismatched_sample_counts_name_both_arrays():
    x, y = _data()
    with pytest.raises(ValueError, match=r'input "features": \(64, 4\).*target "logits": \(10,\)'):
        _model().fit(x, y[:10], verbose=0)


def test_wrong_feature_size_names_the_input():
    with pytest.raises(ValueError, match=r'Input "features".*\(None, 4\).*\(64, 5\)'):
        _model().fit(np.zeros((64, 5), "float32"), np.zeros(64, "int64"), verbose=0)


def test_dict_missing_an_input_or_output_name():
    x, y = _data()
    with pytest.raises(ValueError, match=r"Missing data for input\(s\) \['features'\]"):
        _model().fit({"feature": x}, y, verbose=0)
    with pytest.raises(ValueError, match=r"key\(s\) \['wrong'\].*output names \['logits'\]"):
        _model().fit(x, {"wrong": y}, verbose=0)


def test_string_labels_are_refused():
    x, _ = _data(4)
    with pytest.raises(ValueError, match="strings"):
        _model().fit(x, np.array(["a", "b", "a", "b"]), verbose=0)


@pytest.mark.parametrize("kind", ["loss", "metric", "optimizer"])
def test_unknown_names_fail_at_compile(kind):
    args = {"optimizer": "adam", "loss": "mse", "metrics": None}
    args[{"loss": "loss", "metric": "metrics", "optimizer": "optimizer"}[kind]] = (
        ["nope"] if kind == "metric" else "nope"
    )
    with pytest.raises(ValueError, match="nope"):
        _model(compile=False).compile(**args)


def test_validation_split_with_a_generator_is_refused():
    def gen():
        yield _data(8)

    with pytest.raises(ValueError, match="validation_split"):
        _model().fit(gen(), validation_split=0.2, verbose=0)


def test_nan_loss_with_terminate_on_nan_stops_cleanly():
    x, y = _data()
    x[3, 0] = np.nan
    model = _model()
    history = model.fit(x, y, epochs=3, batch_size=8, verbose=0, shuffle=False,
                        callbacks=[keras.callbacks.TerminateOnNaN()])
    assert model.stop_training and len(history.history.get("loss", [])) <= 1
