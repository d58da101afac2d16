"""`keras.initializers.STFT` against Keras 3: values for every side, window and scaling, configs."""

import numpy as np
import pytest

import keraslike

CASES = [
    ("real", "hann", "density", False),
    ("imag", "hann", "density", True),
    ("real", "hamming", "spectrum", False),
    ("imag", "blackman", None, True),
    ("real", "bartlett", "density", False),
    ("real", None, "density", False),
    ("imag", "boxcar", "spectrum", False),
]


def test_stft_values_match_keras(keras_oracle):
    for args in CASES:
        for shape in [(16, 1, 9), (7, 1, 5), (1, 1, 3)]:
            ours = keraslike.initializers.STFT(*args)(shape)
            theirs = keras_oracle.initializers.STFT(*args)(shape)
            np.testing.assert_allclose(ours.numpy(), np.asarray(theirs), rtol=1e-5, atol=1e-6,
                                       err_msg=f"{args} {shape}")


def test_stft_array_window_config_and_get(keras_oracle):
    window = np.linspace(0.1, 1.0, 8).astype("float32")
    ours = keraslike.initializers.STFT("imag", window, "spectrum")
    theirs = keras_oracle.initializers.STFT("imag", window, "spectrum")
    np.testing.assert_allclose(ours((8, 1, 5)).numpy(), np.asarray(theirs((8, 1, 5))),
                               rtol=1e-5, atol=1e-6)
    config = keraslike.initializers.STFT("real", "hamming", None, True).get_config()
    assert config == keras_oracle.initializers.STFT("real", "hamming", None, True).get_config()
    restored = keraslike.initializers.deserialize(
        keras_oracle.initializers.serialize(keras_oracle.initializers.STFT("imag")))
    assert isinstance(restored, keraslike.initializers.STFT) and restored.side == "imag"
    assert keraslike.initializers.STFTInitializer is keraslike.initializers.stft


def test_stft_errors():
    with pytest.raises(ValueError, match="side"):
        keraslike.initializers.STFT(side="both")
    with pytest.raises(ValueError, match="Scaling"):
        keraslike.initializers.STFT(scaling="l2")
    with pytest.raises(ValueError, match="frame_length"):
        keraslike.initializers.STFT(window=np.ones(4))((8, 1, 5))
