"""Batched Levenberg-Marquardt fit of peak sums, vectorised across spectra.

Pure torch numerics, no sklearn. Every spectrum of a batch has its own
parameters, damping and convergence flag; one iteration updates them all with
one batched linear solve. Bounds are kept by reparametrisation:

- centre  ``c = c0 + tol * tanh(t)``
- height  ``h = scale * softplus(t)``
- FWHM    ``f = lo + (hi - lo) * sigmoid(t)``
- shape   ``s = sigmoid(t)``
- optional baseline ``b0 + b1 * u`` with ``u`` the axis mapped to [-1, 1].
"""

import math

import torch

from sktransfer.peaks._profiles import _FWHM_TO_SIGMA, _LN2, _OL_A, _OL_B, faddeeva

_TWO_OVER_SQRT_PI = 2.0 / math.sqrt(math.pi)


def n_shape_params(profile):
    """Return the number of parameters per peak (4 with a shape, else 3)."""
    return 4 if profile in ("voigt", "pseudo_voigt") else 3


def _voigt_terms(dx, f, s):
    q = (1.0 - _OL_A * s).square() - _OL_B * s.square()
    root = torch.sqrt(torch.clamp(q, min=0.0) + 1e-12)
    alpha = _FWHM_TO_SIGMA * root
    dq = torch.where(q > 0, -2.0 * _OL_A * (1.0 - _OL_A * s) - 2.0 * _OL_B * s, 0.0)
    dalpha = _FWHM_TO_SIGMA * 0.5 * dq / root
    beta = 0.5 * s
    scale = math.sqrt(2.0) * f * alpha
    a = beta / (math.sqrt(2.0) * alpha)
    da = (0.5 * alpha - beta * dalpha) / (math.sqrt(2.0) * alpha.square())
    u = dx / scale
    w = faddeeva(torch.complex(u, a.expand_as(u)))
    wr, wi = w.real, w.imag
    # w'(z) = -2 z w(z) + 2i / sqrt(pi); per-peak factors are folded into
    # (n, k, 1) tensors so that few full-size passes remain.
    dwr = 2.0 * (a * wi - u * wr)
    dwi = _TWO_OVER_SQRT_PI - 2.0 * (u * wi + a * wr)
    inv_e = 1.0 / torch.special.erfcx(a)
    de = 2.0 * a - _TWO_OVER_SQRT_PI * inv_e  # erfcx'(a) / erfcx(a)
    g = wr * inv_e
    dg_dc = dwr * (-inv_e / scale)
    udwr = u * dwr
    dg_df = udwr * (-inv_e / f)
    dg_ds = udwr * (-inv_e * dalpha / alpha) - dwi * (inv_e * da) - g * (de * da)
    return g, dg_dc, dg_df, dg_ds


def peak_terms(dx, f, s, profile):
    """Unit-height peaks and their derivatives.

    Parameters
    ----------
    dx : torch.Tensor of shape (..., n_peaks, n_points)
        ``x - center``.
    f, s : torch.Tensor of shape (..., n_peaks, 1)
        FWHM and shape (``s`` unused by "gaussian" and "lorentzian").
    profile : str
        Peak profile.

    Returns
    -------
    g, dg_dc, dg_df, dg_ds : torch.Tensor of shape (..., n_peaks, n_points)
        The unit-height profiles and their derivatives with respect to the
        centre, the FWHM and the shape (``dg_ds`` is None without a shape).
    """
    if profile == "voigt":
        return _voigt_terms(dx, f, s)
    t = dx / f
    k = 8.0 * _LN2
    gauss = torch.exp(-0.5 * k * t.square())
    lor = 1.0 / (1.0 + 4.0 * t.square())
    dgauss = gauss * k * t / f  # d/dc; d/df = t * d/dc
    dlor = 8.0 * t * lor.square() / f
    if profile == "gaussian":
        return gauss, dgauss, t * dgauss, None
    if profile == "lorentzian":
        return lor, dlor, t * dlor, None
    dg_dc = s * dlor + (1.0 - s) * dgauss
    return s * lor + (1.0 - s) * gauss, dg_dc, t * dg_dc, lor - gauss


class Bounds:
    """Box of the peak parameters of a batch: tensors of shape (n_batch, n_peaks)."""

    _fields = ("c0", "c_tol", "f_lo", "f_hi", "h_scale")

    def __init__(self, c0, c_tol, f_lo, f_hi, h_scale):
        self.c0, self.c_tol = c0, c_tol
        self.f_lo, self.f_hi = f_lo, f_hi
        self.h_scale = h_scale

    def subset(self, rows):
        """Return the bounds of some rows of the batch."""
        return Bounds(*(getattr(self, name)[rows] for name in self._fields))

    def to_theta(self, c, h, f, s):
        """Free parameters from physical ones (clipped into the box)."""
        eps = 1e-6
        tc = torch.atanh(((c - self.c0) / self.c_tol).clamp(-1 + eps, 1 - eps))
        v = (h / self.h_scale).clamp(min=1e-3)
        th = v + torch.log(-torch.expm1(-v))  # inverse softplus
        fr = ((f - self.f_lo) / (self.f_hi - self.f_lo)).clamp(eps, 1 - eps)
        tf = torch.logit(fr)
        ts = torch.logit(s.clamp(eps, 1 - eps))
        return tc, th, tf, ts

    def from_theta(self, tc, th, tf, ts):
        """Physical parameters and d(physical)/d(theta)."""
        tanh = torch.tanh(tc)
        sig_f = torch.sigmoid(tf)
        sig_s = torch.sigmoid(ts)
        c = self.c0 + self.c_tol * tanh
        h = self.h_scale * torch.nn.functional.softplus(th)
        f = self.f_lo + (self.f_hi - self.f_lo) * sig_f
        derivs = (
            self.c_tol * (1.0 - tanh.square()),
            self.h_scale * torch.sigmoid(th),
            (self.f_hi - self.f_lo) * sig_f * (1.0 - sig_f),
            sig_s * (1.0 - sig_s),
        )
        return (c, h, f, sig_s), derivs


def _model(x, u, theta, bounds, profile, n_base, jac):
    """Model spectra (and the Jacobian with respect to theta)."""
    n_batch, n_par = theta.shape
    npp = n_shape_params(profile)
    n_peaks = (n_par - n_base) // npp
    tp = theta[:, : n_peaks * npp].reshape(n_batch, n_peaks, npp)
    ts = tp[..., 3] if npp == 4 else torch.zeros_like(tp[..., 0])
    (c, h, f, s), derivs = bounds.from_theta(tp[..., 0], tp[..., 1], tp[..., 2], ts)
    dx = x - c.unsqueeze(-1)
    g, dg_dc, dg_df, dg_ds = peak_terms(dx, f.unsqueeze(-1), s.unsqueeze(-1), profile)
    y = torch.einsum("bk,bkn->bn", h, g)
    base = theta[:, n_peaks * npp :]
    if n_base:
        y = y + base[:, :1] + (base[:, 1:2] * u if n_base == 2 else 0.0)
    if not jac:
        return y, None
    # The transposed Jacobian (B, P, N) is filled in place, row blocks in the
    # order of theta, so that J^T J and J^T r are plain batched products.
    jt = torch.empty(n_batch, n_par, x.shape[-1], dtype=y.dtype, device=y.device)
    jp = jt[:, : n_peaks * npp].view(n_batch, n_peaks, npp, x.shape[-1])
    cols = (dg_dc, g, dg_df, dg_ds)
    factors = (h * derivs[0], derivs[1], h * derivs[2], h * derivs[3])
    for p in range(npp):
        torch.mul(cols[p], factors[p].unsqueeze(-1), out=jp[:, :, p])
    if n_base:
        jt[:, n_peaks * npp] = 1.0
    if n_base == 2:
        jt[:, n_peaks * npp + 1] = u
    return y, jt


def levenberg_marquardt(x, u, Y, theta, bounds, profile, n_base, max_iter, tol):
    """Minimise ``||Y - model(theta)||^2`` for every row of ``Y`` at once.

    Parameters
    ----------
    x, u : torch.Tensor of shape (n_points,)
        Axis and the axis mapped to [-1, 1] (for the baseline).
    Y : torch.Tensor of shape (n_batch, n_points)
        Spectra.
    theta : torch.Tensor of shape (n_batch, n_params)
        Initial free parameters, peak blocks then the baseline terms.
    bounds : Bounds
        Reparametrisation of the batch.
    profile : str
        Peak profile.
    n_base : int
        Number of baseline terms (0, 1 or 2).
    max_iter : int
        Maximum number of iterations.
    tol : float
        Stop a spectrum when an accepted step lowers its cost by less than
        ``tol`` times the cost or moves no free parameter by more than
        ``tol`` (relative), or when its ``1 - R2`` falls below ``1e-3 * tol``.

    Returns
    -------
    theta : torch.Tensor of shape (n_batch, n_params)
        Fitted free parameters.
    fitted : torch.Tensor of shape (n_batch, n_points)
        Model spectra at the solution.
    converged : torch.Tensor of bool, shape (n_batch,)
        Whether each spectrum met the stopping rule.
    n_iter : int
        Number of iterations run.
    """
    n_batch, n_par = theta.shape
    theta = theta.clone()
    fitted, jac = _model(x, u, theta, bounds, profile, n_base, jac=True)
    res = Y - fitted
    cost = res.square().sum(-1)
    lam = torch.full((n_batch,), 1e-3, dtype=torch.float64, device=Y.device)
    nu = torch.full_like(lam, 2.0)
    converged = torch.zeros(n_batch, dtype=torch.bool, device=Y.device)
    eye = torch.eye(n_par, dtype=torch.float64, device=Y.device)
    # A spectrum fitted to rounding precision has nothing left to improve.
    floor = (100 * torch.finfo(Y.dtype).eps) ** 2 * Y.square().sum(-1)
    # ...and one whose R2 is within 1e-3 * tol of 1 is fitted well enough.
    floor = torch.maximum(
        floor, 1e-3 * tol * (Y - Y.mean(-1, keepdim=True)).square().sum(-1)
    )
    n_iter = 0
    for n_iter in range(1, max_iter + 1):  # noqa: B007 - n_iter is returned
        act = torch.nonzero(~converged).squeeze(-1)
        if act.numel() == 0:
            n_iter -= 1
            break
        every = act.numel() == n_batch
        ja, ra = (jac, res) if every else (jac[act], res[act])
        jtj = (ja @ ja.transpose(1, 2)).double()
        grad = (ja @ ra.unsqueeze(-1)).squeeze(-1).double()
        diag = torch.diagonal(jtj, dim1=1, dim2=2).clamp(min=1e-12)
        lam_a = lam[act]
        a = jtj + lam_a[:, None, None] * torch.diag_embed(diag)
        a = a + 1e-12 * diag.amax(-1)[:, None, None] * eye
        step = torch.linalg.solve(a, grad)
        predicted = (step * (lam_a[:, None] * diag * step + grad)).sum(-1)
        trial = theta[act] + step.to(Y.dtype)
        y_t, j_t = _model(x, u, trial, bounds.subset(act), profile, n_base, jac=True)
        r_t = Y[act] - y_t
        c_t = r_t.square().sum(-1)
        old = cost[act]
        gain = (old - c_t).double() / predicted.clamp(min=1e-300)
        ok = torch.isfinite(c_t) & (c_t < old)
        if every and bool(ok.all()):
            theta, fitted, res, jac, cost = trial, y_t, r_t, j_t, c_t.clone()
        else:
            idx = act[ok]
            theta[idx], fitted[idx], res[idx], jac[idx] = (
                trial[ok],
                y_t[ok],
                r_t[ok],
                j_t[ok],
            )
            cost[idx] = c_t[ok]
        # Nielsen's damping update: shrink by the quality of the step's
        # prediction, grow geometrically on repeated failures.
        shrink = torch.clamp(1.0 - (2.0 * gain - 1.0) ** 3, min=1.0 / 3.0)
        lam[act] = torch.where(ok, lam_a * shrink, lam_a * nu[act])
        nu[act] = torch.where(ok, 2.0, 2.0 * nu[act])
        tiny_step = step.abs().amax(-1) <= tol * (theta[act].abs().amax(-1) + tol)
        small = ok & ((old - c_t <= tol * old) | tiny_step)
        done = small | (cost[act] <= floor[act]) | (lam[act] > 1e12)
        converged[act] = done
    return theta, fitted, converged, n_iter
