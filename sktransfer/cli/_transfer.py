"""``sktransfer transfer fit|predict``: cross-modal spectral transfer on files."""

import os
import warnings
from collections import Counter

import numpy as np

from sktransfer.cli import CLIError
from sktransfer.cli._common import (
    HelpFormatter,
    add_output,
    add_torch_options,
    check_device,
    estimator_error,
    non_negative_float,
    positive_int,
)
from sktransfer.cli._files import (
    Outputs,
    check_finite,
    input_files,
    read_csv_spectra,
    read_spectra,
    report_coverage,
    spectra_on_grid,
)

FIT_DESCRIPTION = """\
Train a SpectroGenRegressor that predicts TARGET spectra from SOURCE spectra.

SOURCE and TARGET are either two CSV files (first column the axis, one
spectrum per further column; spectra are paired by column name) or RRUFF
directories (they may be the same one; spectra are paired by RRUFF id and put
on the default grids of load_rruff). The model is saved as a zip of JSON
parameters and safetensors weights, a format that cannot run code on loading.

examples:
  sktransfer transfer fit --source rruff/ --target rruff/ -o ir2raman.skmodel
  sktransfer transfer fit --source ir.csv --target raman.csv -o model.skmodel \\
      --max-epochs 300 --device cuda
"""

PREDICT_DESCRIPTION = """\
Predict target spectra with a model saved by `sktransfer transfer fit`.

INPUT is a CSV file or RRUFF files and directories of the source modality;
each spectrum is interpolated onto the model's source grid (points it does
not cover are set to 0; a spectrum that does not overlap the grid is an
error). The output has the input's format: a CSV file, or a directory of
RRUFF files.

Models saved by older versions with joblib (pickles) are refused, because
loading a pickle can run any code it holds; --trust-pickle loads one from a
source you trust.

example:
  sktransfer transfer predict new_ir/ -m ir2raman.skmodel -o predicted/
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
        "--source-modality",
        choices=_MODALITIES,
        help="modality of the source spectra (RRUFF input: default ir; CSV "
        "input: recorded only if given)",
    )
    fit.add_argument(
        "--target-modality",
        choices=_MODALITIES,
        help="modality of the target spectra (RRUFF input: default raman; CSV "
        "input: recorded only if given); it names the predicted RRUFF files",
    )
    add_output(fit, "file the trained model is saved to")
    fit.add_argument("--max-epochs", type=positive_int, help="training epochs")
    fit.add_argument(
        "--beta", type=non_negative_float, help="weight of the KL term (>= 0)"
    )
    add_torch_options(fit)
    fit.set_defaults(func=run_fit)

    predict = actions.add_parser(
        "predict",
        help="predict target spectra with a saved model",
        description=PREDICT_DESCRIPTION,
        formatter_class=HelpFormatter,
    )
    predict.add_argument(
        "inputs",
        nargs="+",
        metavar="INPUT",
        help="source spectra: one CSV file, or RRUFF files and directories",
    )
    predict.add_argument("-m", "--model", required=True, help="saved model file")
    add_output(predict, "output CSV file (CSV input) or directory (RRUFF input)")
    predict.add_argument("--device", default="cpu", help="torch device (default cpu)")
    predict.add_argument(
        "--trust-pickle",
        action="store_true",
        help="also load a joblib/pickle model (runs code from the file: only "
        "for files from a source you trust)",
    )
    predict.add_argument(
        "--any-modality",
        action="store_true",
        help="predict from RRUFF files whose header or name gives another "
        "modality than the model's source (refused by default)",
    )
    predict.set_defaults(func=run_predict)
    return parser


def _paired_csv(source, target):
    src, tgt = read_csv_spectra(source), read_csv_spectra(target)
    src_row = {n: i for i, n in enumerate(src.names)}
    tgt_row = {n: i for i, n in enumerate(tgt.names)}
    common = [n for n in src.names if n in tgt_row]
    if len(common) < 2:
        raise CLIError(
            f"{source} and {target} share fewer than 2 spectrum names; spectra "
            "are paired by column name"
        )
    unpaired = len(src_row) + len(tgt_row) - 2 * len(common)
    if unpaired:
        print(f"note: {unpaired} spectra without a partner are not used")
    X = np.vstack([src.values[src_row[n]] for n in common])
    Y = np.vstack([tgt.values[tgt_row[n]] for n in common])
    return X, Y, src.axes[0], tgt.axes[0], src.axis_name, tgt.axis_name


def _one_line(exc):
    """One line for an error of load_rruff, naming the first unreadable file.

    Its list of unreadable files follows the first line, which suggests
    ``on_error='skip'``, an option of the Python function only.
    """
    lines = [line.strip() for line in str(exc).splitlines() if line.strip()]
    if len(lines) < 2:
        return lines[0] if lines else type(exc).__name__
    head = lines[0].split(" (pass on_error=")[0].rstrip(":")
    more = f" (and {len(lines) - 2} more)" if len(lines) > 2 else ""
    return f"{head}: {lines[1]}{more}"


def _load_folders(folders):
    """``load_rruff`` of RRUFF folders, paired by id, nothing required."""
    from sktransfer.datasets import load_rruff

    for d in folders:
        if not os.path.exists(d):
            raise CLIError(f"{d}: no such directory")
        if not os.path.isdir(d):
            raise CLIError(f"{d}: RRUFF input must be a directory")
    try:
        with warnings.catch_warnings():
            # which species name a sample gets matters to splits in Python,
            # not to training: nothing a user of this verb could act on
            warnings.filterwarnings("ignore", "The files of .* name different species")
            # the verb prints its own note on the points it set to 0
            warnings.filterwarnings("ignore", ".* spectra cover less than half")
            # Nothing required: a missing modality is told in options.
            return load_rruff(folders, pair=True, require=(), outside="zero")
    except (OSError, ValueError) as exc:
        raise CLIError(_one_line(exc)) from None


def _rows_by_id(data, modality):
    """``{rruff_id: row}`` of the samples of ``data`` that have ``modality``."""
    has = data[f"has_{modality}"]
    return {rid: i for i, rid in enumerate(data.rruff_ids) if has[i]}


def _found(data):
    return [m for m in _MODALITIES if data[m] is not None]


def _paired_rruff(sources, targets, source_mod, target_mod):
    """Source and target spectra of the RRUFF ids that have both.

    Where ``--source`` and ``--target`` name the same folders, the pairs are
    matched in them; otherwise each side's spectra come from its own
    option's folders only (a Raman file in a source folder is not taken for
    the target), and folders given the wrong way round are refused.
    """
    sources, targets = list(dict.fromkeys(sources)), list(dict.fromkeys(targets))
    same = set(sources) == set(targets)
    if same and source_mod == target_mod:
        raise CLIError(
            f"--source and --target name the same folders and both take "
            f"{source_mod} spectra: each would be paired with itself. Give the "
            "target spectra (baseline-corrected, say) their own folders"
        )
    side = {"--source": _load_folders(sources)}
    side["--target"] = side["--source"] if same else _load_folders(targets)
    roles = (
        ("--source", sources, source_mod, "--target"),
        ("--target", targets, target_mod, "--source"),
    )
    for option, folders, m, other in roles:
        data = side[option]
        if data[m] is not None:
            continue
        where = ", ".join(folders)
        found = ", ".join(_found(data)) or "none"
        if not same and source_mod != target_mod and side[other][m] is not None:
            raise CLIError(
                f"{option} {where} holds no {m} spectra ({option}-modality "
                f"{m}; found: {found}), while the {other} folders do. Swap "
                "the folders, or the modality options"
            )
        raise CLIError(
            f"{option}-modality {m}: no {m} spectra in {where} (found: {found})"
        )
    src, tgt = side["--source"], side["--target"]
    src_ids, tgt_ids = _rows_by_id(src, source_mod), _rows_by_id(tgt, target_mod)
    ids = [rid for rid in src_ids if rid in tgt_ids]
    if not ids:
        where = ", ".join(dict.fromkeys(sources + targets))
        raise CLIError(
            f"no RRUFF id in {where} has both {source_mod} spectra "
            f"(--source-modality) and {target_mod} spectra (--target-modality)"
        )
    # the rows of each side (not of each modality: both sides may be Raman,
    # raw and corrected)
    src_rows = [src_ids[rid] for rid in ids]
    tgt_rows = [tgt_ids[rid] for rid in ids]
    for option, m, data, index in (
        ("--source", source_mod, src, src_rows),
        ("--target", target_mod, tgt, tgt_rows),
    ):
        # load_rruff leaves a file that misses the whole grid NaN
        report_coverage(
            data.coverage[m][index],
            [data.files[i][m] for i in index],
            data[f"{m}_axis"],
            f"the {m} grid",
            f"{option} {m} ",
        )
    return (
        src[source_mod][src_rows],
        tgt[target_mod][tgt_rows],
        src[f"{source_mod}_axis"],
        tgt[f"{target_mod}_axis"],
        "x",
        "x",
    )


def _model_output(args, write):
    """Plan the model file; the training spectra may not be replaced by it."""
    outputs = Outputs(args.overwrite)
    outputs.add(args.output, write, "the model", kind="model")
    outputs.add_inputs(input_files(args.source), "the --source input")
    outputs.add_inputs(input_files(args.target), "the --target input")
    return outputs


def run_fit(args):
    """Train and save a transfer model."""
    from sktransfer.cli._model_file import save_model
    from sktransfer.cross_modal import SpectroGenRegressor
    from sktransfer.metrics import spectral_correlation

    check_device(args.device)
    csv_in = [p.lower().endswith(".csv") for p in args.source + args.target]
    # CSV columns say nothing of the modality: only what the options say is
    # recorded (the source's is what RRUFF input to `transfer predict` must be)
    source_modality, target_modality = args.source_modality, args.target_modality
    if all(csv_in) and len(args.source) == len(args.target) == 1:
        X, Y, x_src, x_tgt, src_name, tgt_name = _paired_csv(
            args.source[0], args.target[0]
        )
    elif not any(csv_in):
        source_modality = source_modality or "ir"
        target_modality = target_modality or "raman"
        X, Y, x_src, x_tgt, src_name, tgt_name = _paired_rruff(
            args.source, args.target, source_modality, target_modality
        )
    else:
        raise CLIError(
            "give one CSV file each for --source and --target, or directories"
        )
    for option, spectra in (("--source", X), ("--target", Y)):
        if spectra.shape[1] < 2:
            raise CLIError(
                f"the {option} spectra have {spectra.shape[1]} point each; "
                "transfer needs spectra of at least 2 points"
            )
    if X.shape[0] < 2:
        # the model predicts by retrieving from the other training pairs
        raise CLIError(
            "found 1 pair of spectra; transfer fit needs at least 2 (in "
            "training, each pair learns from the others)"
        )
    _model_output(args, None).check()
    params = {"random_state": args.random_state, "device": args.device}
    if args.max_epochs is not None:
        params["max_epochs"] = args.max_epochs
    if args.beta is not None:
        params["beta"] = args.beta
    model = SpectroGenRegressor(source_axis=x_src, target_axis=x_tgt, **params)
    print(f"training on {X.shape[0]} pairs: {X.shape[1]} -> {Y.shape[1]} points")
    try:
        model._fit_to_the_end(X, Y)  # Ctrl-C: stop, save no part-trained model
    except ValueError as exc:
        raise estimator_error(exc) from None
    Y_fit = model.predict(X)
    check_finite(Y_fit, "the model's predictions of its training spectra")
    r = spectral_correlation(Y, Y_fit)
    extra = {
        "source_axis": x_src,
        "target_axis": x_tgt,
        "source_axis_name": src_name,
        "target_axis_name": tgt_name,
        "target_modality": target_modality,
    }
    if source_modality is not None:
        extra["source_modality"] = source_modality
    _model_output(args, lambda f: save_model(f, model, extra)).write()
    print(
        f"correlation on the training pairs {r:.3f} (in-sample: new materials "
        f"score lower); model saved to {args.output}"
    )
    return 0


def _load_pickle(path):
    import joblib

    try:
        bundle = joblib.load(path)
    except Exception as exc:
        raise CLIError(f"{path} is not a model saved by sktransfer ({exc})") from None
    if not isinstance(bundle, dict):
        raise CLIError(f"{path} is not a model saved by `sktransfer transfer fit`")
    return bundle.pop("model", None), bundle


def _load_model(path, device, trust_pickle):
    """Load a model and its axes, checked before use."""
    from sktransfer.cli._model_file import ModelFileError, PickleFileError, load_model
    from sktransfer.cross_modal import SpectroGenRegressor

    if not os.path.isfile(path):
        raise CLIError(f"{path}: no such model file")
    try:
        model, extra = load_model(
            path, set_params={"device": device}, estimator_class=SpectroGenRegressor
        )
    except PickleFileError as exc:
        if not trust_pickle:
            raise CLIError(f"{path} {exc}") from None
        model, extra = _load_pickle(path)
    except ModelFileError as exc:
        raise CLIError(f"{path} {exc}") from None
    except OSError as exc:
        raise CLIError(f"cannot read {path}: {exc.strerror or exc}") from None
    if not isinstance(model, SpectroGenRegressor) or not hasattr(model, "module_"):
        raise CLIError(
            f"{path} does not hold a trained SpectroGenRegressor "
            f"(found {type(model).__name__})"
        )
    keys = ("source_axis", "target_axis", "target_axis_name", "target_modality")
    missing = [k for k in keys if k not in extra]
    if missing:
        raise CLIError(f"{path} is not a model saved by `sktransfer transfer fit`")
    try:
        source = np.asarray(extra["source_axis"], dtype=np.float64)
        target = np.asarray(extra["target_axis"], dtype=np.float64)
    except (TypeError, ValueError):
        source = target = np.empty(0)
    if (
        source.ndim != 1
        or source.size != model.n_features_in_
        or target.ndim != 1
        or target.size != model.n_outputs_
    ):
        raise CLIError(f"{path}: the model's axes do not match its network")
    if model.device != device:
        model.set_params(device=device)
    extra = {**extra, "source_axis": source, "target_axis": target}
    return model, extra


def _check_modality(spectra, expected):
    """Refuse RRUFF files whose header or name gives another modality."""
    if expected is None:  # trained from CSV, or saved before it was recorded
        return
    wrong = [
        (name, m)
        for name, m in zip(spectra.names, spectra.modalities)
        if m is not None and m != expected
    ]
    if wrong:
        name = wrong[0][0]
        counts = Counter(m for _, m in wrong)
        held = (
            f"{next(iter(counts))} spectra"
            if len(counts) == 1
            else "other spectra ("
            + ", ".join(f"{n} {m}" for m, n in sorted(counts.items()))
            + ")"
        )
        raise CLIError(
            f"the model was trained on {expected} spectra, but {len(wrong)} "
            f"input file(s) hold {held}, e.g. {name} (its header or "
            "name says so); give --any-modality to predict from them anyway"
        )


def run_predict(args):
    """Predict target spectra with a saved model."""
    check_device(args.device)
    model, bundle = _load_model(args.model, args.device, args.trust_pickle)
    spectra = read_spectra(args.inputs)
    if not args.any_modality:
        _check_modality(spectra, bundle.get("source_modality"))
    X = spectra_on_grid(spectra, bundle["source_axis"], "the model's source range")
    try:
        Y = model.predict(X)
    except ValueError as exc:
        raise estimator_error(exc) from None
    check_finite(Y, "the predicted spectra")
    x_tgt = bundle["target_axis"]
    modality = bundle["target_modality"]  # None: trained from CSV, not told
    kind = "predicted spectra"
    if spectra.format == "csv":
        outputs = Outputs(args.overwrite)
        outputs.add_csv(
            args.output,
            x_tgt,
            Y,
            spectra.names,
            bundle["target_axis_name"],
            spectra.paths[0],
            kind,
        )
    else:
        outputs = Outputs(args.overwrite, directory=args.output)
        for i, name in enumerate(spectra.names):
            meta = dict(spectra.metadata[i])
            meta["FILETYPE"] = f"predicted {modality or 'spectrum'} (sktransfer)"
            # A name that is not UTF-8 (surrogate escapes) cannot be written.
            meta["SOURCE FILE"] = os.fsencode(name).decode("utf-8", "replace")
            stem = os.path.splitext(name)[0]
            suffix = f"_{modality}" if modality else ""
            path = os.path.join(args.output, f"{stem}__predicted{suffix}.txt")
            outputs.add_rruff(path, x_tgt, Y[i], meta, spectra.paths[i], kind)
    outputs.add_inputs(spectra.paths, "an input")
    outputs.add_inputs([args.model], "the -m model file", "model")
    outputs.write()
    print(f"predicted {len(spectra)} spectra -> {args.output}")
    return 0
