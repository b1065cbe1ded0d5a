"""model_zoo.config_fields: one reader for the size fields every family names its own way, on real configs of each
family (the Hub configs the app keeps in assets/configs, and config objects built locally from transformers' classes)."""
import json
from pathlib import Path

import pytest
import transformers as tf

from model_zoo import config_fields as cf

CONFIGS = Path(__file__).resolve().parent.parent / "assets" / "configs"
# checkpoint -> (layers, hidden, heads, intermediate, embedding, max_positions), as the papers and model cards state them
PUBLISHED = {
    "bert-base-uncased": (12, 768, 12, 3072, None, 512),
    "roberta-base": (12, 768, 12, 3072, None, 514),
    "albert-base-v2": (12, 768, 12, 3072, 128, 512),
    "distilbert-base-uncased": (6, 768, 12, 3072, None, 512),
    "electra-small-discriminator": (12, 256, 4, 1024, 128, 512),
    "electra-small-generator": (12, 256, 4, 1024, 128, 512),
    "xlnet-base-cased": (12, 768, 12, 3072, None, None),
}
QUANTITIES = ("layers", "hidden", "heads", "intermediate", "embedding", "max_positions")


@pytest.mark.parametrize("key", sorted(PUBLISHED))
def test_the_hub_configs_as_dicts_and_as_objects(key):
    as_dict = json.loads((CONFIGS / f"{key}.json").read_text())
    as_object = tf.AutoConfig.for_model(**as_dict)
    for quantity, expected in zip(QUANTITIES, PUBLISHED[key]):
        assert cf.field(as_dict, quantity) == expected, (key, quantity)
        if quantity == "max_positions" and expected is None:
            assert cf.field(as_object, quantity) == -1                # XLNetConfig's property: "no limit"
        else:
            assert cf.field(as_object, quantity) == expected, (key, quantity)


# Tiny configs built with each family's own field names (the transformers test habit: hidden 32, 2 layers, 4 heads).
BUILT = {
    "bert": tf.BertConfig(hidden_size=32, num_hidden_layers=2, num_attention_heads=4, intermediate_size=37),
    "roberta": tf.RobertaConfig(hidden_size=32, num_hidden_layers=2, num_attention_heads=4, intermediate_size=37),
    "albert": tf.AlbertConfig(embedding_size=16, hidden_size=32, num_hidden_layers=2, num_attention_heads=4,
                              intermediate_size=37),
    "distilbert": tf.DistilBertConfig(dim=32, n_layers=2, n_heads=4, hidden_dim=37),
    "electra": tf.ElectraConfig(embedding_size=16, hidden_size=32, num_hidden_layers=2, num_attention_heads=4,
                                intermediate_size=37),
    "xlnet": tf.XLNetConfig(d_model=32, n_layer=2, n_head=4, d_inner=37),
}


@pytest.mark.parametrize("family", sorted(BUILT))
@pytest.mark.parametrize("form", ["object", "config.json"])
def test_each_family_own_names_read_alike(family, form):
    config = BUILT[family] if form == "object" else BUILT[family].to_dict()
    assert [cf.required(config, q) for q in ("layers", "hidden", "heads")] == [2, 32, 4]
    assert cf.field(config, "intermediate") == 37
    assert cf.field(config, "embedding", 32) == (16 if family in ("albert", "electra") else 32)


def test_missing_fields_default_or_say_which_names_were_tried():
    assert cf.field({"model_type": "x"}, "intermediate", 128) == 128
    assert cf.field({"hidden_size": None, "dim": 64}, "hidden") == 64               # None counts as unset
    with pytest.raises(ValueError, match="layers of a mystery config.*num_hidden_layers, n_layers, n_layer"):
        cf.required({"model_type": "mystery"}, "layers")


def test_every_reader_in_model_zoo_uses_this_table():
    """No module spells an alias list of its own (the three readers that did are now this one)."""
    root = Path(__file__).resolve().parent.parent / "model_zoo"
    for path in root.glob("*.py"):
        if path.name != "config_fields.py":
            text = path.read_text()
            assert not ('"n_layers"' in text and '"n_layer"' in text), path.name
            assert not ('"dim"' in text and '"d_model"' in text), path.name
