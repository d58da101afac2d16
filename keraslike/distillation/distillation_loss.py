"""Distillation losses: how a `Distiller` compares the teacher's outputs with the student's.

`LogitsDistillation` compares the final outputs (temperature-scaled logits); `FeatureDistillation`
compares the outputs of named intermediate layers (or the final outputs). Both take one loss or
a nested structure of losses matching the outputs, `None` skipping an output, and reduce to one
scalar: the per-output means, summed. Subclass `DistillationLoss` for other strategies.
"""

import torch

from keraslike import losses as losses_module
from keraslike import tree
from keraslike.losses.serialization import public_module


def _convert_loss_to_function(loss_item):
    """A loss name becomes Keras's object for it (`losses.get`); anything else stays as given.

    As in Keras, `"kl_divergence"` names the *function*, not the `KLDivergence` class: only a
    `KLDivergence` instance gets `LogitsDistillation`'s softmax and temperature² scaling.
    """
    if isinstance(loss_item, str):
        return losses_module.get(loss_item)  # ValueError for an unknown name
    return loss_item


def _serialize_losses(loss):
    """A (nested) structure of losses in Keras's format (`losses.serialize` per loss)."""
    if loss is None:
        return None
    if isinstance(loss, (list, tuple)):
        return [_serialize_losses(item) for item in loss]
    if isinstance(loss, dict):
        return {key: _serialize_losses(item) for key, item in loss.items()}
    return losses_module.serialize(loss)


def _deserialize_losses(config, custom_objects=None):
    """Inverse of `_serialize_losses`."""
    if config is None:
        return None
    if isinstance(config, (list, tuple)):
        return [_deserialize_losses(item, custom_objects) for item in config]
    if isinstance(config, dict) and "class_name" not in config:
        return {key: _deserialize_losses(item, custom_objects) for key, item in config.items()}
    return losses_module.deserialize(config, custom_objects=custom_objects)


def _sum_of_losses(values):
    """Sums per-output losses (floats for skipped outputs, 0-d tensors) into one 0-d tensor."""
    reference = next(v for v in values if isinstance(v, torch.Tensor))
    stacked = torch.stack([
        v if isinstance(v, torch.Tensor) else torch.tensor(v, dtype=reference.dtype, device=reference.device)
        for v in values
    ])
    return stacked.sum()


def _check_has_loss(loss, message):
    if all(item is None for item in tree.flatten(loss)):
        raise ValueError(message)


@public_module("keras.distillation")
class DistillationLoss:
    """Base class for distillation losses: how teacher and student outputs are compared.

    Subclass it and implement `compute_loss(teacher_outputs, student_outputs, **kwargs)`,
    returning a scalar tensor. `validate_outputs` (called before each `compute_loss`) and
    `validate_model_compatibility` (called once, when the `Distiller` is built) may be
    overridden to check the outputs and the models.

    Example:

    ```python
    class MeanAbsoluteLogits(keras.distillation.DistillationLoss):
        def compute_loss(self, teacher_outputs, student_outputs, **kwargs):
            return keras.ops.mean(keras.ops.abs(teacher_outputs - student_outputs))
    ```
    """

    def compute_loss(self, teacher_outputs, student_outputs, **kwargs):
        """Returns the distillation loss between teacher and student outputs.

        Args:
            teacher_outputs: The teacher's outputs: a tensor or a structure of tensors.
            student_outputs: The student's outputs, in the same structure.
            **kwargs: Additional arguments for custom losses.

        Returns:
            A scalar tensor.
        """
        raise NotImplementedError("Subclasses must implement compute_loss")

    def validate_outputs(self, teacher_outputs, student_outputs):
        """Checks that teacher and student outputs have the same structure.

        Raises:
            ValueError: When the structures differ.
        """
        tree.assert_same_structure(teacher_outputs, student_outputs)

    def validate_model_compatibility(self, teacher, student):
        """Checks that the loss can be applied to these models (nothing to check here).

        Args:
            teacher: The teacher model.
            student: The student model.
        """


@public_module("keras.distillation")
class FeatureDistillation(DistillationLoss):
    """Distills the outputs of intermediate layers (or the final outputs) of the teacher.

    The loss of each output is `mean(loss(teacher_features, student_features))`; the losses of
    all outputs are summed. Teacher and student features must have the shapes the loss needs
    (`"mse"` needs equal shapes).

    Args:
        loss: A loss name (`"mse"`, `"cosine_similarity"`, `"mae"`, ...), a loss instance or
            function, or a nested structure of them matching the features' structure, where
            `None` skips that output. At least one must be non-`None`. Defaults to `"mse"`.
        teacher_layer_name: Name of the teacher layer whose output is distilled; `None` uses
            the teacher's final output.
        student_layer_name: Name of the student layer matched to it; `None` uses the student's
            final output.

    Raises:
        ValueError: When every loss is `None`, or for an unknown loss name.

    Example:

    ```python
    loss = keras.distillation.FeatureDistillation(
        loss="mse", teacher_layer_name="dense_1", student_layer_name="dense_1"
    )
    ```
    """

    def __init__(self, loss="mse", teacher_layer_name=None, student_layer_name=None):
        self.teacher_layer_name = teacher_layer_name
        self.student_layer_name = student_layer_name
        self.loss = tree.map_structure(_convert_loss_to_function, loss)
        _check_has_loss(
            self.loss,
            "The `loss` argument in `FeatureDistillation` must contain at least one non-`None` value.",
        )

    def validate_model_compatibility(self, teacher, student):
        """Checks that named layers exist and that models with named layers are graph models.

        Raises:
            ValueError: For a layer name with a subclassed model (no symbolic inputs), or a
                layer name the model does not have.
        """
        if self.teacher_layer_name is not None or self.student_layer_name is not None:
            subclassed = [
                role for role, model in (("teacher", teacher), ("student", student))
                if getattr(model, "inputs", None) is None
            ]
            if subclassed:
                raise ValueError(
                    "FeatureDistillation with specific layer names requires Functional or "
                    f"Sequential models. The {' and '.join(subclassed)} model(s) appear to be "
                    "subclassed (no symbolic inputs/outputs). Either use Functional/Sequential "
                    "models, or use FeatureDistillation without layer names (to distill final "
                    "outputs only), or use LogitsDistillation instead."
                )
        for role, model, name in (
            ("teacher", teacher, self.teacher_layer_name),
            ("student", student, self.student_layer_name),
        ):
            if name is not None:
                try:
                    model.get_layer(name=name)
                except ValueError as e:
                    raise ValueError(f"In {role} model: {e}") from None

    def validate_outputs(self, teacher_outputs, student_outputs):
        """Checks that the features and the losses have the same structure.

        Raises:
            ValueError: When teacher and student features, or features and losses, differ in
                structure.
        """
        super().validate_outputs(teacher_outputs, student_outputs)
        try:
            tree.assert_same_structure(self.loss, teacher_outputs)
        except ValueError as e:
            # Keras formats this message with a `tree.structure` it does not have (an
            # AttributeError); the structures are shown with `*` for each leaf here.
            raise ValueError(
                f"Loss structure mismatch. Loss structure: {_structure(self.loss)}, "
                f"Output structure: {_structure(teacher_outputs)}. Error: {e}"
            ) from None

    def compute_loss(self, teacher_outputs, student_outputs, **kwargs):
        """Returns the summed per-output means of the losses between the features.

        Args:
            teacher_outputs: Teacher features (a tensor or a structure of tensors).
            student_outputs: Student features, in the same structure.
            **kwargs: Ignored.

        Returns:
            A scalar tensor.
        """

        def apply_loss(loss_fn, teacher_features, student_features):
            if loss_fn is None:
                return 0.0
            return torch.mean(loss_fn(teacher_features, student_features))

        values = tree.map_structure(apply_loss, self.loss, teacher_outputs, student_outputs)
        return _sum_of_losses(tree.flatten(values))

    def get_config(self):
        """Returns the loss(es) serialized and the layer names (Keras 3's config)."""
        return {
            "loss": _serialize_losses(self.loss),
            "teacher_layer_name": self.teacher_layer_name,
            "student_layer_name": self.student_layer_name,
        }

    @classmethod
    def from_config(cls, config, custom_objects=None):
        """Rebuilds the loss from `get_config()` output."""
        config = dict(config)
        config["loss"] = _deserialize_losses(config["loss"], custom_objects)
        return cls(**config)


@public_module("keras.distillation")
class LogitsDistillation(DistillationLoss):
    """Distills the teacher's final outputs (logits), softened by a temperature.

    Teacher and student outputs are divided by `temperature`. A `keras.losses.KLDivergence`
    instance is then applied to their softmax and multiplied by `temperature**2` (Hinton et
    al.); any other loss (the `"kl_divergence"` *function* included, as in Keras) is applied
    to the scaled logits directly. Each output's loss is averaged; the outputs' losses summed.

    Args:
        temperature: Positive number dividing the logits; higher values give softer
            distributions. Defaults to `3.0`.
        loss: A loss name, instance or function, or a nested structure of them matching the
            outputs, where `None` skips that output. At least one must be non-`None`.
            Defaults to `"kl_divergence"`.

    Raises:
        ValueError: When every loss is `None`, for an unknown loss name, or when
            `temperature` is not a positive number.

    Example:

    ```python
    loss = keras.distillation.LogitsDistillation(
        temperature=4.0, loss=keras.losses.KLDivergence()
    )
    ```
    """

    def __init__(self, temperature=3.0, loss="kl_divergence"):
        self.temperature = temperature
        self.loss = tree.map_structure(_convert_loss_to_function, loss)
        _check_has_loss(self.loss, "At least one loss must be non-`None`.")
        if not isinstance(temperature, (int, float)):
            raise ValueError(f"temperature must be a number, got {type(temperature)}")
        if temperature <= 0.0:
            raise ValueError("temperature must be positive.")

    def compute_loss(self, teacher_outputs, student_outputs, **kwargs):
        """Returns the temperature-scaled loss between teacher and student logits.

        Args:
            teacher_outputs: Teacher logits (a tensor or a structure of tensors).
            student_outputs: Student logits, in the same structure.
            **kwargs: Ignored.

        Returns:
            A scalar tensor.
        """
        temperature = self.temperature
        teacher_scaled = tree.map_structure(lambda x: x / temperature, teacher_outputs)
        student_scaled = tree.map_structure(lambda x: x / temperature, student_outputs)

        def apply_loss(loss_fn, teacher_logits, student_logits):
            if loss_fn is None:
                return 0.0
            if isinstance(loss_fn, losses_module.KLDivergence):
                teacher_probs = torch.softmax(teacher_logits, dim=-1)
                student_probs = torch.softmax(student_logits, dim=-1)
                return torch.mean(loss_fn(teacher_probs, student_probs)) * (temperature**2)
            return torch.mean(loss_fn(teacher_logits, student_logits))

        values = tree.map_structure(apply_loss, self.loss, teacher_scaled, student_scaled)
        return _sum_of_losses(tree.flatten(values))

    def get_config(self):
        """Returns the temperature and the loss(es) serialized (Keras 3's config)."""
        return {"temperature": self.temperature, "loss": _serialize_losses(self.loss)}

    @classmethod
    def from_config(cls, config, custom_objects=None):
        """Rebuilds the loss from `get_config()` output."""
        config = dict(config)
        config["loss"] = _deserialize_losses(config["loss"], custom_objects)
        return cls(**config)


def _structure(value):
    """`value`'s nesting with each leaf shown as `*` (for error messages)."""
    return tree.map_structure(lambda _: "*", value)
