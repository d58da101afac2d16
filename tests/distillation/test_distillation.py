"""keras.distillation against Keras 3: the same teacher and student (same weights), the same data,
the same `fit` histories, `evaluate` / `predict` results, configs and errors."""

import json
import warnings

import numpy as np
import pytest
import torch

import keraslike
from keraslike.distillation import DistillationLoss, Distiller, FeatureDistillation, LogitsDistillation

RTOL, ATOL = 1e-5, 1e-6
SCCE = "sparse_categorical_crossentropy"


@pytest.fixture
def keras(keras_oracle):
    return keras_oracle


def _data(n=40, features=5, classes=4, seed=1):
    rng = np.random.RandomState(seed)
    return rng.rand(n, features).astype("float32"), rng.randint(0, classes, (n,))


def _set_weights(model, seed):
    rng = np.random.RandomState(seed)
    model.set_weights([rng.randn(*w.shape).astype("float32") * 0.5 for w in model.get_weights()])
    return model


def _mlp(lib, prefix, widths, seed, outputs=4, features=5):
    """A functional MLP with layers `<prefix>_d1`, `<prefix>_d2`, ... and `<prefix>_out`."""
    inputs = lib.Input((features,))
    x = inputs
    for i, width in enumerate(widths, 1):
        x = lib.layers.Dense(width, activation="relu", name=f"{prefix}_d{i}")(x)
    out = lib.layers.Dense(outputs, name=f"{prefix}_out")(x)
    return _set_weights(lib.Model(inputs, out, name=prefix), seed)


def _pair(lib, teacher_widths=(12, 8), student_widths=(8,)):
    return _mlp(lib, "teacher", teacher_widths, 1), _mlp(lib, "student", student_widths, 2)


def _history_close(ours, theirs):
    assert sorted(ours.history) == sorted(theirs.history)
    for key in theirs.history:
        np.testing.assert_allclose(ours.history[key], theirs.history[key], rtol=RTOL, atol=ATOL, err_msg=key)


def _close(ours, theirs, **kwargs):
    np.testing.assert_allclose(ours, theirs, **{"rtol": RTOL, "atol": ATOL, **kwargs})


def _fit_both(keras, build, compile_kwargs, epochs=2, batch_size=16, data=None, validation=True,
              **fit_kwargs):
    """Builds `build(lib)` -> distiller in both libraries, compiles, fits; returns both."""
    x, y = data if data is not None else _data()
    results = []
    for lib in (keras, keraslike):
        distiller = build(lib)
        kwargs = {k: (v(lib) if callable(v) else v) for k, v in compile_kwargs.items()}
        distiller.compile(**kwargs)
        history = distiller.fit(
            x, y, epochs=epochs, batch_size=batch_size, shuffle=False, verbose=0,
            validation_data=(x[:10], _first(y, 10)) if validation else None, **fit_kwargs,
        )
        results.append((distiller, history))
    return results


def _first(y, n):
    return [a[:n] for a in y] if isinstance(y, list) else y[:n]


def _sgd(lib):
    return lib.optimizers.SGD(learning_rate=0.05)


# ---------------------------------------------------------------------------- logits


LOGITS_CASES = [
    (2.0, lambda lib: "kl_divergence"),  # Keras's function: applied to scaled logits directly
    (4.0, lambda lib: lib.losses.KLDivergence()),  # softmax, times temperature**2
    (1.0, lambda lib: lib.losses.KLDivergence()),
    (3.0, lambda lib: lib.losses.CategoricalCrossentropy(from_logits=True)),
    (1.5, lambda lib: "categorical_crossentropy"),
    (5, lambda lib: "mse"),
]


@pytest.mark.parametrize("temperature,loss", LOGITS_CASES,
                         ids=["kl_fn-2", "KLD-4", "KLD-1", "cce_logits-3", "cce-1.5", "mse-5"])
def test_logits_distillation_fit_matches_keras(keras, temperature, loss):
    def build(lib):
        teacher, student = _pair(lib)
        return lib.distillation.Distiller(
            teacher, student, lib.distillation.LogitsDistillation(temperature=temperature, loss=loss(lib)),
            student_loss_weight=0.3,
        )

    (theirs, h_theirs), (ours, h_ours) = _fit_both(
        keras, build, {"optimizer": _sgd, "loss": SCCE, "metrics": ["accuracy"]}
    )
    assert sorted(h_ours.history) == [
        "accuracy", "distillation_loss", "loss", "student_loss", "total_loss",
        "val_accuracy", "val_distillation_loss", "val_loss", "val_student_loss", "val_total_loss",
    ]
    _history_close(h_ours, h_theirs)
    for a, b in zip(ours.student.get_weights(), theirs.student.get_weights()):
        np.testing.assert_allclose(a, b, rtol=RTOL, atol=ATOL)


def test_student_loss_instance_adam_and_sample_weights(keras):
    """Sample weights: ignored by the losses, weighting the compiled metrics (as Keras)."""

    def build(lib):
        teacher, student = _pair(lib)
        return lib.distillation.Distiller(teacher, student, lib.distillation.LogitsDistillation(3.0))

    (_, h_theirs), (_, h_ours) = _fit_both(keras, build, {
        "optimizer": "adam",
        "loss": lambda lib: lib.losses.SparseCategoricalCrossentropy(from_logits=True),
        "metrics": ["accuracy"],
    }, epochs=3, sample_weight=np.random.RandomState(4).rand(40).astype("float32"))
    _history_close(h_ours, h_theirs)


@pytest.mark.parametrize("student_loss_weight", [0.0, 1.0])
def test_student_loss_weight_bounds(keras, student_loss_weight):
    def build(lib):
        teacher, student = _pair(lib)
        return lib.distillation.Distiller(
            teacher, student, lib.distillation.LogitsDistillation(2.0),
            student_loss_weight=student_loss_weight,
        )

    (_, h_theirs), (_, h_ours) = _fit_both(keras, build, {"optimizer": _sgd, "loss": SCCE})
    _history_close(h_ours, h_theirs)
    zero = "student_loss" if student_loss_weight == 0.0 else "distillation_loss"
    assert h_ours.history[zero] == [0.0, 0.0]


# ---------------------------------------------------------------------------- features


FEATURE_CASES = [
    # (loss, teacher layer, student layer): teacher d2 and student d1 are both 8 wide.
    ("mse", "teacher_d2", "student_d1"),
    ("cosine_similarity", "teacher_d2", "student_d1"),
    ("mae", None, None),  # final outputs
    ("mse", "teacher_out", None),  # a teacher layer against the student's final output
]


@pytest.mark.parametrize("loss,teacher_layer,student_layer", FEATURE_CASES,
                         ids=["mse", "cosine", "mae-final", "teacher-only"])
def test_feature_distillation_fit_matches_keras(keras, loss, teacher_layer, student_layer):
    def build(lib):
        teacher, student = _pair(lib)
        return lib.distillation.Distiller(
            teacher, student,
            lib.distillation.FeatureDistillation(loss=loss, teacher_layer_name=teacher_layer,
                                                 student_layer_name=student_layer),
        )

    (theirs, h_theirs), (ours, h_ours) = _fit_both(
        keras, build, {"optimizer": _sgd, "loss": SCCE, "metrics": ["accuracy"]}
    )
    _history_close(h_ours, h_theirs)
    x, y = _data()
    _close(ours.evaluate(x, y, verbose=0), theirs.evaluate(x, y, verbose=0))


def test_conv_feature_maps_match_keras(keras):
    """Rank-4 features (channels_last) from layers of different depth, mse and cosine."""

    def cnn(lib, prefix, filters, seed):
        inputs = lib.Input((6, 6, 2))
        x = lib.layers.Conv2D(filters[0], 3, padding="same", activation="relu", name=f"{prefix}_c1")(inputs)
        for i, f in enumerate(filters[1:], 2):
            x = lib.layers.Conv2D(f, 3, padding="same", activation="relu", name=f"{prefix}_c{i}")(x)
        x = lib.layers.GlobalAveragePooling2D()(x)
        out = lib.layers.Dense(3, name=f"{prefix}_out")(x)
        return _set_weights(lib.Model(inputs, out, name=prefix), seed)

    def build(lib):
        teacher, student = cnn(lib, "teacher", (6, 4), 3), cnn(lib, "student", (4,), 4)
        D = lib.distillation
        return D.Distiller(
            teacher, student,
            [D.LogitsDistillation(3.0, loss=lib.losses.KLDivergence()),
             D.FeatureDistillation("mse", "teacher_c2", "student_c1"),
             D.FeatureDistillation("cosine_similarity", "teacher_c2", "student_c1")],
            distillation_loss_weights=[1.0, 0.5, 0.25], student_loss_weight=0.2,
        )

    rng = np.random.RandomState(0)
    data = rng.rand(24, 6, 6, 2).astype("float32"), rng.randint(0, 3, 24)
    (_, h_theirs), (_, h_ours) = _fit_both(
        keras, build, {"optimizer": _sgd, "loss": SCCE}, data=data, batch_size=8
    )
    _history_close(h_ours, h_theirs)


# ---------------------------------------------------------------------------- combined


def test_combined_losses_with_weights_and_everything_else(keras):
    """Logits + feature losses with weights: history, evaluate (list and dict), predict, the
    teacher frozen and unchanged, the student trained."""

    def build(lib):
        teacher, student = _pair(lib)
        D = lib.distillation
        return D.Distiller(
            teacher, student,
            [D.LogitsDistillation(temperature=2.0),
             D.FeatureDistillation(loss="mse", teacher_layer_name="teacher_d2",
                                   student_layer_name="student_d1")],
            distillation_loss_weights=[0.7, 0.3], student_loss_weight=0.4,
        )

    x, y = _data()
    (theirs, h_theirs), (ours, h_ours) = _fit_both(
        keras, build, {"optimizer": "adam", "loss": SCCE, "metrics": ["accuracy"]}
    )
    _history_close(h_ours, h_theirs)
    assert ours.metrics_names == theirs.metrics_names == [
        "loss", "compile_metrics", "student_loss", "distillation_loss", "total_loss"]
    _close(ours.evaluate(x, y, verbose=0), theirs.evaluate(x, y, verbose=0))
    d_ours = ours.evaluate(x, y, verbose=0, return_dict=True)
    d_theirs = theirs.evaluate(x, y, verbose=0, return_dict=True)
    assert sorted(d_ours) == sorted(d_theirs)
    for key in d_theirs:
        np.testing.assert_allclose(d_ours[key], d_theirs[key], rtol=RTOL, atol=ATOL)
    np.testing.assert_allclose(ours.predict(x, verbose=0), theirs.predict(x, verbose=0), rtol=RTOL, atol=ATOL)
    np.testing.assert_allclose(ours.predict(x, verbose=0), ours.student.predict(x, verbose=0))
    # The teacher: frozen, its weights those it started with.
    fresh_teacher, fresh_student = _pair(keraslike)
    assert ours.teacher.trainable is False and ours.student.trainable is True
    for a, b in zip(ours.teacher.get_weights(), fresh_teacher.get_weights()):
        np.testing.assert_array_equal(a, b)
    moved = zip(ours.student.get_weights(), fresh_student.get_weights())
    assert any(not np.array_equal(a, b) for a, b in moved)
    assert len(ours.trainable_weights) == len(theirs.trainable_weights) == 4
    assert len(ours.weights) == len(theirs.weights) == 10


def _two_heads(lib, prefix, width, seed):
    inputs = lib.Input((5,))
    h = lib.layers.Dense(width, activation="relu", name=f"{prefix}_d1")(inputs)
    a = lib.layers.Dense(4, name=f"{prefix}_a")(h)
    b = lib.layers.Dense(2, name=f"{prefix}_b")(h)
    return _set_weights(lib.Model(inputs, [a, b], name=prefix), seed)


def _two_head_distiller(lib, student_loss_weight):
    D = lib.distillation
    return D.Distiller(
        _two_heads(lib, "teacher", 10, 5), _two_heads(lib, "student", 6, 6),
        [D.LogitsDistillation(2.0, loss=[lib.losses.KLDivergence(), None]),
         D.LogitsDistillation(1.0, loss=[None, "mse"])],
        distillation_loss_weights=[1.0, 2.0], student_loss_weight=student_loss_weight,
    )


def test_multi_output_distillation_matches_keras(keras):
    """Two outputs, a loss per output (None skips one). Keras cannot compute a per-output
    student loss (its tracked list of losses never matches the structure of `y`), so the
    distillation losses alone are compared."""
    (theirs, h_theirs), (ours, h_ours) = _fit_both(
        keras, lambda lib: _two_head_distiller(lib, 0.0), {"optimizer": _sgd, "loss": SCCE}
    )
    _history_close(h_ours, h_theirs)
    x, _ = _data()
    for a, b in zip(ours.predict(x, verbose=0), theirs.predict(x, verbose=0)):
        np.testing.assert_allclose(a, b, rtol=RTOL, atol=ATOL)


def test_multi_output_student_loss_sums_the_outputs():
    distiller = _two_head_distiller(keraslike, 0.5)
    distiller.compile(loss=["sparse_categorical_crossentropy", "mse"])
    x, y = _data(8)
    y2 = np.random.RandomState(3).rand(8, 2).astype("float32")
    xt, targets = torch.as_tensor(x), [torch.as_tensor(y), torch.as_tensor(y2)]
    with torch.no_grad():
        outputs = distiller(xt)
        total = distiller.compute_loss(xt, targets, outputs, training=False)
        # As Keras: the per-sample losses of the outputs stacked and summed whole.
        student = (keraslike.losses.sparse_categorical_crossentropy(targets[0], outputs[0]).sum()
                   + keraslike.losses.mean_squared_error(targets[1], outputs[1]).sum())
        teacher = distiller.teacher(xt)
        kl = keraslike.losses.KLDivergence()(
            torch.softmax(teacher[0] / 2.0, -1), torch.softmax(outputs[0] / 2.0, -1)) * 4.0
        mse = keraslike.losses.mean_squared_error(teacher[1], outputs[1]).mean()
    np.testing.assert_allclose(float(total), float(0.5 * student + 0.5 * (kl + 2.0 * mse)), rtol=1e-6)
    np.testing.assert_allclose(float(distiller.student_loss_tracker.result()), float(student), rtol=1e-6)


def test_sequential_models_with_layer_names_match_keras(keras):
    def seq(lib, prefix, widths, seed):
        layers = [lib.Input((5,))]
        layers += [lib.layers.Dense(w, activation="relu", name=f"{prefix}_d{i}")
                   for i, w in enumerate(widths, 1)]
        layers.append(lib.layers.Dense(4, name=f"{prefix}_out"))
        return _set_weights(lib.Sequential(layers, name=prefix), seed)

    def build(lib):
        D = lib.distillation
        return D.Distiller(
            seq(lib, "teacher", (10, 6), 7), seq(lib, "student", (6,), 8),
            [D.LogitsDistillation(2.5), D.FeatureDistillation("mse", "teacher_d2", "student_d1")],
        )

    (theirs, h_theirs), (ours, h_ours) = _fit_both(
        keras, build, {"optimizer": _sgd, "loss": SCCE})
    _history_close(h_ours, h_theirs)
    # Without targets only the distillation loss counts (the student loss is skipped).
    x, _ = _data()
    _close(ours.evaluate(x, verbose=0), theirs.evaluate(x, verbose=0))


def test_subclassed_models_match_keras(keras):
    def make(lib, width, seed):
        class Net(lib.Model):
            def __init__(self):
                super().__init__()
                self.hidden = lib.layers.Dense(width, activation="relu")
                self.out = lib.layers.Dense(4)

            def call(self, inputs, training=None):
                return self.out(self.hidden(inputs))

        net = Net()
        net(np.zeros((2, 5), "float32"))
        return _set_weights(net, seed)

    def build(lib):
        distillation = lib.distillation.LogitsDistillation(3.0)
        return lib.distillation.Distiller(make(lib, 12, 9), make(lib, 6, 10), distillation)

    (_, h_theirs), (_, h_ours) = _fit_both(keras, build, {"optimizer": _sgd, "loss": SCCE})
    _history_close(h_ours, h_theirs)


def test_batch_norm_student_with_feature_layer_matches_keras(keras):
    """The student feature extractor runs in training mode, also in `evaluate` (as Keras): its
    BatchNormalization moving statistics move there too."""

    def build(lib):
        teacher = _mlp(lib, "teacher", (8,), 11)
        inputs = lib.Input((5,))
        h = lib.layers.Dense(8, name="student_d1")(inputs)
        h = lib.layers.BatchNormalization(name="student_bn")(h)
        out = lib.layers.Dense(4, name="student_out")(lib.layers.Activation("relu")(h))
        student = _set_weights(lib.Model(inputs, out, name="student"), 12)
        bn = student.get_layer("student_bn")
        bn.set_weights(bn.get_weights()[:3] + [np.abs(bn.get_weights()[3]) + 0.5])  # a valid variance
        D = lib.distillation
        return D.Distiller(
            teacher, student,
            [D.LogitsDistillation(2.0), D.FeatureDistillation("mse", "teacher_d1", "student_bn")],
        )

    (theirs, h_theirs), (ours, h_ours) = _fit_both(keras, build, {"optimizer": _sgd, "loss": SCCE})
    _history_close(h_ours, h_theirs)
    x, y = _data()
    _close(ours.evaluate(x, y, verbose=0), theirs.evaluate(x, y, verbose=0))
    for a, b in zip(ours.student.get_weights(), theirs.student.get_weights()):  # moving stats included
        np.testing.assert_allclose(a, b, rtol=RTOL, atol=1e-5)  # batch statistics amplify rounding


def test_dropout_student_runs_training_mode_in_fit_and_inference_in_predict():
    teacher = _mlp(keraslike, "teacher", (8,), 1)
    inputs = keraslike.Input((5,))
    h = keraslike.layers.Dense(8, activation="relu", name="student_d1")(inputs)
    out = keraslike.layers.Dense(4)(keraslike.layers.Dropout(0.9)(h))
    student = keraslike.Model(inputs, out)
    distiller = Distiller(teacher, student, LogitsDistillation(2.0))
    x, _ = _data()
    a = distiller.predict(x, verbose=0)
    np.testing.assert_array_equal(a, distiller.predict(x, verbose=0))  # inference: no dropout
    trained = distiller(torch.as_tensor(x), training=True).detach().numpy()
    assert not np.allclose(trained, a)


# ---------------------------------------------------------------------------- deliberate deviation


def test_student_layer_name_alone_uses_that_layer():
    """Keras ignores a `student_layer_name` given without a `teacher_layer_name` (it pairs the
    teacher's final output with the student's); the documented pairing is used here."""
    teacher, student = _pair(keraslike, teacher_widths=(8,), student_widths=(4,))
    loss = FeatureDistillation("mse", teacher_layer_name=None, student_layer_name="student_d1")
    distiller = Distiller(teacher, student, loss, student_loss_weight=0.0)
    distiller.compile(loss="sparse_categorical_crossentropy")
    x, y = _data(8)
    xt = torch.as_tensor(x)
    with torch.no_grad():
        total = distiller.compute_loss(xt, torch.as_tensor(y), distiller(xt), training=False)
        hidden = distiller.student.get_layer("student_d1")(xt)
        expected = torch.mean((teacher(xt) - hidden) ** 2)  # student_d1 and the logits: both 4 wide
    np.testing.assert_allclose(float(total), float(expected), rtol=1e-6)


# ---------------------------------------------------------------------------- config and saving


def _strip_ids(config):
    if isinstance(config, dict):
        return {k: _strip_ids(v) for k, v in config.items() if k != "shared_object_id"}
    if isinstance(config, (list, tuple)):
        return [_strip_ids(v) for v in config]
    return config


def _config_distiller(lib):
    teacher, student = _pair(lib)
    D = lib.distillation
    return D.Distiller(
        teacher, student,
        [D.LogitsDistillation(temperature=3.0, loss=lib.losses.KLDivergence()),
         D.LogitsDistillation(temperature=2.0),
         D.FeatureDistillation(loss="mse", teacher_layer_name="teacher_d2", student_layer_name="student_d1")],
        distillation_loss_weights=[0.5, 0.25, 0.25], student_loss_weight=0.7,
    )


def test_config_matches_keras_and_round_trips_both_ways(keras):
    theirs, ours = _config_distiller(keras), _config_distiller(keraslike)
    ours_config = _strip_ids(json.loads(json.dumps(ours.get_config())))
    theirs_config = _strip_ids(json.loads(json.dumps(theirs.get_config())))
    assert list(ours_config) == list(theirs_config) == [
        "name", "trainable", "dtype", "teacher", "student", "distillation_losses",
        "distillation_loss_weights", "student_loss_weight"]
    for key in ("name", "trainable", "dtype", "distillation_losses", "distillation_loss_weights",
                "student_loss_weight"):
        assert ours_config[key] == theirs_config[key], key
    for key in ("teacher", "student"):
        assert ours_config[key]["class_name"] == theirs_config[key]["class_name"] == "Functional"
        assert ours_config[key]["config"]["trainable"] == theirs_config[key]["config"]["trainable"]
    x, _ = _data(6)
    # Keras's config -> keraslike and keraslike's -> Keras: same distiller, same (fresh) shapes.
    rebuilt = Distiller.from_config(theirs_config)
    assert isinstance(rebuilt.distillation_losses[2], FeatureDistillation)
    assert rebuilt.distillation_losses[0].temperature == 3.0
    assert isinstance(rebuilt.distillation_losses[0].loss, keraslike.losses.KLDivergence)
    assert rebuilt.distillation_losses[1].loss is keraslike.losses.kl_divergence
    assert rebuilt.teacher.trainable is False and rebuilt.student_loss_weight == 0.7
    assert rebuilt.predict(x, verbose=0).shape == (6, 4)
    back = keras.distillation.Distiller.from_config(ours_config)
    assert back.distillation_loss_weights == [0.5, 0.25, 0.25]
    assert back.predict(x, verbose=0).shape == (6, 4)
    # keraslike's own round trip keeps the weights.
    again = Distiller.from_config(ours.get_config())
    again.set_weights(ours.get_weights())
    np.testing.assert_allclose(again.predict(x, verbose=0), ours.predict(x, verbose=0))


def test_distillation_loss_configs_match_keras(keras):
    for build in (
        lambda lib: lib.distillation.LogitsDistillation(
            4.0, loss=lib.losses.CategoricalCrossentropy(from_logits=True)),
        lambda lib: lib.distillation.LogitsDistillation(2, loss=["kl_divergence", None]),
        lambda lib: lib.distillation.FeatureDistillation(["mse", None, lib.losses.Huber()]),
        lambda lib: lib.distillation.FeatureDistillation(),
        lambda lib: lib.distillation.FeatureDistillation(lib.losses.MeanAbsoluteError(), "a", "b"),
    ):
        ours, theirs = build(keraslike), build(keras)
        assert json.loads(json.dumps(ours.get_config())) == json.loads(json.dumps(theirs.get_config()))
        again = type(ours).from_config(ours.get_config())
        assert again.get_config() == ours.get_config()


def test_keras_file_round_trip(tmp_path):
    distiller = _config_distiller(keraslike)
    distiller.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    x, y = _data()
    distiller.fit(x, y, epochs=1, batch_size=16, verbose=0)
    path = str(tmp_path / "distiller.keras")
    distiller.save(path)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        loaded = keraslike.saving.load_model(path)
    assert any("`compile()` was not called" in str(w.message) for w in caught)  # as Keras
    assert type(loaded) is Distiller and not loaded.compiled
    np.testing.assert_allclose(loaded.predict(x, verbose=0), distiller.predict(x, verbose=0))
    assert loaded.student_loss_weight == 0.7 and loaded.teacher.trainable is False
    kinds = [type(d) for d in loaded.distillation_losses]
    assert kinds == [LogitsDistillation, LogitsDistillation, FeatureDistillation]
    loaded.compile(optimizer="adam", loss="sparse_categorical_crossentropy")
    loaded.fit(x, y, epochs=1, verbose=0)


def _saved_and_loaded(src, dst, tmp_path):
    distiller = _config_distiller(src)
    distiller.compile(optimizer="adam", loss="sparse_categorical_crossentropy")
    x, y = _data()
    distiller.fit(x, y, epochs=1, batch_size=16, verbose=0)
    path = str(tmp_path / f"from_{src.__name__}.keras")
    distiller.save(path)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # "`compile()` was not called as part of model loading"
        loaded = dst.saving.load_model(path)
    _close(np.asarray(loaded.predict(x, verbose=0)), distiller.predict(x, verbose=0))
    assert loaded.student_loss_weight == 0.7 and loaded.distillation_loss_weights == [0.5, 0.25, 0.25]


def test_keraslike_file_loads_in_keras(keras, tmp_path):
    _saved_and_loaded(keraslike, keras, tmp_path)


def test_keras_file_loads_in_keraslike(keras, tmp_path):
    _saved_and_loaded(keras, keraslike, tmp_path)


def test_native_file_round_trip(tmp_path):
    distiller = _config_distiller(keraslike)
    distiller.compile(optimizer="adam", loss="sparse_categorical_crossentropy")
    x, y = _data()
    distiller.fit(x, y, epochs=1, batch_size=16, verbose=0)
    path = str(tmp_path / "distiller.safetensors")
    distiller.save(path)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        loaded = keraslike.saving.load_model(path)
    assert type(loaded) is Distiller
    np.testing.assert_array_equal(loaded.predict(x, verbose=0), distiller.predict(x, verbose=0))


# ---------------------------------------------------------------------------- errors


def _error_cases(lib):
    D = lib.distillation

    def models():
        return _pair(lib)

    def with_student(**kwargs):
        teacher = _mlp(lib, "teacher", (8,), 1)
        inputs = lib.Input((kwargs.get("features", 5),), dtype=kwargs.get("dtype", "float32"))
        out = lib.layers.Dense(kwargs.get("outputs", 4))(inputs)
        return D.Distiller(teacher, lib.Model(inputs, out), D.LogitsDistillation())

    def compiled(**kwargs):
        distiller = D.Distiller(*models(), D.LogitsDistillation())
        distiller.compile(**kwargs)

    return {
        "teacher": lambda: D.Distiller("model", models()[1], D.LogitsDistillation()),
        "student": lambda: D.Distiller(models()[0], "model", D.LogitsDistillation()),
        "input_shape": lambda: with_student(features=6),
        "output_shape": lambda: with_student(outputs=3),
        "input_dtype": lambda: with_student(dtype="float16"),
        "weight_type": lambda: D.Distiller(*models(), D.LogitsDistillation(), student_loss_weight="0.5"),
        "weight_range": lambda: D.Distiller(*models(), D.LogitsDistillation(), student_loss_weight=1.5),
        "no_losses": lambda: D.Distiller(*models(), None),
        "weights_length": lambda: D.Distiller(*models(), [D.LogitsDistillation()],
                                              distillation_loss_weights=[1.0, 2.0]),
        "teacher_layer": lambda: D.Distiller(*models(), D.FeatureDistillation(teacher_layer_name="nope")),
        "student_layer": lambda: D.Distiller(*models(), D.FeatureDistillation(student_layer_name="nope")),
        "temperature_zero": lambda: D.LogitsDistillation(temperature=0),
        "temperature_type": lambda: D.LogitsDistillation(temperature="3"),
        "temperature_np": lambda: D.LogitsDistillation(temperature=np.float32(3)),
        "logits_no_loss": lambda: D.LogitsDistillation(loss=[None, None]),
        "logits_unknown_loss": lambda: D.LogitsDistillation(loss="nope"),
        "feature_no_loss": lambda: D.FeatureDistillation(loss=None),
        "base_compute": lambda: D.DistillationLoss().compute_loss(1, 2),
        "compile_no_loss": lambda: compiled(),
        "compile_metrics_str": lambda: compiled(loss="mse", metrics="accuracy"),
        "compile_metrics_dict": lambda: compiled(loss="mse", metrics={"a": "accuracy"}),
        "compile_unknown_loss": lambda: compiled(loss="nope"),
    }


@pytest.mark.parametrize("case", sorted(_error_cases(keraslike)))
def test_errors_match_keras(keras, case):
    with pytest.raises(Exception) as theirs:
        _error_cases(keras)[case]()
    keraslike.backend.clear_session()
    with pytest.raises(type(theirs.value)) as ours:
        _error_cases(keraslike)[case]()
    assert str(ours.value) == str(theirs.value)


def test_subclassed_model_with_layer_names_is_refused():
    class Net(keraslike.Model):
        def __init__(self):
            super().__init__()
            self.dense = keraslike.layers.Dense(4)

        def call(self, x):
            return self.dense(x)

    with pytest.raises(ValueError, match="The teacher model\\(s\\) appear to be subclassed"):
        Distiller(Net(), _mlp(keraslike, "student", (4,), 0), FeatureDistillation(teacher_layer_name="x"))


def test_non_scalar_distillation_loss_is_an_error():
    class PerSample(DistillationLoss):
        def compute_loss(self, teacher_outputs, student_outputs, **kwargs):
            return ((teacher_outputs - student_outputs) ** 2).mean(-1)

    distiller = Distiller(*_pair(keraslike), PerSample())
    distiller.compile(loss="sparse_categorical_crossentropy")
    message = r"PerSample returned a non-scalar loss with shape torch.Size\(\[16\]\)"
    with pytest.raises(ValueError, match=message):
        distiller.fit(*_data(), batch_size=16, verbose=0)


def test_feature_loss_structure_mismatch_is_a_value_error():
    # Keras raises AttributeError here (its message calls a `tree.structure` it lacks).
    distiller = Distiller(*_pair(keraslike), FeatureDistillation(loss=["mse", "mse"]))
    distiller.compile(loss="sparse_categorical_crossentropy")
    message = r"Loss structure mismatch. Loss structure: \['\*', '\*'\], Output structure: \*"
    with pytest.raises(ValueError, match=message):
        distiller.fit(*_data(), batch_size=16, verbose=0)


def test_custom_distillation_loss_trains():
    class MeanAbsoluteLogits(DistillationLoss):
        def compute_loss(self, teacher_outputs, student_outputs, **kwargs):
            return torch.mean(torch.abs(teacher_outputs - student_outputs))

    distiller = Distiller(*_pair(keraslike), MeanAbsoluteLogits(), student_loss_weight=0.0)
    distiller.compile(optimizer=keraslike.optimizers.SGD(0.1), loss="sparse_categorical_crossentropy")
    x, y = _data()
    history = distiller.fit(x, y, epochs=3, verbose=0)
    assert history.history["distillation_loss"][-1] < history.history["distillation_loss"][0]
    gap = np.abs(distiller.teacher.predict(x, verbose=0) - distiller.predict(x, verbose=0)).mean()
    loss, student_loss, distillation_loss, total_loss = distiller.evaluate(x, batch_size=40, verbose=0)
    assert student_loss == 0.0
    np.testing.assert_allclose([loss, distillation_loss, total_loss], gap, rtol=1e-5)
