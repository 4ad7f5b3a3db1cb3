// Test-only operators of domain "test.runtime", registered at run time (after
// the built-in ones, from outside ops.inc, as an operator library loaded with
// dlopen will be) only when a test asks. They prove the runtime's seams:
//   Scale2   y = 2x (float32): imports, gets planned memory, runs, replays
//   Overrun  y = x, then writes one float past y's end: the first-run
//            sanity check must name it
//   NonDet   y = x + k, k = 1, 2, 3 ... counted over every execution in the
//            process: the same input never gives the same output twice, so
//            --thread N must report its copies as different
//   ParScale2 y = 2x split over the node's threads (parallel_for, grain 1):
//            with 2 threads it dispatches, so --check-dispatch leaves it out
#pragma once

namespace loadrun {

// Registers the operators once (later calls do nothing).
void register_runtime_test_ops();

}  // namespace loadrun
