#pragma once
// The CPUs a test's threads may run on, and pinning one thread to one of
// them, as the daemon pins each reactor thread.

#include <pthread.h>
#include <sched.h>

namespace ringcri::testing {

// The calling thread's CPUs.
inline cpu_set_t own_cpus() {
  cpu_set_t set;
  CPU_ZERO(&set);
  ::sched_getaffinity(0, sizeof set, &set);
  return set;
}

// Pins the calling thread to the first CPU of `cpus`; false if it cannot.
inline bool pin_to_first_of(const cpu_set_t& cpus) {
  cpu_set_t one;
  CPU_ZERO(&one);
  for (int c = 0; c < CPU_SETSIZE; ++c)
    if (CPU_ISSET(c, &cpus)) {
      CPU_SET(c, &one);
      break;
    }
  return ::pthread_setaffinity_np(::pthread_self(), sizeof one, &one) == 0;
}

}  // namespace ringcri::testing
