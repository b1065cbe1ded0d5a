"""The fine-tune lab: the user's labelled examples, and the two ways the tutorial uses an encoder for a task,
measured on the same split: feature extraction (frozen encoder, pooled features, scikit-learn logistic regression)
and fine-tuning (the encoder, all layers or the top N, plus a classification head), next to the tutorial's bug (the
same model with an untrained head: chance level).

Data flows one way: text or CSV -> `Dataset` (validated; every refusal is a `DataError` written for the user) ->
`Split` (held out, or k-fold for tiny sets) -> `run_steps` per model (yields `Progress`: stage, losses, results so
far) -> `ModelRun` (a `MethodResult` per method, and `Predictor`s for new text). Nothing here is global: the caller
keeps the predictors (the app: in the user's own gr.State) and drops them to free them. One module per job, re-exported
here: data (parsing the user's examples), split, train (features and fine-tuning), predict (new text, with
attribution), runs (every method on one split: the one fold loop, the metrics).

    >>> data = parse_tsv(example_text("sentiment"))                                  # doctest: +SKIP
    >>> split = make_split(data)                                                     # 160 train / 40 test
    >>> result = run("minilm-l6", data, split, [FEATURES, UNTRAINED], pooling=MEAN)  # doctest: +SKIP
    >>> [round(r.accuracy, 2) for r in result.results]                               # [0.4, 0.97]: bug, features
    >>> result.predictors[0].predict("What a lovely day").label                      # 'positive'
"""
from model_zoo.finetune.data import (EXAMPLE_DIR, EXAMPLES, LABEL_COLUMNS, MAX_CLASSES, MAX_EXAMPLES, MAX_INPUT_CHARS,
                                     MAX_LABEL_CHARS, MIN_PER_CLASS, TEXT_COLUMNS, DataError, Dataset, example_text,
                                     parse_csv, parse_tsv, to_tsv)
from model_zoo.finetune.predict import Prediction, Predictor
from model_zoo.finetune.runs import (FEATURES, FINE_TUNING, METHODS, UNTRAINED, MethodResult, ModelRun, Progress,
                                     over_folds, run, run_steps)
from model_zoo.finetune.split import HOLDOUT_MIN, TEST_FRACTION, Split, make_split
from model_zoo.finetune.train import (CLS, MAX_LENGTH, MEAN, POOLINGS, Cancelled, TrainConfig, _encode, _pool,
                                      choose_trainable, classifier, features, train_steps)

__all__ = ["EXAMPLE_DIR", "EXAMPLES", "LABEL_COLUMNS", "MAX_CLASSES", "MAX_EXAMPLES", "MAX_INPUT_CHARS",
           "MAX_LABEL_CHARS", "MIN_PER_CLASS", "TEXT_COLUMNS", "DataError", "Dataset", "example_text", "parse_csv",
           "parse_tsv", "to_tsv", "Prediction", "Predictor", "FEATURES", "FINE_TUNING", "METHODS", "UNTRAINED",
           "MethodResult", "ModelRun", "Progress", "over_folds", "run", "run_steps", "HOLDOUT_MIN", "TEST_FRACTION",
           "Split", "make_split", "CLS", "MAX_LENGTH", "MEAN", "POOLINGS", "Cancelled", "TrainConfig", "_encode",
           "_pool", "choose_trainable", "classifier", "features", "train_steps"]
