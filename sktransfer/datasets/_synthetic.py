"""Seeded synthetic IR, Raman and XRD spectra of materials with known peaks."""

import numpy as np
from sklearn.utils import Bunch, check_random_state

from sktransfer._validation import check_bool, check_param, check_real
from sktransfer.datasets._render import render_peaks

IR_RANGE = (400.0, 4000.0)
RAMAN_RANGE = (150.0, 1250.0)
XRD_RANGE = (5.0, 90.0)
# Where vibrational modes sit: lattice modes (Raman range only), the overlap
# of both ranges, and bending/stretching modes above the Raman range.
_MODE_REGIONS = ((150.0, 400.0), (400.0, 1250.0), (1250.0, 3700.0))
_MODE_REGION_P = (0.2, 0.55, 0.25)


def _class_counts(n_samples, n_classes, weights):
    if weights is None:
        weights = np.full(n_classes, 1.0 / n_classes)
    else:
        try:
            check_real(weights, "weights")
            given = np.asarray(weights, dtype=np.float64)
        except (TypeError, ValueError):
            raise ValueError(
                f"weights must be an array-like of numbers, got {weights!r}."
            ) from None
        if given.ndim != 1:
            raise ValueError(
                f"weights must be one-dimensional, got shape {given.shape}."
            )
        if given.size not in (n_classes, n_classes - 1):
            raise ValueError(
                f"weights must have n_classes={n_classes} or n_classes - 1 "
                f"entries, got {given.size}."
            )
        if not np.all(np.isfinite(given)) or np.any(given <= 0):
            raise ValueError(f"weights must be positive and finite, got {given}.")
        if given.size == n_classes:
            given = given / given.max()  # weights of 1e308 would overflow a sum
            weights = given / given.sum()
        elif 1.0 - given.sum() > 4 * given.size * np.finfo(float).eps:
            # Not 1 up to rounding: [0.7, 0.2, 0.1] sums to 1 - 1e-16; the
            # last class of [0.99999] gets 1e-5.
            weights = np.append(given, 1.0 - given.sum())
        else:
            raise ValueError(
                f"weights has n_classes - 1 = {given.size} entries, so the last "
                f"class gets 1 - their sum, but they sum to {given.sum():g}; "
                f"give weights summing to less than 1, or n_classes={given.size}."
            )
    counts = np.floor(weights * n_samples).astype(int)
    # Largest remainders first, so the counts add up to n_samples.
    order = np.argsort(-(weights * n_samples - counts), kind="stable")
    counts[order[: n_samples - counts.sum()]] += 1
    short = counts == 0
    if short.any():
        raise ValueError(
            f"n_samples={n_samples} leaves class(es) {np.flatnonzero(short)} "
            "without samples; increase n_samples or the smallest weights."
        )
    return counts


def _prototypes(rng, n_classes, n_modes, n_reflections):
    """Per class: vibrational modes with IR/Raman activities, and reflections."""
    protos = []
    for _ in range(n_classes):
        region = rng.choice(len(_MODE_REGIONS), size=n_modes, p=_MODE_REGION_P)
        lo = np.array([_MODE_REGIONS[r][0] for r in region])
        hi = np.array([_MODE_REGIONS[r][1] for r in region])
        center = rng.uniform(lo, hi)
        # Selection-rule-like split of one mode strength between IR and Raman.
        theta = rng.uniform(0.0, np.pi / 2, n_modes)
        strength = rng.uniform(0.3, 1.0, n_modes)
        fwhm_ir = rng.uniform(15.0, 40.0, n_modes) * np.where(center > 2500, 3.0, 1.0)
        two_theta = np.sort(rng.uniform(10.0, 80.0, n_reflections))
        intensity = rng.uniform(0.05, 1.0, n_reflections)
        intensity[rng.randint(n_reflections)] = 1.0
        protos.append(
            {
                "center": center,
                "ir_height": strength * np.sin(theta) ** 2,
                "raman_height": strength * np.cos(theta) ** 2,
                "ir_fwhm": fwhm_ir,
                "raman_fwhm": rng.uniform(6.0, 20.0, n_modes),
                "ir_eta": rng.uniform(0.2, 0.8, n_modes),
                "raman_eta": rng.uniform(0.3, 0.9, n_modes),
                "xrd_center": two_theta,
                "xrd_height": intensity,
                "xrd_fwhm": rng.uniform(0.15, 0.35, n_reflections),
            }
        )
    return protos


def _sample_peaks(rng, protos, y, shift):
    """Per-sample peak parameters: shared mode shifts, jittered heights."""
    n = y.size
    p = {k: np.stack([protos[c][k] for c in y]) for k in protos[0]}
    center = p["center"] + rng.normal(0.0, shift, p["center"].shape)
    # One jitter per mode shared by both modalities (same physical mode),
    # plus a smaller modality-specific part.
    common = rng.lognormal(0.0, 0.1, p["center"].shape)
    peaks = {}
    for m in ("ir", "raman"):
        peaks[m] = {
            # Equal values, separate arrays: editing one leaves the other.
            "center": center.copy(),
            "height": p[f"{m}_height"] * common * rng.lognormal(0, 0.05, center.shape),
            "fwhm": p[f"{m}_fwhm"] * rng.lognormal(0.0, 0.05, center.shape),
            "eta": p[f"{m}_eta"],
        }
    strain = 1.0 + rng.normal(0.0, 5e-4, (n, 1))
    peaks["xrd"] = {
        "center": p["xrd_center"] * strain,
        "height": p["xrd_height"] * rng.lognormal(0.0, 0.1, p["xrd_height"].shape),
        "fwhm": p["xrd_fwhm"] * rng.lognormal(0.0, 0.05, p["xrd_fwhm"].shape),
        "eta": np.full_like(p["xrd_fwhm"], 0.5),
    }
    for m in peaks:
        peaks[m]["profile"] = "pseudo_voigt"
    return peaks


def _baselines(rng, n, axes):
    t = {m: (x - x[0]) / (x[-1] - x[0]) for m, x in axes.items()}
    col = lambda lo, hi: rng.uniform(lo, hi, (n, 1))  # noqa: E731
    ir = col(0.0, 0.1) + col(-0.05, 0.1) * t["ir"] + col(0.0, 0.1) * t["ir"] ** 2
    # Fluorescence: a broad hump, often peaking beyond the measured range.
    x = axes["raman"]
    raman = col(0.0, 0.2) + col(0.5, 2.0) * np.exp(
        -0.5 * ((x - col(800.0, 2000.0)) / col(500.0, 1500.0)) ** 2
    )
    # Powder background: air scatter falling off with angle.
    xrd = col(0.01, 0.05) + col(0.05, 0.2) * np.exp(-axes["xrd"] / col(10.0, 30.0))
    return {"ir": ir, "raman": raman, "xrd": xrd}


def make_spectra(
    n_samples=300,
    *,
    n_classes=4,
    weights=None,
    n_modes=12,
    n_reflections=15,
    n_ir_points=900,
    n_raman_points=600,
    n_xrd_points=850,
    noise=0.01,
    baseline=True,
    shift=2.0,
    random_state=None,
):
    """Generate paired IR, Raman and XRD spectra of materials with known peaks.

    Each material class has ``n_modes`` vibrational modes. A mode's strength
    is split between IR and Raman by a selection-rule-like angle, so some
    modes are strong in IR and weak in Raman and vice versa: Raman is
    predictable from IR (and the class) but is not a copy of it. Modes lie
    in the Raman-only lattice region (150-400 cm-1), in the range both
    modalities see (400-1250 cm-1), or in the IR-only region above. Samples
    of one class differ by small mode shifts (shared by IR and Raman) and
    height and width jitter. Each class also has ``n_reflections`` powder
    reflections, with a small per-sample lattice strain. All peaks are
    pseudo-Voigt; observed spectra are clean + baseline + noise.

    Read more in the :ref:`User Guide <datasets>`.

    Parameters
    ----------
    n_samples : int, default=300
        Number of samples (materials measured in all three modalities).
    n_classes : int, default=4
        Number of material classes.
    weights : array-like of shape (n_classes,) or (n_classes - 1,), default=None
        Proportions of samples per class. With ``n_classes`` entries they
        are normalised to sum 1; with ``n_classes - 1`` entries they must sum
        to less than 1 and the last class gets the rest. None gives balanced
        classes. Counts are exact up to rounding.
    n_modes : int, default=12
        Vibrational modes per class.
    n_reflections : int, default=15
        Powder-diffraction reflections per class.
    n_ir_points, n_raman_points, n_xrd_points : int, default=900, 600, 850
        Grid sizes: IR 400-4000 cm-1, Raman 150-1250 cm-1, XRD 5-90 degrees
        2-theta.
    noise : float, default=0.01
        Standard deviation of the additive Gaussian noise (peak heights are
        at most about 1).
    baseline : bool, default=True
        Add smooth baselines: a low-order polynomial (IR), a broad
        fluorescence hump (Raman) and a decaying background (XRD).
    shift : float, default=2.0
        Standard deviation of the per-sample mode shift, cm-1.
    random_state : int, RandomState instance or None, default=None
        Seed; the same seed gives the same data.

    Returns
    -------
    data : :class:`~sklearn.utils.Bunch`
        Dictionary-like object with the following attributes.

        ir, raman, xrd : ndarray of shape (n_samples, n_points)
            Observed spectra: clean + baseline + noise.
        ir_clean, raman_clean, xrd_clean : ndarray of shape (n_samples, n_points)
            Sums of peaks without baseline and noise.
        ir_baseline, raman_baseline, xrd_baseline : ndarray of shape \
                (n_samples, n_points)
            The baselines (zeros when ``baseline=False``).
        ir_axis, raman_axis, xrd_axis : ndarray of shape (n_points,)
            Grids in cm-1 (IR, Raman) and degrees 2-theta (XRD).
        y : ndarray of shape (n_samples,)
            Integer class labels.
        target_names : ndarray of shape (n_classes,)
            Class names ``"material_0"``, ...
        peaks : dict
            ``peaks[modality]`` for "ir", "raman" and "xrd" is a dict of
            ``center``, ``height``, ``fwhm`` and ``eta`` (Lorentzian fraction
            of the pseudo-Voigt shape), each of shape (n_samples, n_peaks),
            and ``profile="pseudo_voigt"``. IR and Raman share the mode
            centres of a sample.

    See Also
    --------
    load_rruff : Real RRUFF spectra in the same layout.

    Examples
    --------
    >>> from sktransfer.datasets import make_spectra
    >>> data = make_spectra(n_samples=20, weights=[0.7, 0.1, 0.1, 0.1],
    ...                     random_state=0)
    >>> data.ir.shape, data.raman.shape, data.xrd.shape
    ((20, 900), (20, 600), (20, 850))
    >>> import numpy as np
    >>> np.bincount(data.y)
    array([14,  2,  2,  2])
    >>> data.peaks["raman"]["center"].shape
    (20, 12)
    """
    check_param(n_samples, "n_samples", "int", low=1)
    check_param(n_classes, "n_classes", "int", low=1)
    check_param(n_modes, "n_modes", "int", low=1)
    check_param(n_reflections, "n_reflections", "int", low=1)
    for name, value in [
        ("n_ir_points", n_ir_points),
        ("n_raman_points", n_raman_points),
        ("n_xrd_points", n_xrd_points),
    ]:
        check_param(value, name, "int", low=2)
    check_param(noise, "noise", low=0)
    check_param(shift, "shift", low=0)
    check_bool(baseline, "baseline")
    rng = check_random_state(random_state)
    counts = _class_counts(n_samples, n_classes, weights)
    y = rng.permutation(np.repeat(np.arange(n_classes), counts))
    axes = {
        "ir": np.linspace(*IR_RANGE, n_ir_points),
        "raman": np.linspace(*RAMAN_RANGE, n_raman_points),
        "xrd": np.linspace(*XRD_RANGE, n_xrd_points),
    }
    protos = _prototypes(rng, n_classes, n_modes, n_reflections)
    peaks = _sample_peaks(rng, protos, y, shift)
    if baseline:
        baselines = _baselines(rng, n_samples, axes)
    else:
        baselines = {m: np.zeros((n_samples, x.size)) for m, x in axes.items()}
    data = Bunch(
        y=y, target_names=np.array([f"material_{c}" for c in range(n_classes)])
    )
    for m, x in axes.items():
        p = peaks[m]
        clean = render_peaks(x, p["center"], p["height"], p["fwhm"], p["eta"])
        data[m] = clean + baselines[m] + rng.normal(0.0, noise, clean.shape)
        data[f"{m}_clean"] = clean
        data[f"{m}_baseline"] = baselines[m]
        data[f"{m}_axis"] = x
    data.peaks = peaks
    return data
