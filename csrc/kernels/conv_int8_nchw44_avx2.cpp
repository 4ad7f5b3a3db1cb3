// NCHW44 int8 direct convolution rows on AVX2 (conv_int8_nchw44.h), exact.
// x86 has no 4-byte dot product before AVX-VNNI, and vpmaddubsw's 16-bit
// pair sums saturate (255 * 127 * 2 > 32767), so both operands are widened
// to 16 bits instead: the 16-byte weight vector of a tap ([4 oc][4 ic])
// becomes one YMM of 16 int16 (sign- or zero-extended), each pixel's 4 input
// bytes are broadcast to 4 lanes and widened alike, and vpmaddwd makes 8
// exact 32-bit pair sums (2 per output channel; |products| <= 65025, so
// nothing saturates) added to the pixel's accumulator with wrapping vpaddd.
// Two pixels' accumulators are folded by one vphaddd and a lane permute into
// their 2 x 4 channel sums. Tiles of 4 pixels x 2 output blocks (8
// accumulators; one widened input serves both blocks), then 2 and 1 pixels.
// The results equal the portable kernel's bit for bit.
#include <immintrin.h>

#include <cstring>

#include "kernels/conv_int8_nchw44.h"

namespace loadrun {
namespace kernels {

namespace {

template <bool kSigned>
inline __m256i widen(__m128i v) {
  return kSigned ? _mm256_cvtepi8_epi16(v) : _mm256_cvtepu8_epi16(v);
}

inline __m128i bcast4(const uint8_t* x) {
  int32_t v;
  std::memcpy(&v, x, 4);
  return _mm_set1_epi32(v);
}

// Pair sums of two pixels -> their 4 + 4 channel sums, stored at p (8 int32).
inline void store2(int32_t* p, __m256i a0, __m256i a1) {
  __m256i h = _mm256_hadd_epi32(a0, a1);  // [p0 c0 c1, p1 c0 c1 | p0 c2 c3, p1 c2 c3]
  h = _mm256_permute4x64_epi64(h, _MM_SHUFFLE(3, 1, 2, 0));
  _mm256_storeu_si256(reinterpret_cast<__m256i*>(p), h);
}

// N pixels from ox0 of NB output blocks.
template <bool kSigned, int N, int NB>
void tile(const ConvInt8Nchw44Geo& g, const uint8_t* xp, const uint8_t* wblock, int64_t oy,
          int64_t ox0, int32_t* acc) {
  __m256i a[NB][N];
  for (int b = 0; b < NB; ++b)
    for (int j = 0; j < N; ++j) a[b][j] = _mm256_setzero_si256();
  const int64_t plane = g.rows * g.ld * kNchw44;
  const int64_t step = g.sw * kNchw44;
  const int64_t wstride = g.icb * g.kh * g.kw * kNchw44 * kNchw44;
  const uint8_t* w = wblock;
  for (int64_t ib = 0; ib < g.icb; ++ib)
    for (int64_t ky = 0; ky < g.kh; ++ky) {
      const uint8_t* xrow =
          xp + ib * plane + ((oy * g.sh + ky * g.dh) * g.ld + ox0 * g.sw) * kNchw44;
      for (int64_t kx = 0; kx < g.kw; ++kx, w += kNchw44 * kNchw44) {
        __m256i wv[NB];
        for (int b = 0; b < NB; ++b)
          wv[b] = widen<kSigned>(_mm_loadu_si128(reinterpret_cast<const __m128i*>(w + b * wstride)));
        const uint8_t* x = xrow + kx * g.dw * kNchw44;
        for (int j = 0; j < N; ++j) {
          const __m256i xv = widen<kSigned>(bcast4(x + j * step));
          for (int b = 0; b < NB; ++b)
            a[b][j] = _mm256_add_epi32(a[b][j], _mm256_madd_epi16(wv[b], xv));
        }
      }
    }
  for (int b = 0; b < NB; ++b) {
    int32_t* out = acc + b * g.ow * kNchw44 + ox0 * kNchw44;
    if (N == 1) {
      alignas(32) int32_t t[8];
      store2(t, a[b][0], a[b][0]);
      std::memcpy(out, t, 4 * sizeof(int32_t));
      continue;
    }
    for (int j = 0; j + 1 < N; j += 2) store2(out + j * kNchw44, a[b][j], a[b][j + 1]);
  }
}

template <bool kSigned, int NB>
void row_nb(const ConvInt8Nchw44Geo& g, const uint8_t* xp, const uint8_t* wblock, int64_t oy,
            int32_t* acc) {
  int64_t ox = 0;
  for (; ox + 4 <= g.ow; ox += 4) tile<kSigned, 4, NB>(g, xp, wblock, oy, ox, acc);
  for (; ox + 2 <= g.ow; ox += 2) tile<kSigned, 2, NB>(g, xp, wblock, oy, ox, acc);
  for (; ox < g.ow; ++ox) tile<kSigned, 1, NB>(g, xp, wblock, oy, ox, acc);
}

template <bool kSigned>
void row(const ConvInt8Nchw44Geo& g, const uint8_t* xp, const uint8_t* wblock, int nb, int64_t oy,
         int32_t* acc) {
  if (nb == 2)
    row_nb<kSigned, 2>(g, xp, wblock, oy, acc);
  else
    row_nb<kSigned, 1>(g, xp, wblock, oy, acc);
}

}  // namespace

void conv_int8_nchw44_row_s8_avx2(const ConvInt8Nchw44Geo& g, const uint8_t* xp,
                                  const uint8_t* wblock, int nb, int64_t oy, int32_t* acc) {
  row<true>(g, xp, wblock, nb, oy, acc);
}
void conv_int8_nchw44_row_u8_avx2(const ConvInt8Nchw44Geo& g, const uint8_t* xp,
                                  const uint8_t* wblock, int nb, int64_t oy, int32_t* acc) {
  row<false>(g, xp, wblock, nb, oy, acc);
}

}  // namespace kernels
}  // namespace loadrun
