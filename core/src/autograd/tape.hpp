// tape.hpp - how the core records the autograd graph.
//
// When an operation runs on an input that requires grad (and grad mode is
// on), the C++ API calls record(): it creates a Node whose C view (tt_node) is
// what module 05's engine walks, and whose backward adapter calls the op's
// backward rule in module 05 (ops of 01-04) or module 09 (spatial ops).
//
// Lifetime: a tensor's impl owns the node that produced it; a node owns its
// inputs' impls. So the graph stays alive exactly as long as its output, and
// release_graph() cuts it after backward.
#pragma once

#include <functional>
#include <initializer_list>
#include <memory>
#include <vector>

#include "tinytorch/tensor.hpp"

namespace tt::detail {

struct Node;

struct TensorImpl {
    tt_tensor* t = nullptr;
    bool owned = true;                   // free t when the last handle goes
    std::shared_ptr<TensorImpl> owner;   // for views (grad): keeps the parent alive
    std::shared_ptr<Node> node;          // the op that produced this tensor
    ~TensorImpl();
};

// The rule adapter: `want[i]` is NULL when input i needs no gradient, else the
// slot the rule writes d(loss)/d(input i) into.
using BackwardRule = std::function<tt_status(const tt_tensor* grad, tt_tensor** const* want)>;

struct Node {
    tt_node c{};                                     // what the engine sees
    std::vector<std::shared_ptr<TensorImpl>> inputs; // kept alive for backward
    std::vector<Tensor> saved;                       // extra tensors (mask, indices, ...)
    BackwardRule rule;
    int rule_module = 5;                             // for error messages
};

// True when any input requires grad and grad mode is on (loads module 05).
bool should_record(std::initializer_list<const Tensor*> inputs);

// Attach a node to `out` (which becomes requires_grad). `saved` are kept alive
// with the node.
void record(Tensor& out, const char* op_name, std::initializer_list<const Tensor*> inputs,
            BackwardRule rule, std::vector<Tensor> saved = {});

// Drop every node reachable from root (after backward).
void release_graph(const std::shared_ptr<TensorImpl>& root);

}  // namespace tt::detail
