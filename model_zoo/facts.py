"""A checkpoint's facts as the config states them (layers, widths, heads, vocabulary, exact parameter count).

Works without weights: the config comes from the local folder, the HF cache, the Hub, or (for the default checkpoints,
offline) the copy kept in assets/configs; parameters are counted on the meta device.
"""
from __future__ import annotations

from dataclasses import dataclass

from model_zoo import loading
from model_zoo.config_fields import field, required
from model_zoo.registry import FAMILIES, Checkpoint, family_of_model_type

@dataclass(frozen=True)
class ModelFacts:
    key: str
    family: str
    hub_id: str
    model_class: str
    layers: int
    hidden: int
    heads: int
    intermediate: int
    embedding: int               # token-embedding width (ALBERT and ELECTRA factorise it; else = hidden)
    vocab: int
    max_positions: int | None    # None for XLNet (relative positions)
    parameters: int              # exact, of model_class built from this config
    shared_layers: bool          # ALBERT: one set of layer weights applied `layers` times
    objective: str
    description: str
    config_source: str           # where the config came from, said in the UI

    def rows(self) -> list[tuple[str, str]]:
        """(name, value) pairs for a facts table."""
        rows = [("Checkpoint", _shown_source(self.key, self.hub_id)), ("Class", self.model_class), ("Layers", str(self.layers)),
                ("Hidden size", str(self.hidden)), ("Attention heads", str(self.heads)),
                ("Feed-forward size", str(self.intermediate)), ("Embedding size", str(self.embedding)),
                ("Vocabulary", f"{self.vocab:,}"),
                ("Max positions", str(self.max_positions) if self.max_positions else "unbounded (relative)"),
                ("Parameters", f"{self.parameters:,} ({self.parameters / 1e6:.1f}M)")]
        if self.shared_layers:
            rows.append(("Layer sharing", f"one layer's weights applied {self.layers} times"))
        rows += [("Objective", self.objective), ("Config from", self.config_source)]
        return rows


def config_for(checkpoint: Checkpoint) -> tuple[dict, str]:
    """The checkpoint's config dict and where it came from; offline, the bundled copy for default checkpoints."""
    try:
        return loading.checkpoint_config_dict(checkpoint)
    except loading.ModelUnavailable:
        bundled = loading.bundled_config_dict(checkpoint)
        if bundled is None:
            raise
        return bundled, "the copy kept in this app (assets/configs), since the Hub cannot be reached"


def facts_from_config(checkpoint: Checkpoint, config: dict, config_source: str = "") -> ModelFacts:
    hidden = required(config, "hidden")
    positions = field(config, "max_positions")
    family = FAMILIES[checkpoint.family]
    if positions:
        positions -= family.position_offset  # RoBERTa offsets positions by padding_idx + 1
    return ModelFacts(
        key=checkpoint.key, family=family.name, hub_id=checkpoint.hub_id, model_class=checkpoint.model_class,
        layers=required(config, "layers"), hidden=hidden, heads=required(config, "heads"),
        intermediate=int(field(config, "intermediate", 4 * hidden)),
        embedding=int(field(config, "embedding", hidden)),
        vocab=int(config["vocab_size"]), max_positions=positions,
        parameters=loading.count_parameters(config, checkpoint.model_class),
        shared_layers=family.shared_layers and config.get("num_hidden_groups", 1) == 1,
        objective=family.objective, description=checkpoint.description, config_source=config_source)


def facts(checkpoint: Checkpoint) -> ModelFacts:
    config, source = config_for(checkpoint)
    return facts_from_config(checkpoint, config, source)


def max_tokens(config) -> int:
    """The longest input the model takes, in tokens (XLNet has no bound of its own: we cap it at 512)."""
    positions = field(config, "max_positions")
    if positions is None or positions <= 0:
        return 512
    family = family_of_model_type(config.model_type)
    return positions - (family.position_offset if family else 0)


def _shown_source(key: str, source: str) -> str:
    """'mini-bert (assets/mini/bert)': the key, and where the weights are, relative to the app when inside it."""
    from pathlib import Path
    root = Path(__file__).resolve().parents[1]
    try:
        source = str(Path(source).resolve().relative_to(root)) if Path(source).is_absolute() else source
    except ValueError:
        pass
    return source if source in ("", key) else f"{key} ({source})"
