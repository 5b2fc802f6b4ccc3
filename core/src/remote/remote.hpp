// remote.hpp - modules that run in a worker process (the grader's isolation).
//
// A grading suite must not share a process with the student code it grades:
// whatever that code does in-process (write a passing report, patch the
// test's memory, call exit(0)) would become the grade. So when
// TITO_WORKER_EXE is set, the runtime loads every *student* module into a
// separate worker process (bin/tt_worker, started on first use, sandboxed by
// spawn.cpp) and hands out a proxy table whose every slot forwards the call:
// arguments go over by value, results come back by value, and the suite's
// assertions only ever see copies. Reference modules load in-process as usual.
//
// Environment of the trusted process (set by tito):
//   TITO_WORKER_EXE        the worker program
//   TITO_WORKER_LIB_DIR    the libraries the worker may load (a private copy:
//                          the graded modules' reference libraries are not there)
//   TITO_WORKER_TMP        the case's scratch directory (shared with the suite)
//   TITO_WORKER_UID/_GID   run the worker as this user (tito runs as root)
//   TITO_WORKER_ISOLATE    "namespaces": own PID, mount, network, IPC namespaces
//                          (and a user namespace when not root); "none": plain
//   TITO_WORKER_HIDE       ':'-separated directories hidden from the worker
//   TITO_WORKER_FORBID     ':'-separated library files that must never be
//                          mapped by the worker (the tripwire)
#pragma once

#include <string>

namespace tt::remote {

// True when student modules are to run in a worker (TITO_WORKER_EXE is set).
bool enabled();
// Load module n in the worker (starting it on first use) and return the
// proxy table. Throws tt::LoadError with the worker's reason.
const void* load(int module);

// The worker's main loop on a connected socket; never returns.
[[noreturn]] void serve(int fd);

}  // namespace tt::remote
