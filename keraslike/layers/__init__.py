"""Keras layers, each a `torch.nn.Module`."""

from keraslike.layers.core import Activation, Dense, Embedding, Identity, Lambda
from keraslike.layers.input_layer import Input, InputLayer
from keraslike.layers.input_spec import InputSpec
from keraslike.layers.layer import Layer
from keraslike.layers.merging import (
    Add,
    Average,
    Concatenate,
    Dot,
    Maximum,
    Minimum,
    Multiply,
    Subtract,
    add,
    average,
    concatenate,
    dot,
    maximum,
    minimum,
    multiply,
    subtract,
)
from keraslike.layers.regularization import Dropout
from keraslike.layers.reshaping import Flatten, Reshape
