// Checking for the CTest programs (tests/cpp), which use no test framework:
// every check that fails is reported and counted, and the program carries on
// so that one run shows them all; main returns non-zero when any failed.
//  - EXPECT(cond): prints file:line and the condition when it is false.
//  - fail(level, what): a failure the test describes itself (the kernel
//    tests: the ISA level and the case); the first 20 are printed.
//  - throws<E>(f): whether f() throws an E (and nothing else).
//  - expect_exit(ok_line): main's return value, with the failure count on
//    stderr or ok_line on stdout.
// g_cases counts the cases a kernel test ran, for its summary line.
#pragma once
#include <cstdio>
#include <string>

inline int g_failures = 0;
inline int g_cases = 0;

#define EXPECT(cond)                                                                 \
  do {                                                                               \
    if (!(cond)) {                                                                   \
      std::fprintf(stderr, "%s:%d: EXPECT(%s) failed\n", __FILE__, __LINE__, #cond); \
      ++g_failures;                                                                  \
    }                                                                                \
  } while (0)

inline void fail(const char* level, const std::string& what) {
  if (++g_failures <= 20) std::fprintf(stderr, "FAIL %s: %s\n", level, what.c_str());
}

template <class E, class F>
bool throws(F&& f) {
  try {
    f();
  } catch (const E&) {
    return true;
  } catch (...) {
    return false;
  }
  return false;
}

inline int expect_exit(const char* ok_line) {
  if (g_failures) {
    std::fprintf(stderr, "%d failure(s)\n", g_failures);
    return 1;
  }
  std::printf("%s\n", ok_line);
  return 0;
}
