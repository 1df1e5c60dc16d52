"""Peak sums on numpy arrays, rendered by the kernel of :mod:`sktransfer.peaks`."""

import numpy as np

PROFILES = ("gaussian", "lorentzian", "pseudo_voigt")


def render_peaks(x, center, height, fwhm, eta=0.0, chunk=64):
    """Sum of pseudo-Voigt peaks of unit height times ``height`` on ``x``.

    ``center``, ``height``, ``fwhm`` and ``eta`` broadcast to a common shape
    ``(n_spectra, n_peaks)`` (or ``(n_peaks,)``); ``eta`` is the Lorentzian
    fraction (0: Gaussian, 1: Lorentzian). Returns ``(n_spectra, n_points)``
    (or ``(n_points,)``), float64. The profiles are those of
    :func:`sktransfer.peaks.render_peaks` (torch is imported on first use).
    """
    import torch

    from sktransfer.peaks._profiles import unit_peaks

    center, height, fwhm, eta = np.broadcast_arrays(
        *(np.asarray(a, dtype=np.float64) for a in (center, height, fwhm, eta))
    )
    single = center.ndim == 1
    center, height, fwhm, eta = (
        torch.from_numpy(np.atleast_2d(a).copy()) for a in (center, height, fwhm, eta)
    )
    x = torch.as_tensor(np.asarray(x, dtype=np.float64))
    out = np.zeros((center.shape[0], x.shape[0]))
    # Rows in chunks bound the (rows, peaks, points) temporary.
    for start in range(0, center.shape[0], chunk):
        sl = slice(start, start + chunk)
        g = unit_peaks(
            x - center[sl, :, None],
            fwhm[sl, :, None],
            eta[sl, :, None],
            "pseudo_voigt",
        )
        out[sl] = torch.einsum("bk,bkn->bn", height[sl], g).numpy()
    return out[0] if single else out


def profile_eta(profile, eta=0.5):
    """Lorentzian fraction of a named profile."""
    return {"gaussian": 0.0, "lorentzian": 1.0, "pseudo_voigt": eta}[profile]
