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

import torch

from sktransfer.peaks._profiles import unit_peaks


class Bounds:
    """Box of the peak parameters of a batch: tensors of shape (n_batch, n_peaks).

    ``mask`` (same shape, 1.0 for a real peak and 0.0 for padding) lets
    spectra with fewer peaks share a batch: a padded peak has zero height and
    zero derivatives, so the solver leaves its parameters where they are.
    """

    _fields = ("c0", "c_tol", "f_lo", "f_hi", "h_scale", "mask")

    def __init__(self, c0, c_tol, f_lo, f_hi, h_scale, mask=None):
        self.c0, self.c_tol = c0, c_tol
        self.f_lo, self.f_hi = f_lo, f_hi
        self.h_scale = h_scale
        self.mask = torch.ones_like(c0) if mask is None else mask
        # Whether some blocks are padding (a quarter or more: then only the
        # real peaks' profiles are computed, else all of them).
        self.padded = bool((self.mask == 0).float().mean() >= 0.25)

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
        h_scale = self.h_scale * self.mask
        h = h_scale * torch.nn.functional.softplus(th)
        f = self.f_lo + (self.f_hi - self.f_lo) * sig_f
        derivs = (
            self.c_tol * (1.0 - tanh.square()),
            h_scale * torch.sigmoid(th),
            (self.f_hi - self.f_lo) * sig_f * (1.0 - sig_f),
            sig_s * (1.0 - sig_s),
        )
        return (c, h, f, sig_s), derivs

    def physical(self, theta, layout):
        """Physical parameter rows (baseline terms as in theta) from theta."""
        (tc, th, tf, *ts), base = layout.unpack(theta)
        phys, _ = self.from_theta(tc, th, tf, ts[0] if ts else tc)
        return layout.pack(phys, base, lib=torch)


def _model(x, u, theta, bounds, layout, jac):
    """Model spectra (and the transposed Jacobian with respect to theta)."""
    n_batch, n_par = theta.shape
    (tc, th, tf, *ts), base = layout.unpack(theta)
    ts = ts[0] if ts else torch.zeros_like(tc)
    (c, h, f, s), derivs = bounds.from_theta(tc, th, tf, ts)
    dx = x - c.unsqueeze(-1)
    f, s = f.unsqueeze(-1), s.unsqueeze(-1)
    if bounds.padded:
        # Profiles of the real peaks only, scattered into zeros.
        real = bounds.mask > 0
        parts = unit_peaks(dx[real], f[real], s[real], layout.profile, derivatives=jac)
        terms = []
        for part in parts if jac else (parts,):
            full = None
            if part is not None:
                full = dx.new_zeros(dx.shape)
                full[real] = part
            terms.append(full)
        terms = tuple(terms) if jac else terms[0]
        del parts, part
    else:
        terms = unit_peaks(dx, f, s, layout.profile, derivatives=jac)
    # (batch, peaks, points) arrays: free them before the Jacobian is made
    del dx
    g = terms[0] if jac else terms
    y = torch.einsum("bk,bkn->bn", h, g)
    n_base = layout.n_base
    if n_base:
        y = y + base[:, :1] + (base[:, 1:2] * u if n_base == 2 else 0.0)
    if not jac:
        return y, None
    # The transposed Jacobian (B, P, N) is filled in place, row blocks in the
    # order of theta, so that J^T J and J^T r are plain batched products.
    n_points = x.shape[-1]
    npp = layout.n_per_peak
    jt = torch.empty(n_batch, n_par, n_points, dtype=y.dtype, device=y.device)
    jp = jt[:, layout.peak_slice].view(n_batch, layout.n_peaks, npp, n_points)
    cols = (terms[1], g, terms[2], terms[3])
    factors = (h * derivs[0], derivs[1], h * derivs[2], h * derivs[3])
    for p in range(npp):
        torch.mul(cols[p], factors[p].unsqueeze(-1), out=jp[:, :, p])
    if n_base:
        jt[:, layout.base_slice.start] = 1.0
    if n_base == 2:
        jt[:, layout.base_slice.start + 1] = u
    return y, jt


#: Damping beyond which a spectrum whose steps keep failing stops.
MAX_DAMPING = 1e12


def levenberg_marquardt(x, u, Y, theta, bounds, layout, max_iter, tol):
    """Minimise ``||Y - model(theta)||^2`` for every row of ``Y`` at once.

    Parameters
    ----------
    x, u : torch.Tensor of shape (n_points,)
        Axis and the axis mapped to [-1, 1] (for the baseline).
    Y : torch.Tensor of shape (n_batch, n_points)
        Spectra.
    theta : torch.Tensor of shape (n_batch, n_params)
        Initial free parameters, laid out by ``layout``.
    bounds : Bounds
        Reparametrisation (and peak mask) of the batch.
    layout : PeakLayout
        Parameter layout.
    max_iter : int
        Maximum number of iterations.
    tol : float
        Stop a spectrum when an accepted step lowers its cost by less than
        ``tol`` times the cost or moves no free parameter by more than
        ``tol`` (relative), or when its ``1 - R2`` falls below ``1e-3 * tol``
        (for a spectrum of zeros: when its cost falls below ``1e-3 * tol``
        of its starting cost).

    Returns
    -------
    theta : torch.Tensor of shape (n_batch, n_params)
        Fitted free parameters.
    fitted : torch.Tensor of shape (n_batch, n_points)
        Model spectra at the solution.
    converged : torch.Tensor of bool, shape (n_batch,)
        Whether each spectrum met the stopping rule. A spectrum whose steps
        kept failing until the damping exceeded ``MAX_DAMPING`` (a stalled
        fit, for example one whose steps give non-finite values) has not
        converged, unless its gradient already vanished: the cosine between
        the residual and every Jacobian column at most ``sqrt(tol)``, or at
        most what rounding in the spectra's dtype can resolve,
        ``sqrt(2 * eps * |Y| / |residual|)``.
    n_iter : torch.Tensor of int, shape (n_batch,)
        Iterations run for each spectrum.
    """
    n_batch, n_par = theta.shape
    theta = theta.clone()
    fitted, jac = _model(x, u, theta, bounds, layout, jac=True)
    res = Y - fitted
    cost = res.square().sum(-1)
    lam = torch.full((n_batch,), 1e-3, dtype=torch.float64, device=Y.device)
    nu = torch.full_like(lam, 2.0)
    converged = torch.zeros(n_batch, dtype=torch.bool, device=Y.device)
    stopped = torch.zeros_like(converged)
    n_iter = torch.zeros(n_batch, dtype=torch.int64, device=Y.device)
    # Squared range of each spectrum's peaks (1 where there are none): the
    # scale of the peak columns of the Jacobian.
    h_scale = bounds.h_scale.double()
    h_floor = (
        h_scale.amax(-1).square()
        if h_scale.shape[-1]
        else Y.new_ones(n_batch, dtype=torch.float64)
    )
    # A spectrum fitted to rounding precision has nothing left to improve.
    floor = (100 * torch.finfo(Y.dtype).eps) ** 2 * Y.square().sum(-1)
    # ...and one whose R2 is within 1e-3 * tol of 1 is fitted well enough.
    floor = torch.maximum(
        floor, 1e-3 * tol * (Y - Y.mean(-1, keepdim=True)).square().sum(-1)
    )
    # A spectrum of zeros has no scale of its own: it is fitted well enough
    # once the model's first residual has shrunk as far (its peaks only
    # shrink by a steady factor per step, which no other test stops).
    zero = Y.abs().amax(-1) == 0
    floor = torch.where(zero, 1e-3 * tol * cost, floor)
    gtol = tol**0.5
    # Rounding limits how far a stalled fit can go: a step along a Jacobian
    # column at cosine c gains about c**2 * cost, and rounding the residuals
    # (eps * |Y| each) blurs the cost by about 2 * eps * |Y| * |r|. Below
    # c = sqrt(2 * eps * |Y| / |r|) no step can be told to gain: the
    # gradient has vanished as far as the dtype can tell (in float32 that
    # was above sqrt(tol) for well-fitted Voigt peaks, in float64 it is not).
    y_norm = Y.double().norm(dim=-1)
    eps2 = 2 * torch.finfo(Y.dtype).eps
    for _ in range(max_iter):
        act = torch.nonzero(~stopped).squeeze(-1)
        if act.numel() == 0:
            break
        n_iter[act] += 1
        every = act.numel() == n_batch
        ja, ra = (jac, res) if every else (jac[act], res[act])
        jtj = (ja @ ja.transpose(1, 2)).double()
        grad = (ja @ ra.unsqueeze(-1)).squeeze(-1).double()
        # (copies of the active rows, when some spectra have stopped)
        del ja, ra
        # The peak columns scale with the peaks' range (h_scale), the baseline
        # columns do not: the floor of the damping and the ridge that keeps
        # the system solvable are relative to each column, so that an offset
        # or a steep baseline, however large, does not damp the peaks.
        diag = torch.maximum(
            torch.diagonal(jtj, dim1=1, dim2=2), 1e-12 * h_floor[act, None]
        )
        lam_a = lam[act]
        a = jtj + (lam_a[:, None, None] + 1e-12) * torch.diag_embed(diag)
        step = torch.linalg.solve(a, grad)
        predicted = (step * (lam_a[:, None] * diag * step + grad)).sum(-1)
        trial = theta[act] + step.to(Y.dtype)
        y_t, j_t = _model(x, u, trial, bounds.subset(act), layout, jac=True)
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
        # Only one Jacobian of the batch outlives an iteration: the trial's
        # would otherwise be alive while the next one is made.
        del y_t, j_t, r_t
        # Nielsen's damping update: shrink by the quality of the step's
        # prediction, grow geometrically on repeated failures.
        shrink = torch.clamp(1.0 - (2.0 * gain - 1.0) ** 3, min=1.0 / 3.0)
        lam[act] = torch.where(ok, lam_a * shrink, lam_a * nu[act])
        nu[act] = torch.where(ok, 2.0, 2.0 * nu[act])
        tiny_step = step.abs().amax(-1) <= tol * (theta[act].abs().amax(-1) + tol)
        small = ok & ((old - c_t <= tol * old) | tiny_step)
        done = small | (torch.isfinite(cost[act]) & (cost[act] <= floor[act]))
        # Rejected steps until the damping explodes: converged only where the
        # gradient has vanished (MINPACK's gtol test), else stalled.
        stall = ~done & (lam[act] > MAX_DAMPING)
        cosine = (grad.abs() / torch.sqrt(diag * old.double()[:, None])).amax(-1)
        rounding = torch.sqrt(eps2 * y_norm[act] / old.double().sqrt())
        converged[act] = done | (stall & (cosine <= rounding.clamp(min=gtol)))
        stopped[act] = done | stall
    return theta, fitted, converged, n_iter
