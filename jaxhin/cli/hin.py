"""`jaxhin hin train`: HIN node classification under the HGB protocol.

Each model takes only its own settings: the flags are the flat setting names of
`jaxhin.hin.flat_settings`, and a flag the chosen model does not have exits 2 naming both.
"""

from __future__ import annotations

import argparse

from jaxhin.cli.main import Command, UsageError, output_dir


def _boolean(text: str) -> bool:
    if text.lower() not in ("true", "false", "1", "0"):
        raise argparse.ArgumentTypeError(f"expected true or false, got {text!r}")
    return text.lower() in ("true", "1")


def _settings() -> dict[str, object]:
    """Every setting of every model (and of training) with the first model's default."""
    from jaxhin.hin import MODELS, flat_settings, recipe

    out: dict[str, object] = {}
    for name in MODELS:
        for key, value in flat_settings(recipe(name, "")).items():
            out.setdefault(key, value)
    out.pop("model")
    return out


def _models_with(setting: str) -> list[str]:
    from jaxhin.hin import MODELS, setting_names

    return [m for m in MODELS if setting in setting_names(m)]


def _arguments(parser: argparse.ArgumentParser) -> None:
    from jaxhin.data import GRAPHS
    from jaxhin.hin import AGM_MODES, LOCAL_ENCODERS, MODELS

    parser.add_argument("--dataset", default="synthetic",
                        help=f"{', '.join(GRAPHS)} (synthetic is built in), or a folder in HGB "
                             f"format")
    parser.add_argument("--data-dir", default=None,
                        help="folder holding the HGB dataset folders (default <data root>/hgb)")
    parser.add_argument("--model", choices=sorted(MODELS), default="gat")
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2, 3, 4])
    parser.add_argument("--ablate", choices=("agm", "agt"), action="append", default=[],
                        help="AGHINT without this module (repeatable): agm, attribute-guided "
                             "message weighting; agt, attribute-similar context nodes")
    parser.add_argument("--compare", choices=sorted(MODELS), nargs="+", default=[],
                        help="also train these models (each with its recipe) on the same seeds "
                             "and print their F1 and disparity-quintile tables side by side")
    parser.add_argument("--checkpoint-dir", type=output_dir, default=None,
                        help="record each finished seed here; rerunning the same command goes "
                             "on from the first unfinished seed")
    parser.add_argument("--pred-dir", type=output_dir, default=None,
                        help="write HGB submission files {DATASET}_{seed+1}.txt here")
    choices = {"local": LOCAL_ENCODERS, "agm_mode": AGM_MODES}
    for name, default in _settings().items():
        kind = _boolean if isinstance(default, bool) else type(default)
        models = _models_with(name)
        scope = "" if len(models) == len(MODELS) else f" ({', '.join(models)} only)"
        parser.add_argument("--" + name.replace("_", "-"), dest=name, type=kind, default=None,
                            choices=choices.get(name),
                            help=f"default: the model's recipe for the dataset{scope}")


def _run(args: argparse.Namespace):
    from jaxhin.data import load_graph
    from jaxhin.hin import (
        flat_settings,
        override,
        recipe,
        run_seeds,
        setting_names,
        side_by_side,
        write_submission,
    )

    given = {k: v for k in _settings() if (v := getattr(args, k)) is not None}
    if args.ablate and args.model != "aghint":
        raise UsageError(f"--ablate {' '.join(args.ablate)}: only --model aghint has AGM and "
                         f"AGT modules, got --model {args.model}")
    foreign = [k for k in given if k not in setting_names(args.model)]
    if foreign:
        flags = ", ".join("--" + k.replace("_", "-") for k in foreign)
        owners = sorted({m for k in foreign for m in _models_with(k)})
        raise UsageError(f"{flags}: not an option of --model {args.model} (only of "
                         f"{', '.join(owners)})")
    given.update({module: False for module in args.ablate})
    try:
        config = override(recipe(args.model, args.dataset), **given)
    except ValueError as err:
        raise UsageError(str(err)) from None
    try:
        data = load_graph(args.dataset, data_dir=args.data_dir)
    except FileNotFoundError as err:  # a DataError exits 2 through main; a bare OSError not
        raise UsageError(str(err)) from None
    print(data)
    if "aghint" in (args.model, *args.compare) and data.features[data.target_type] is None:
        raise UsageError(f"--model aghint: {data.name}'s target type "
                         f"{data.node_types[data.target_type]!r} has no attributes, and AGHINT's "
                         f"AGM and AGT compare target attributes")
    metrics, results = run_seeds(data, config, args.seeds, show_progress=not args.quiet,
                                 checkpoint_dir=args.checkpoint_dir)
    for r in results:
        print(f"seed {r.seed}: Macro-F1 {100 * r.macro_f1:.2f}  Micro-F1 {100 * r.micro_f1:.2f} "
              f"(best epoch {r.best_epoch}, {r.epochs_run} run, {r.epoch_s * 1e3:.1f} ms/epoch)")
        if args.pred_dir is not None:
            write_submission(args.pred_dir, data, r.seed, r.test_logits)
    for row in metrics.get("disparity_quintiles", []):
        print(f"  disparity quintile {row['quintile']} [{row['low']:.3f}, {row['high']:.3f}]: "
              f"Micro-F1 {row['micro_f1']:.2f} ({row['nodes']} nodes)")
    print(f"{data.name} {args.model}: Macro-F1 {metrics['macro_f1_mean']:.2f} ± "
          f"{metrics['macro_f1_std']:.2f}, Micro-F1 {metrics['micro_f1_mean']:.2f} ± "
          f"{metrics['micro_f1_std']:.2f} over seeds {args.seeds}")
    record = {"dataset": data.name, "seeds": args.seeds, "train": flat_settings(config)}
    if args.compare:
        others = {name: recipe(name, args.dataset) for name in args.compare}
        metrics["compare"] = {
            name: run_seeds(data, other, args.seeds, show_progress=not args.quiet,
                            checkpoint_dir=None if args.checkpoint_dir is None
                            else args.checkpoint_dir / f"compare-{name}")[0]
            for name, other in others.items()}
        record["compare"] = {name: flat_settings(other) for name, other in others.items()}
        print(side_by_side({args.model: metrics, **metrics["compare"]}))
    return record, metrics


COMMANDS = (Command("train", "train an HIN node classifier under the HGB protocol",
                    _arguments, _run),)
