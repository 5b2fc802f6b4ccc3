// spawn.hpp - start the module worker in its sandbox.
//
// With namespaces (the default wherever the kernel allows them) the worker is
// PID 1 of its own PID namespace, so when it ends every process it started
// ends with it; it has its own mount namespace (fresh /tmp, /var/tmp and
// /dev/shm, the checkout, the build tree and tito's folders hidden, only its
// private library folder and the case's scratch folder mounted back), no
// network and its own IPC namespace. As root it then drops to the case's own
// unprivileged user; as a normal user a user namespace makes the rest
// possible. Without namespaces ("none") it is a plain child.
#pragma once

#include <string>
#include <vector>

#include <sys/types.h>

namespace tt::remote {

struct SpawnPlan {
    std::string exe;       // absolute path of bin/tt_worker
    std::string lib_dir;   // the worker's TITO_LIB_DIR
    std::string tmp_dir;   // its TMPDIR and working directory
    std::string impl;      // its TITO_IMPL
    long uid = -1, gid = -1;
    long nproc = 0;        // RLIMIT_NPROC for the worker's user (0: inherited)
    bool namespaces = false;
    std::vector<std::string> hide;
};

struct Spawned {
    pid_t pid = -1;
    int fd = -1;  // the connected socket
};

// Throws tt::LoadError saying what failed.
Spawned spawn_worker(const SpawnPlan& plan);

}  // namespace tt::remote
