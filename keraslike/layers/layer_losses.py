"""The losses half of `Layer`: activity regularizers, `add_loss` and `losses`.

Losses added during a call belong to that call (see `keraslike.graph.call_context`): a layer
keeps those of its most recent forward, with the call-context list they were added to.
"""

import torch

from keraslike.graph import hook_registry, nest
from keraslike.graph.call_context import state as _context
from keraslike.graph.keras_tensor import KerasTensor
from keraslike import regularizers


class LayerLosses:
    """Mixin of `Layer`: losses added in `call`, activity and weight regularization penalties."""


    @property
    def activity_regularizer(self):
        """Optional penalty on the layer's outputs, added to `losses` on each forward."""
        return self._activity_regularizer

    @activity_regularizer.setter
    def activity_regularizer(self, value):
        self._activity_regularizer = regularizers.get(value)
        hook_registry.bump()  # execution plans re-derive this layer's call path

    def add_loss(self, loss):
        """Adds a loss tensor (for example an activity penalty) to `layer.losses`.

        Called inside `call`, the loss belongs to the current forward: `losses` after the call
        holds exactly the losses added during it (a new forward replaces them, as Keras clears
        them when a new outermost call starts), and the trainer adds them to the training loss.
        """
        if type(loss) is not torch.Tensor:
            _check_loss_values(self, loss)
        self._uses_add_loss = True
        collected = _context.losses
        if self._loss_owner is not collected:
            # The first loss of this layer in this forward: drop the previous forward's.
            self._losses.clear()
            self._loss_owner = collected
        self._losses.append(loss)
        if collected is not None:
            collected.append(loss)
        if not _context.losses_added:
            _context.losses_added = True

    def _collected_losses(self):
        """The losses added (`add_loss`, activity regularizers) during this layer's most recent
        call, sublayers included, without walking the module tree (what `fit` adds per step)."""
        collected = self.__dict__.get("_last_collection")
        return list(collected) if collected is not None else self._walk_added_losses(None)

    def _walk_added_losses(self, collection):
        result = []
        for layer in self.modules():
            if isinstance(layer, LayerLosses) and layer._losses:
                owner = layer._loss_owner
                if collection is None or owner is collection or owner is None:
                    result.extend(layer._losses)
        return result

    def _regularization_losses(self):
        """The weight regularization penalties of this layer's and its sublayers' trainable
        weights (as Keras: a frozen weight, e.g. a kernel under LoRA, adds no penalty)."""
        result = []
        for layer in self.modules():
            if not isinstance(layer, LayerLosses):
                continue
            for spec in layer._weight_specs:
                if spec.regularizer is not None:
                    tensor = layer._find_tensor(spec.attr)
                    if tensor.requires_grad:
                        result.append(spec.regularizer(spec.layout.to_keras(tensor)))
        return result

    @property
    def losses(self):
        """Penalties of this layer and its sublayers: the losses added during the most recent
        forward (`add_loss`, activity regularizers), then the weight regularization penalties."""
        collection = self.__dict__.get("_last_collection")
        return self._walk_added_losses(collection) + self._regularization_losses()


def _check_loss_values(layer, loss):
    """Keras's ValueError for an `add_loss` value that is not a tensor (a string, a float...)."""
    for x in nest.flatten(loss):
        if not isinstance(x, (torch.Tensor, KerasTensor)):
            raise ValueError(
                f'Layer "{layer.name}": `add_loss()` can only be called from inside `build()` or '
                f"`call()`, on a tensor input. Received invalid value: {x!r}"
            )
