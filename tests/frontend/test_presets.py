"""The presets gallery: cards built from hand-made API JSON, the page against a fake API (no server)."""

import dash_bootstrap_components as dbc
import httpx
from dash import html

from frontend.client import ApiClient
from frontend.components.presets import gallery, preset_card, run_button_id, size
from frontend.pages import presets as page

from .test_tables import texts, walk

SPEC = {
    "name": "digits-pair (quick)",
    "base": {"dataset": "digits", "epochs": 300},
    "sweep": {"pos_weight": [0.0625, 1, 16], "seed": [0, 1]},
}
DIGITS = {
    "name": "digits-pair", "title": "Handwritten digits 3 vs 5", "claim": "Real data that any machine has offline.",
    "source": "iwlab prototype (docs/science.md)", "needs": None, "tags": ["real data"],
    "expected": ["spread >= 0.5 at epoch 1", "every run fits"],
    "quick": {"runs": 6, "epochs": 300, "spec": SPEC},
    "full": {"runs": 27, "epochs": 1000, "spec": SPEC | {"name": "digits-pair"}},
}  # fmt: skip
CIFAR = DIGITS | {
    "name": "bl-cifar-cnn",
    "title": "CIFAR-10 cat vs dog",
    "needs": "cifar10",
    "tags": ["CIFAR", "paper"],
    "expected": [],
}


def test_card_shows_title_claim_source_tags_checks_and_sizes():
    card = preset_card(DIGITS)
    assert card.id == "preset-digits-pair"
    words = texts(card)
    for text in ("Handwritten digits 3 vs 5", "Real data that any machine has offline.", "iwlab prototype (docs/science.md)", "real data",
                 "What it checks (2)", "every run fits", "6 runs × 300 epochs", "27 runs × 1,000 epochs"):  # fmt: skip
        assert text in words, text
    buttons = [c for c in walk(card) if isinstance(c, dbc.Button)]
    assert [(b.children, b.id) for b in buttons] == [
        ("Run quick", run_button_id("digits-pair", "quick")),
        ("Run full", run_button_id("digits-pair", "full")),
    ]
    assert not any("preset-needs" in (getattr(c, "className", "") or "") for c in walk(card))


def test_card_says_what_data_must_be_downloaded():
    card = preset_card(CIFAR)
    notes = [c for c in walk(card) if "preset-needs" in (getattr(c, "className", "") or "")]
    assert len(notes) == 1 and "Needs CIFAR-10. " in texts(notes[0])
    assert not any(isinstance(c, html.Details) for c in walk(card))  # no checks listed: no empty disclosure


def test_size_and_gallery():
    assert size({"runs": 1, "epochs": 1}) == "1 run × 1 epoch"
    grid = gallery([DIGITS, CIFAR])
    assert grid.id == "presets-gallery" and [c.id for c in grid.children] == [
        "preset-digits-pair",
        "preset-bl-cifar-cnn",
    ]


def test_page_lists_the_presets_and_keeps_their_specs():
    def handler(request: httpx.Request) -> httpx.Response:
        assert request.url.path == "/api/v1/presets"
        return httpx.Response(200, json=[DIGITS, CIFAR])

    layout = page.layout(ApiClient("http://api.test", transport=httpx.MockTransport(handler)))
    store = next(c for c in walk(layout) if getattr(c, "id", None) == "presets-store")
    assert store.data["digits-pair"]["quick"] == SPEC | {"tags": ["real-data", "digits-pair"]}  # what Run quick submits
    assert store.data["bl-cifar-cnn"]["full"]["tags"] == ["cifar", "paper", "bl-cifar-cnn"]
    assert any(getattr(c, "id", None) == "presets-gallery" for c in walk(layout))


def test_page_says_when_the_api_is_unreachable():
    assert "Cannot load the presets" in str(page.layout(ApiClient("http://127.0.0.1:9")))


def test_thumbnail_draws_one_boundary_per_weight_and_names_other_axes():
    import re
    from urllib.parse import unquote

    from frontend.components.thumbnail import thumbnail

    l2 = DIGITS | {
        "quick": DIGITS["quick"]
        | {"spec": SPEC | {"sweep": {"pos_weight": [0.1, 1, 10], "weight_decay": [0, 0.2], "seed": [0]}}}
    }
    for preset, lines, caption in ((DIGITS, 3, None), (l2, 3, "wd ∈ {0, 0.2}")):
        img = thumbnail(preset)
        drawing = unquote(img.src.split(",", 1)[1])
        assert drawing.count("<line") == lines and "seed" not in drawing
        assert drawing.count("<text") == lines + bool(caption) and (caption is None or caption in drawing)
    assert thumbnail(DIGITS).alt == "3 weights: 0.0625, 1, 16"
    # every other axis on a line of its own, cut to fit the picture; the title has it whole
    from frontend.components.thumbnail import CAPTION_CHARS

    long = {"quick": {"spec": {"sweep": {"loss": ["ce", "ldam", "la"], "drw_epoch": [None, 12], "class_weights": ["inverse_frequency", "effective_number", {}]}}}}  # fmt: skip
    img = thumbnail(long)
    lines = re.findall(r"<text[^>]*>([^<]*)</text>", unquote(img.src.split(",", 1)[1]))[1:]  # after the weight's label
    assert len(lines) == 3 and all(len(line) <= CAPTION_CHARS for line in lines) and lines[-1].endswith("…")
    assert "effective_number" in img.title
    assert any(getattr(c, "className", "") and "preset-thumb" in c.className for c in walk(preset_card(DIGITS)))


def test_preset_tags_are_slugs_with_the_preset_name():
    from frontend.components.presets import preset_tags, slug

    assert (
        slug("Real  data!") == "real-data"
        and slug("2-D") == "2-d"
        and slug("--x--") == "x"
        and len(slug("a" * 40)) == 32
    )
    assert preset_tags(DIGITS | {"tags": ["Paper", "paper", "  "]}) == ["paper", "digits-pair"]
