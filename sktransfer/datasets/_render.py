"""Tiny numpy renderer of peak sums (unit-height profiles scaled by height)."""

import numpy as np

_SIGMA_PER_FWHM = 1.0 / (2.0 * np.sqrt(2.0 * np.log(2.0)))

PROFILES = ("gaussian", "lorentzian", "pseudo_voigt")


def render_peaks(x, center, height, fwhm, eta=0.0, chunk=64):
    """Sum of pseudo-Voigt peaks of unit height times ``height`` on ``x``.

    ``center``, ``height``, ``fwhm`` and ``eta`` broadcast to a common shape
    ``(n_spectra, n_peaks)`` (or ``(n_peaks,)``); ``eta`` is the Lorentzian
    fraction (0: Gaussian, 1: Lorentzian). Returns ``(n_spectra, n_points)``
    (or ``(n_points,)``).
    """
    center, height, fwhm, eta = np.broadcast_arrays(
        *(np.asarray(a, dtype=np.float64) for a in (center, height, fwhm, eta))
    )
    single = center.ndim == 1
    center, height, fwhm, eta = (np.atleast_2d(a) for a in (center, height, fwhm, eta))
    x = np.asarray(x, dtype=np.float64)
    out = np.zeros((center.shape[0], x.size))
    # Rows in chunks bound the (rows, peaks, points) temporary.
    for start in range(0, center.shape[0], chunk):
        sl = slice(start, start + chunk)
        dx = x[None, None, :] - center[sl, :, None]
        half = fwhm[sl, :, None] / 2.0
        gauss = np.exp(-0.5 * (dx / (2.0 * half * _SIGMA_PER_FWHM)) ** 2)
        lorentz = 1.0 / (1.0 + (dx / half) ** 2)
        e = eta[sl, :, None]
        out[sl] = np.sum(height[sl, :, None] * ((1 - e) * gauss + e * lorentz), axis=1)
    return out[0] if single else out


def profile_eta(profile, eta=0.5):
    """Lorentzian fraction of a named profile."""
    return {"gaussian": 0.0, "lorentzian": 1.0, "pseudo_voigt": eta}[profile]
