"""Fixtures shared by the layer tests."""

import pytest

import keraslike


@pytest.fixture(params=["mixed_float16", "mixed_bfloat16"])
def mixed_policy(request, keras_oracle):
    """Each mixed precision policy set globally in Keras 3 and in keraslike for one test, then
    `"float32"` again; the value is the policy's name."""
    for lib in (keras_oracle, keraslike):
        lib.mixed_precision.set_global_policy(request.param)
    yield request.param
    for lib in (keras_oracle, keraslike):
        lib.mixed_precision.set_global_policy("float32")
