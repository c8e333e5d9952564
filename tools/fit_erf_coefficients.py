#!/usr/bin/env python3
"""Derives the polynomial coefficients of Erf in src/kernels/math-inl.h.

erf(x) = x + x * P(x^2)                         for |x| < 0.875
erf(x) = 1 - exp(-x^2) * Q(1/|x| - kErfCenter)  for 0.875 <= |x| < 3.93

P (degree 6) fits erf(x)/x - 1 in absolute error, Q (degree 10) fits
erfc(x) * exp(x^2) in relative error: near-minimax polynomials by Lawson's
iteration of weighted least squares on Chebyshev nodes, against mpmath at 40
digits. Prints the float32 coefficients, lowest degree first, with the error
of the float32-rounded polynomial (the C++ test measures the final function).

Needs numpy and mpmath (pip install numpy mpmath): a development tool only,
neither the build nor the tests run it.
"""
import mpmath as mp
import numpy as np

mp.mp.dps = 40
SMALL_END, LARGE_END = 0.875, 3.93
# The middle of 1/x's range, as the float32 the C++ code subtracts.
CENTER = float(np.float32((1 / LARGE_END + 1 / SMALL_END) / 2))


def fit(f, variable, lo, hi, degree, relative, nodes=2000, rounds=60):
    k = np.arange(nodes)
    x = (lo + hi) / 2 + (hi - lo) / 2 * np.cos(np.pi * (k + 0.5) / nodes)
    y = np.array([float(f(mp.mpf(float(v)))) for v in x])
    A = np.vander(variable(x), degree + 1, increasing=True)
    scale = np.abs(y) if relative else np.ones(nodes)
    weights = np.ones(nodes)
    for _ in range(rounds):
        w = np.sqrt(weights) / scale
        c, *_ = np.linalg.lstsq(A * w[:, None], y * w, rcond=None)
        weights *= np.abs(A @ c - y) / scale
        weights /= weights.sum()
    c32 = c.astype(np.float32)
    error = np.max(np.abs(A @ c32.astype(np.float64) - y) / scale)
    return c32, error


def main():
    p, p_error = fit(lambda x: mp.erf(x) / x - 1, lambda x: x * x, 1e-6, SMALL_END, 6,
                     relative=False)
    q, q_error = fit(lambda x: mp.erfc(x) * mp.exp(x * x), lambda x: 1 / x - CENTER,
                     SMALL_END, LARGE_END, 10, relative=True)
    print(f"kErfCenter = {CENTER!r}f")
    print(f"P: max abs error {p_error:.2e}:", ", ".join(f"{v!r}f" for v in map(float, p)))
    print(f"Q: max rel error {q_error:.2e}:", ", ".join(f"{v!r}f" for v in map(float, q)))


if __name__ == "__main__":
    main()
