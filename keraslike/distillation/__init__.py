"""Knowledge distillation (`keras.distillation`): a teacher model trains a student."""
