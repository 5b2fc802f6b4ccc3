// engine.cpp - the backward engine and grad mode.
//
// The core records one tt_node per operation: its inputs and the rule that
// turns d(loss)/d(output) into d(loss)/d(inputs). backward() walks that graph
// from the loss to the leaves:
//   1. order the nodes so every node comes after all the nodes that consumed
//      its output (reverse topological order), without recursion;
//   2. give the root its seed gradient, then for each node in that order call
//      node->backward once with the node's complete output gradient;
//   3. a tensor feeding several nodes receives the SUM of their gradients;
//   4. leaves (no grad_fn) that require grad get the result added to ->grad.
#include <algorithm>
#include <string>
#include <unordered_map>
#include <unordered_set>
#include <utility>
#include <vector>

#include "autograd_internal.hpp"

namespace ag {

namespace {

// Grad mode, per thread like PyTorch's. Constant-initialised: no global constructor.
thread_local int32_t g_grad_enabled = 1;

}  // namespace

// Nodes reachable from `root`, ordered so that each node comes before every
// node that produced one of its inputs (the root first, leaves' consumers last).
static tt_status topological_order(const tt_node* root, std::vector<const tt_node*>* out) {
    TT_GUARD_BEGIN
    // BEGIN SOLUTION
    // TODO: depth-first search from root over node->inputs[i]->grad_fn,
    //   emitting each node after all of its inputs' nodes (post-order), then
    //   reverse the list. Visit each node once (a set of visited nodes), and
    //   use an explicit stack instead of recursion: a chain of 10,000 ops
    //   would overflow the call stack.
    // HINT: keep (node, index of the next input to look at) pairs on a
    //   std::vector; a node whose inputs are all done is popped and emitted.
    std::vector<const tt_node*> post;
    std::unordered_set<const tt_node*> seen{root};
    std::vector<std::pair<const tt_node*, int32_t>> stack{{root, 0}};
    while (!stack.empty()) {
        const tt_node* node = stack.back().first;
        int32_t next = stack.back().second;
        if (next < node->n_inputs) {
            stack.back().second = next + 1;
            const tt_tensor* input = node->inputs[next];
            const tt_node* child = input != nullptr ? input->grad_fn : nullptr;
            if (child != nullptr && seen.insert(child).second) stack.emplace_back(child, 0);
        } else {
            post.push_back(node);
            stack.pop_back();
        }
    }
    std::reverse(post.begin(), post.end());
    *out = std::move(post);
    return TT_OK;
    // END SOLUTION
    TT_GUARD_END
}

// BEGIN SOLUTION: remove
// sum[i] += g[i] for i < n: a big gradient (a Linear's weight after
// zero_grad) is split over the core's threads.
static void add_into(float* sum, const float* g, int64_t n) {
    ttm::parallel_range(n, int64_t(1) << 16, [sum, g](int64_t begin, int64_t end) {
        for (int64_t i = begin; i < end; ++i) sum[i] += g[i];
    });
}

// END SOLUTION
// Add `g` into the running gradient kept for `key`: the first gradient a
// tensor receives is stored as it is, later ones are added element-wise.
template <class Key>
static tt_status accumulate(std::unordered_map<Key, OwnedTensor>& grads, Key key, OwnedTensor g) {
    TT_GUARD_BEGIN
    // BEGIN SOLUTION
    // TODO: store g under key when key has no gradient yet; otherwise add g
    //   into the stored tensor element by element (same shape) and drop g.
    // HINT: auto [it, inserted] = grads.try_emplace(key); then either
    //   it->second = std::move(g) or a loop over g->numel.
    auto [it, inserted] = grads.try_emplace(key);
    if (inserted) {
        it->second = std::move(g);
        return TT_OK;
    }
    add_into(it->second->data, g->data, g->numel);
    return TT_OK;
    // END SOLUTION
    TT_GUARD_END
}

tt_status backward(tt_tensor* root, const tt_tensor* grad_seed) {
    TT_GUARD_BEGIN
    require(root, __func__, "root");
    if (grad_seed == nullptr && root->numel != 1)
        return ttm::fail(TT_INVALID_ARGUMENT, __func__,
                         "backward() without a seed gradient needs a one-element root (a loss), "
                         "but the root has shape " + shape_str(root) +
                             ": reduce it first (e.g. .sum()) or pass a seed shaped like it");
    if (grad_seed != nullptr) require_same_shape(grad_seed, root, __func__, "grad_seed");
    if (root->grad_fn == nullptr && !root->requires_grad)
        return ttm::fail(TT_INVALID_ARGUMENT, __func__,
                         "the root neither requires grad nor was produced by a recorded "
                         "operation: call set_requires_grad() on the inputs before the forward "
                         "pass, and do not run it under a no-grad scope");
    // BEGIN SOLUTION
    // TODO: 1. the seed: a copy of grad_seed, or ones shaped like root.
    //   2. node_grads: the running gradient of each node's output (keyed by
    //      the node: a tensor with grad_fn == node is that output);
    //      leaf_grads: the running gradient of each leaf that requires grad.
    //   3. walk topological_order(root->grad_fn); for each node take its
    //      gradient out of the map, call node->backward(node, g, grads_in),
    //      and route every non-NULL grads_in[i] to inputs[i]: its grad_fn's
    //      entry, or leaf_grads when it is a leaf that requires grad (drop it
    //      otherwise). Check that each returned grad is shaped like its input.
    //   4. add every leaf gradient into leaf->grad (adopt it when NULL).
    //   Free everything you own on every path: OwnedTensor does it for you.
    // HINT: std::unordered_map<const tt_node*, OwnedTensor> for the nodes,
    //   std::unordered_map<tt_tensor*, OwnedTensor> for the leaves, accumulate()
    //   for both; a root that is itself a leaf simply receives the seed.
    OwnedTensor seed;
    if (grad_seed != nullptr) {
        seed = call(T().copy, grad_seed);
    } else {
        seed = zeros_like(root);
        for (int64_t i = 0; i < seed->numel; ++i) seed->data[i] = 1.0f;
    }

    std::unordered_map<const tt_node*, OwnedTensor> node_grads;
    std::unordered_map<tt_tensor*, OwnedTensor> leaf_grads;
    std::vector<tt_tensor*> leaves;  // in first-seen order, for a deterministic commit

    if (root->grad_fn == nullptr) {
        leaves.push_back(root);
        TT_CHECK(accumulate(leaf_grads, root, std::move(seed)));
    } else {
        std::vector<const tt_node*> order;
        TT_CHECK(topological_order(root->grad_fn, &order));
        node_grads.emplace(root->grad_fn, std::move(seed));
        for (const tt_node* node : order) {
            auto found = node_grads.find(node);
            if (found == node_grads.end()) continue;  // nothing flowed into this node
            OwnedTensor g = std::move(found->second);
            node_grads.erase(found);
            const std::string op = node->op_name != nullptr ? node->op_name : "?";
            if (node->backward == nullptr || node->n_inputs < 0 ||
                node->n_inputs > TT_NODE_MAX_INPUTS)
                return ttm::fail(TT_INTERNAL_ERROR, __func__,
                                 "graph node '" + op + "' has no backward rule or a bad input count");

            tt_tensor* raw[TT_NODE_MAX_INPUTS] = {nullptr, nullptr, nullptr, nullptr};
            tt_status st = node->backward(node, g.get(), raw);
            OwnedTensor grads_in[TT_NODE_MAX_INPUTS];
            for (int32_t i = 0; i < TT_NODE_MAX_INPUTS; ++i) grads_in[i].reset(raw[i]);
            if (st != TT_OK) return st;  // the rule has said why
            g.reset();

            for (int32_t i = 0; i < node->n_inputs; ++i) {
                tt_tensor* input = node->inputs[i];
                if (!grads_in[i] || input == nullptr) continue;
                if (!same_shape(grads_in[i].get(), input))
                    return ttm::fail(TT_SHAPE_MISMATCH, __func__,
                                     "the backward rule of '" + op + "' returned a gradient of shape " +
                                         shape_str(grads_in[i].get()) + " for input " +
                                         std::to_string(i) + " of shape " + shape_str(input) +
                                         ": a gradient must have its input's shape (unbroadcast?)");
                if (input->grad_fn != nullptr) {
                    TT_CHECK(accumulate(node_grads, static_cast<const tt_node*>(input->grad_fn),
                                        std::move(grads_in[i])));
                } else if (input->requires_grad) {
                    if (leaf_grads.find(input) == leaf_grads.end()) leaves.push_back(input);
                    TT_CHECK(accumulate(leaf_grads, input, std::move(grads_in[i])));
                }
            }
        }
    }

    // Check every leaf before touching any, so a failure changes nothing.
    for (tt_tensor* leaf : leaves)
        if (leaf->grad != nullptr && !same_shape(leaf->grad, leaf))
            return ttm::fail(TT_SHAPE_MISMATCH, __func__,
                             "a leaf of shape " + shape_str(leaf) + " holds a grad of shape " +
                                 shape_str(leaf->grad) + ": zero its grad first");
    for (tt_tensor* leaf : leaves) {
        OwnedTensor& g = leaf_grads[leaf];
        if (leaf->grad == nullptr) {
            leaf->grad = g.release();
        } else {
            add_into(leaf->grad->data, g->data, g->numel);
        }
    }
    return TT_OK;
    // END SOLUTION
    TT_GUARD_END
}

tt_status set_grad_enabled(int32_t enabled, int32_t* out_previous) {
    TT_GUARD_BEGIN
    if (enabled != 0 && enabled != 1)
        return ttm::fail(TT_INVALID_ARGUMENT, __func__,
                         "enabled must be 0 or 1, got " + std::to_string(enabled));
    // BEGIN SOLUTION
    // TODO: remember the old mode in *out_previous (when not NULL), then switch.
    // HINT: g_grad_enabled is the flag; is_grad_enabled reads it.
    if (out_previous != nullptr) *out_previous = g_grad_enabled;
    g_grad_enabled = enabled;
    return TT_OK;
    // END SOLUTION
    TT_GUARD_END
}

tt_status is_grad_enabled(int32_t* out_enabled) {
    TT_GUARD_BEGIN
    require(out_enabled, __func__, "out_enabled");
    // BEGIN SOLUTION
    // TODO: report the current mode (1 = recording, 0 = not).
    // HINT: *out_enabled = g_grad_enabled.
    *out_enabled = g_grad_enabled;
    return TT_OK;
    // END SOLUTION
    TT_GUARD_END
}

}  // namespace ag
