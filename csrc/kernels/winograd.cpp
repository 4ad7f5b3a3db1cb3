// Winograd transforms: the filter transform (double precision, run once per
// filter at preprocess or per run), the portable input/output transforms
// (scalar: columns, then rows, of each tile) and the dispatch to the ISA
// ones through kernel_table(). See winograd.h; the 1-D transforms are in winograd_tx.h.
#include "kernels/winograd.h"

#include <algorithm>

#include "kernels/kernel_table.h"
#include "kernels/winograd_tx.h"

namespace loadrun {
namespace kernels {

namespace {

// G of F(4,3) and F(6,3): row p is the filter's value at interpolation
// point p (1, -1, 2, -2, then 1/2, -1/2 for F(6,3)) times the Lagrange
// scale, first row the point 0, last row infinity.
const double kG43[6][3] = {{1.0 / 4, 0, 0},           {-1.0 / 6, -1.0 / 6, -1.0 / 6},
                           {-1.0 / 6, 1.0 / 6, -1.0 / 6}, {1.0 / 24, 1.0 / 12, 1.0 / 6},
                           {1.0 / 24, -1.0 / 12, 1.0 / 6}, {0, 0, 1}};
const double kG63[8][3] = {{1, 0, 0},
                           {-2.0 / 9, -2.0 / 9, -2.0 / 9},
                           {-2.0 / 9, 2.0 / 9, -2.0 / 9},
                           {1.0 / 90, 1.0 / 45, 2.0 / 45},
                           {1.0 / 90, -1.0 / 45, 2.0 / 45},
                           {32.0 / 45, 16.0 / 45, 8.0 / 45},
                           {32.0 / 45, -16.0 / 45, 8.0 / 45},
                           {0, 0, 1}};

}  // namespace

void winograd_filter(int m, const float* g, float* u, int64_t sxi) {
  int t = m + 2;
  const double(*G)[3] = m == 6 ? kG63 : kG43;
  double gg[8][3];  // G g
  for (int a = 0; a < t; ++a)
    for (int c = 0; c < 3; ++c)
      gg[a][c] = G[a][0] * g[c] + G[a][1] * g[3 + c] + G[a][2] * g[6 + c];
  for (int a = 0; a < t; ++a)
    for (int b = 0; b < t; ++b)
      u[(a * t + b) * sxi] =
          static_cast<float>(gg[a][0] * G[b][0] + gg[a][1] * G[b][1] + gg[a][2] * G[b][2]);
}

void winograd_input_tiles_portable(int m, const float* p, int64_t ld, int64_t tw,
                                   int64_t ntiles, float* v, int64_t sxi) {
  int t = m + 2;
  auto in = m == 6 ? wino_in63<float> : wino_in43<float>;
  for (int64_t j = 0; j < ntiles; ++j) {
    const float* s = p + (j / tw) * m * ld + (j % tw) * m;
    float w[8][8], d[8], r[8];
    for (int c = 0; c < t; ++c) {  // columns: W = B^T D
      for (int k = 0; k < t; ++k) d[k] = s[k * ld + c];
      in(d, r);
      for (int a = 0; a < t; ++a) w[a][c] = r[a];
    }
    for (int a = 0; a < t; ++a) {  // rows: V = W B
      in(w[a], r);
      for (int b = 0; b < t; ++b) v[(a * t + b) * sxi + j] = r[b];
    }
  }
}

void winograd_output_tiles_portable(int m, const float* mm, int64_t sxi, int64_t tw,
                                    int64_t ntiles, float bias, const Epilogue& ep, float* y,
                                    int64_t ldy, int64_t rows, int64_t cols) {
  int t = m + 2;
  auto out = m == 6 ? wino_out63<float> : wino_out43<float>;
  for (int64_t j = 0; j < ntiles; ++j) {
    float s[8][8], q[8], r[8];
    for (int b = 0; b < t; ++b) {  // columns: S = A^T M
      for (int a = 0; a < t; ++a) q[a] = mm[(a * t + b) * sxi + j];
      out(q, r);
      for (int k = 0; k < m; ++k) s[k][b] = r[k];
    }
    int64_t r0 = (j / tw) * m, c0 = (j % tw) * m;
    int64_t nr = std::min<int64_t>(m, rows - r0), nc = std::min<int64_t>(m, cols - c0);
    for (int k = 0; k < nr; ++k) {  // rows: Y = S A
      out(s[k], r);
      float* yr = y + (r0 + k) * ldy + c0;
      for (int c = 0; c < nc; ++c) yr[c] = apply_act(ep, r[c] + bias);
    }
  }
}

void winograd_input_tiles(int m, const float* p, int64_t ld, int64_t tw, int64_t ntiles,
                          float* v, int64_t sxi) {
  kernel_table().winograd.input_tiles(m, p, ld, tw, ntiles, v, sxi);
}

void winograd_output_tiles(int m, const float* mm, int64_t sxi, int64_t tw, int64_t ntiles,
                           float bias, const Epilogue& ep, float* y, int64_t ldy, int64_t rows,
                           int64_t cols) {
  kernel_table().winograd.output_tiles(m, mm, sxi, tw, ntiles, bias, ep, y, ldy, rows, cols);
}

}  // namespace kernels
}  // namespace loadrun
