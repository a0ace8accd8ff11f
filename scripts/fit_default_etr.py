"""Fit the shipped default models from a seeded synthetic registry, and evaluate them.

    .venv/bin/python scripts/fit_default_etr.py              # write the model files
    .venv/bin/python scripts/fit_default_etr.py --check      # fail if they would change
    .venv/bin/python scripts/fit_default_etr.py --evaluate   # print the figures of
                                                             # docs/trajectories.md

The models are fitted on ``generate(20_000, seed=20260101)`` and evaluated on a second,
independent registry ``generate(50_000, seed=7)``; both are synthetic, and every model
file says so in its label. Same seeds, same library version: same files, same figures.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

from commonfactors.synth import SyntheticRegistry, generate
from commonfactors.trajectories import (
    DEFAULT_RULE,
    DropoutModel,
    ExpectedTreatmentResponse,
    NearestNeighbourETR,
)
from commonfactors.trajectories.dropout import DROPOUT_FEATURES, EARLY_FEATURES, dropout_features
from commonfactors.trajectories.evaluation import (
    evaluate_dropout,
    evaluate_rule,
    evaluate_ruptures,
    evaluate_signal_rules,
    registry_long,
    rules_markdown,
    ruptures_markdown,
)

ROOT = Path(__file__).resolve().parents[1]
MODELS = ROOT / "src" / "commonfactors" / "trajectories" / "models"
FIT_EPISODES, FIT_SEED = 20_000, 20260101
EVAL_EPISODES, EVAL_SEED = 50_000, 7
COLUMNS = {"phq9": "phq9_total", "gad7": "gad7_total"}


def describe(episodes: int, seed: int) -> str:
    return f"commonfactors synthetic registry, seed {seed}, default SynthParams"


def fit_models(reg: SyntheticRegistry, episodes: int, seed: int) -> dict[str, str]:
    """Model file name -> JSON text."""
    out = {}
    ref = describe(episodes, seed)
    for instrument, column in COLUMNS.items():
        model = ExpectedTreatmentResponse(instrument).fit(
            registry_long(reg, column), reference=ref, synthetic=True
        )
        out[f"etr_{instrument}_synthetic.json"] = model.to_json()
    feats = dropout_features(reg.sessions, reg.episodes)
    dropout = DropoutModel(DROPOUT_FEATURES).fit(
        feats,
        feats["dropout"],
        reference=ref + "; episodes with 2+ attended sessions",
        synthetic=True,
    )
    out["dropout_synthetic.json"] = dropout.to_json()
    return out


def evaluate(reg: SyntheticRegistry, episodes: int, seed: int) -> None:
    test = generate(EVAL_EPISODES, seed=EVAL_SEED)
    ref = describe(episodes, seed)
    print(
        f"Fitted on generate({episodes}, seed={seed}); evaluated on the independent "
        f"generate({EVAL_EPISODES}, seed={EVAL_SEED}).\n"
    )
    bands = (0.10, 0.25, 0.50, 0.60, 0.67, 0.75, 0.80, 0.90, 0.95)
    wide = {
        column: ExpectedTreatmentResponse(instrument, quantiles=bands).fit(
            registry_long(reg, column), reference=ref, synthetic=True
        )
        for instrument, column in COLUMNS.items()
    }
    print("### Candidate thresholds (ETR, log-linear quantile model)\n")
    print(rules_markdown(evaluate_signal_rules(test, wide)))
    print("\n### The default rule\n")
    defaults = {
        column: ExpectedTreatmentResponse.load(MODELS / f"etr_{instrument}_synthetic.json")
        for instrument, column in COLUMNS.items()
    }
    nn = {
        "phq9_total": NearestNeighbourETR("phq9", k=100).fit(
            registry_long(reg, "phq9_total"), reference=ref, synthetic=True
        )
    }
    results = []
    for models, name in ((defaults, "shipped default"), (nn, "nearest neighbours, k = 100")):
        for cols in [(c,) for c in models] + ([tuple(models)] if len(models) > 1 else []):
            sub = {c: models[c] for c in cols}
            for statuses, what in ((("yellow", "red"), "yellow or red"), (("red",), "red")):
                r = evaluate_rule(
                    test, sub, DEFAULT_RULE, statuses=statuses, flagged=f"{what} ({name})"
                )
                results.append(r)
    print(rules_markdown(results))
    print("\n### Alliance ruptures (within-client rule, synthetic session alliance)\n")
    print(ruptures_markdown(evaluate_ruptures(reg, test)))
    without_homework = tuple(f for f in DROPOUT_FEATURES if f != "homework")
    variants = (
        (EARLY_FEATURES, "early-session features only"),
        (without_homework, "early-session features and age, without homework"),
        (DROPOUT_FEATURES, "default: early-session features, homework and age"),
    )
    for features, name in variants:
        model, report = evaluate_dropout(reg, test, features=features, reference=ref)
        print(f"\n### Dropout model ({name}), held-out registry\n")
        print(
            "Odds ratios per SD:", ", ".join(f"{k} {v:.2f}" for k, v in model.odds_ratios().items())
        )
        print()
        print(report.to_markdown())


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--episodes", type=int, default=FIT_EPISODES)
    parser.add_argument("--seed", type=int, default=FIT_SEED)
    parser.add_argument("--out", type=Path, default=MODELS)
    parser.add_argument("--check", action="store_true", help="fail if the files would change")
    parser.add_argument("--evaluate", action="store_true", help="print the evaluation figures")
    args = parser.parse_args(argv)
    start = time.perf_counter()
    reg = generate(args.episodes, seed=args.seed)
    if args.evaluate:
        evaluate(reg, args.episodes, args.seed)
        print(f"\n({time.perf_counter() - start:.0f} s)", file=sys.stderr)
        return 0
    files = fit_models(reg, args.episodes, args.seed)
    stale = []
    for name, text in files.items():
        path = args.out / name
        if args.check:
            if not path.exists() or path.read_text(encoding="utf-8") != text:
                stale.append(name)
        else:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text, encoding="utf-8")
            print(f"wrote {path} ({len(text):,} bytes)")
    if stale:
        print(
            f"stale model files: {', '.join(stale)}; run scripts/fit_default_etr.py",
            file=sys.stderr,
        )
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
