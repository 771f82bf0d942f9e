// How the daemons stop: SIGTERM and SIGINT are blocked before any thread
// starts, so that every thread inherits the mask and only the main thread,
// waiting in wait(), receives them; SIGPIPE is ignored (a peer that hangs up
// is an error on that socket, not the end of the process).
#pragma once

#include <signal.h>

namespace corral {

class StopSignals {
 public:
  // Call first in main(), before any thread exists.
  StopSignals();
  // Blocks until SIGTERM or SIGINT; returns its name.
  const char* wait();

 private:
  sigset_t set_;
};

}  // namespace corral
