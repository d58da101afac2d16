"""LoRA (low-rank adaptation) for layers with one big kernel, as Keras 3 has it.

`layer.enable_lora(rank)` (or `lora_rank=` at construction) adds two float32 adapters,
`lora_kernel_a` `(*kernel.shape[:-1], rank)` and `lora_kernel_b` `(rank, kernel.shape[-1])` (Keras
layouts and names; Embedding calls them `lora_embeddings_a/b`), and freezes the base kernel. The
effective kernel is `kernel + (lora_alpha / rank) * lora_kernel_a @ lora_kernel_b`: that is what
`layer.kernel` returns and what Keras files store (Keras saves the merged kernel and zeroes the
adapters when it loads one), while native `.safetensors` files keep the adapters themselves.
Forward passes never build the merged kernel: they add `scale * (x @ A) @ B` to the frozen path.
"""

import torch

from keraslike import initializers
from keraslike.graph.shape_inference import torch_dtype
from keraslike.layers.variable import keras_layout_view
from keraslike.layers.weight_layout import IDENTITY


class LoraMixin:
    """LoRA bookkeeping shared by Dense, EinsumDense, Embedding and the convolutions.

    A layer using it calls `_init_lora(lora_rank, lora_alpha)` in `__init__` and
    `_maybe_enable_lora()` at the end of `build`; it names its base weight in
    `_lora_base_name` and may override `_lora_layouts()` (how the adapters are stored) and
    `_lora_adapter_names`.
    """

    _lora_base_name = "kernel"
    _lora_adapter_names = ("lora_kernel_a", "lora_kernel_b")

    def _init_lora(self, lora_rank, lora_alpha):
        self.lora_rank = lora_rank
        self.lora_alpha = lora_alpha if lora_alpha is not None else lora_rank
        self.lora_enabled = False
        self._lora_scale = None

    def _maybe_enable_lora(self):
        if self.lora_rank:
            self.enable_lora(self.lora_rank, lora_alpha=self.lora_alpha)

    def _lora_base_spec(self):
        for spec in self._weight_specs:
            if spec.name == self._lora_base_name:
                return spec
        raise AttributeError(
            f'Layer "{self.name}" has no `{self._lora_base_name}` weight to adapt with LoRA.'
        )

    def _lora_base_keras(self):
        """The frozen base weight in Keras's layout (a view of the stored tensor)."""
        spec = self._lora_base_spec()
        return spec.layout.to_keras(self._find_tensor(spec.attr))

    def _lora_layouts(self):
        """`(torch_name_a, layout_a)`, `(torch_name_b, layout_b)` for the adapters' storage."""
        a, b = self._lora_adapter_names
        return (a, IDENTITY), (b, IDENTITY)

    def _lora_base_shape(self):
        return tuple(self._lora_base_keras().shape)

    def enable_lora(
        self, rank, lora_alpha=None, a_initializer="he_uniform", b_initializer="zeros"
    ):
        """Adds LoRA adapters of rank `rank` and freezes the base kernel.

        Args:
            rank: Positive integer, the adapters' inner dimension.
            lora_alpha: Scale numerator: the update is `(lora_alpha / rank) * A @ B`
                (defaults to `rank`, i.e. a scale of 1).
            a_initializer: Initializer of the first adapter (`"he_uniform"`).
            b_initializer: Initializer of the second adapter (`"zeros"`, so enabling LoRA leaves
                the layer's outputs unchanged).

        Raises:
            ValueError: When the layer has a kernel constraint, is not built yet, or already has
                LoRA enabled.
        """
        base_name = self._lora_base_name
        if getattr(self, f"{base_name}_constraint", None):
            what = "kernel" if base_name == "kernel" else "embedding"
            raise ValueError(
                f"Lora is incompatible with {what} constraints. In order to enable lora on this "
                f'layer ("{self.name}"), remove the `{base_name}_constraint` argument.'
            )
        if not self.built:
            raise ValueError(
                f'Cannot enable lora on a layer that isn\'t yet built (layer "{self.name}").'
            )
        if self.lora_enabled:
            raise ValueError(
                f'lora is already enabled on layer "{self.name}". This can only be done once per '
                "layer."
            )
        if not isinstance(rank, int) or isinstance(rank, bool) or rank <= 0:
            raise ValueError(
                f'Layer "{self.name}": `rank` must be a positive integer. Received: rank={rank!r}'
            )
        base_shape = self._lora_base_shape()
        regularizer = getattr(self, f"{base_name}_regularizer", None)
        (attr_a, layout_a), (attr_b, layout_b) = self._lora_layouts()
        name_a, name_b = self._lora_adapter_names
        # Adapters are float32 whatever the layer's dtype, as in Keras (no under/overflow).
        self.add_weight(
            shape=base_shape[:-1] + (rank,),
            initializer=initializers.get(a_initializer),
            dtype="float32",
            regularizer=regularizer,
            name=name_a,
            torch_name=attr_a,
            layout=layout_a,
        )
        self.add_weight(
            shape=(rank, base_shape[-1]),
            initializer=initializers.get(b_initializer),
            dtype="float32",
            regularizer=regularizer,
            name=name_b,
            torch_name=attr_b,
            layout=layout_b,
        )
        base = self._lora_base_spec()
        base.frozen = True
        self._find_tensor(base.attr).requires_grad_(False)
        self.lora_enabled = True
        self.lora_rank = rank
        self.lora_alpha = lora_alpha if lora_alpha is not None else rank
        self._lora_scale = self.lora_alpha / self.lora_rank

    def _lora_tensors(self):
        """The adapters as stored (torch layout)."""
        (attr_a, _), (attr_b, _) = self._lora_layouts()
        return self._find_tensor(attr_a), self._find_tensor(attr_b)

    def _lora_delta_keras(self):
        """`(lora_alpha / rank) * A @ B` in Keras's kernel layout."""
        name_a, name_b = self._lora_adapter_names
        a = getattr(self, name_a)
        b = getattr(self, name_b)
        return self._lora_scale * torch.matmul(a, b)

    def _merged_keras_kernel(self):
        """The effective kernel in Keras's layout: the base plus the scaled LoRA update."""
        base = self._lora_base_keras()
        if not self.lora_enabled:
            return base
        merged = base.to(torch.float32) + self._lora_delta_keras()
        return merged.to(torch_dtype(self.compute_dtype))

    def _kernel_property(self):
        """What `layer.kernel` (or `layer.embeddings`) returns: Keras's layout, LoRA merged."""
        spec = next((s for s in self._weight_specs if s.name == self._lora_base_name), None)
        if spec is None or not self.built:
            raise AttributeError(
                f"You must build the layer before accessing `{self._lora_base_name}` "
                f'(layer "{self.name}").'
            )
        if self.lora_enabled or getattr(self, "_quant_mode", None) is not None:
            return self._merged_keras_kernel()  # a computed tensor, as Keras's
        return keras_layout_view(self._find_tensor(spec.attr), spec.layout)

    # ------------------------------------------------------------ Keras files (`.keras`, `.h5`)

    def _keras_store_names(self):
        """Keras names of the weights a Keras file holds for this layer, in Keras's order."""
        names = [self._lora_base_name]
        if any(s.name == "bias" for s in self._weight_specs):
            names.append("bias")
        return names

    def _keras_store_value(self, name):
        if name == self._lora_base_name:
            return self._merged_keras_kernel()
        spec = next(s for s in self._weight_specs if s.name == name)
        return spec.layout.to_keras(self._find_tensor(spec.attr))

    def save_own_variables(self, store):
        """Writes the weights as Keras does: `store["0"], store["1"], ...` (Keras layouts).

        With LoRA enabled the base kernel is stored merged with the adapters, as in Keras.
        """
        if not self.built:
            return
        for i, name in enumerate(self._keras_store_names()):
            store[str(i)] = self._keras_store_value(name).detach()

    def load_own_variables(self, store):
        """Reads weights written by `save_own_variables` (or by Keras); zeroes LoRA adapters.

        Raises:
            ValueError: When the number of stored variables or a shape does not match.
        """
        if not self.built:
            return
        names = self._keras_store_names()
        if len(store) != len(names):
            raise ValueError(
                f'Layer "{self.name}" expected {len(names)} variables ({names}), but received '
                f"{len(store)} variables during loading."
            )
        specs = {s.name: s for s in self._weight_specs}
        with torch.no_grad():
            for i, name in enumerate(names):
                spec = specs[name]
                target = self._find_tensor(spec.attr)
                value = torch.as_tensor(store[str(i)])
                expected = spec.layout.keras_shape(target.shape)
                if tuple(value.shape) != tuple(expected):
                    raise ValueError(
                        f'Layer "{self.name}" weight "{name}" has shape {tuple(expected)}, but '
                        f"the stored value has shape {tuple(value.shape)}."
                    )
                target.copy_(spec.layout.to_torch(value.to(target.device, target.dtype)))
            if self.lora_enabled:
                for tensor in self._lora_tensors():
                    tensor.zero_()


def lora_config(layer, config):
    """Adds `lora_rank`/`lora_alpha` to a config when set, as Keras does."""
    if layer.lora_rank:
        config["lora_rank"] = layer.lora_rank
        config["lora_alpha"] = layer.lora_alpha
    return config
