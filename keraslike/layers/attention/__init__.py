"""Attention layers: MultiHeadAttention, Attention, AdditiveAttention."""

from keraslike.layers.attention.attention import AdditiveAttention, Attention
from keraslike.layers.attention.multi_head_attention import MultiHeadAttention
