#include "autograd/tape.hpp"

#include <unordered_set>

#include "runtime/host_services.hpp"
#include "tinytorch/runtime.hpp"

namespace tt::detail {

TensorImpl::~TensorImpl() {
    // Dropping the last handle of a long chain would otherwise recurse once
    // per op (impl -> node -> input impl -> node ...). Take over every node
    // only this chain owns and destroy them one by one instead.
    std::vector<std::shared_ptr<Node>> pending;
    if (node && node.use_count() == 1) pending.push_back(std::move(node));
    while (!pending.empty()) {
        std::shared_ptr<Node> n = std::move(pending.back());
        pending.pop_back();
        for (auto& in : n->inputs)
            if (in.use_count() == 1 && in->node && in->node.use_count() == 1) pending.push_back(std::move(in->node));
        // n dies here; its inputs die without their nodes (taken above).
    }
    if (owned && t != nullptr) {
        t->grad_fn = nullptr;  // the node goes with this impl; never a dangling pointer
        runtime().tensor().free(t);
    }
}

namespace {

// The C entry the engine calls for every node: forwards to the rule adapter,
// and keeps C++ exceptions on this side of the ABI.
tt_status node_backward(const tt_node* c, const tt_tensor* grad, tt_tensor** grad_inputs) {
    auto* node = static_cast<Node*>(c->core_ctx);
    try {
        tt_tensor** const want[TT_NODE_MAX_INPUTS] = {
            c->n_inputs > 0 && c->inputs[0]->requires_grad ? &grad_inputs[0] : nullptr,
            c->n_inputs > 1 && c->inputs[1]->requires_grad ? &grad_inputs[1] : nullptr,
            c->n_inputs > 2 && c->inputs[2]->requires_grad ? &grad_inputs[2] : nullptr,
            c->n_inputs > 3 && c->inputs[3]->requires_grad ? &grad_inputs[3] : nullptr};
        return node->rule(grad, want);
    } catch (const std::exception& e) {
        return runtime().host().set_error(node->rule_module, TT_INTERNAL_ERROR, c->op_name, e.what());
    }
}

}  // namespace

bool should_record(std::initializer_list<const Tensor*> inputs) {
    bool any = false;
    for (const Tensor* t : inputs)
        if (t->defined() && t->raw()->requires_grad) any = true;
    if (!any) return false;
    int32_t enabled = 1;
    TT_CALL(5, runtime().autograd(), is_grad_enabled, &enabled);
    return enabled != 0;
}

void record(Tensor& out, const char* op_name, std::initializer_list<const Tensor*> inputs,
            BackwardRule rule, std::vector<Tensor> saved) {
    auto node = std::make_shared<Node>();
    node->c.op_name = op_name;
    node->c.backward = node_backward;
    node->c.core_ctx = node.get();
    for (const Tensor* t : inputs) {
        if (!t->defined()) continue;
        node->c.inputs[node->c.n_inputs++] = t->raw();
        node->inputs.push_back(t->impl());
    }
    node->saved = std::move(saved);
    node->rule = std::move(rule);
    // Spatial ops take their backward rule from module 09, the rest from 05.
    static const std::unordered_set<std::string> spatial_ops = {
        "conv2d", "max_pool2d", "avg_pool2d", "batch_norm2d", "batch_norm2d_relu", "batch_norm2d_relu_max_pool2d"};
    node->rule_module = spatial_ops.count(op_name) ? 9 : 5;
    out.raw()->grad_fn = &node->c;
    out.raw()->requires_grad = 1;
    out.impl()->node = std::move(node);
}

void release_graph(const std::shared_ptr<TensorImpl>& root) {
    // Iterative: a 10,000-op chain must not recurse 10,000 deep. Collect the
    // nodes first, then drop them (dropping frees inputs, which may be the
    // last owners of further nodes; those were collected already).
    std::vector<std::shared_ptr<Node>> nodes;
    std::vector<TensorImpl*> stack{root.get()};
    std::unordered_set<TensorImpl*> seen;
    while (!stack.empty()) {
        TensorImpl* impl = stack.back();
        stack.pop_back();
        if (!impl || !impl->node || !seen.insert(impl).second) continue;
        std::shared_ptr<Node> node = std::move(impl->node);
        impl->node.reset();
        if (impl->t) impl->t->grad_fn = nullptr;
        for (auto& in : node->inputs) stack.push_back(in.get());
        nodes.push_back(std::move(node));
    }
    // Destroy in creation-reverse order of discovery without deep recursion:
    // each node's inputs no longer own nodes (we moved them out above).
    while (!nodes.empty()) nodes.pop_back();
}

}  // namespace tt::detail
