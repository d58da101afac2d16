"""Convolution layers: Conv1D/2D/3D, their transposes, separable and depthwise convolutions."""

from keraslike.layers.convolutional.conv import (
    Conv1D,
    Conv2D,
    Conv3D,
    Convolution1D,
    Convolution2D,
    Convolution3D,
)
from keraslike.layers.convolutional.conv_transpose import (
    Conv1DTranspose,
    Conv2DTranspose,
    Conv3DTranspose,
    Convolution1DTranspose,
    Convolution2DTranspose,
    Convolution3DTranspose,
)
from keraslike.layers.convolutional.depthwise_conv import DepthwiseConv1D, DepthwiseConv2D
from keraslike.layers.convolutional.separable_conv import (
    SeparableConv1D,
    SeparableConv2D,
    SeparableConvolution1D,
    SeparableConvolution2D,
)
