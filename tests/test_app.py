"""The app end to end through gradio_client: named endpoints, real results, errors as messages."""
import pytest
from gradio_client import Client

from model_zoo import facts as model_facts
from model_zoo.registry import CHECKPOINTS, FAMILIES


@pytest.fixture(scope="module")
def client(app_url):
    return Client(app_url, verbose=False)


def test_every_family_has_named_endpoints(client):
    endpoints = client.view_api(print_info=False, return_format="dict")["named_endpoints"]
    for family in FAMILIES:
        assert f"/{family}_tokenize" in endpoints and f"/{family}_facts" in endpoints


@pytest.mark.parametrize("family,fixture", [("bert", "bert"), ("roberta", "roberta"), ("albert", "albert"),
                                            ("distilbert", "distilbert"), ("electra", "electra-discriminator"),
                                            ("xlnet", "xlnet")])
def test_tokenize_a_local_folder_in_every_family_tab(client, tiny_path, family, fixture):
    badge, chips, table, facts = client.predict(tiny_path(fixture), "Paris is nice.", "",
                                                api_name=f"/{family}_tokenize")
    assert "RANDOM weights" in badge
    rows = table["data"]
    assert rows and all(isinstance(r[3], int) for r in rows)
    facts = dict(map(tuple, facts["data"]))
    assert facts["Layers"] == "2" and facts["Attention heads"] == "4"


def test_unavailable_checkpoint_says_how_to_provide_it(client):
    with pytest.raises(Exception) as error:
        client.predict("google-bert/bert-base-uncased", "Hello", "", api_name="/bert_tokenize")
    assert "not available here" in str(error.value) and "Traceback" not in str(error.value)


def test_facts_of_an_unavailable_default_still_show(client):
    facts = dict(map(tuple, client.predict("bert-base-uncased", api_name="/bert_facts")["data"]))
    exact = model_facts.facts(CHECKPOINTS["bert-base-uncased"]).parameters     # model_zoo's own count
    assert facts["Parameters"].startswith(f"{exact:,}")


def test_html_in_the_text_is_escaped(client, tiny_path):
    _, chips, _, _ = client.predict(tiny_path("bert"), "<img src=x onerror=alert(1)>", "", api_name="/bert_tokenize")
    assert "<img" not in chips and "&lt;" in chips


def test_empty_text_is_a_message(client, tiny_path):
    with pytest.raises(Exception, match="empty"):
        client.predict(tiny_path("bert"), "   ", "", api_name="/bert_tokenize")
