// matmul.cpp - module 01: the matrix product, 2-D and batched.
//
//     a [..., M, K] @ b [..., K, N] -> out [..., M, N]
//     out[..., i, j] = sum over k of a[..., i, k] * b[..., k, j]
//
// The last two axes are the matrices; everything before them is a batch of
// matrices, and the batch axes broadcast like element-wise ops do:
//
//     a [5, 2, 3] @ b    [3, 4]  -> [5, 2, 4]   (b is used for every batch entry)
//     a [2, 1, M, K] @ b [3, K, N] -> [2, 3, M, N]
//
// The product itself: ttm::host()->sgemm computes one row-major
// C[M,N] = alpha * A[M,K] * B[K,N] + beta * C with an optimised BLAS, which is
// 10-100x faster than a naive triple loop on big matrices. (A triple loop is
// a fine first version: get it right, then make it fast.)
#include <string>

#include "tensor_internal.hpp"

namespace t01 {

tt_status matmul(const tt_tensor* a, const tt_tensor* b, tt_tensor** out) {
    TT_GUARD_BEGIN
    TT_CHECK(begin_out(__func__, out));
    // BEGIN SOLUTION
    // TODO: check both are at least 2-D and that a's K (last size) equals b's
    //   K (second-to-last size); broadcast the batch axes; create the output
    //   [batch..., M, N]; then one M x K by K x N product per batch entry.
    // HINT: host()->sgemm(0, 0, M, N, K, 1.0f, A, K, B, N, 0.0f, C, N) multiplies
    //   one pair of row-major matrices; broadcast_plan on the batch axes gives each
    //   batch entry's matrix index in a and in b.
    TT_CHECK(require(a, __func__, "a"));
    TT_CHECK(require(b, __func__, "b"));
    if (a->ndim < 2 || b->ndim < 2)
        return ttm::fail(TT_SHAPE_MISMATCH, __func__,
                         "matmul needs tensors with at least 2 dims ([..., M, K] @ [..., K, N]), got a " +
                             shape_str(a) + " and b " + shape_str(b) +
                             ": reshape a vector of n values to [1, n] or [n, 1] first");
    const int64_t M = a->shape[a->ndim - 2], K = a->shape[a->ndim - 1];
    const int64_t Kb = b->shape[b->ndim - 2], N = b->shape[b->ndim - 1];
    if (K != Kb)
        return ttm::fail(TT_SHAPE_MISMATCH, __func__,
                         "inner sizes differ: a " + shape_str(a) + " has K = " + std::to_string(K) +
                             " columns but b " + shape_str(b) + " has " + std::to_string(Kb) +
                             " rows; they must be equal");

    // Batch axes: everything before the last two. They broadcast.
    const int32_t bna = a->ndim - 2, bnb = b->ndim - 2;
    for (int32_t i = 0; i < bna && i < bnb; ++i) {
        const int64_t sa = a->shape[bna - 1 - i], sb = b->shape[bnb - 1 - i];
        if (sa != sb && sa != 1 && sb != 1)
            return ttm::fail(TT_SHAPE_MISMATCH, __func__,
                             "batch axes of a " + shape_str(a) + " and b " + shape_str(b) +
                                 " cannot be broadcast: batch axis " + std::to_string(-(i + 1)) +
                                 " (counted from the right) has size " + std::to_string(sa) + " in a and " +
                                 std::to_string(sb) + " in b; sizes must be equal or one of them 1");
    }
    BroadcastPlan batch;
    TT_CHECK(broadcast_plan(__func__, a->shape, bna, b->shape, bnb, &batch));

    int64_t shape[TT_MAX_DIMS];
    int64_t batches = 1;
    for (int32_t d = 0; d < batch.ndim; ++d) {
        shape[d] = batch.shape[d];
        batches *= batch.shape[d];
    }
    shape[batch.ndim] = M;
    shape[batch.ndim + 1] = N;
    tt_tensor* result = nullptr;
    // The GEMMs below write every element; only K == 0 (a sum of nothing) needs zeros.
    TT_CHECK(K == 0 ? create(shape, batch.ndim + 2, &result) : empty(shape, batch.ndim + 2, &result));
    *out = result;
    if (batches == 0 || M == 0 || N == 0 || K == 0) return TT_OK;

    const tt_host* h = ttm::host();
    const int64_t a_mat = M * K, b_mat = K * N, c_mat = M * N;
    int64_t a_batches = 1;
    for (int32_t d = 0; d < bna; ++d) a_batches *= a->shape[d];
    if (a_batches == batches && b->numel == b_mat) {
        // b is one matrix shared by every batch entry and a is not stretched:
        // the a matrices are consecutive rows, so it is ONE [batches*M, K] @ [K, N].
        h->sgemm(0, 0, batches * M, N, K, 1.0f, a->data, K, b->data, N, 0.0f, result->data, N);
        return TT_OK;
    }
    // One GEMM per batch entry; idx[] walks the batch index, ia/ib follow it
    // (counted in matrices) through a and b.
    int64_t idx[TT_MAX_DIMS] = {0};
    int64_t ia = 0, ib = 0;
    for (int64_t e = 0; e < batches; ++e) {
        h->sgemm(0, 0, M, N, K, 1.0f, a->data + ia * a_mat, K, b->data + ib * b_mat, N, 0.0f,
                 result->data + e * c_mat, N);
        for (int32_t d = batch.ndim - 1; d >= 0; --d) {
            ia += batch.stride_a[d];
            ib += batch.stride_b[d];
            if (++idx[d] < batch.shape[d]) break;
            ia -= batch.stride_a[d] * batch.shape[d];
            ib -= batch.stride_b[d] * batch.shape[d];
            idx[d] = 0;
        }
    }
    return TT_OK;
    // END SOLUTION
    TT_GUARD_END
}

}  // namespace t01
