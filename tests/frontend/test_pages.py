"""Page builders from hand-made API JSON: the experiment header's exports, the run page, compare."""

import subprocess

import yaml
from dash import html

from backend.api.catalog import catalog
from frontend.components.exports import cli_command, graph_config
from frontend.components.run_fields import describe
from frontend.pages import experiment as experiment_page
from frontend.pages import run
from frontend.pages.compare import chips

from .conftest import make_run
from .test_tables import texts, walk

FIELDS = describe(catalog()["run"])  # the run parameters as the dashboard reads them from /catalog


def by_id(component, ident):
    return next(c for c in walk(component) if getattr(c, "id", None) == ident)


def test_experiment_header_offers_downloads_the_cli_command_and_compare(experiment):
    head = experiment_page.header(experiment, "http://lab:8000", "svg", [1, 2, 3])
    assert by_id(head, "export-csv").href == "/download/experiments/1.csv"
    assert by_id(head, "export-json").href == "/download/experiments/1.json"
    assert by_id(head, "figure-format").value == "svg"
    assert by_id(head, "compare-runs").href == "/compare?runs=1,2,3"
    assert by_id(head, "copy-cli").content == cli_command(experiment["spec"], "http://lab:8000")


def test_cli_command_is_a_shell_snippet_that_writes_the_spec_back(tmp_path, experiment):
    command = cli_command(experiment["spec"] | {"name": "weights fade / v2"}, "http://lab:8000")
    assert command.splitlines()[-1] == "iwlab submit weights-fade-v2.yaml --server http://lab:8000"
    script = "\n".join(command.splitlines()[:-1])  # everything but the submit: writes the file
    subprocess.run(["bash", "-c", script], cwd=tmp_path, check=True)
    assert yaml.safe_load((tmp_path / "weights-fade-v2.yaml").read_text()) == experiment["spec"] | {
        "name": "weights fade / v2"
    }
    assert cli_command(experiment["spec"], "http://lab:8000", ["paper", "2-d"]).endswith(
        "--server http://lab:8000 --tag paper --tag 2-d"
    )
    assert (
        graph_config("svg")["toImageButtonOptions"]["format"] == "svg"
        and graph_config("gif")["toImageButtonOptions"]["format"] == "png"
    )


def test_run_page_shows_parameters_history_error_and_every_metric():
    r = make_run(5, 0, 10.0, 1, status="failed", done=2, error="RuntimeError: boom\nTraceback line") | {
        "started_at": "2026-01-01T00:01:00",
        "finished_at": "2026-01-01T00:02:00",
        "attempts": 2,
        "fit_epoch": None,
        "heartbeat_at": None,
    }
    words = texts(run.environment(r))
    assert (
        "w1" in words
        and "2 (resumed after a worker died)" in words
        and "not yet" in words
        and "2026-01-01 00:02" in words
    )
    assert "RuntimeError: boom\nTraceback line" in words
    env = {
        "device": "cuda:0",
        "device_name": "NVIDIA H100",
        "torch_threads": 1,
        "python": "3.11.2",
        "platform": "Linux-6.1",
        "git_commit": None,
        "packages": {"iwlab": "0.1.0", "torch": "2.13.0", "numpy": None},
    }
    facts = dict(run.environment_facts(env))
    assert (
        facts["device"] == "NVIDIA H100 (cuda:0, 1 torch threads)" and facts["packages"] == "iwlab 0.1.0, torch 2.13.0"
    )
    assert facts["iwlab commit"] == "not a git checkout" and run.environment_facts(None) == []
    params = {texts(tr)[0]: texts(tr)[1] for tr in walk(run.spec_table(r, FIELDS)) if isinstance(tr, html.Tr)}
    assert params["pos_weight"] == "10" and params["seed"] == "1" and params["grid"] == "8"
    assert "hidden" not in params  # a logistic regression has no hidden layer: the parameter does not apply
    mlp = make_run(6, 1, 4.0, 0, model="mlp", dataset="digits", classes=["3", "5"])
    table = run.spec_table(mlp, FIELDS)
    params = {texts(tr)[0]: texts(tr)[1] for tr in walk(table) if isinstance(tr, html.Tr)}
    assert params["hidden"] == "64" and "grid" not in params and "frames" not in params
    assert by_id(table, "run-positive").children == "5"
    head = run.header(r)
    assert by_id(head, "run-export-csv").href == "/download/runs/5.csv"
    assert any(getattr(c, "id", None) == {"type": "run-action", "action": "retry", "id": 5} for c in walk(head))
    rows = [
        {"run_id": 5, "epoch": e, "split": s, "metric": m, "value": v}
        for e in range(3)
        for s, m, v in (("test", "acc", 0.5 + e / 10), ("train", "acc", 0.6), ("train", "loss", 1.0 / (e + 1)))
    ]
    table = texts(run.last_values(rows))
    assert [t for t in table if t not in ("metric (latest epoch)", "test", "train", "")] == [
        "acc",
        "0.7",
        "0.6",
        "loss",
        "0.3333",
    ]
    fig = run.metric_figure(rows, "acc", logx=False)
    assert sorted(t.name for t in fig.data) == ["test", "train"]
    assert "No balanced_acc" in run.metric_figure(rows, "balanced_acc", False).layout.annotations[0].text


def test_compare_chips_link_each_run_and_say_which_ids_are_gone():
    out = chips([make_run(3, 0, 1.0, 0)], [99])
    assert "#99 not found" in texts(out[1]) and any(getattr(c, "href", None) == "/runs/3" for c in walk(out[0]))


def test_layouts_build_with_their_url_state():
    from frontend.client import ApiClient
    from frontend.pages import compare

    offline = ApiClient("http://127.0.0.1:9")
    page = compare.layout(offline, {"runs": "4,2,x", "metric": "acc", "split": "ood", "epoch": "7"})
    assert (
        by_id(page, "tray").data == [4, 2]
        and by_id(page, "cmp-metric").value == "acc"
        and by_id(page, "cmp-split").value == "ood"
    )
    assert by_id(page, "cmp-initial-epoch").data == 7
    page = run.layout(offline, 3, {"metric": "loss", "logx": "1"}, 1.0)
    assert by_id(page, "run-metric").value == "loss" and by_id(page, "run-logx").value is True
    page = experiment_page.layout(offline, 3, {"split": "noise", "fig": "svg", "logx": "1"}, 1.0)
    assert by_id(page, "split").value == "noise" and by_id(page, "initial-format").data == "svg"
    assert by_id(page, "curve-graph").config["toImageButtonOptions"]["format"] == "svg"
    assert by_id(experiment_page.layout(offline, 3, {"split": "bogus"}, 1.0), "split").value == "test"


def test_every_callback_input_and_output_exists_on_its_page(experiment):
    """Dash only reports a callback wired to a missing id in the browser console; catch it here."""
    from frontend.app import create_app
    from frontend.client import ApiClient
    from frontend.pages import compare, datasets, experiments, new, presets, workers

    app = create_app("http://127.0.0.1:9")
    offline = ApiClient("http://127.0.0.1:9")
    pages = {
        "experiment": [experiment_page.layout(offline, 1, {}, 1.0), experiment_page.header(experiment, "http://api", "png")], "run": run.layout(offline, 1, {}, 1.0), "compare": compare.layout(offline, {}),
        "experiments": experiments.layout(offline, 1.0), "new": new.layout(offline), "presets": presets.layout(offline),
        "workers": workers.layout(offline, 1.0), "datasets": datasets.layout(offline),
    }  # fmt: skip
    shell = {
        c.id for c in walk(app.layout) if isinstance(getattr(c, "id", None), str)
    }  # on every page: url, page, the liveness check
    ids = {
        name: {c.id for c in walk(html.Div(page)) if isinstance(getattr(c, "id", None), str)} | shell
        for name, page in pages.items()
    }
    for key, callback in app.callback_map.items():
        deps = [d["id"] for d in callback["inputs"] + callback["state"]]
        outputs = [
            o.rsplit(".", 1)[0] for o in key.strip(".").split("...") if o
        ]  # "a.children...b.data..." for several
        wanted = {d for d in deps + outputs if isinstance(d, str) and not d.startswith("{")}
        if wanted <= shell:
            continue
        assert any(wanted <= have for have in ids.values()), f"no page has all of {sorted(wanted)}"


def test_experiments_list_pages_and_filters(experiment):
    from frontend.pages import experiments

    assert experiments.pager(1, 10, "") is None
    nav = experiments.pager(2, 3 * experiments.LIMIT + 1, "&status=failed")
    assert [link.href for link in walk(nav) if getattr(link, "href", None)] == [
        "/experiments?page=1&status=failed",
        "/experiments?page=3&status=failed",
    ]
    assert "page 2 of 4 (151 experiments)" in texts(nav)
    assert experiments.matches(experiment, "FA", "running") and not experiments.matches(experiment, "x", "")
    assert not experiments.matches(experiment, "", "failed")
    page = experiments.layout(None, 1.0, {"page": "3", "status": "running", "q": "fade"})
    assert (
        by_id(page, "list-page").data == 3
        and by_id(page, "exp-filter-status").value == "running"
        and by_id(page, "exp-filter-q").value == "fade"
    )
    assert by_id(experiments.layout(None, 1.0, {"page": "-2", "status": "bogus"}), "list-page").data == 1


def test_experiments_list_keeps_its_tag_filter_and_order_in_the_url():
    from frontend.pages import experiments

    assert experiments.parse_tags(" Paper, 2-d,,paper ") == ["paper", "2-d"] and experiments.parse_tags(None) == []
    assert (
        experiments.parse_sort("-progress") == "-progress"
        and experiments.parse_sort("size") == "-created_at"
        and experiments.parse_sort(None) == "-created_at"
    )
    assert (
        experiments.toggle_tag("paper", "2-d") == "paper,2-d" and experiments.toggle_tag("paper,2-d", "paper") == "2-d"
    )
    assert experiments.toggle_tag(None, "paper") == "paper"
    assert experiments.search_of(2, "fade", "", ["paper", "2-d"], "-runs") == "page=2&q=fade&tag=paper,2-d&sort=-runs"
    assert experiments.search_of(1, "", "", [], "-created_at") == ""  # defaults stay out of the URL
    page = experiments.layout(None, 1.0, {"tag": "Paper,2-d", "sort": "name"})
    assert by_id(page, "exp-filter-tag").value == "paper,2-d" and by_id(page, "list-sort").data == "name"
    assert by_id(experiments.layout(None, 1.0, {"sort": "bogus"}), "list-sort").data == "-created_at"


def test_experiments_list_asks_the_api_for_its_order_and_tags():
    import httpx

    from frontend.client import ApiClient

    seen = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(dict(request.url.params))
        return httpx.Response(200, json={"items": [], "total": 0, "limit": 50, "offset": 0})

    ApiClient("http://api.test", transport=httpx.MockTransport(handler)).list_experiments(
        50, 100, sort="-runs", tags=["paper", "2-d"]
    )
    assert seen == [{"limit": "50", "offset": "100", "sort": "-runs", "tag": "paper,2-d"}]


def test_the_epoch_axis_starts_logarithmic_beyond_a_hundred_epochs():
    assert experiment_page.log_by_default({"spec": {"base": {"epochs": 300}}})
    assert not experiment_page.log_by_default({"spec": {"base": {"epochs": 100}}})
    assert not experiment_page.log_by_default({"spec": {}})


def test_run_page_leaves_out_deferred_and_class_weight_settings_a_run_does_not_use():
    def shown(**params):
        return {
            texts(tr)[0]
            for tr in walk(run.spec_table(make_run(7, 0, 1.0, 0, **params), FIELDS))
            if isinstance(tr, html.Tr)
        }

    plain = shown(loss="ce", drw_epoch=None, drw_beta=0.9999, class_weights={}, class_beta=0.9999)
    assert not {"drw_beta", "class_weights", "class_beta"} & plain and "loss" in plain
    drw = shown(loss="ldam", drw_epoch=160, drw_beta=0.9999, class_weights={}, class_beta=0.9999)
    assert {"drw_epoch", "drw_beta"} <= drw and "class_beta" not in drw
    scheme = shown(class_weights="effective_number", class_beta=0.999)
    assert {"class_weights", "class_beta"} <= scheme
    given = shown(class_weights={"pos": 3.0}, class_beta=0.9999)
    assert "class_weights" in given and "class_beta" not in given


def test_a_target_sample_is_a_split_the_experiment_page_offers_where_runs_record_it():
    from frontend.pages.experiment.data import split_options

    offered = {o["value"]: o["disabled"] for o in split_options({"splits": ["train", "test", "target"]})}
    assert offered["target"] is False and offered["ood"] is True
    assert {o["value"]: o["disabled"] for o in split_options({"splits": ["test"]})}["target"] is True
