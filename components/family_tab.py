"""One tab per family: the model picker, the text boxes, and the family's sections (one module per view)."""
from __future__ import annotations

from dataclasses import dataclass, field

import gradio as gr

from components import attention_view, tokens_view
from components import electra_view, xlnet_view
from components import model_labels, share
from components.markup import tag
from components import fill_mask_view, pretraining_view, why_view
from model_zoo import loading
from model_zoo.registry import Family



@dataclass
class TabContext:
    """What a family tab hands to each of its sections: the shared inputs, and a place to register start-up events."""
    family: Family
    model: gr.Dropdown
    text: gr.Textbox
    text_pair: gr.Textbox
    status: gr.HTML
    models_mode: str = "auto"
    on_load: list = field(default_factory=list)  # (fn, inputs, outputs) run when the page opens
    section_tabs: gr.Tabs | None = None          # the family's inner tabs, one per section
    section_state: gr.State | None = None        # the id of the section on show (for the link button)
    sections: dict = field(default_factory=dict)  # section id -> (its gr.Tab, elem_id of the button a link presses)
    then: dict = field(default_factory=dict)      # section id -> (elem_id, options): a second button a link presses
    options: dict = field(default_factory=dict)   # link parameter "section.name" -> component whose value it carries
    checks: dict = field(default_factory=dict)    # link parameter -> what its value must be (share.model_spec, ...)

    def add_section(self, section_id: str, tab: gr.Tab, run: gr.Button | None, checks: dict | None = None,
                    then: tuple | None = None, **options) -> None:
        """Register a section for share links: a link can select it, set `options` and press `run`. `checks` says
        what an option's value must be beyond what its component takes, e.g. checks={"teacher": share.model_spec}.
        `then` = (button, option names): a second button a link presses when it carries any of those options."""
        self.sections[section_id] = (tab, run.elem_id if run is not None else None)
        if then:
            self.then[section_id] = (then[0].elem_id, list(then[1]))
        for name, component in options.items():
            self.options[f"{section_id}.{name}"] = component
        for name, check in (checks or {}).items():
            self.checks[f"{section_id}.{name}"] = check

    def link_target(self) -> share.LinkTarget:
        return share.LinkTarget(tab=self.family.key, section_tabs=self.section_tabs, section_state=self.section_state,
                                options={"model": self.model, "text": self.text, "pair": self.text_pair,
                                         **self.options},
                                sections={sid: elem for sid, (_, elem) in self.sections.items()}, then=self.then,
                                checks={"model": share.model_spec, **self.checks})


# Each view adds its builder here: build(ctx) creates a gr.Tab inside the family's tabs and wires its events.
SECTIONS = [tokens_view.build, attention_view.build, electra_view.build, xlnet_view.build, fill_mask_view.build,
            why_view.build, pretraining_view.build]


def initial_badge(checkpoint, offered) -> str:
    """What the status says before anything loads: whether the default model can be had here at all."""
    if loading.is_available(checkpoint):
        return tag("div", "Nothing loaded yet: models load on first use.", class_="weights-badge")
    usable = [c.key for c in offered if c is not checkpoint and loading.is_available(c)]
    other = f"Pick one that works here ({', '.join(usable)}), or provide it" if usable else "Provide it"
    return tag("div", f"{checkpoint.hub_id} cannot be loaded here: the Hugging Face Hub is unreachable and it is not "
               f"in the local cache. {other}: run once online, set HF_HOME, or type a local folder (e.g. one written "
               "by `python -m model_zoo.tiny DIR`, random weights).", class_="weights-badge warn")


def _constant(value: str):
    def section_on_show() -> str:
        return value
    return section_on_show


def build(family: Family, models_mode: str = "auto") -> TabContext:
    offered, default = loading.model_choices(family.key, models_mode)
    with gr.Tab(family.name, id=family.key):
        gr.Markdown(f"## {family.name} · {family.idea}\n*{family.paper}.* {family.objective}")
        with gr.Row():
            model = gr.Dropdown(choices=model_labels.options(offered), value=default.key,
                                allow_custom_value=True, label="Model: pick one, or type a Hub id or a local folder",
                                scale=3, elem_id=f"{family.key}-model")
            status = gr.HTML(initial_badge(default, offered), elem_id=f"{family.key}-status")
        with gr.Row():
            text = gr.Textbox(value=family.mask_example, lines=2, max_lines=8, scale=3, elem_id=f"{family.key}-text",
                              label="Text: every section reads it; [MASK] (or <mask>, ___) hides a word to guess")
            text_pair = gr.Textbox(value=family.pair_example, label="Second sentence (optional)", lines=2,
                                   placeholder="e.g. It was cold outside. (empty: the text alone)",
                                   visible=family.pair_input, scale=2, elem_id=f"{family.key}-pair")
        link_button, link = share.link_box("this tab and section with this model, text and options", family.key)
        ctx = TabContext(family, model, text, text_pair, status, models_mode)
        with gr.Tabs() as ctx.section_tabs:
            for section in SECTIONS:
                section(ctx)
        ctx.section_state = gr.State(next(iter(ctx.sections), ""))
        for section_id, (tab, _) in ctx.sections.items():
            tab.select(_constant(section_id), None, ctx.section_state, api_visibility="private")
        share.wire_link(link_button, link, ctx.link_target(), f"{family.key}_share_link")
    return ctx
