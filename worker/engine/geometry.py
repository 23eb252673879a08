"""Geometry of a 2-D decision boundary: where it sits, which way it points, and the max-margin
(hard-margin SVM) solution that gradient descent drifts to on separable data.

`frac_pred_pos` cannot see a boundary that moves through empty space between well separated
classes; the offset and angle here can (docs/science.md, "Cautions the code acts on").
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence

import numpy as np
import torch
from torch import Tensor


def cosine(a: Tensor, b: Tensor) -> float:
    """Cosine similarity of two vectors (flattened); NaN if either is zero."""
    a, b = a.detach().double().flatten(), b.detach().double().flatten()
    na, nb = float(a.norm()), float(b.norm())
    return float(a @ b) / (na * nb) if na > 0 and nb > 0 else math.nan


def boundary_angle(w: Tensor, reference: Tensor) -> float:
    """Angle in degrees, in [0, 90], between a linear boundary's normal `w` and a reference normal.
    A boundary is a line, so w and -w give the same angle; NaN if either normal is zero."""
    c = cosine(w, reference)
    return math.degrees(math.acos(min(1.0, abs(c)))) if not math.isnan(c) else math.nan


def linear_boundary(weight: Tensor, bias: Tensor) -> tuple[Tensor, Tensor]:
    """(normal, offset) of the boundary of a 2-logit linear layer: z_pos - z_neg = w.x + b with
    w = weight[1] - weight[0], b = bias[1] - bias[0]."""
    return (weight[1] - weight[0]).detach(), (bias[1] - bias[0]).detach()


@torch.no_grad()
def boundary_offset(
    predict_margin: Callable[[Tensor], Tensor], centre_neg: Tensor, centre_pos: Tensor, steps: int = 2001
) -> float:
    """Signed position of the boundary (margin = 0) on the segment centre_neg -> centre_pos.

    Defined as the share of the segment p(s) = centre_neg + s (centre_pos - centre_neg), s in [0, 1],
    that the model assigns to the negative class, minus 0.5; in [-0.5, 0.5]. For a boundary that
    crosses the segment once at s* (any linear one) this is s* - 0.5: 0 = at the midpoint, negative =
    closer to the negative centre. It stays defined for a curved boundary that crosses the segment
    twice or not at all (moons), where "the crossing" is not, and it can only fall when the positive
    logit rises everywhere: up-weighting the positive class moves it towards -0.5 whatever the shape.
    docs/readouts.md gives the reasons for this choice.

    The margin is sampled at `steps` points and interpolated linearly between them (exact for a
    linear boundary). NaN only where the model's margin is not finite.

    `predict_margin` maps points (N, d) to z_pos - z_neg (N,), or to logits (N, 2). Points have
    the centres' dtype and device.
    """
    s, points = segment(centre_neg, centre_pos, steps)
    m = predict_margin(points)
    if m.ndim == 2 and m.shape[1] == 2:
        m = m[:, 1] - m[:, 0]
    return offsets_along(s, m.reshape(1, -1))[0]


def segment(centre_neg: Tensor, centre_pos: Tensor, steps: int = 2001) -> tuple[Tensor, Tensor]:
    """`steps` positions s in [0, 1] (float64) and the points centre_neg + s (centre_pos - centre_neg)
    (the centres' dtype and device) at which `boundary_offset` samples the margin."""
    centre_neg, centre_pos = centre_neg.flatten(), centre_pos.flatten()
    s = torch.linspace(0.0, 1.0, steps, dtype=torch.float64)
    return s, centre_neg + s.to(centre_neg).unsqueeze(1) * (centre_pos - centre_neg)


@torch.no_grad()
def offsets_along(s: Tensor, margins: Tensor) -> list[float]:
    """`boundary_offset` of M models at once from their margins (M, steps) at the positions `s`:
    the length of the segment where the margin is <= 0 (ties go to the negative class), with the
    margin linear between samples, minus 0.5. Vectorised because a sweep asks this of every model at
    every evaluated epoch."""
    m = margins.detach().double().cpu()
    a, b = m[:, :-1], m[:, 1:]
    ds = (s[1:] - s[:-1]).expand_as(a)
    crossing = (a <= 0) != (b <= 0)
    t = torch.where(crossing, a / torch.where(crossing, a - b, 1.0), 0.0)  # where the line crosses 0, in [0, 1]
    negative = torch.where(
        (a <= 0) & (b <= 0), ds, torch.where(crossing & (a <= 0), t * ds, torch.where(crossing, (1 - t) * ds, 0.0))
    )
    offsets = negative.sum(1) - 0.5
    found = torch.isfinite(m).all(1).tolist()
    return [value if ok else math.nan for value, ok in zip(offsets.tolist(), found)]  # math.nan: results compare equal


def linearly_separable(x: Tensor, y: Tensor) -> bool:
    """Whether some line (hyperplane) with a bias strictly separates the two classes: the linear
    programme  s_i (w.x_i + b) >= 1  is feasible (HiGHS through scipy; milliseconds for thousands of
    points). Exact up to the solver's feasibility tolerance, and fast where an SVM solver on
    non-separable data would iterate until its limit (issue 11: 50-110 s, then a crash)."""
    from scipy.optimize import linprog

    X = x.detach().double().cpu().numpy().reshape(len(x), -1)
    s = np.where(y.detach().cpu().numpy() == 1, 1.0, -1.0)
    if not ((s > 0).any() and (s < 0).any()):
        return False
    A = -s[:, None] * np.hstack([X, np.ones((len(X), 1))])
    result = linprog(np.zeros(X.shape[1] + 1), A_ub=A, b_ub=-np.ones(len(X)), bounds=(None, None), method="highs")
    return result.status == 0


NOT_SEPARABLE = "the training data are not linearly separable, so there is no max-margin boundary to compare with"


def max_margin_reference(x: Tensor, y: Tensor) -> tuple[Tensor | None, str | None]:
    """(normal of the augmented max-margin boundary, None) on separable data, else (None, the reason
    the svm_* readouts are missing). Never raises: a readout must not end a run."""
    if not linearly_separable(x, y):
        return None, NOT_SEPARABLE
    try:
        return max_margin_direction(x, y, bias="augmented")[0], None
    except ValueError as err:  # separable by the LP, but a margin too thin for the solver's limit
        return None, f"the max-margin solver gave no answer ({err})"


def max_margin_direction(
    x: Tensor, y: Tensor, *, bias: str = "free", tol: float = 1e-9, max_iter: int = 200_000
) -> tuple[Tensor, Tensor]:
    """Hard-margin linear SVM on separable data: returns (w, b), float64, with ||w|| = 1, so that
    w.x + b is the signed distance to the max-margin boundary (positive side = class 1).

    bias="free": the textbook SVM, min ||w|| s.t. s_i (w.x_i + b) >= 1, solved exactly by SMO
        (pairwise updates of the dual, maximal-violating pair; Keerthi et al. 2001).
    bias="augmented": the bias is treated as one more weight on a constant feature,
        min ||(w, b)|| s.t. s_i (w.x_i + b) >= 1, solved by dual coordinate descent (Hsieh et al.
        2008). This is the direction that gradient descent on an unregularised linear model
        *with a bias parameter* converges to (Soudry et al. 2018 augment x with a 1); compare it
        with the model's concatenated (w, b). With data far from the origin the two differ.
    Raises ValueError if the data are not linearly separable (the dual then has no maximum).
    """
    if bias not in ("free", "augmented"):
        raise ValueError(f"bias must be 'free' or 'augmented', got {bias!r}")
    X = x.detach().double().cpu().numpy().reshape(len(x), -1)
    s = np.where(y.detach().cpu().numpy() == 1, 1.0, -1.0)
    if not ((s > 0).any() and (s < 0).any()):
        raise ValueError("max_margin_direction needs both classes")
    if bias == "free":
        w = _smo(X, s, tol, max_iter)
        u = w / np.linalg.norm(w)
        proj = X @ u
        # Given the direction, the max-margin boundary sits midway between the classes' extremes.
        lo_pos, hi_neg = proj[s > 0].min(), proj[s < 0].max()
        b = -(lo_pos + hi_neg) / 2
    else:
        wb = _dual_cd(np.hstack([X, np.ones((len(X), 1))]), s, tol, max_iter)
        norm = np.linalg.norm(wb[:-1])
        u, b = wb[:-1] / norm, wb[-1] / norm
    if not (s * (X @ u + b)).min() > 0:
        raise ValueError("data are not linearly separable")
    return torch.from_numpy(u), torch.tensor(float(b), dtype=torch.float64)


def _smo(X: np.ndarray, s: np.ndarray, tol: float, max_iter: int) -> np.ndarray:
    """Dual of the free-bias hard-margin SVM: min 1/2 ||sum a_i s_i x_i||^2 - sum a_i, a >= 0,
    sum a_i s_i = 0. Keeps w = sum a_i s_i x_i and the gradient G_i = s_i w.x_i - 1 up to date,
    so no n x n kernel matrix is formed."""
    n = len(X)
    a, w, G = np.zeros(n), np.zeros(X.shape[1]), -np.ones(n)
    for _ in range(max_iter):
        score = -s * G
        # Moving along +s_i for i and -s_j for j keeps sum a s fixed; a must stay >= 0.
        up = (s > 0) | (a > 0)
        low = (s < 0) | (a > 0)
        i = int(np.argmax(np.where(up, score, -np.inf)))
        j = int(np.argmin(np.where(low, score, np.inf)))
        gap = score[i] - score[j]  # KKT violation: 0 at the optimum
        if gap < tol:
            return w
        diff = X[i] - X[j]
        t = gap / max(float(diff @ diff), 1e-300)  # exact line minimum ...
        if s[i] < 0:
            t = min(t, a[i])  # ... clipped so that a stays >= 0
        if s[j] > 0:
            t = min(t, a[j])
        a[i] += s[i] * t
        a[j] -= s[j] * t
        w += t * diff
        G += t * s * (X @ diff)
    raise ValueError("SVM did not converge: data not linearly separable (or raise max_iter)")


def _dual_cd(X: np.ndarray, s: np.ndarray, tol: float, max_iter: int) -> np.ndarray:
    """Dual of the homogeneous hard-margin SVM: min 1/2 ||sum a_i s_i x_i||^2 - sum a_i, a >= 0,
    one coordinate at a time (exact minimisation, then clip at 0). Each sweep visits only the
    coordinates whose projected gradient is nonzero (points far from the margin with a_i = 0 are
    skipped), so a sweep costs one matrix-vector product plus a short Python loop."""
    a, w = np.zeros(len(X)), np.zeros(X.shape[1])
    sq = np.einsum("ij,ij->i", X, X)
    for _ in range(max_iter):
        g = s * (X @ w) - 1.0
        pg = np.where(a > 0, g, np.minimum(g, 0.0))  # projected gradient: 0 at the optimum
        if np.abs(pg).max() < tol:
            return w
        for i in np.flatnonzero(np.abs(pg) >= tol):
            gi = s[i] * (X[i] @ w) - 1.0
            new = max(a[i] - gi / sq[i], 0.0)
            w += (new - a[i]) * s[i] * X[i]
            a[i] = new
    raise ValueError("SVM did not converge: data not linearly separable (or raise max_iter)")


def class_centres(x: Tensor, y: Tensor) -> tuple[Tensor, Tensor]:
    """Mean training point of the negative and of the positive class."""
    return x[y == 0].mean(0), x[y == 1].mean(0)


def readouts(
    predict_margin: Callable[[Tensor], Tensor],
    centres: tuple[Tensor, Tensor],
    normal: Tensor | None = None,
    svm_normal: Tensor | None = None,
) -> dict[str, float]:
    """The per-epoch geometry of a 2-D run: where the boundary crosses the segment between the class
    centres, and (linear models) the cosine of its normal to the max-margin one and the angle
    between the two boundaries (the reference it drifts to on separable data). Finer readouts than
    frac_pred_pos, which stays at 0.5 while a boundary still moves through an empty gap."""
    margins = lambda points: predict_margin(points).reshape(1, -1)  # noqa: E731
    return readouts_per_model(margins, centres, None if normal is None else [normal], svm_normal)[0]


def readouts_per_model(
    predict_margins: Callable[[Tensor], Tensor],
    centres: tuple[Tensor, Tensor],
    normals: Sequence[Tensor] | None = None,
    svm_normal: Tensor | None = None,
) -> list[dict[str, float]]:
    """`readouts` of M models at once: `predict_margins` maps points (N, d) to z_pos - z_neg of
    every model, (M, N); `normals` (linear models) has one normal per model."""
    s, points = segment(*centres)
    out = [{"offset": offset} for offset in offsets_along(s, predict_margins(points))]
    if normals is not None and svm_normal is not None:
        for readout, normal in zip(out, normals):
            if float(normal.norm()) > 0:
                readout["svm_cosine"] = cosine(normal, svm_normal)
                readout["svm_angle"] = boundary_angle(normal, svm_normal)  # degrees from the max-margin boundary
    return out
