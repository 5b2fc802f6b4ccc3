// gate.cpp - may the student run the milestone? Only when module NN passed
// its grader on the student's own stack, on the libraries built now.
#include <cmath>
#include <sstream>

#include "tinytorch/progress.hpp"

namespace tt::progress {

namespace {

std::string score_text(double v) {
    std::ostringstream os;
    os << v;
    return os.str();
}
}  // namespace

GateStatus gate_status(int module, const Store& store, const std::string& lib_dir) {
    GateStatus g;
    std::string nn = two_digits(module);
    g.fix_command = "./tito grade " + nn + " --integrated";
    g.record = store.find(module, Mode::integrated);
    if (!g.record) {
        g.reasons.push_back("module " + nn + " has not been graded on your own stack (student 01-" +
                            nn + ") yet");
        return g;
    }
    const GradeRecord& r = *g.record;
    // A record whose signature does not verify says nothing about the grade.
    if (!r.unverified.empty()) {
        g.reasons.push_back(r.unverified);
        return g;
    }
    if (!r.passed_all) {
        g.reasons.push_back("the last integrated grade of module " + nn + " (" + r.timestamp +
                            ") scored " + score_text(r.score) + "/" + score_text(r.max_score) +
                            ": every test must pass");
    }
    // Every student library 01..NN must have been part of the grade ...
    for (int m = 1; m <= module; ++m) {
        bool stamped = false;
        for (const LibraryStamp& s : r.libraries) stamped = stamped || s.module == m;
        if (!stamped)
            g.reasons.push_back("the grade of " + r.timestamp + " did not record module " +
                                two_digits(m) + "'s student library");
    }
    // ... and still be the library built now.
    Freshness f = check_fresh(r, lib_dir);
    for (const std::string& why : f.reasons) g.reasons.push_back(why + " (the pass is stale)");
    g.unlocked = g.reasons.empty();
    return g;
}

GateStatus gate_status(int module) { return gate_status(module, load(default_store_path())); }

}  // namespace tt::progress
