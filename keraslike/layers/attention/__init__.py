"""Attention layers: MultiHeadAttention, GroupQueryAttention, Attention, AdditiveAttention."""

from keraslike.layers.attention.attention import AdditiveAttention, Attention
from keraslike.layers.attention.grouped_query_attention import GroupQueryAttention
from keraslike.layers.attention.multi_head_attention import MultiHeadAttention
