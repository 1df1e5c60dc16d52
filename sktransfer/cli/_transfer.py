"""``sktransfer transfer fit|predict``: cross-modal spectral transfer on files."""

import os

import joblib
import numpy as np

from sktransfer import __version__
from sktransfer.cli import CLIError
from sktransfer.cli._common import (
    HelpFormatter,
    add_output,
    add_torch_options,
    check_device,
    estimator_error,
)
from sktransfer.cli._files import (
    check_new_file,
    check_output,
    on_grid,
    read_csv_spectra,
    read_spectra,
    write_csv_spectra,
    write_rruff,
)

FIT_DESCRIPTION = """\
Train a SpectroGenRegressor that predicts TARGET spectra from SOURCE spectra.

SOURCE and TARGET are either two CSV files (first column the axis, one
spectrum per further column; spectra are paired by column name) or RRUFF
directories (they may be the same one; spectra are paired by RRUFF id and put
on the default grids of load_rruff). The model is saved with joblib.

examples:
  sktransfer transfer fit --source rruff/ --target rruff/ -o ir2raman.joblib
  sktransfer transfer fit --source ir.csv --target raman.csv -o model.joblib \\
      --max-epochs 300 --device cuda
"""

PREDICT_DESCRIPTION = """\
Predict target spectra with a model saved by `sktransfer transfer fit`.

INPUT is a CSV file or RRUFF files and directories of the source modality;
each spectrum is interpolated onto the model's source grid. The output has
the input's format: a CSV file, or a directory of RRUFF files.

example:
  sktransfer transfer predict new_ir/ -m ir2raman.joblib -o predicted/
"""

_MODALITIES = ("ir", "raman", "xrd")


def register(subparsers):
    """Add the ``transfer`` verb with its ``fit`` and ``predict`` actions."""
    parser = subparsers.add_parser(
        "transfer",
        help="train and apply a cross-modal transfer model (e.g. IR -> Raman)",
        description="Cross-modal spectral transfer with SpectroGenRegressor.",
    )
    actions = parser.add_subparsers(dest="action", metavar="ACTION", required=True)

    fit = actions.add_parser(
        "fit",
        help="train a model on paired spectra and save it",
        description=FIT_DESCRIPTION,
        formatter_class=HelpFormatter,
    )
    fit.add_argument("--source", nargs="+", required=True, help="source spectra")
    fit.add_argument("--target", nargs="+", required=True, help="target spectra")
    fit.add_argument(
        "--source-modality", default="ir", choices=_MODALITIES, help="RRUFF input"
    )
    fit.add_argument(
        "--target-modality", default="raman", choices=_MODALITIES, help="RRUFF input"
    )
    add_output(fit, "file the trained model is saved to (joblib)")
    fit.add_argument("--max-epochs", type=int, help="training epochs")
    fit.add_argument("--beta", type=float, help="weight of the KL term")
    add_torch_options(fit)
    fit.set_defaults(func=run_fit)

    predict = actions.add_parser(
        "predict",
        help="predict target spectra with a saved model",
        description=PREDICT_DESCRIPTION,
        formatter_class=HelpFormatter,
    )
    predict.add_argument("inputs", nargs="+", metavar="INPUT")
    predict.add_argument("-m", "--model", required=True, help="saved model file")
    add_output(predict, "output CSV file (CSV input) or directory (RRUFF input)")
    predict.add_argument("--device", default="cpu", help="torch device (default cpu)")
    predict.set_defaults(func=run_predict)
    return parser


def _paired_csv(source, target):
    src, tgt = read_csv_spectra(source), read_csv_spectra(target)
    common = [n for n in src.names if n in set(tgt.names)]
    if len(common) < 2:
        raise CLIError(
            f"{source} and {target} share fewer than 2 spectrum names; spectra "
            "are paired by column name"
        )
    unpaired = sorted(set(src.names) ^ set(tgt.names))
    if unpaired:
        print(f"note: {len(unpaired)} spectra without a partner are not used")
    X = np.vstack([src.values[src.names.index(n)] for n in common])
    Y = np.vstack([tgt.values[tgt.names.index(n)] for n in common])
    return X, Y, src.axes[0], tgt.axes[0], src.axis_name, tgt.axis_name


def _paired_rruff(sources, targets, source_mod, target_mod):
    from sktransfer.datasets import load_rruff

    dirs = list(dict.fromkeys(sources + targets))
    for d in dirs:
        if not os.path.isdir(d):
            raise CLIError(f"{d}: RRUFF input must be a directory")
    try:
        data = load_rruff(
            dirs, pair=True, require=(source_mod, target_mod), outside="zero"
        )
    except (OSError, ValueError) as exc:
        raise CLIError(str(exc).splitlines()[0]) from None
    return (
        data[source_mod],
        data[target_mod],
        data[f"{source_mod}_axis"],
        data[f"{target_mod}_axis"],
        "x",
        "x",
    )


def run_fit(args):
    """Train and save a transfer model."""
    from sktransfer.cross_modal import SpectroGenRegressor
    from sktransfer.metrics import spectral_correlation

    check_device(args.device)
    csv_in = [p.lower().endswith(".csv") for p in args.source + args.target]
    if all(csv_in) and len(args.source) == len(args.target) == 1:
        X, Y, x_src, x_tgt, src_name, tgt_name = _paired_csv(
            args.source[0], args.target[0]
        )
    elif not any(csv_in):
        X, Y, x_src, x_tgt, src_name, tgt_name = _paired_rruff(
            args.source, args.target, args.source_modality, args.target_modality
        )
    else:
        raise CLIError(
            "give one CSV file each for --source and --target, or directories"
        )
    check_output(args.output, args.overwrite)
    params = {"random_state": args.random_state, "device": args.device}
    if args.max_epochs is not None:
        params["max_epochs"] = args.max_epochs
    if args.beta is not None:
        params["beta"] = args.beta
    model = SpectroGenRegressor(target_axis=x_tgt, **params)
    print(f"training on {X.shape[0]} pairs: {X.shape[1]} -> {Y.shape[1]} points")
    try:
        model.fit(X, Y)
    except ValueError as exc:
        raise estimator_error(exc) from None
    r = spectral_correlation(Y, model.predict(X))
    bundle = {
        "model": model,
        "source_axis": x_src,
        "target_axis": x_tgt,
        "source_axis_name": src_name,
        "target_axis_name": tgt_name,
        "target_modality": args.target_modality,
        "sktransfer_version": __version__,
    }
    try:
        joblib.dump(bundle, args.output)
    except OSError as exc:
        raise CLIError(f"cannot write {args.output}: {exc.strerror}") from None
    print(f"training-set correlation {r:.3f}; model saved to {args.output}")
    return 0


def _load_model(path):
    try:
        bundle = joblib.load(path)
    except FileNotFoundError:
        raise CLIError(f"{path}: no such model file") from None
    except Exception as exc:
        raise CLIError(f"{path} is not a model saved by sktransfer ({exc})") from None
    if not isinstance(bundle, dict) or "model" not in bundle:
        raise CLIError(f"{path} is not a model saved by `sktransfer transfer fit`")
    return bundle


def run_predict(args):
    """Predict target spectra with a saved model."""
    check_device(args.device)
    bundle = _load_model(args.model)
    model = bundle["model"]
    if args.device != model.device:
        model.set_params(device=args.device)
    spectra = read_spectra(args.inputs)
    X, n_padded = on_grid(spectra, bundle["source_axis"])
    if n_padded:
        print(
            f"note: {n_padded} spectra do not cover the model's whole source range; "
            "the missing points were set to 0"
        )
    try:
        Y = model.predict(X)
    except ValueError as exc:
        raise estimator_error(exc) from None
    x_tgt = bundle["target_axis"]
    if spectra.format == "csv":
        check_output(args.output, args.overwrite)
        write_csv_spectra(
            args.output, x_tgt, Y, spectra.names, bundle["target_axis_name"]
        )
    else:
        check_output(args.output, args.overwrite, directory=True)
        for i, name in enumerate(spectra.names):
            meta = dict(spectra.metadata[i])
            meta["FILETYPE"] = f"predicted {bundle['target_modality']} (sktransfer)"
            meta["SOURCE FILE"] = name
            stem = os.path.splitext(name)[0]
            path = os.path.join(
                args.output, f"{stem}__predicted_{bundle['target_modality']}.txt"
            )
            check_new_file(path, args.overwrite)
            write_rruff(path, x_tgt, Y[i], meta)
    print(f"predicted {len(spectra)} spectra -> {args.output}")
    return 0
