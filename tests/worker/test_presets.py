"""Every preset's quick variant reproduces what the paper (or its reproductions) predicts, with
fixed seeds, on 2 CPU cores."""

import pytest

from worker.engine import presets
from worker.engine.export import write_results
from worker.engine.outcome import evaluate
from worker.engine.spec import ExperimentSpec

OFFLINE = [name for name, p in presets.PRESETS.items() if p.needs is None]
NEEDS_CIFAR = [name for name, p in presets.PRESETS.items() if p.needs == "cifar10"]
# CI budget: the CIFAR checks read only the test split, so CI skips the out-of-domain and noise
# evaluations and evaluates at ~10 instead of ~30 epochs. Training is untouched (evaluation draws
# no random numbers), so the models are exactly the quick variant's; the checks read the last
# evaluated epoch at or before the one they name. Saves about a third of each CIFAR check.
CIFAR_CI_READOUTS = {"ood": 0, "noise_images": 0, "eval_points": 10}


def check(spec: ExperimentSpec, preset: presets.Preset, tmp_path, datasets=None) -> None:
    _, outcome = write_results(spec, tmp_path, device="cpu", datasets=datasets)
    results = evaluate(preset.checks(quick=True), outcome)
    report = "\n".join(f"{'ok ' if ok else 'NO '} {claim}: {measured}" for claim, ok, measured in results)
    print(f"{preset.name}\n{report}")
    assert all(ok for _, ok, _ in results), report


def test_every_preset_is_complete():
    for p in presets.PRESETS.values():
        assert p.claim and p.source and p.expected, p.name
        assert len(p.quick.runs()) <= len(p.full.runs()), p.name
        assert p.quick.runs()[0].epochs <= p.full.runs()[0].epochs, p.name


@pytest.mark.slow
@pytest.mark.parametrize("name", OFFLINE)
def test_quick_preset_meets_its_expected_outcome(name, tmp_path):
    preset = presets.get(name)
    check(preset.quick, preset, tmp_path)


@pytest.mark.slow
@pytest.mark.parametrize("name", NEEDS_CIFAR)
def test_quick_cifar_preset_on_the_real_images(name, cifar_jpeg, datasets_cache, tmp_path):
    preset = presets.get(name)
    base = preset.quick.base.model_copy(update={"data_path": str(cifar_jpeg), **CIFAR_CI_READOUTS})
    # the session's data folder, as `iwlab run` passes its own: each training process then reads
    # the decoded images instead of decoding the archive again
    check(preset.quick.model_copy(update={"base": base}), preset, tmp_path, datasets_cache)


def test_unknown_preset_names_the_choices():
    with pytest.raises(KeyError, match="bl-synth-linear"):
        presets.get("bl-nope")


def test_offset_and_at_least_read_seed_means_of_one_arm():
    from worker.engine.outcome import Outcome
    from worker.engine.presets.base import at_least, offset
    from worker.engine.spec import RunSpec

    o = Outcome()
    for loss, seed, value in [("ce", 0, 0.1), ("ce", 1, 0.3), ("la", 0, -0.1)]:
        o.add(RunSpec(loss=loss, seed=seed), {5: {"geometry": {"offset": value}}})
    assert offset(o, loss="ce") == pytest.approx(0.2)
    check = at_least("ce minus la", lambda o: offset(o, loss="ce") - offset(o, loss="la"), 0.25)
    assert check.run(o) == (True, "0.300") and check.claim == "ce minus la >= 0.25"
    with pytest.raises(ValueError, match="vs"):
        offset(o, loss="vs")


def test_wang_weighting_shift_reads_seed_means_per_loss_at_an_epoch():
    from worker.engine.outcome import Outcome
    from worker.engine.presets.base import at_most
    from worker.engine.presets.cifar import WANG_WEIGHT, weighting_shift
    from worker.engine.spec import RunSpec

    o = Outcome()
    # frac_pred_pos at epochs 3 and 80: (loss, weight, seed) -> (early, end)
    rows = {("ce", 1.0, 0): (0.0, 0.02), ("ce", 1.0, 1): (0.0, 0.04), ("ce", WANG_WEIGHT, 0): (0.5, 0.04), ("ce", WANG_WEIGHT, 1): (0.3, 0.04),
            ("poly", 1.0, 0): (0.0, 0.01), ("poly", WANG_WEIGHT, 0): (0.2, 0.09)}  # fmt: skip
    for (loss, w, seed), (early, end) in rows.items():
        o.add(
            RunSpec(loss=loss, pos_weight=w, seed=seed),
            {3: {"test": {"frac_pred_pos": early}}, 80: {"test": {"frac_pred_pos": end}}},
        )
    assert weighting_shift("ce")(o) == pytest.approx(0.01)  # 0.04 - mean(0.02, 0.04)
    assert weighting_shift("ce", 3)(o) == pytest.approx(0.4)
    assert weighting_shift("poly")(o) == pytest.approx(0.08)
    faded = at_most("ce shift", weighting_shift("ce"), 0.005)
    assert faded.run(o) == (False, "0.010") and faded.claim == "ce shift <= 0.005"


def test_an_illustration_checks_what_it_shows_and_the_full_variant_the_claim():
    dropout = presets.get("bl-cifar-cnn-dropout")
    assert dropout.quick_is_illustration and dropout.checks(quick=False) == dropout.expected
    claims = [c.claim for c in dropout.expected]
    assert "spread of test frac_pred_pos at epoch end <= 0.15" in claims  # the paper's claim, restored
    assert dropout.checks(quick=True) == dropout.quick_expected != dropout.expected
    plain = presets.get("bl-synth-linear")
    assert not plain.quick_is_illustration and plain.checks(quick=True) == plain.expected


def test_arm_difference_reports_the_paired_answer_with_its_interval():
    from worker.engine.outcome import Outcome
    from worker.engine.presets.base import arm_difference
    from worker.engine.spec import RunSpec

    o = Outcome()
    # final frac_pred_pos (w = 0.25, w = 4) per seed; spreads by hand: plain 0.1, 0.2, 0.3; BatchNorm 0.3, 0.3, 0.6
    finals = {(False, 0): (0.4, 0.5), (False, 1): (0.4, 0.6), (False, 2): (0.3, 0.6),
              (True, 0): (0.3, 0.6), (True, 1): (0.2, 0.5), (True, 2): (0.1, 0.7)}  # fmt: skip
    for (bn, seed), fracs in finals.items():
        for w, frac in zip((0.25, 4.0), fracs):
            o.add(
                RunSpec(batchnorm=bn, seed=seed, pos_weight=w),
                {9: {"test": {"frac_pred_pos": frac}, "train": {"acc": 1.0}}},
            )
    check = arm_difference("does it keep more?", {"batchnorm": True}, {"batchnorm": False})
    ok, measured = check.run(o)
    # differences 0.2, 0.1, 0.3: mean 0.2, sd 0.1, t(2) 4.303 -> half-width 0.248
    assert ok and measured.startswith("+0.200 [-0.048, +0.448], n = 3,")
    assert measured.n == 3 and measured.interval == pytest.approx((-0.0484, 0.4484), abs=1e-4)
    assert "no difference detected" in measured and "batchnorm=True min train acc 1.000" in measured
    two_seeds = Outcome([(s, h) for s, h in o.runs if s.seed < 2])
    assert check.run(two_seeds)[0] is False  # fewer than 3 seeds: not an answer


def test_arm_spread_answers_against_the_bound_and_says_when_a_run_has_not_fit():
    from worker.engine.outcome import Outcome
    from worker.engine.presets.base import arm_spread
    from worker.engine.spec import RunSpec

    o = Outcome()
    # per-seed spreads 0.2, 0.3, 0.4 (mean 0.3, sd 0.1, half-width 4.303 x 0.1 / sqrt 3 = 0.248); seed 2's w = 4 at train acc 0.9
    for seed, (low, high, acc) in enumerate([(0.3, 0.5, 1.0), (0.2, 0.5, 1.0), (0.2, 0.6, 0.9)]):
        for w, frac in ((0.25, low), (4.0, high)):
            o.add(
                RunSpec(batchnorm=True, seed=seed, pos_weight=w),
                {9: {"test": {"frac_pred_pos": frac}, "train": {"acc": acc if w == 4.0 else 1.0}}},
            )
    ok, measured = arm_spread("kept?", {"batchnorm": True}, 0.04).run(o)
    assert ok and measured.startswith("0.300 [0.052, 0.548] (n = 3 seeds): kept; batchnorm=True min train acc 0.900")
    assert "not every run fit (batchnorm=True: train acc < 0.99)" in measured
    ok, measured = arm_spread("kept?", {"batchnorm": True}, 0.15).run(o)
    assert ok and "undecided" in measured  # either answer is a result; the bound only names it


def test_the_reproduction_doc_lists_where_the_answer_is_not_the_papers():
    import importlib.util
    from pathlib import Path

    path = Path(__file__).resolve().parents[2] / "scripts" / "reproduction.py"
    spec = importlib.util.spec_from_file_location("reproduction", path)
    assert spec and spec.loader
    script = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(script)
    question = "does BatchNorm keep the weights' effect once the model fits? measured: final spread"
    record = {
        "checks": [
            {"claim": "spread at the end <= 0.15", "met": False, "measured": "0.590"},
            {"claim": question, "met": True, "measured": "0.147 [0.000, 0.363] (n = 3 seeds): undecided (the interval contains the bound); x"},
        ]
    }  # fmt: skip
    lines = script.differences(presets.get("bl-cifar-resnet-bn"), record)
    assert lines[0] == "`bl-cifar-resnet-bn`: not met: spread at the end <= 0.15: measured 0.590"
    assert "The paper: yes. Measured: 0.147 [0.000, 0.363] (n = 3 seeds): undecided" in lines[1]
    assert "the quick variant is an illustration" in lines[2] and len(lines) == 3
    record["checks"][1]["measured"] = "+0.053 [+0.032, +0.075] (n = 5 seeds, p = 0.002): more; not every run fit (...)"
    assert (
        "measured the same, but before every run fit"
        in script.differences(presets.get("bl-synth-batchnorm"), record)[1]
    )
