"""Knowledge distillation (`keras.distillation`): a teacher model trains a student.

`Distiller` is a `Model` whose `fit` trains the student on labels and on the frozen teacher's
outputs; `LogitsDistillation` and `FeatureDistillation` say how teacher and student outputs are
compared, and `DistillationLoss` is the base class for other ways.
"""

from keraslike.distillation.distillation_loss import (
    DistillationLoss,
    FeatureDistillation,
    LogitsDistillation,
)
from keraslike.distillation.distiller import Distiller

__all__ = ["DistillationLoss", "Distiller", "FeatureDistillation", "LogitsDistillation"]

