"""The ported keras-io examples: module names under `tests.ports`, each with `run(keras)`."""

PORTS = [
    "vision_mnist_convnet",
    "nlp_text_classification_with_transformer",
    "timeseries_classification_from_scratch",
    "timeseries_anomaly_detection",
    "keras_recipes_antirectifier",
    "nlp_addition_rnn",
    "nlp_bidirectional_lstm_imdb",
    "timeseries_classification_transformer",
    "vision_autoencoder",
    "nlp_lstm_seq2seq",
    "keras_recipes_subclassing_conv_layers",
    "timeseries_weather_forecasting",
    "structured_data_imbalanced_classification",
    "vision_knowledge_distillation",
    "vision_siamese_contrastive",
    "nlp_pretrained_word_embeddings",
    "nlp_text_classification_from_scratch",
    "generative_text_generation_with_miniature_gpt",
    "nlp_multi_label_classification",
    "generative_lstm_character_level_text_generation",
]

# Ports that run on Keras 3 but fail on keraslike because of a keraslike gap (the test is
# `xfail(strict=True)`: it starts failing the suite the day the gap is closed, so the entry is
# removed then). Each entry: (the exception type keraslike raises, the reason quoting it).
KNOWN_FAILURES = {
    "nlp_addition_rnn": (
        RuntimeError,
        "bool inputs are not cast to the model's float32 Input dtype: "
        "RuntimeError: expected m1 and m2 to have the same dtype, but got: bool != float (LSTM)"
    ),
    "keras_recipes_subclassing_conv_layers": (
        AttributeError,
        "BaseConv has no `convolution_op(inputs, kernel)`: AttributeError: "
        "'StandardizedConv2DWithCall' object has no attribute 'convolution_op'"
    ),
    "vision_knowledge_distillation": (
        ValueError,
        "a `Model.compute_loss` override is not used by fit when compile() got no loss: "
        "ValueError: The model was compiled without a `loss`; `fit` needs one."
    ),
    "vision_siamese_contrastive": (
        ValueError,
        "Functional inputs one rank short are not expanded (Keras adds the trailing axis): "
        "ValueError: Input \"input_layer_1\" of model \"functional_1\" expects data of shape "
        "(None, 28, 28, 1), but received an array of shape (64, 28, 28)."
    ),
    "generative_lstm_character_level_text_generation": (
        RuntimeError,
        "bool inputs are not cast to the model's float32 Input dtype: "
        "RuntimeError: expected m1 and m2 to have the same dtype, but got: bool != float (LSTM)"
    ),
    "nlp_multi_label_classification": (
        AssertionError,
        "a Sequential without an Input, built by the first fit batch, is not trained: fit warns "
        "'The model does not have any trainable weights.' and the training loss stays constant "
        "(0.7237, 0.7237, 0.7237; Keras: 0.7068, 0.6250, 0.5772)"
    ),
}
