"""STFTSpectrogram and MelSpectrogram against Keras 3 (torch backend): values, gradients,
shapes (symbolic and in models), configs, Keras files and errors."""

import warnings

import numpy as np
import pytest
import torch

import keraslike
from tests.layer_harness import assert_configs_equal, check_layer

keras = pytest.importorskip("keras")

def _signals(shape, seed=0):
    return np.random.default_rng(seed).standard_normal(shape).astype("float32")


# ------------------------------------------------------------------------- STFTSpectrogram

STFT_CASES = [
    # mode, frame_length, frame_step, fft_length, padding, data_format, expand_dims, window, extra
    ("log", 16, None, None, "valid", "channels_last", False, "hann", {}),
    ("magnitude", 15, 4, 32, "same", "channels_last", False, "hamming", {"periodic": True}),
    ("psd", 20, 7, 32, "valid", "channels_first", False, "hann", {"scaling": "spectrum"}),
    ("real", 16, 5, 16, "same", "channels_first", True, "hann", {}),
    ("imag", 12, 3, 16, "valid", "channels_last", True, "blackman", {"scaling": None}),
    ("angle", 16, 8, 32, "same", "channels_last", False, None, {}),
    ("stft", 16, 6, 32, "same", "channels_last", True, "hann", {}),
    ("stft", 16, 16, 16, "valid", "channels_first", False, "hann", {}),
    ("log", 24, 9, 32, "same", "channels_first", True, "hamming", {}),
]


def _stft_kwargs(case):
    mode, length, step, fft, padding, data_format, expand, window, extra = case
    return dict(mode=mode, frame_length=length, frame_step=step, fft_length=fft,
                padding=padding, data_format=data_format, expand_dims=expand, window=window,
                **extra)


def _stft_input_shape(data_format, time=101, channels=3, batch=2):
    return (batch, time, channels) if data_format == "channels_last" else (batch, channels, time)


@pytest.mark.parametrize("case", STFT_CASES, ids=lambda c: f"{c[0]}-{c[4]}-{c[5]}-{c[6]}")
def test_stft_spectrogram_parity(case):
    kwargs = _stft_kwargs(case)
    shape = _stft_input_shape(kwargs["data_format"])
    # angle: atan2 near the branch cut may flip sign by 2*pi between two correct programs.
    ours, theirs, out, ref = check_layer("STFTSpectrogram", kwargs, shape, rtol=1e-4, atol=1e-4,
                                         compare_config=True)
    assert out.shape == ref.shape
    assert [w.shape for w in ours.get_weights()] == [tuple(w.shape) for w in theirs.weights]
    # the stored weight is torch's conv1d layout, `real_kernel` Keras's.
    if case[0] != "imag":
        np.testing.assert_allclose(ours.real_kernel.detach().numpy(),
                                   theirs.real_kernel.numpy(), atol=1e-6)
        assert tuple(ours.real_weight.shape) == (ours._fft_length // 2 + 1, 1, kwargs["frame_length"])


def test_stft_spectrogram_initial_kernels_are_keras_stft_kernels():
    kwargs = dict(frame_length=20, fft_length=32, window="hamming", scaling="spectrum", periodic=True)
    ours, theirs = keraslike.layers.STFTSpectrogram(**kwargs), keras.layers.STFTSpectrogram(**kwargs)
    x = _signals((1, 64, 1))
    ours(torch.tensor(x)), theirs(x)
    for a, b in zip(ours.get_weights(), theirs.get_weights()):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(ours(torch.tensor(x)).detach().numpy(), theirs(x).detach().numpy(),
                               atol=1e-5)


@pytest.mark.parametrize("data_format,expand_dims", [
    ("channels_last", False), ("channels_last", True),
    ("channels_first", False), ("channels_first", True),
])
def test_stft_spectrogram_gradients_match_keras(data_format, expand_dims):
    kwargs = dict(mode="log", frame_length=16, frame_step=5, fft_length=32, padding="same",
                  data_format=data_format, expand_dims=expand_dims)
    x = _signals(_stft_input_shape(data_format, time=60, channels=2))
    weights = np.random.default_rng(3).standard_normal(
        keras.layers.STFTSpectrogram(**kwargs).compute_output_shape(x.shape)).astype("float32")

    theirs = keras.layers.STFTSpectrogram(**kwargs)
    k_x = torch.tensor(x, requires_grad=True)
    (theirs(k_x) * torch.tensor(weights)).sum().backward()

    ours = keraslike.layers.STFTSpectrogram(**kwargs)
    o_x = torch.tensor(x, requires_grad=True)
    ours(o_x)
    ours.set_weights(theirs.get_weights())
    (ours(o_x) * torch.tensor(weights)).sum().backward()

    np.testing.assert_allclose(o_x.grad.numpy(), k_x.grad.numpy(), rtol=1e-4, atol=1e-4)
    for side in ("real", "imag"):
        k_grad = getattr(theirs, f"{side}_kernel").value.grad.numpy()  # Keras layout
        o_grad = getattr(ours, f"{side}_weight").grad.permute(2, 1, 0).numpy()
        assert np.abs(k_grad).max() > 0
        np.testing.assert_allclose(o_grad, k_grad, rtol=1e-4, atol=1e-3 * np.abs(k_grad).max())


def test_stft_spectrogram_trainable_flag_and_fit_step():
    frozen = keraslike.layers.STFTSpectrogram(frame_length=16, trainable=False)
    frozen(torch.zeros(1, 40, 1))
    assert len(frozen.trainable_weights) == 0 and len(frozen.non_trainable_weights) == 2
    assert sorted(frozen.state_dict()) == ["imag_weight", "real_weight"]

    kwargs = dict(mode="magnitude", frame_length=16, frame_step=8, fft_length=16)
    x, y = _signals((4, 64, 1)), _signals((4, 1), seed=1)
    models = []
    for lib in (keras, keraslike):
        inputs = lib.Input((64, 1))
        hidden = lib.layers.STFTSpectrogram(**kwargs)(inputs)
        outputs = lib.layers.Dense(1)(lib.layers.GlobalAveragePooling1D()(hidden))
        models.append(lib.Model(inputs, outputs))
    theirs, ours = models
    ours.set_weights(theirs.get_weights())
    initial = ours.layers[1].get_weights()[0].copy()
    for model in models:
        model.compile(optimizer="sgd", loss="mse")
        model.fit(x, y, batch_size=4, epochs=2, verbose=0, shuffle=False)
    for a, b in zip(ours.get_weights(), theirs.get_weights()):
        np.testing.assert_allclose(a, b, rtol=1e-4, atol=1e-5)
    assert np.abs(ours.layers[1].get_weights()[0] - initial).max() > 1e-5  # the kernels trained


@pytest.mark.parametrize("data_format,expand_dims,mode", [
    ("channels_last", False, "log"), ("channels_last", True, "stft"),
    ("channels_first", False, "stft"), ("channels_first", True, "psd"),
])
def test_stft_spectrogram_symbolic_shapes_in_model(data_format, expand_dims, mode):
    kwargs = dict(mode=mode, frame_length=32, frame_step=10, fft_length=64, padding="same",
                  data_format=data_format, expand_dims=expand_dims)
    for time in (None, 250):
        shape = (time, 2) if data_format == "channels_last" else (2, time)
        k_out = keras.layers.STFTSpectrogram(**kwargs)(keras.Input(shape))
        layer = keraslike.layers.STFTSpectrogram(**kwargs)
        inputs = keraslike.Input(shape)
        o_out = layer(inputs)
        assert tuple(o_out.shape) == tuple(k_out.shape)
        model = keraslike.Model(inputs, o_out)
        x = _signals((3,) + tuple(s or 250 for s in shape))
        assert tuple(model.predict(x, verbose=0).shape) == (3,) + tuple(
            s if s is not None else d for s, d in zip(k_out.shape[1:],
                                                     keras.layers.STFTSpectrogram(**kwargs)(x).shape[1:]))


def test_stft_spectrogram_keras_file_loads(tmp_path):
    inputs = keras.Input((None, 2))
    spectrogram = keras.layers.STFTSpectrogram(mode="log", frame_length=32, frame_step=8,
                                               fft_length=64, padding="same")
    outputs = keras.layers.Dense(3)(spectrogram(inputs))
    model = keras.Model(inputs, outputs)
    spectrogram.real_kernel.assign(spectrogram.real_kernel * 1.5)  # not the initial values
    path = str(tmp_path / "stft.keras")
    model.save(path)
    x = _signals((2, 120, 2))
    loaded = keraslike.saving.load_model(path)
    np.testing.assert_allclose(loaded.predict(x, verbose=0), model.predict(x, verbose=0),
                               rtol=1e-4, atol=1e-4)
    layer = loaded.layers[1]
    assert isinstance(layer, keraslike.layers.STFTSpectrogram)
    np.testing.assert_allclose(layer.real_kernel.detach().numpy(), spectrogram.real_kernel.numpy())
    assert_configs_equal(layer.get_config(), spectrogram.get_config())


def test_stft_spectrogram_config_from_keras_serialization():
    theirs = keras.layers.STFTSpectrogram(mode="psd", frame_length=100, frame_step=30,
                                          fft_length=128, window="hamming", padding="same",
                                          expand_dims=True, data_format="channels_first",
                                          trainable=False)
    ours = keraslike.layers.deserialize(keras.layers.serialize(theirs))
    assert isinstance(ours, keraslike.layers.STFTSpectrogram)
    assert ours.trainable is False and ours._frame_step == 30 and ours._fft_length == 128
    assert_configs_equal(ours.get_config(), theirs.get_config())
    default = keraslike.layers.STFTSpectrogram(frame_length=100)
    assert (default._frame_step, default._fft_length) == (50, 128)
    assert default.get_config()["frame_step"] is None and default.get_config()["fft_length"] is None


@pytest.mark.parametrize("kwargs,match", [
    ({"frame_length": 16, "frame_step": 17}, "frame_step"),
    ({"frame_length": 16, "frame_step": 0}, "frame_step"),
    ({"frame_length": 16, "fft_length": 8}, "fft_length"),
    ({"mode": "power"}, "mode"),
    ({"scaling": "l2"}, "Scaling"),
    ({"padding": "causal"}, "Padding"),
    ({"window": "no-such-window"}, "window"),
    ({"data_format": "channels_middle"}, "data_format"),
])
def test_stft_spectrogram_bad_arguments(kwargs, match):
    with pytest.raises(ValueError, match=match):
        keras.layers.STFTSpectrogram(**kwargs)
    with pytest.raises(ValueError, match=match):
        keraslike.layers.STFTSpectrogram(**kwargs)


def test_stft_spectrogram_bad_inputs():
    with pytest.warns(UserWarning, match="power of two"):
        keraslike.layers.STFTSpectrogram(frame_length=16, fft_length=24)
    layer = keraslike.layers.STFTSpectrogram(frame_length=16)
    with pytest.raises(TypeError, match="Invalid input type"):
        layer(torch.ones(1, 40, 1, dtype=torch.int64))
    with pytest.raises(ValueError, match="expected ndim=3"):
        layer(torch.ones(1, 40))
    with pytest.raises(ValueError, match="shorter than one frame"):
        layer(keraslike.Input((10, 1)))
    with pytest.raises(ValueError, match="shorter than one frame"):
        layer(torch.ones(1, 10, 1))
    with pytest.raises(ValueError):  # Keras's error for the same symbolic call
        keras.layers.STFTSpectrogram(frame_length=16)(keras.Input((10, 1)))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        keraslike.layers.STFTSpectrogram(frame_length=16, fft_length=32)  # no warning


# -------------------------------------------------------------------------- MelSpectrogram

MEL_CASES = [
    {},
    {"sampling_rate": 8000, "fft_length": 512, "sequence_stride": 128, "sequence_length": 400,
     "mag_exp": 1.0},
    {"sampling_rate": 22050, "fft_length": 1024, "sequence_stride": 256, "num_mel_bins": 64,
     "min_freq": 50.0, "max_freq": 9000.0, "power_to_db": False},
    {"sampling_rate": 44100, "fft_length": 256, "sequence_stride": 100, "sequence_length": 200,
     "window": "hamming", "ref_power": 0.5, "top_db": 40.0},
    {"sampling_rate": 16000, "fft_length": 400, "sequence_stride": 160, "window": None,
     "num_mel_bins": 40, "mag_exp": 1.5, "power_to_db": False},
    {"sampling_rate": 16000, "fft_length": 512, "sequence_stride": 64, "min_power": 1e-5,
     "ref_power": -2.0, "top_db": 30.0},
]


def _audio(shape, seed=0):
    """Signals of different loudness, so `top_db` clips the quiet ones (batch-wide maximum)."""
    x = _signals(shape, seed)
    if len(shape) == 2:
        x = x * np.logspace(0, -4, shape[0], dtype="float32")[:, None]
    return x


@pytest.mark.parametrize("kwargs", MEL_CASES, ids=lambda k: "-".join(f"{a}={b}" for a, b in k.items()) or "defaults")
@pytest.mark.parametrize("shape", [(3, 4001), (2000,)])
def test_mel_spectrogram_parity(kwargs, shape):
    _, _, out, ref = check_layer("MelSpectrogram", kwargs, input_data=_audio(shape),
                                 rtol=1e-5, atol=1e-4)
    assert out.dtype == np.float32
    assert np.ptp(ref) > 1.0  # not a constant output


def test_mel_spectrogram_top_db_uses_the_batch_maximum():
    """As Keras: the `top_db` floor is relative to the loudest value of the whole batch."""
    x = _audio((2, 3000))
    layer = keraslike.layers.MelSpectrogram(fft_length=256, sequence_stride=128, top_db=40.0)
    batched = layer(torch.tensor(x)).numpy()
    alone = layer(torch.tensor(x[1:])).numpy()
    reference = keras.layers.MelSpectrogram(fft_length=256, sequence_stride=128, top_db=40.0)
    np.testing.assert_allclose(batched, reference(x).numpy(), atol=1e-4)
    assert not np.allclose(batched[1], alone[0])
    np.testing.assert_allclose(batched.min(), batched.max() - 40.0, atol=1e-4)


@pytest.mark.parametrize("args", [
    (20, 129, 8000, 125.0, 3800.0),
    (80, 1025, 16000, 0.0, 8000.0),
    (13, 65, 22050, 300.0, 11025.0),
])
def test_mel_weight_matrix_matches_keras(args):
    names = ("num_mel_bins", "num_spectrogram_bins", "sampling_rate", "lower_edge_hertz",
             "upper_edge_hertz")
    kwargs = dict(zip(names, args))
    ours = keraslike.layers.MelSpectrogram().linear_to_mel_weight_matrix(**kwargs)
    theirs = keras.layers.MelSpectrogram().linear_to_mel_weight_matrix(**kwargs)
    assert ours.shape == (args[1], args[0]) and ours.dtype == torch.float32
    np.testing.assert_array_equal(ours.numpy(), theirs.numpy())
    assert np.all(ours.numpy()[0] == 0) and ours.max() <= 1.0


def test_mel_spectrogram_symbolic_shapes_and_model():
    kwargs = dict(fft_length=256, sequence_stride=64, num_mel_bins=32)
    for shape in [(None,), (1000,), (640,)]:
        k_out = keras.layers.MelSpectrogram(**kwargs)(keras.Input(shape))
        o_out = keraslike.layers.MelSpectrogram(**kwargs)(keraslike.Input(shape))
        assert tuple(o_out.shape) == tuple(k_out.shape)
    inputs = keraslike.Input((None,))
    model = keraslike.Model(inputs, keraslike.layers.MelSpectrogram(**kwargs)(inputs))
    x = _audio((2, 1000))
    np.testing.assert_allclose(model.predict(x, verbose=0),
                               keras.layers.MelSpectrogram(**kwargs)(x).numpy(), atol=1e-4)


def test_mel_spectrogram_symbolic_frames_equal_eager_frames():
    """1 + samples // stride frames, eagerly and symbolically. (Keras 3.15's
    `compute_output_shape` says one more when samples % stride == stride - 1, and ignores
    leading batch axes beyond one; its eager outputs agree with ours.)"""
    layer = keraslike.layers.MelSpectrogram(fft_length=256, sequence_stride=64, num_mel_bins=16)
    for shape in [(2, 1023), (2, 1024), (2, 3, 700), (700,)]:
        x = _audio(shape)
        symbolic = layer(keraslike.Input(batch_shape=shape)).shape
        eager = tuple(layer(torch.tensor(x)).shape)
        assert tuple(symbolic) == eager == tuple(keras.layers.MelSpectrogram(
            fft_length=256, sequence_stride=64, num_mel_bins=16)(x).shape)


def test_mel_spectrogram_inputs_of_other_types():
    layer = keraslike.layers.MelSpectrogram(fft_length=128, sequence_stride=32, num_mel_bins=8)
    reference = keras.layers.MelSpectrogram(fft_length=128, sequence_stride=32, num_mel_bins=8)
    ints = np.random.default_rng(0).integers(-100, 100, (2, 300))
    for x in (ints, ints.astype("float64"), ints.tolist()):
        out = layer(x)
        assert out.dtype == torch.float32
        np.testing.assert_allclose(out.numpy(), reference(np.asarray(x)).numpy(), atol=1e-4)


def test_mel_spectrogram_mixed_precision(mixed_policy):
    x = _audio((2, 1500))
    theirs = keras.layers.MelSpectrogram(fft_length=256, sequence_stride=64)(x)
    ours = keraslike.layers.MelSpectrogram(fft_length=256, sequence_stride=64)(torch.tensor(x))
    assert ours.dtype == theirs.dtype
    np.testing.assert_allclose(ours.float().numpy(), theirs.float().numpy(), atol=1e-2)


def test_mel_spectrogram_config_round_trip_and_keras_file(tmp_path):
    kwargs = dict(fft_length=512, sequence_stride=100, sampling_rate=8000, num_mel_bins=40,
                  min_freq=30.0, top_db=60.0, mag_exp=1.0, ref_power=2.0)
    theirs = keras.layers.MelSpectrogram(**kwargs)
    ours = keraslike.layers.deserialize(keras.layers.serialize(theirs))
    assert isinstance(ours, keraslike.layers.MelSpectrogram)
    assert_configs_equal(ours.get_config(), theirs.get_config())
    assert ours.get_config()["max_freq"] == 4000 and ours.get_config()["sequence_length"] == 512
    assert ours.get_weights() == [] and list(ours.state_dict()) == []

    inputs = keras.Input((2000,))
    model = keras.Model(inputs, theirs(inputs))
    path = str(tmp_path / "mel.keras")
    model.save(path)
    x = _audio((2, 2000))
    np.testing.assert_allclose(keraslike.saving.load_model(path).predict(x, verbose=0),
                               model.predict(x, verbose=0), atol=1e-4)


def test_mel_spectrogram_errors():
    for lib in (keras, keraslike):
        with pytest.raises(ValueError, match="sequence_length"):
            lib.layers.MelSpectrogram(fft_length=256, sequence_length=512)
    layer = keraslike.layers.MelSpectrogram(fft_length=256)
    with pytest.raises(RuntimeError, match="fft_length // 2"):
        layer(torch.ones(2, 100))
    with pytest.raises(ValueError, match="window"):
        keraslike.layers.MelSpectrogram(fft_length=256, window="blackman")(torch.ones(1, 1000))
