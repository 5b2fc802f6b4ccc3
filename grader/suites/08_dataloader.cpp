// Grading suite for module 08 DataLoader: seeded shuffling, batching,
// drop_last, and the transforms random_hflip, random_crop and normalize.
// Samples carry their own index in their values, so every batch can be traced
// back to the source rows; expected images are computed here.
#include "common/grading.hpp"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>
#include <set>
#include <string>
#include <vector>

#include "tinytorch/runtime.hpp"

namespace {

using tt::Tensor;

const tt_dataloader_api& api() { return tt::runtime().dataloader(); }

// A loader that frees itself.
struct Loader {
    tt_dataloader* p = nullptr;
    Loader() = default;
    Loader(const Loader&) = delete;
    Loader& operator=(const Loader&) = delete;
    ~Loader() { api().loader_free(p); }
};

// n samples: x row i = [i, 100 + i, 200 + i] (shape [n, 3]), y[i] = i.
struct Data {
    Tensor x, y;
    explicit Data(int64_t n) {
        std::vector<float> xv, yv;
        for (int64_t i = 0; i < n; ++i) {
            xv.insert(xv.end(), {float(i), float(100 + i), float(200 + i)});
            yv.push_back(float(i));
        }
        x = Tensor::from(xv, {n, 3});
        y = Tensor::from(yv, {n});
    }
};

void create(Loader& l, const Data& d, int64_t batch, bool shuffle, bool drop_last, uint64_t seed) {
    TT_CALL(8, api(), loader_create, d.x.raw(), d.y.raw(), batch, shuffle ? 1 : 0, drop_last ? 1 : 0, seed, &l.p);
    REQUIRE(l.p != nullptr);
}

// Every batch of the current epoch; checks that x rows match y and the source.
std::vector<std::vector<int64_t>> epoch_batches(Loader& l, int64_t features = 3) {
    std::vector<std::vector<int64_t>> out;
    for (int guard = 0; guard < 10000; ++guard) {
        tt_tensor *bx = nullptr, *by = nullptr;
        int32_t has = -1;
        TT_CALL(8, api(), loader_next, l.p, &bx, &by, &has);
        if (has == 0) {
            CHECK(bx == nullptr);
            CHECK(by == nullptr);
            return out;
        }
        REQUIRE(has == 1);
        REQUIRE(bx != nullptr);
        REQUIRE(by != nullptr);
        Tensor x = Tensor::adopt(bx), y = Tensor::adopt(by);
        REQUIRE(x.ndim() == 2);
        REQUIRE(y.ndim() == 1);
        REQUIRE(x.size(0) == y.size(0));
        REQUIRE(x.size(1) == features);
        std::vector<int64_t> ids;
        for (int64_t r = 0; r < y.size(0); ++r) {
            const float id = y.data()[r];
            INFO("batch " << out.size() << ", row " << r << " holds sample " << id);
            // x row r must be sample id's row, in the same position as y's.
            REQUIRE(x.data()[r * 3 + 0] == id);
            REQUIRE(x.data()[r * 3 + 1] == 100 + id);
            REQUIRE(x.data()[r * 3 + 2] == 200 + id);
            ids.push_back(static_cast<int64_t>(id));
        }
        out.push_back(ids);
    }
    FAIL("loader_next never reported the end of the epoch");
    return out;
}

std::vector<int64_t> flatten(const std::vector<std::vector<int64_t>>& b) {
    std::vector<int64_t> all;
    for (const auto& v : b) all.insert(all.end(), v.begin(), v.end());
    return all;
}

std::vector<int64_t> shuffled(int64_t n, uint64_t seed) {
    std::vector<int64_t> idx(static_cast<size_t>(n), -1);
    TT_CALL(8, api(), shuffle_indices, n, seed, idx.data());
    return idx;
}

bool is_permutation_of_range(std::vector<int64_t> v) {
    std::sort(v.begin(), v.end());
    for (size_t i = 0; i < v.size(); ++i)
        if (v[i] != static_cast<int64_t>(i)) return false;
    return true;
}

int64_t num_batches(const Loader& l) {
    int64_t n = -1;
    TT_CALL(8, api(), loader_num_batches, l.p, &n);
    return n;
}

// Images [n, c, h, w] whose values are all distinct and non-zero:
// 1 + n * 1000 + c * 100 + h * 10 + w.
Tensor images(int64_t n, int64_t c, int64_t h, int64_t w) {
    std::vector<float> v;
    for (int64_t i = 0; i < n; ++i)
        for (int64_t ch = 0; ch < c; ++ch)
            for (int64_t r = 0; r < h; ++r)
                for (int64_t col = 0; col < w; ++col) v.push_back(float(1 + i * 1000 + ch * 100 + r * 10 + col));
    return Tensor::from(v, {n, c, h, w});
}

// Image i of x shifted by (dy, dx) with zeros where it leaves the image:
// out[c, r, col] = x[i, c, r + dy, col + dx].
std::vector<float> shifted(const Tensor& x, int64_t i, int64_t dy, int64_t dx) {
    const int64_t c = x.size(1), h = x.size(2), w = x.size(3);
    std::vector<float> out;
    for (int64_t ch = 0; ch < c; ++ch)
        for (int64_t r = 0; r < h; ++r)
            for (int64_t col = 0; col < w; ++col) {
                int64_t sr = r + dy, sc = col + dx;
                out.push_back(sr >= 0 && sr < h && sc >= 0 && sc < w ? x.at({i, ch, sr, sc}) : 0.0f);
            }
    return out;
}

std::vector<float> image(const Tensor& x, int64_t i) {
    const int64_t per = x.numel() / x.size(0);
    return std::vector<float>(x.data() + i * per, x.data() + (i + 1) * per);
}

std::vector<float> mirrored(const Tensor& x, int64_t i) {
    const int64_t c = x.size(1), h = x.size(2), w = x.size(3);
    std::vector<float> out;
    for (int64_t ch = 0; ch < c; ++ch)
        for (int64_t r = 0; r < h; ++r)
            for (int64_t col = 0; col < w; ++col) out.push_back(x.at({i, ch, r, w - 1 - col}));
    return out;
}

tt_rng seeded(uint64_t seed) {
    tt_rng r;
    tt::runtime().host().rng_seed(&r, seed);
    return r;
}

Tensor hflip(const Tensor& x, float p, tt_rng* rng) {
    tt_tensor* out = nullptr;
    TT_CALL(8, api(), random_hflip, x.raw(), p, rng, &out);
    return Tensor::adopt(out);
}

Tensor crop(const Tensor& x, int32_t padding, tt_rng* rng) {
    tt_tensor* out = nullptr;
    TT_CALL(8, api(), random_crop, x.raw(), padding, rng, &out);
    return Tensor::adopt(out);
}

// Whether two generators are in the same state (the same draws will follow).
bool same_state(const tt_rng& a, const tt_rng& b) { return std::memcmp(&a, &b, sizeof(tt_rng)) == 0; }

// The failure must be one of the statuses listed (the header leaves the choice).
void require_fails(const std::vector<tt_status>& allowed, const std::function<void()>& f) {
    try {
        f();
    } catch (const tt::Error& e) {
        INFO("the call failed with: " << e.what());
        bool ok = false;
        for (tt_status s : allowed) ok = ok || e.status() == s;
        REQUIRE(ok);
        return;
    }
    FAIL("expected the call to fail, but it succeeded");
}

}  // namespace

// ------------------------------------------------------------------ shuffling

TEST_CASE("shuffle_indices is a permutation, the same for the same seed", "[points:2]") {
    for (int64_t n : {1, 2, 10, 1000}) {
        INFO("n = " << n);
        std::vector<int64_t> a = shuffled(n, 7), b = shuffled(n, 7);
        CHECK(is_permutation_of_range(a));
        CHECK(a == b);
    }
    // n = 0 writes nothing and succeeds.
    TT_CALL(8, api(), shuffle_indices, 0, 7, nullptr);
}

TEST_CASE("shuffle_indices: different seeds give different orders, and they are mixed", "[points:1]") {
    std::vector<int64_t> a = shuffled(1000, 1), b = shuffled(1000, 2);
    CHECK(a != b);
    int64_t fixed = 0;
    for (int64_t i = 0; i < 1000; ++i) fixed += a[i] == i;
    CHECK(fixed < 20);  // a random permutation keeps about one element in place
}

TEST_CASE("shuffle_indices is Fisher-Yates from the back with rng_next % (i + 1)", "[points:1]") {
    // The procedure of the module's README, with the host's generator.
    const tt_host& host = tt::runtime().host();
    tt_rng rng;
    host.rng_seed(&rng, 2024);
    std::vector<int64_t> want(50);
    for (int64_t i = 0; i < 50; ++i) want[i] = i;
    for (int64_t i = 49; i > 0; --i) std::swap(want[i], want[host.rng_next(&rng) % uint64_t(i + 1)]);
    CHECK(shuffled(50, 2024) == want);
}

// ------------------------------------------------------------------ batching

TEST_CASE("without shuffle, batches hold the rows in order and the last one is partial", "[points:2]") {
    Data d(10);
    Loader l;
    create(l, d, 4, false, false, 0);
    auto batches = epoch_batches(l);
    REQUIRE(batches.size() == 3);
    CHECK(batches[0] == std::vector<int64_t>{0, 1, 2, 3});
    CHECK(batches[1] == std::vector<int64_t>{4, 5, 6, 7});
    CHECK(batches[2] == std::vector<int64_t>{8, 9});
}

TEST_CASE("num_batches is ceil(N / B), or floor(N / B) with drop_last", "[points:1]") {
    struct Case {
        int64_t n, b;
        bool drop;
        int64_t want;
    };
    for (Case c : {Case{10, 4, false, 3}, Case{10, 4, true, 2}, Case{12, 4, false, 3}, Case{12, 4, true, 3},
                   Case{3, 5, false, 1}, Case{3, 5, true, 0}, Case{7, 1, false, 7}}) {
        INFO("N " << c.n << ", batch " << c.b << ", drop_last " << c.drop);
        Data d(c.n);
        Loader l;
        create(l, d, c.b, true, c.drop, 1);
        CHECK(num_batches(l) == c.want);
        CHECK(static_cast<int64_t>(epoch_batches(l).size()) == c.want);
    }
}

TEST_CASE("drop_last drops only the partial batch", "[points:1]") {
    Data d(10);
    Loader l;
    create(l, d, 4, false, true, 0);
    auto batches = epoch_batches(l);
    REQUIRE(batches.size() == 2);
    CHECK(flatten(batches) == std::vector<int64_t>{0, 1, 2, 3, 4, 5, 6, 7});
    Loader all;
    Data d12(12);
    create(all, d12, 4, false, true, 0);
    CHECK(flatten(epoch_batches(all)).size() == 12);
}

TEST_CASE("with shuffle every sample comes exactly once per epoch, x and y still paired", "[points:2]") {
    Data d(23);
    Loader l;
    create(l, d, 5, true, false, 99);
    for (int64_t epoch = 0; epoch < 3; ++epoch) {
        INFO("epoch " << epoch);
        TT_CALL(8, api(), loader_start_epoch, l.p, epoch);
        auto batches = epoch_batches(l);  // checks the pairing row by row
        REQUIRE(batches.size() == 5);
        for (size_t b = 0; b + 1 < batches.size(); ++b) CHECK(batches[b].size() == 5);
        CHECK(batches.back().size() == 3);
        CHECK(is_permutation_of_range(flatten(batches)));
    }
}

TEST_CASE("shuffled epochs: same seed and epoch, same order; other epochs differ; order is shuffle_indices(N, seed + epoch)",
          "[points:2]") {
    Data d(40);
    Loader a, b;
    create(a, d, 8, true, false, 5);
    create(b, d, 8, true, false, 5);
    std::vector<int64_t> e0 = flatten(epoch_batches(a));  // a fresh loader starts at epoch 0
    CHECK(e0 == shuffled(40, 5));
    std::vector<int64_t> identity(40);
    for (int64_t i = 0; i < 40; ++i) identity[i] = i;
    CHECK(e0 != identity);
    TT_CALL(8, api(), loader_start_epoch, a.p, 1);
    std::vector<int64_t> e1 = flatten(epoch_batches(a));
    CHECK(e1 != e0);
    CHECK(e1 == shuffled(40, 6));
    TT_CALL(8, api(), loader_start_epoch, b.p, 1);
    CHECK(flatten(epoch_batches(b)) == e1);
    TT_CALL(8, api(), loader_start_epoch, a.p, 0);  // rewinding repeats an epoch exactly
    CHECK(flatten(epoch_batches(a)) == e0);
}

TEST_CASE("after the last batch, next keeps saying has_batch = 0; start_epoch rewinds", "[points:1]") {
    Data d(3);
    Loader l;
    create(l, d, 2, false, false, 0);
    REQUIRE(epoch_batches(l).size() == 2);
    for (int i = 0; i < 3; ++i) {
        tt_tensor *x = nullptr, *y = nullptr;
        int32_t has = -1;
        TT_CALL(8, api(), loader_next, l.p, &x, &y, &has);
        CHECK(has == 0);
        CHECK(x == nullptr);
        CHECK(y == nullptr);
    }
    TT_CALL(8, api(), loader_start_epoch, l.p, 0);
    CHECK(flatten(epoch_batches(l)) == std::vector<int64_t>{0, 1, 2});
}

TEST_CASE("batches keep the sample shape of images and of multi-column targets", "[points:1]") {
    Tensor x = images(5, 2, 3, 4);
    std::vector<float> yv;
    for (int i = 0; i < 5; ++i) yv.insert(yv.end(), {float(i), float(-i)});
    Tensor y = Tensor::from(yv, {5, 2});
    Loader l;
    TT_CALL(8, api(), loader_create, x.raw(), y.raw(), 2, 1, 0, 3, &l.p);
    std::vector<int64_t> order = shuffled(5, 3);
    size_t seen = 0;
    for (;;) {
        tt_tensor *bx = nullptr, *by = nullptr;
        int32_t has = 0;
        TT_CALL(8, api(), loader_next, l.p, &bx, &by, &has);
        if (!has) break;
        Tensor tx = Tensor::adopt(bx), ty = Tensor::adopt(by);
        REQUIRE(tx.shape().size() == 4);
        CHECK(tx.size(1) == 2);
        CHECK(tx.size(2) == 3);
        CHECK(tx.size(3) == 4);
        CHECK(ty.shape() == tt::Shape{tx.size(0), 2});
        for (int64_t r = 0; r < tx.size(0); ++r, ++seen) {
            const int64_t id = order[seen];
            CHECK(image(tx, r) == image(x, id));
            CHECK(ty.at({r, 0}) == float(id));
            CHECK(ty.at({r, 1}) == float(-id));
        }
    }
    CHECK(seen == 5);
}

TEST_CASE("loader_create rejects mismatched sample counts and batch sizes < 1", "[points:1]") {
    Data d(4);
    Tensor y3 = Tensor::from({0, 1, 2}, {3});
    tt_dataloader* out = nullptr;
    grade::require_status(TT_SHAPE_MISMATCH,
                          [&] { TT_CALL(8, api(), loader_create, d.x.raw(), y3.raw(), 2, 0, 0, 0, &out); });
    grade::require_status(TT_INVALID_ARGUMENT,
                          [&] { TT_CALL(8, api(), loader_create, d.x.raw(), d.y.raw(), 0, 0, 0, 0, &out); });
    grade::require_status(TT_INVALID_ARGUMENT,
                          [&] { TT_CALL(8, api(), loader_create, nullptr, d.y.raw(), 2, 0, 0, 0, &out); });
    CHECK(out == nullptr);
    // and a valid loader over the same data batches it
    Loader l;
    create(l, d, 3, false, false, 0);
    CHECK(epoch_batches(l).size() == 2);
}

// ------------------------------------------------------------------ random_hflip

TEST_CASE("random_hflip with p = 1 mirrors every image exactly; p = 0 copies", "[points:2]") {
    Tensor x = images(3, 2, 3, 5);
    std::vector<float> before = x.to_vector();
    tt_rng rng = seeded(1);
    Tensor all = hflip(x, 1.0f, &rng);
    REQUIRE(all.shape() == x.shape());
    for (int64_t i = 0; i < 3; ++i) CHECK(image(all, i) == mirrored(x, i));
    Tensor none = hflip(x, 0.0f, &rng);
    REQUIRE(none.shape() == x.shape());
    CHECK(none.to_vector() == before);
    CHECK(x.to_vector() == before);  // the input is not modified
    CHECK(none.raw() != x.raw());
}

TEST_CASE("random_hflip draws one uniform per image, in image order, flipping when u < p", "[points:1]") {
    // The draws are replayed here on a copy of the generator: image i is
    // mirrored exactly when the i-th rng_uniform is below p, and afterwards the
    // generator has moved on by one draw per image.
    Tensor x = images(16, 2, 3, 4);
    for (float p : {0.3f, 0.7f}) {
        INFO("p = " << p);
        tt_rng rng = seeded(2024), replay = rng;
        Tensor y = hflip(x, p, &rng);
        for (int64_t i = 0; i < 16; ++i) {
            INFO("image " << i);
            const bool flip = tt::runtime().host().rng_uniform(&replay) < p;
            CHECK(image(y, i) == (flip ? mirrored(x, i) : image(x, i)));
        }
        CHECK(same_state(rng, replay));
    }
}

TEST_CASE("random_hflip draws for every image also when p is 0 or 1", "[points:1]") {
    // One draw per image whatever p is, so that the draws after a transform do
    // not depend on p (a seeded run changes only where p changes it).
    Tensor x = images(5, 1, 2, 3);
    for (float p : {0.0f, 1.0f}) {
        INFO("p = " << p);
        tt_rng rng = seeded(99), replay = rng;
        hflip(x, p, &rng);
        for (int i = 0; i < 5; ++i) tt::runtime().host().rng_uniform(&replay);
        CHECK(same_state(rng, replay));
    }
}

TEST_CASE("random_hflip with p = 0.5: each image mirrored or not, about half, reproducible per seed", "[points:1]") {
    Tensor x = images(200, 1, 2, 3);
    tt_rng r1 = seeded(42), r2 = seeded(42);
    Tensor a = hflip(x, 0.5f, &r1), b = hflip(x, 0.5f, &r2);
    CHECK(a.to_vector() == b.to_vector());
    int flipped = 0;
    for (int64_t i = 0; i < 200; ++i) {
        INFO("image " << i);
        bool is_flipped = image(a, i) == mirrored(x, i);
        CHECK((is_flipped || image(a, i) == image(x, i)));
        flipped += is_flipped;
    }
    CHECK(flipped > 70);
    CHECK(flipped < 130);
}

// ------------------------------------------------------------------ random_crop

TEST_CASE("random_crop with padding 0 is the identity", "[points:1]") {
    Tensor x = images(4, 3, 5, 6);
    tt_rng rng = seeded(3);
    Tensor y = crop(x, 0, &rng);
    CHECK(y.shape() == x.shape());
    CHECK(y.to_vector() == x.to_vector());
    CHECK(y.raw() != x.raw());
}

TEST_CASE("random_crop cuts a shifted window with zeros where it reaches the padding", "[points:3]") {
    const int32_t pad = 2;
    Tensor x = images(40, 2, 5, 7);
    std::vector<float> before = x.to_vector();
    tt_rng rng = seeded(11);
    Tensor y = crop(x, pad, &rng);
    REQUIRE(y.shape() == x.shape());
    CHECK(x.to_vector() == before);
    std::set<std::pair<int64_t, int64_t>> offsets;
    for (int64_t i = 0; i < 40; ++i) {
        INFO("image " << i);
        // Find the offset that explains the output; the values are distinct, so
        // at most one does.
        int matches = 0;
        for (int64_t dy = -pad; dy <= pad; ++dy)
            for (int64_t dx = -pad; dx <= pad; ++dx)
                if (image(y, i) == shifted(x, i, dy, dx)) {
                    ++matches;
                    offsets.insert({dy, dx});
                }
        CHECK(matches == 1);
    }
    // Uniform offsets over 5 x 5 positions: 40 images hit many of them, and both extremes.
    CHECK(offsets.size() >= 12);
    bool extreme = false;
    for (auto [dy, dx] : offsets) extreme = extreme || std::abs(dy) == pad || std::abs(dx) == pad;
    CHECK(extreme);
}

TEST_CASE("random_crop draws oy then ox per image, each rng_next % (2 padding + 1)", "[points:2]") {
    // The draws are replayed here on a copy of the generator: for image i,
    // oy = next % (2p + 1) then ox = next % (2p + 1), and the output is the
    // padded image's window at (oy, ox): out[c, r, col] = x[c, r + oy - p, col + ox - p].
    Tensor x = images(12, 2, 4, 5);
    for (int32_t pad : {1, 2, 3}) {
        INFO("padding " << pad);
        tt_rng rng = seeded(300 + static_cast<uint64_t>(pad)), replay = rng;
        Tensor y = crop(x, pad, &rng);
        REQUIRE(y.shape() == x.shape());
        const uint64_t span = 2 * static_cast<uint64_t>(pad) + 1;
        for (int64_t i = 0; i < 12; ++i) {
            const int64_t oy = static_cast<int64_t>(tt::runtime().host().rng_next(&replay) % span);
            const int64_t ox = static_cast<int64_t>(tt::runtime().host().rng_next(&replay) % span);
            INFO("image " << i << ": oy " << oy << ", ox " << ox);
            CHECK(image(y, i) == shifted(x, i, oy - pad, ox - pad));
        }
        INFO("the generator must have moved on by exactly two draws per image");
        CHECK(same_state(rng, replay));
    }
}

TEST_CASE("random_crop is reproducible with the same rng seed and varies across calls", "[points:1]") {
    Tensor x = images(8, 1, 6, 6);
    tt_rng r1 = seeded(5), r2 = seeded(5);
    Tensor a = crop(x, 3, &r1), b = crop(x, 3, &r2);
    CHECK(a.to_vector() == b.to_vector());
    Tensor c = crop(x, 3, &r1);  // the generator moved on
    CHECK(c.to_vector() != a.to_vector());
}

TEST_CASE("transforms with rng NULL draw from the global generator", "[points:1]") {
    Tensor x = images(16, 1, 4, 4);
    tt::runtime().seed(77);
    Tensor a = crop(x, 2, nullptr), fa = hflip(x, 0.5f, nullptr);
    tt::runtime().seed(77);
    Tensor b = crop(x, 2, nullptr), fb = hflip(x, 0.5f, nullptr);
    CHECK(a.to_vector() == b.to_vector());
    CHECK(fa.to_vector() == fb.to_vector());
}

// ------------------------------------------------------------------ normalize

TEST_CASE("normalize subtracts each channel's mean and divides by its std", "[points:2]") {
    // [1, 2, 2, 2]: channel 0 = [[1, 2], [3, 4]], channel 1 = [[10, 20], [30, 40]]
    Tensor x = Tensor::from({1, 2, 3, 4, 10, 20, 30, 40}, {1, 2, 2, 2});
    const float mean[2] = {2.0f, 20.0f}, stdv[2] = {0.5f, 10.0f};
    tt_tensor* out = nullptr;
    TT_CALL(8, api(), normalize, x.raw(), mean, stdv, 2, &out);
    Tensor y = Tensor::adopt(out);
    grade::require_close(y, std::vector<double>{-2, 0, 2, 4, -1, 0, 1, 2}, {1, 2, 2, 2}, 1e-6, 1e-6);
    CHECK(x.at({0, 0, 0, 0}) == 1.0f);
}

TEST_CASE("normalize matches a double computation on a random batch", "[points:1]") {
    std::vector<float> v = grade::random_values(4 * 3 * 5 * 6, 801, 0, 1);
    Tensor x = Tensor::from(v, {4, 3, 5, 6});
    const float mean[3] = {0.49f, 0.48f, 0.45f}, stdv[3] = {0.25f, 0.24f, 0.26f};
    tt_tensor* out = nullptr;
    TT_CALL(8, api(), normalize, x.raw(), mean, stdv, 3, &out);
    std::vector<double> want(v.size());
    for (size_t k = 0; k < v.size(); ++k) {
        size_t c = (k / 30) % 3;
        want[k] = (double(v[k]) - mean[c]) / stdv[c];
    }
    grade::require_close(Tensor::adopt(out), want, {4, 3, 5, 6}, 1e-5, 1e-5);
}

// ------------------------------------------------------------------ errors

TEST_CASE("transform errors: p outside [0, 1], padding < 0, std 0, channel count, not NCHW", "[points:1]") {
    Tensor x = images(2, 2, 3, 3);
    tt_rng rng = seeded(1);
    tt_tensor* out = nullptr;
    grade::require_status(TT_INVALID_ARGUMENT, [&] { TT_CALL(8, api(), random_hflip, x.raw(), 1.5f, &rng, &out); });
    grade::require_status(TT_INVALID_ARGUMENT, [&] { TT_CALL(8, api(), random_hflip, x.raw(), -0.1f, &rng, &out); });
    grade::require_status(TT_INVALID_ARGUMENT, [&] { TT_CALL(8, api(), random_crop, x.raw(), -1, &rng, &out); });
    const float mean[2] = {0, 0}, zero_std[2] = {1, 0}, one[2] = {1, 1};
    grade::require_status(TT_INVALID_ARGUMENT,
                          [&] { TT_CALL(8, api(), normalize, x.raw(), mean, zero_std, 2, &out); });
    grade::require_status(TT_SHAPE_MISMATCH, [&] { TT_CALL(8, api(), normalize, x.raw(), mean, one, 1, &out); });
    Tensor flat = Tensor::zeros({2, 9});
    require_fails({TT_SHAPE_MISMATCH, TT_INVALID_ARGUMENT},
                  [&] { TT_CALL(8, api(), random_hflip, flat.raw(), 0.5f, &rng, &out); });
    require_fails({TT_SHAPE_MISMATCH, TT_INVALID_ARGUMENT},
                  [&] { TT_CALL(8, api(), random_crop, flat.raw(), 1, &rng, &out); });
    CHECK(out == nullptr);
    // valid calls on the same input work
    Tensor ok = hflip(x, 1.0f, &rng);
    CHECK(image(ok, 1) == mirrored(x, 1));
}
