// The shape rules operator records point to (graph/op_schema.h): each takes
// a node's input infos and constants and returns its output infos. Shared by
// every op of the same shape behaviour; an op with a rule of its own keeps it
// here too, so shape inference is one file to read.
#pragma once

#include <vector>

#include "graph/op_schema.h"

namespace kiln::graph::shape_rules {

using Out = std::vector<ValueInfo>;

// Element-wise and shape-keeping ops.
Out same_as_input(const ShapeContext& c);    // input 0's type and shape
Out same_shape_bool(const ShapeContext& c);  // input 0's shape, bool (IsNaN)
Out broadcast(const ShapeContext& c);        // numpy broadcast of all inputs, input 0's type
Out broadcast_bool(const ShapeContext& c);   // the same, bool (comparisons, logic)
Out where(const ShapeContext& c);            // broadcast, input 1's type
Out cast(const ShapeContext& c);             // input 0's shape, type from 'to'
Out cast_like(const ShapeContext& c);        // input 0's shape, input 1's type
Out dropout(const ShapeContext& c);          // output, and the bool mask when asked for
// Input 0's type; the shape is known only at run time (data-dependent ops).
Out type_of_input(const ShapeContext& c);

// Cast's target type: the `to` attribute, an ONNX TensorProto type number
// (opset 6 on) or its name ("FLOAT", opsets 1-5); kUndefined when absent or
// unknown (the kernel reports that, naming the node).
DataType cast_target(const Node& node);

// Windows, matrix products, reductions.
Out conv(const ShapeContext& c);  // Conv and kiln's FusedConv
Out conv_transpose(const ShapeContext& c);
Out pool(const ShapeContext& c);  // MaxPool (and its indices), AveragePool, LpPool
Out global_pool(const ShapeContext& c);
Out gemm(const ShapeContext& c);
Out matmul(const ShapeContext& c);
Out reduce_axes_attribute(const ShapeContext& c);  // axes as an attribute
Out reduce_axes_input(const ShapeContext& c);      // axes as input 1 (ReduceSum 13+, the others 18+)
Out reduce_sum(const ShapeContext& c);             // ReduceSum: attribute before 13, input after
Out reduce_other(const ShapeContext& c);           // the other Reduce*: attribute before 18, input after
Out arg_reduce(const ShapeContext& c);

// Shape and data movement.
Out reshape(const ShapeContext& c);
Out flatten(const ShapeContext& c);
Out squeeze(const ShapeContext& c);
Out unsqueeze(const ShapeContext& c);
Out transpose(const ShapeContext& c);
Out concat(const ShapeContext& c);
Out split(const ShapeContext& c);
Out slice(const ShapeContext& c);
Out gather(const ShapeContext& c);
Out gather_elements(const ShapeContext& c);  // indices' shape, data's type
Out shape(const ShapeContext& c);
Out size(const ShapeContext& c);
Out constant_of_shape(const ShapeContext& c);
Out constant(const ShapeContext& c);
Out expand(const ShapeContext& c);
Out tile(const ShapeContext& c);
Out pad(const ShapeContext& c);
Out resize(const ShapeContext& c);  // Resize and Upsample
Out depth_to_space(const ShapeContext& c);
Out space_to_depth(const ShapeContext& c);

}  // namespace kiln::graph::shape_rules
