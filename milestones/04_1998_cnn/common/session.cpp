#include "common/session.hpp"

#include <cstdio>
#include <filesystem>

#include "tinytorch/progress.hpp"
#include "tinytorch/runtime.hpp"

namespace milestone {

int open_session(const SessionOptions& o) {
    tt::ImplChoice choice;
    try {
        choice = tt::parse_impl_spec(o.reference ? "reference" : o.impl);
    } catch (const std::invalid_argument& e) {
        std::fprintf(stderr, "error: %s\n", e.what());
        return kExitUsage;
    }
    bool any_student = false;
    for (auto v : choice) any_student = any_student || v == tt::Variant::student;

    // The gate: student code runs the milestone only after module 09 passed
    // its grader on the student's own stack, with those very libraries.
    if (any_student) {
        tt::progress::GateStatus gate = tt::progress::gate_status(9);
        if (!gate.unlocked) {
            std::printf("Milestone 04 is locked: module 09 must pass its grader on your own modules 01-09 first.\n");
            for (auto& r : gate.reasons) std::printf("  - %s\n", r.c_str());
            std::printf("\nTo unlock: %s\n", gate.fix_command.empty() ? "./tito grade 09 --integrated" : gate.fix_command.c_str());
            std::printf("To watch the milestone on the reference modules instead: ./tito milestone run 04 --reference\n");
            return kExitLocked;
        }
    }
    tt::runtime().configure(choice);
    tt::runtime().seed(o.seed);
    if (o.threads > 0) tt::runtime().set_threads(o.threads);
    if (!o.quiet) {
        std::printf("\n%s\n", o.title.c_str());
        std::printf("%s\n", std::string(o.title.size(), '=').c_str());
        if (o.reference)
            std::printf("Running on the REFERENCE modules (demo / instructor mode), %d threads, seed %llu.\n\n",
                        tt::runtime().threads(), static_cast<unsigned long long>(o.seed));
        else
            std::printf("Running on YOUR modules (--impl %s), %d threads, seed %llu.\n\n",
                        tt::format_impl_choice(choice).c_str(), tt::runtime().threads(),
                        static_cast<unsigned long long>(o.seed));
    }
    return kExitOk;
}

Split to_split(const tt::data::ImageDataset& d) {
    Split s;
    s.x = tt::Tensor::from(d.images, {d.count, d.channels, d.height, d.width});
    s.y = tt::Tensor::from(d.labels, {d.count});
    return s;
}

void make_dir(const std::string& dir) {
    std::error_code ec;
    std::filesystem::create_directories(dir, ec);
    if (ec) throw std::runtime_error("cannot create the output directory " + dir + ": " + ec.message());
}

}  // namespace milestone
