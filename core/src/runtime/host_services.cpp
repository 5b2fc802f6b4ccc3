// host_services.cpp - what the core offers every module through tt_host.
#include "runtime/host_services.hpp"

#include <cblas.h>
#include <zlib.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdlib>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

namespace tt::detail {
namespace {

// ---------------------------------------------------------------- errors

thread_local LastError t_last_error;

tt_status host_set_error(int32_t module, tt_status status, const char* function,
                         const char* message) {
    t_last_error.status = status;
    t_last_error.module = module;
    t_last_error.function = function ? function : "";
    t_last_error.message = message ? message : "";
    return status;
}

// ---------------------------------------------------------------- memory
//
// A caching allocator: blocks are rounded up to a power of two (>= 64 bytes)
// and a released block goes on the free list of its size class instead of back
// to the system. A training loop allocates the same sizes every step, so after
// the first step every allocation is a list pop. Each block carries a 64-byte
// header holding its size class, which keeps the data 64-byte aligned.

constexpr size_t kHeader = 64;
constexpr int kClasses = 48;

struct Pool {
    std::mutex mu;
    std::vector<void*> free_lists[kClasses];
};
Pool& pool() {
    static Pool* p = new Pool;  // never destroyed: modules may release at exit
    return *p;
}

int size_class(size_t bytes) {
    int c = 6;  // 64 bytes
    while ((size_t{1} << c) < bytes && c < kClasses - 1) ++c;
    return c;
}

// Blocks handed out and not released yet, and their requested bytes: a
// module that forgets to free shows up here (the worker reports it per case).
std::atomic<int64_t> g_live_blocks{0};
std::atomic<int64_t> g_live_bytes{0};

void* host_alloc(size_t bytes) {
    if (bytes == 0) bytes = 1;
    int c = size_class(bytes);
    if ((size_t{1} << c) < bytes) return nullptr;  // absurd size
    void* block = nullptr;
    {
        Pool& p = pool();
        std::lock_guard<std::mutex> lock(p.mu);
        auto& list = p.free_lists[c];
        if (!list.empty()) {
            block = list.back();
            list.pop_back();
        }
    }
    if (block == nullptr) {
        block = std::aligned_alloc(64, kHeader + (size_t{1} << c));
        if (block == nullptr) return nullptr;
        *static_cast<int*>(block) = c;
    }
    // The header: size class at byte 0, the requested size at byte 8.
    *reinterpret_cast<uint64_t*>(static_cast<char*>(block) + 8) = bytes;
    g_live_blocks.fetch_add(1, std::memory_order_relaxed);
    g_live_bytes.fetch_add(static_cast<int64_t>(bytes), std::memory_order_relaxed);
    return static_cast<char*>(block) + kHeader;
}

void host_release(void* ptr) {
    if (ptr == nullptr) return;
    void* block = static_cast<char*>(ptr) - kHeader;
    int c = *static_cast<int*>(block);
    g_live_blocks.fetch_sub(1, std::memory_order_relaxed);
    g_live_bytes.fetch_sub(static_cast<int64_t>(*reinterpret_cast<uint64_t*>(static_cast<char*>(block) + 8)),
                           std::memory_order_relaxed);
    Pool& p = pool();
    std::lock_guard<std::mutex> lock(p.mu);
    p.free_lists[c].push_back(block);
}

// ---------------------------------------------------------------- RNG
// xoshiro256** (Blackman & Vigna), seeded through splitmix64.

uint64_t rotl(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }

void host_rng_seed(tt_rng* rng, uint64_t seed) {
    for (auto& s : rng->s) {
        uint64_t z = (seed += 0x9E3779B97F4A7C15ull);
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
        s = z ^ (z >> 31);
    }
}

uint64_t host_rng_next(tt_rng* rng) {
    uint64_t* s = rng->s;
    uint64_t result = rotl(s[1] * 5, 7) * 9;
    uint64_t t = s[1] << 17;
    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = rotl(s[3], 45);
    return result;
}

float host_rng_uniform(tt_rng* rng) {
    // top 24 bits -> [0, 1) exactly representable in float
    return static_cast<float>(host_rng_next(rng) >> 40) * (1.0f / 16777216.0f);
}

tt_rng g_rng = {{0x1234567ull, 0x89abcdefull, 0xfedcba98ull, 0x7654321ull}};

// ---------------------------------------------------------------- threads
//
// A fixed pool of (threads - 1) workers; the calling thread takes a share too,
// and after it every chunk no worker has claimed yet.
// A parallel_for issued from inside a worker runs inline (no nesting).
//
// A training step issues a hundred or more parallel_fors back to back, many
// of them only tens of microseconds long, and waking a sleeping thread goes
// through the kernel each time. So an idle worker (and the caller waiting for
// the workers to finish) first spins for a short while (kSpin) watching an
// atomic before it sleeps on the condition variable: the TinyDigits CNN step
// went from 831 to 445 us on two threads (docs/benchmarks.md). 200 us rather
// than 50: the serial stretches of that step (autograd, small ops) often last
// longer than 50 us, and a worker asleep by then costs a wake-up: ~300 ->
// ~258 us. An idle program spins 200 us after its last parallel_for, no more.

// Spin until done() or `limit` has passed; true if done() came true.
template <class Done>
bool spin_until(Done done, std::chrono::microseconds limit) {
    const auto deadline = std::chrono::steady_clock::now() + limit;
    for (;;) {
        for (int i = 0; i < 64; ++i) {
            if (done()) return true;
#if defined(__x86_64__) || defined(__i386__)
            __builtin_ia32_pause();
#endif
        }
        if (std::chrono::steady_clock::now() >= deadline) return done();
    }
}
constexpr std::chrono::microseconds kSpin{200};

class ThreadPool {
public:
    void resize(int n) {
        stop_all();
        threads_ = std::max(1, n);
        for (int i = 1; i < threads_; ++i) workers_.emplace_back([this] { work(); });
    }
    int threads() const { return threads_; }
    // True on a pool worker, and on the calling thread while it runs its own
    // share of a parallel_for: a GEMM issued there must run on this thread alone.
    static bool inside() { return t_inside_; }

    void run(int64_t n, int64_t grain, tt_parallel_body body, void* ctx) {
        if (n <= 0) return;
        grain = std::max<int64_t>(grain, 1);
        int64_t chunks = std::min<int64_t>(threads_, (n + grain - 1) / grain);
        if (chunks <= 1 || t_inside_ || workers_.empty()) {
            body(ctx, 0, n);
            return;
        }
        std::unique_lock<std::mutex> job_lock(job_mu_);  // one parallel_for at a time
        int64_t per = (n + chunks - 1) / chunks;
        {
            std::lock_guard<std::mutex> lock(mu_);
            body_ = body;
            ctx_ = ctx;
            n_ = n;
            per_ = per;
            next_chunk_ = 1;  // chunk 0 runs on the caller
            chunks_ = chunks;
            pending_.store(chunks - 1, std::memory_order_relaxed);
            ++generation_;
            published_.store(generation_, std::memory_order_release);
        }
        cv_.notify_all();
        t_inside_ = true;
        body(ctx, 0, std::min(per, n));
        // Then every chunk no worker has claimed yet. On a busy machine a worker
        // may not get a core for milliseconds; the caller does its chunk rather
        // than wait for it. A loop of small jobs (a student's per-image GEMMs,
        // each split in two) otherwise spends half its time waiting.
        for (;;) {
            int64_t chunk;
            {
                std::lock_guard<std::mutex> lock(mu_);
                if (next_chunk_ >= chunks_) break;
                chunk = next_chunk_++;
            }
            const int64_t begin = chunk * per, end = std::min(n, begin + per);
            if (begin < end) body(ctx, begin, end);
            std::lock_guard<std::mutex> lock(mu_);
            pending_.fetch_sub(1, std::memory_order_acq_rel);
        }
        t_inside_ = false;
        // A worker touches nothing of this job after counting itself done.
        auto finished = [this] { return pending_.load(std::memory_order_acquire) == 0; };
        if (spin_until(finished, kSpin)) return;
        std::unique_lock<std::mutex> lock(mu_);
        done_cv_.wait(lock, finished);
    }

    ~ThreadPool() { stop_all(); }

private:
    void work() {
        t_inside_ = true;
        uint64_t seen = 0;
        for (;;) {
            spin_until([&] { return published_.load(std::memory_order_acquire) != seen; }, kSpin);
            std::unique_lock<std::mutex> lock(mu_);
            cv_.wait(lock, [&] { return stop_ || generation_ != seen; });
            if (stop_) return;
            if (next_chunk_ >= chunks_) {  // the caller (or another worker) took every chunk
                seen = generation_;
                continue;
            }
            int64_t chunk = next_chunk_++;
            if (next_chunk_ >= chunks_) seen = generation_;
            tt_parallel_body body = body_;
            void* ctx = ctx_;
            int64_t begin = chunk * per_, end = std::min(n_, begin + per_);
            lock.unlock();
            if (begin < end) body(ctx, begin, end);
            lock.lock();
            if (pending_.fetch_sub(1, std::memory_order_acq_rel) == 1) done_cv_.notify_all();
        }
    }
    void stop_all() {
        {
            std::lock_guard<std::mutex> lock(mu_);
            stop_ = true;
            published_.store(~uint64_t{0}, std::memory_order_release);  // ends the spinning
        }
        cv_.notify_all();
        for (auto& t : workers_) t.join();
        workers_.clear();
        stop_ = false;
        published_.store(generation_, std::memory_order_release);
    }

    static thread_local bool t_inside_;
    int threads_ = 1;
    std::vector<std::thread> workers_;
    std::mutex mu_, job_mu_;
    std::condition_variable cv_, done_cv_;
    bool stop_ = false;
    uint64_t generation_ = 0;
    tt_parallel_body body_ = nullptr;
    void* ctx_ = nullptr;
    int64_t n_ = 0, per_ = 0, next_chunk_ = 0, chunks_ = 0;
    std::atomic<int64_t> pending_{0};       // chunks not finished yet (changed under mu_)
    std::atomic<uint64_t> published_{0};    // generation_, readable without the lock
};
thread_local bool ThreadPool::t_inside_ = false;

int default_threads() {
    if (const char* env = std::getenv("TT_NUM_THREADS")) {
        int n = std::atoi(env);
        if (n > 0) return n;
    }
    return std::max(1u, std::thread::hardware_concurrency());
}

ThreadPool& thread_pool() {
    static ThreadPool* p = [] {
        auto* pool = new ThreadPool;  // never destroyed: workers may be mid-job at exit
        int n = default_threads();
        pool->resize(n);
        openblas_set_num_threads(1);  // the pool splits GEMMs (host_sgemm)
        return pool;
    }();
    return *p;
}

// ---------------------------------------------------------------- GEMM
//
// OpenBLAS runs single-threaded (openblas_set_num_threads(1) below); a GEMM
// big enough to share is split over the core's own pool instead, by columns
// (or rows) of C. So the BLAS and the pool never both hold threads: OpenBLAS's
// workers, which busy-wait (sched_yield) for a while after every threaded call,
// never run, and a module may call host->sgemm from inside a parallel_for body
// (it then runs on that thread alone, no nesting).

void blas_sgemm(int32_t trans_a, int32_t trans_b, int64_t m, int64_t n, int64_t k, float alpha,
                const float* a, int64_t lda, const float* b, int64_t ldb, float beta, float* c, int64_t ldc) {
    cblas_sgemm(CblasRowMajor, trans_a ? CblasTrans : CblasNoTrans, trans_b ? CblasTrans : CblasNoTrans,
                static_cast<blasint>(m), static_cast<blasint>(n), static_cast<blasint>(k), alpha, a,
                static_cast<blasint>(lda), b, static_cast<blasint>(ldb), beta, c, static_cast<blasint>(ldc));
}

struct GemmSplit {
    int32_t ta, tb;
    int64_t m, n, k;
    float alpha;
    const float* a;
    int64_t lda;
    const float* b;
    int64_t ldb;
    float beta;
    float* c;
    int64_t ldc;
    bool by_cols;  // split the columns of C (else its rows)
    int64_t per;   // columns (rows) per part, a multiple of 16
};

void host_sgemm(int32_t trans_a, int32_t trans_b, int64_t m, int64_t n, int64_t k, float alpha,
                const float* a, int64_t lda, const float* b, int64_t ldb, float beta, float* c,
                int64_t ldc) {
    if (m <= 0 || n <= 0) return;
    if (k <= 0) {  // C = beta*C (BLAS would do the same; keep it explicit)
        for (int64_t i = 0; i < m; ++i)
            for (int64_t j = 0; j < n; ++j) c[i * ldc + j] = beta == 0.0f ? 0.0f : beta * c[i * ldc + j];
        return;
    }
    ThreadPool& pool = thread_pool();
    const int threads = pool.threads();
    const double flops = 2.0 * static_cast<double>(m) * static_cast<double>(n) * static_cast<double>(k);
    // Below ~4 MFLOP (about 30 us on one core) waking the pool costs more than it saves.
    if (threads <= 1 || ThreadPool::inside() || flops < 4e6 || (m < 32 && n < 32)) {
        blas_sgemm(trans_a, trans_b, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
        return;
    }
    GemmSplit g{trans_a, trans_b, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc, n >= m, 0};
    const int64_t dim = g.by_cols ? n : m;
    g.per = ((dim + threads - 1) / threads + 15) / 16 * 16;
    const int64_t parts = (dim + g.per - 1) / g.per;
    pool.run(parts, 1, [](void* ctx, int64_t begin, int64_t end) {
        const GemmSplit& g = *static_cast<const GemmSplit*>(ctx);
        const int64_t dim = g.by_cols ? g.n : g.m;
        for (int64_t p = begin; p < end; ++p) {
            const int64_t lo = p * g.per, hi = std::min(dim, lo + g.per);
            if (lo >= hi) continue;
            if (g.by_cols) {  // C[:, lo:hi] = op(A) . op(B)[:, lo:hi]
                const float* bp = g.tb ? g.b + lo * g.ldb : g.b + lo;
                blas_sgemm(g.ta, g.tb, g.m, hi - lo, g.k, g.alpha, g.a, g.lda, bp, g.ldb, g.beta, g.c + lo, g.ldc);
            } else {  // C[lo:hi, :] = op(A)[lo:hi, :] . op(B)
                const float* ap = g.ta ? g.a + lo : g.a + lo * g.lda;
                blas_sgemm(g.ta, g.tb, hi - lo, g.n, g.k, g.alpha, ap, g.lda, g.b, g.ldb, g.beta,
                           g.c + lo * g.ldc, g.ldc);
            }
        }
    }, &g);
}

void host_parallel_for(int64_t n, int64_t grain, tt_parallel_body body, void* ctx) {
    thread_pool().run(n, grain, body, ctx);
}

int32_t host_num_threads() { return thread_pool().threads(); }

uint32_t host_crc32(uint32_t crc, const void* data, size_t n) {
    // zlib takes uInt lengths: feed large buffers in pieces.
    const auto* p = static_cast<const Bytef*>(data);
    uLong c = crc;
    while (n > 0) {
        uInt piece = static_cast<uInt>(std::min<size_t>(n, 1u << 30));
        c = ::crc32(c, p, piece);
        p += piece;
        n -= piece;
    }
    return static_cast<uint32_t>(c);
}

}  // namespace

LastError take_last_error() {
    LastError e = std::move(t_last_error);
    t_last_error = LastError{};
    return e;
}

LiveAllocations live_allocations() {
    return {g_live_blocks.load(std::memory_order_relaxed), g_live_bytes.load(std::memory_order_relaxed)};
}

tt_host make_service_host() {
    thread_pool();  // start the pool and pin BLAS threads before any module runs
    tt_host h{};
    h.abi_version = TT_ABI_VERSION;
    h.struct_size = sizeof(tt_host);
    h.set_error = host_set_error;
    h.alloc = host_alloc;
    h.release = host_release;
    h.rng_seed = host_rng_seed;
    h.rng_next = host_rng_next;
    h.rng_uniform = host_rng_uniform;
    h.global_rng = &g_rng;
    h.sgemm = host_sgemm;
    h.parallel_for = host_parallel_for;
    h.num_threads = host_num_threads;
    h.crc32 = host_crc32;
    return h;
}

void seed_global_rng(uint64_t seed) { host_rng_seed(&g_rng, seed); }
tt_rng* global_rng() { return &g_rng; }
float rng_uniform(tt_rng* rng) { return host_rng_uniform(rng); }

void set_thread_count(int n) {
    n = std::max(1, n);
    thread_pool().resize(n);
    openblas_set_num_threads(1);  // the pool splits GEMMs (host_sgemm)
}
int thread_count() { return thread_pool().threads(); }

}  // namespace tt::detail
