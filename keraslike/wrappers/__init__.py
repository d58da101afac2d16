"""scikit-learn estimators around keraslike models (`keras.wrappers`)."""
