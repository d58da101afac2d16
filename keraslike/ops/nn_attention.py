"""`keras.ops.dot_product_attention` (re-exported by `keraslike.ops.nn`) on torch's SDPA kernels."""

import torch
import torch.nn.functional as F
from torch.nn.attention import SDPBackend, sdpa_kernel

from keraslike.backend import runtime_flags
from keraslike.ops.core import like, to_tensor
from keraslike.ops.dispatch import keras_op


def _t(x):
    return x if isinstance(x, torch.Tensor) else to_tensor(x)


def _large_negative(dtype):
    return -0.7 * (65500.0 if dtype == torch.float16 else 3.38953e38)


@keras_op
def dot_product_attention(
    query,
    key,
    value,
    bias=None,
    mask=None,
    scale=None,
    is_causal=False,
    flash_attention=None,
    attn_logits_soft_cap=None,
):
    """Scaled dot-product attention on `(batch, seq, heads, head_dim)` tensors.

    Args:
        query: `(B, T, N, H)`.
        key, value: `(B, S, K, H)`, `K` dividing `N` (grouped-query attention when `K < N`).
        bias: Optional additive bias broadcastable to `(B, N, T, S)`.
        mask: Optional boolean mask broadcastable to `(B, N, T, S)`; `True` attends.
        scale: Logit scale; default `1 / sqrt(H)`.
        is_causal: Apply a causal (lower-triangular) mask.
        flash_attention: `True` forces torch's flash kernel, `False`/`None` lets torch choose.
        attn_logits_soft_cap: If set, logits become `cap * tanh(logits / cap)`.

    Returns:
        `(B, T, N, H)`.
    """
    query = _t(query)
    key, value = like(key, query), like(value, query)
    if query.ndim != 4 or key.ndim != 4 or value.ndim != 4:
        raise ValueError(
            "`dot_product_attention` only supports 4D inputs. Received: "
            f"query.shape={tuple(query.shape)}, key.shape={tuple(key.shape)}, "
            f"value.shape={tuple(value.shape)}."
        )
    if bias is not None and mask is not None:
        raise ValueError("Only one of `bias` and `mask` can be provided. Received both.")
    dtype = torch.promote_types(torch.promote_types(query.dtype, key.dtype), value.dtype)
    q, k, v = (t.to(dtype).transpose(1, 2) for t in (query, key, value))
    if k.shape[1] != q.shape[1]:
        groups = q.shape[1] // k.shape[1]
        k = k.repeat_interleave(groups, dim=1)
        v = v.repeat_interleave(groups, dim=1)
    attn_mask = None
    if mask is not None:
        mask = like(mask, query).to(torch.bool)
        if is_causal:
            causal = torch.ones((q.shape[2], k.shape[2]), dtype=torch.bool, device=q.device).tril()
            mask = mask & causal
            is_causal = False
        attn_mask = torch.where(
            mask,
            torch.zeros((), dtype=dtype, device=q.device),
            torch.full((), _large_negative(dtype), dtype=dtype, device=q.device),
        )
    elif bias is not None:
        attn_mask = like(bias, query).to(dtype)
    if attn_logits_soft_cap is not None:
        scale = q.shape[-1] ** -0.5 if scale is None else scale
        logits = torch.matmul(q, k.transpose(-1, -2)) * scale
        logits = attn_logits_soft_cap * torch.tanh(logits / attn_logits_soft_cap)
        if attn_mask is not None:
            logits = logits + attn_mask
        if is_causal:
            causal = torch.ones(logits.shape[-2:], dtype=torch.bool, device=q.device).tril()
            logits = logits.masked_fill(~causal, _large_negative(dtype))
        out = torch.matmul(torch.softmax(logits, dim=-1), v)
    elif flash_attention is None and runtime_flags.is_flash_attention_enabled() is False:
        # keras.config.disable_flash_attention(): torch may use any kernel but flash.
        with sdpa_kernel([SDPBackend.EFFICIENT_ATTENTION, SDPBackend.MATH]):
            out = F.scaled_dot_product_attention(
                q, k, v, attn_mask=attn_mask, is_causal=is_causal, scale=scale
            )
    elif flash_attention or (flash_attention is None and runtime_flags.is_flash_attention_enabled()):
        with sdpa_kernel([SDPBackend.FLASH_ATTENTION]):
            out = F.scaled_dot_product_attention(
                q, k, v, attn_mask=attn_mask, is_causal=is_causal, scale=scale
            )
    else:
        out = F.scaled_dot_product_attention(
            q, k, v, attn_mask=attn_mask, is_causal=is_causal, scale=scale
        )
    return out.transpose(1, 2)
