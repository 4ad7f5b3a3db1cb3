// The 1-D Winograd transforms of F(4,3) and F(6,3) written out with their
// zeros dropped, as templates over the element type (float in the portable
// kernels, 8 floats in the AVX2 ones). Internal linkage on purpose: each
// translation unit gets its own copy compiled with its own ISA flags.
//
// F(6,3) uses the points 0, +-1, +-2, +-1/2 and infinity; F(4,3) uses 0, +-1,
// +-2 and infinity. The matrices (B^T, G, A^T) are in winograd.cpp.
#pragma once

namespace loadrun {
namespace kernels {
namespace {

// r = B^T d, 8 points.
template <class T>
inline void wino_in63(const T* d, T* r) {
  r[0] = d[0] - d[6] + (d[4] - d[2]) * 5.25f;
  r[7] = d[7] - d[1] + (d[3] - d[5]) * 5.25f;
  T a12 = d[2] + d[6] - d[4] * 4.25f;
  T b12 = d[1] + d[5] - d[3] * 4.25f;
  r[1] = a12 + b12;
  r[2] = a12 - b12;
  T a34 = d[6] + d[2] * 0.25f - d[4] * 1.25f;
  T b34 = d[1] * 0.5f - d[3] * 2.5f + d[5] * 2.f;
  r[3] = a34 + b34;
  r[4] = a34 - b34;
  T a56 = d[6] + (d[2] - d[4] * 1.25f) * 4.f;
  T b56 = d[1] * 2.f - d[3] * 2.5f + d[5] * 0.5f;
  r[5] = a56 + b56;
  r[6] = a56 - b56;
}

// y = A^T m, 8 points to 6 outputs.
template <class T>
inline void wino_out63(const T* m, T* y) {
  T a0 = m[1] + m[2], b0 = m[1] - m[2];
  T a1 = m[3] + m[4], b1 = m[3] - m[4];
  T a2 = m[5] + m[6], b2 = m[5] - m[6];
  y[0] = m[0] + a0 + a1 + a2;
  y[2] = a0 + a1 * 4.f + a2 * 0.25f;
  y[4] = a0 + a1 * 16.f + a2 * 0.0625f;
  y[1] = b0 + b1 * 2.f + b2 * 0.5f;
  y[3] = b0 + b1 * 8.f + b2 * 0.125f;
  y[5] = m[7] + b0 + b1 * 32.f + b2 * 0.03125f;
}

// r = B^T d, 6 points.
template <class T>
inline void wino_in43(const T* d, T* r) {
  r[0] = d[0] * 4.f - d[2] * 5.f + d[4];
  T a = d[4] - d[2] * 4.f, b = d[3] - d[1] * 4.f;
  r[1] = a + b;
  r[2] = a - b;
  T c = d[4] - d[2], e = (d[3] - d[1]) * 2.f;
  r[3] = c + e;
  r[4] = c - e;
  r[5] = d[1] * 4.f - d[3] * 5.f + d[5];
}

// y = A^T m, 6 points to 4 outputs.
template <class T>
inline void wino_out43(const T* m, T* y) {
  T a = m[1] + m[2], b = m[1] - m[2];
  T c = m[3] + m[4], e = m[3] - m[4];
  y[0] = m[0] + a + c;
  y[1] = b + e * 2.f;
  y[2] = a + c * 4.f;
  y[3] = b + e * 8.f + m[5];
}

}  // namespace
}  // namespace kernels
}  // namespace loadrun
