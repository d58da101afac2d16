"""Distiller: a model that trains a student on labels and on a frozen teacher's outputs.

It is a subclassed `Model` overriding `compile`, `call` and `compute_loss`; the built-in
`train_step` / `test_step` of `keraslike.trainers` run it. Features of named layers come from
one extra forward pass per model through a functional "feature extractor" sharing its layers
(built once, at construction), as in Keras.
"""

import warnings

import torch

from keraslike import tree
from keraslike.distillation.distillation_loss import _convert_loss_to_function
from keraslike.losses.serialization import public_module
from keraslike.metrics import Mean
from keraslike.models import Model, Sequential
from keraslike.serialization import deserialize_nested, serialize_keras_object

_FINAL = "final_output"  # the key of a model's final output among its extracted features


@public_module("keras.distillation")
class Distiller(Model):
    """Knowledge distillation: a student learns from labels and from a frozen teacher.

    The loss of a batch is `student_loss_weight * student_loss + (1 - student_loss_weight) *
    distillation_loss`, where `student_loss` is the compiled `loss` on the labels and
    `distillation_loss` the weighted sum of the `distillation_losses` between teacher and
    student outputs (or features). Only the student trains; calling the distiller (and
    `predict`) returns the student's outputs. `fit` and `evaluate` also report
    `student_loss`, `distillation_loss` and `total_loss` (each the unweighted mean of the batch
    values, where `loss` weights batches by their size).

    Args:
        teacher: A trained `keras.Model`; frozen (`trainable = False`) by the distiller.
        student: The `keras.Model` to train, with the teacher's input and output shapes.
        distillation_losses: A `DistillationLoss` (`LogitsDistillation`,
            `FeatureDistillation`, or a subclass), or a list of them.
        distillation_loss_weights: One weight per distillation loss (a list of the same
            length); `None` gives every loss weight 1. Ignored for a single loss.
        student_loss_weight: Weight of the supervised loss, between 0 and 1. Defaults to 0.5.
        name: The model's name. Defaults to `"distiller"`.
        **kwargs: Other `Model` arguments (`trainable`, `dtype`).

    Raises:
        ValueError: For a teacher or student that is not a `keras.Model`, incompatible input or
            output shapes or dtypes, a `student_loss_weight` outside [0, 1], no
            `distillation_losses`, a weights list of the wrong length, or a distillation loss
            that does not fit the models (a layer name that does not exist).

    Example:

    ```python
    distiller = keras.distillation.Distiller(
        teacher=teacher,
        student=student,
        distillation_losses=keras.distillation.LogitsDistillation(temperature=3.0),
        student_loss_weight=0.5,
    )
    distiller.compile(
        optimizer="adam",
        loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
        metrics=["accuracy"],
    )
    distiller.fit(x_train, y_train, epochs=3)
    trained_student = distiller.student
    ```
    """

    def __init__(
        self,
        teacher,
        student,
        distillation_losses,
        distillation_loss_weights=None,
        student_loss_weight=0.5,
        name="distiller",
        **kwargs,
    ):
        super().__init__(name=name, **kwargs)
        _check_models(teacher, student)
        self.teacher = teacher
        self.student = student
        if not isinstance(student_loss_weight, (int, float)):
            raise ValueError(f"student_loss_weight must be a number, got {type(student_loss_weight)}")
        if student_loss_weight < 0.0 or student_loss_weight > 1.0:
            raise ValueError(f"student_loss_weight must be between 0.0 and 1.0, got {student_loss_weight}")
        self.student_loss_weight = student_loss_weight
        if distillation_losses is None:
            raise ValueError(
                "'distillation_losses' cannot be `None`. Provide a distillation loss (e.g., "
                "LogitsDistillation or FeatureDistillation) or a list of distillation losses."
            )
        if not isinstance(distillation_losses, (list, tuple)):
            self.distillation_losses = [distillation_losses]
            self.distillation_loss_weights = [1.0]
        else:
            if distillation_loss_weights is None:
                distillation_loss_weights = [1.0] * len(distillation_losses)
            elif len(distillation_loss_weights) != len(distillation_losses):
                raise ValueError(
                    f"Number of distillation_loss_weights ({len(distillation_loss_weights)}) must "
                    f"match number of distillation_losses ({len(distillation_losses)})"
                )
            self.distillation_losses = distillation_losses
            self.distillation_loss_weights = distillation_loss_weights
        for distillation_loss in self.distillation_losses:
            distillation_loss.validate_model_compatibility(teacher, student)
        # Kept out of the module tree: their layers are the teacher's and the student's, and a
        # module reachable twice would be swapped twice by shape inference's `functional_call`.
        self.__dict__["_teacher_feature_extractor"] = _feature_extractor(
            teacher, _layer_names(self.distillation_losses, "teacher_layer_name"))
        self.__dict__["_student_feature_extractor"] = _feature_extractor(
            student, _layer_names(self.distillation_losses, "student_layer_name"))
        self.teacher.trainable = False
        self.student_loss_tracker = Mean(name="student_loss")
        self.distillation_loss_tracker = Mean(name="distillation_loss")
        self.total_loss_tracker = Mean(name="total_loss")

    # ------------------------------------------------------------------ training

    def train(self, mode=True):
        """Sets the module mode; the feature extractors (outside the module tree) follow it."""
        super().train(mode)
        for extractor in (self._teacher_feature_extractor, self._student_feature_extractor):
            if extractor is not None:
                extractor.training = mode  # its layers are the teacher's and student's: set above
        return self

    def compile(self, optimizer="adam", loss=None, metrics=None, **kwargs):
        """Configures the distiller for training.

        Args:
            optimizer: Optimizer (name or instance) for the student's weights. Defaults to
                `"adam"`.
            loss: The student's supervised loss (name, instance or function, or a structure
                of them matching the student's outputs). Required.
            metrics: A list of metrics of the student's outputs against the labels.
            **kwargs: Other `Model.compile` arguments.

        Raises:
            ValueError: When `loss` is `None` or `metrics` is not a list or tuple.
        """
        if loss is None:
            raise ValueError("'loss' cannot be `None`.")
        self._student_loss = tree.map_structure(_convert_loss_to_function, loss)
        if metrics is not None and not isinstance(metrics, (list, tuple)):
            raise ValueError(f"metrics must be a list or tuple, got {type(metrics)}")
        super().compile(optimizer=optimizer, loss=None, metrics=metrics, **kwargs)

    def compile_from_config(self, config):
        """Does not compile (a loaded distiller is compiled by calling `compile()`), as Keras
        does for every model whose `compile` is its own: the saved config has no student loss."""
        del config
        warnings.warn(
            "`compile()` was not called as part of model loading because the model's "
            "`compile()` method is custom. All subclassed Models that have `compile()` "
            "overridden should also override `get_compile_config()` and "
            "`compile_from_config(config)`. Alternatively, you can call `compile()` manually "
            "after loading.",
            stacklevel=2,
        )

    def call(self, inputs, training=None, **kwargs):
        """Returns the student's outputs for `inputs`."""
        return self.student(inputs, training=training, **kwargs)

    def compute_loss(self, x=None, y=None, y_pred=None, sample_weight=None, training=True):
        """Returns the weighted sum of the student loss and the distillation losses.

        As in Keras, `sample_weight` is not used, the teacher runs in inference mode and a
        student feature extractor (for named student layers) runs in training mode, also
        under `evaluate`. The `student_loss`, `distillation_loss` and `total_loss` trackers are
        updated with this batch's values.

        Args:
            x: Input data.
            y: Target data (the student loss is skipped when `None`).
            y_pred: The student's outputs for `x` (computed when `None`).
            sample_weight: Ignored.
            training: Whether the model is training (for computing `y_pred`).

        Returns:
            The total loss, a scalar tensor.

        Raises:
            ValueError: When a distillation loss returns a non-scalar tensor, or outputs do
                not match a distillation loss's structure.
        """
        del sample_weight
        if y_pred is None:
            y_pred = self(x, training=training)
        student_loss = 0.0
        if self.student_loss_weight > 0.0 and y is not None:
            student_loss = self._student_loss_value(y, y_pred)
        distillation_loss = 0.0
        if self.student_loss_weight < 1.0:
            distillation_loss = self._distillation_loss_value(x, y_pred)
        total_loss = (self.student_loss_weight * student_loss
                      + (1.0 - self.student_loss_weight) * distillation_loss)
        if not isinstance(total_loss, torch.Tensor):  # neither part applied: a constant 0
            total_loss = torch.tensor(float(total_loss))
        self.student_loss_tracker.update_state(student_loss)
        self.distillation_loss_tracker.update_state(distillation_loss)
        self.total_loss_tracker.update_state(total_loss)
        return total_loss

    def _student_loss_value(self, y, y_pred):
        values = tree.flatten(tree.map_structure(
            lambda loss, target, output: loss(target, output), self._student_loss, y, y_pred))
        # As Keras: several outputs' losses are summed whole (per-sample values included), a
        # single output's per-sample values averaged.
        value = torch.stack(values).sum() if len(values) > 1 else values[0]
        if value.dim() > 0:
            value = value.mean()
        return value

    def _distillation_loss_value(self, x, y_pred):
        teacher_features = self._teacher_features(x)
        student_features = self._student_features(x)
        total = 0.0
        for distillation_loss, weight in zip(self.distillation_losses, self.distillation_loss_weights):
            teacher_layer = getattr(distillation_loss, "teacher_layer_name", None)
            teacher_outputs = teacher_features[teacher_layer or _FINAL]
            # The student's final output is `y_pred` (not the extractor's training-mode rerun),
            # as in Keras. Keras also takes `y_pred` when only a `student_layer_name` is set;
            # the documented pairing (that layer's output) is used here.
            student_layer = getattr(distillation_loss, "student_layer_name", None)
            student_outputs = student_features[student_layer] if student_layer else y_pred
            distillation_loss.validate_outputs(teacher_outputs, student_outputs)
            value = distillation_loss.compute_loss(teacher_outputs, student_outputs)
            if hasattr(value, "shape") and len(value.shape) > 0:
                raise ValueError(
                    f"Distillation loss {type(distillation_loss).__name__} returned a non-scalar "
                    f"loss with shape {value.shape}. The compute_loss method must return a scalar "
                    "tensor."
                )
            total = total + weight * value
        return total

    def _teacher_features(self, x):
        if self._teacher_feature_extractor is not None:
            return self._teacher_feature_extractor(x, training=False)
        return {_FINAL: self.teacher(x, training=False)}

    def _student_features(self, x):
        if self._student_feature_extractor is not None:
            return self._student_feature_extractor(x, training=True)
        return {}

    # ------------------------------------------------------------------ config

    def get_config(self):
        """Returns Keras 3's config: the teacher, student and distillation losses serialized,
        the loss weights and the student loss weight."""
        config = super(Model, self).get_config()  # Layer's: name, trainable, dtype
        config.update({
            "teacher": serialize_keras_object(self.teacher),
            "student": serialize_keras_object(self.student),
            "distillation_losses": [serialize_keras_object(loss) for loss in self.distillation_losses],
            "distillation_loss_weights": self.distillation_loss_weights,
            "student_loss_weight": self.student_loss_weight,
        })
        return config

    @classmethod
    def from_config(cls, config, custom_objects=None):
        """Rebuilds a distiller from `get_config()` output."""
        config = dict(config)
        for key in ("teacher", "student"):
            config[key] = deserialize_nested(config[key], custom_objects)
        config["distillation_losses"] = [
            deserialize_nested(loss, custom_objects) for loss in config["distillation_losses"]
        ]
        return cls(**config)


# ---------------------------------------------------------------------- construction helpers


def _check_models(teacher, student):
    """Raises ValueError unless both are models with compatible input/output shapes and dtypes."""
    if not isinstance(teacher, Model):
        raise ValueError(f"Teacher must be a keras.Model, got {type(teacher)}")
    if not isinstance(student, Model):
        raise ValueError(f"Student must be a keras.Model, got {type(student)}")
    inputs = (getattr(teacher, "inputs", None), getattr(student, "inputs", None))
    outputs = (getattr(teacher, "outputs", None), getattr(student, "outputs", None))
    for context, (ours, theirs) in (("input", inputs), ("output", outputs)):
        if ours is not None and theirs is not None:
            tree.map_structure(lambda t, s, c=context: _check_shapes(t.shape, s.shape, c), ours, theirs)
    if None in inputs:
        return
    tree.map_structure(lambda t, s: _check_dtypes(t.dtype, s.dtype, "input"), *inputs)
    if None in outputs:
        return
    tree.map_structure(lambda t, s: _check_dtypes(t.dtype, s.dtype, "output"), *outputs)


def _check_shapes(teacher_shape, student_shape, context):
    if len(teacher_shape) != len(student_shape):
        raise ValueError(
            f"Teacher and student {context} shapes have different dimensions. "
            f"Teacher: {teacher_shape}, Student: {student_shape}."
        )
    for t, s in zip(teacher_shape, student_shape):
        if t is not None and s is not None and t != s:
            raise ValueError(
                f"Teacher and student {context} shapes are incompatible. Teacher: {teacher_shape}, "
                f"Student: {student_shape}. All dimensions must match."
            )


def _check_dtypes(teacher_dtype, student_dtype, context):
    if teacher_dtype != student_dtype:
        raise ValueError(
            f"Teacher and student {context} dtypes must match. "
            f"Teacher: {teacher_dtype}, Student: {student_dtype}."
        )


def _layer_names(distillation_losses, attribute):
    """The distinct layer names the losses name in `attribute`, in order of first use."""
    names = []
    for loss in distillation_losses:
        name = getattr(loss, attribute, None)
        if name and name not in names:
            names.append(name)
    return names


def _feature_extractor(model, layer_names):
    """A functional model sharing `model`'s layers that returns a dict of its final output
    (`"final_output"`) and the named layers' outputs; `None` when no layer is named."""
    if not layer_names:
        return None
    if getattr(model, "inputs", None) is None:
        raise ValueError(
            f"Cannot create feature extractor for {model.name}. The model has no symbolic inputs attribute."
        )
    final = model.layers[-1].output if isinstance(model, Sequential) else model.output
    outputs = {_FINAL: final}
    for name in layer_names:
        outputs[name] = model.get_layer(name=name).output
    return Model(inputs=model.inputs, outputs=outputs, name=f"{model.name}_multi_feature_extractor")
