"""The ported keras-io examples: module names under `tests.ports`, each with `run(keras)`."""

PORTS = [
    "vision_mnist_convnet",
    "nlp_text_classification_with_transformer",
    "timeseries_classification_from_scratch",
    "timeseries_anomaly_detection",
    "keras_recipes_antirectifier",
]
