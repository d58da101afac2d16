"""Symbolic calls of the attention layers that take `(query, value, key)` and their masks."""

from keraslike.graph.keras_tensor import KerasTensor


class QueryValueKeyCalls:
    """Mixed into an attention `Layer` called as `layer(query, value, key=None, ...)`.

    As in Keras: `query_mask` / `value_mask` / `key_mask` default to the inputs' Keras masks, a
    query passed by keyword still builds the layer, and the output keeps the query's mask (the
    attention scores get none).
    """

    @staticmethod
    def _query_first(args, kwargs):
        # `layer(query=q, value=v)`: the base class finds build shapes and masks from the
        # positional arguments, so pass the query positionally.
        if not args and "query" in kwargs:
            kwargs = dict(kwargs)
            args = (kwargs.pop("query"),)
        return args, kwargs

    def _maybe_build(self, args, kwargs):
        super()._maybe_build(*self._query_first(args, kwargs))

    def symbolic_call(self, *args, **kwargs):
        args, kwargs = self._query_first(args, kwargs)
        bound = dict(zip(("query", "value", "key"), args))
        bound.update({k: v for k, v in kwargs.items() if k in ("query", "value", "key")})
        kwargs = dict(kwargs)
        for name, tensor in bound.items():
            mask = getattr(tensor, "_keras_mask", None)
            if mask is not None and kwargs.get(f"{name}_mask") is None:
                kwargs[f"{name}_mask"] = mask
        return super().symbolic_call(*args, **kwargs)

    def _set_output_masks(self, inputs, previous_mask, outputs):
        mask = getattr(inputs, "_keras_mask", None)
        first = outputs[0] if isinstance(outputs, (list, tuple)) else outputs
        if mask is not None and isinstance(first, KerasTensor):
            first._keras_mask = mask

    def compute_mask(self, inputs, previous_mask=None):
        """The query's Keras mask (the output's)."""
        return getattr(inputs, "_keras_mask", previous_mask)
