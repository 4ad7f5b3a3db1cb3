// A test-only operator for fast-run tests (C++ and Python), registered only
// when a test asks: FrCopy in domain "test.fastrun" (y = x, any dtype,
// attribute p goes into param_key()). Its algorithms are all correct copies
// that differ only in speed (sleeps, so their order holds on a busy machine),
// workspace and attributes, so the chooser and the cache can be tested
// without depending on the real operators' algorithms:
//   NAIVE     10 ms   NAIVE|REPRODUCIBLE
//   FR_SLOW   14 ms   REPRODUCIBLE            (the heuristic's pick: first non-NAIVE)
//   FR_THROWS  -      REPRODUCIBLE            (always throws: profiling skips it)
//   FR_FAST    0 ms   USABLE_DEPEND_ON_SHAPE|ACCURACY_DEPEND_ON_BATCH (not reproducible)
//   FR_BIGWS   2 ms   REPRODUCIBLE, 64 MiB workspace, a weight preprocess
//   FR_MEDIUM  8 ms   REPRODUCIBLE
#pragma once

namespace loadrun {

// Registers the operator once (later calls do nothing).
void register_fastrun_test_op();
// How many times FR_BIGWS's preprocess() has run in this process.
int fastrun_test_preprocess_calls();

}  // namespace loadrun
