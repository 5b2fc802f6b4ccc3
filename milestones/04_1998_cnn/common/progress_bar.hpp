// progress_bar.hpp - per-epoch progress: a live bar on a terminal, plain lines
// otherwise (logs, CI), nothing with --quiet.
#pragma once

#include <chrono>
#include <cstdint>
#include <cstdio>
#include <string>
#include <unistd.h>

namespace milestone {

class ProgressBar {
public:
    explicit ProgressBar(bool quiet) : quiet_(quiet), tty_(isatty(STDOUT_FILENO) != 0) {}

    void start(const std::string& label, int epoch, int epochs, int64_t batches) {
        label_ = label, epoch_ = epoch, epochs_ = epochs, batches_ = batches;
        t0_ = std::chrono::steady_clock::now();
        last_ = t0_;
    }

    void update(int64_t batch, double loss, double acc, double images_per_second) {
        loss_ = loss, acc_ = acc, ips_ = images_per_second;
        if (quiet_ || !tty_) return;
        auto now = std::chrono::steady_clock::now();
        if (batch != batches_ && now - last_ < std::chrono::milliseconds(100)) return;
        last_ = now;
        double elapsed = std::chrono::duration<double>(now - t0_).count();
        double eta = batch > 0 ? elapsed * (batches_ - batch) / batch : 0;
        const int width = 24;
        int filled = batches_ ? static_cast<int>(width * batch / batches_) : width;
        std::string bar(filled, '#');
        bar += std::string(width - filled, '.');
        std::printf("\r  %-5s epoch %2d/%-2d [%s] %4lld/%-4lld loss %.3f acc %5.1f%% %6.0f img/s ETA %3.0fs ",
                    label_.c_str(), epoch_, epochs_, bar.c_str(), static_cast<long long>(batch),
                    static_cast<long long>(batches_), loss, 100 * acc, images_per_second, eta);
        std::fflush(stdout);
    }

    // One line of its own in the middle of an epoch (the live bar redraws after it).
    void note(const std::string& text) {
        if (quiet_) return;
        if (tty_) std::printf("\r\033[K");
        std::printf("  %s\n", text.c_str());
        std::fflush(stdout);
    }

    // Ends an epoch. A line stays for the first and last epoch and about ten
    // in between, so a long run keeps a readable history.
    void finish(const std::string& tail) {
        if (quiet_) return;
        if (tty_) std::printf("\r\033[K");
        int stride = epochs_ > 10 ? (epochs_ + 9) / 10 : 1;
        if (epoch_ != 1 && epoch_ != epochs_ && epoch_ % stride != 0) return;
        std::printf("  %-5s epoch %2d/%-2d loss %.3f train acc %5.1f%% %6.0f img/s  %s\n", label_.c_str(), epoch_,
                    epochs_, loss_, 100 * acc_, ips_, tail.c_str());
        std::fflush(stdout);
    }

private:
    bool quiet_, tty_;
    std::string label_;
    int epoch_ = 0, epochs_ = 0;
    int64_t batches_ = 0;
    double loss_ = 0, acc_ = 0, ips_ = 0;
    std::chrono::steady_clock::time_point t0_, last_;
};

}  // namespace milestone
