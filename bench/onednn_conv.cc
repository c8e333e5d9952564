#include "bench/onednn_conv.h"

#include <cstdio>
#include <cstdlib>
#include <vector>

#include <oneapi/dnnl/dnnl.h>

namespace mb {
namespace {

void Check(dnnl_status_t status, const char* what) {
  if (status != dnnl_success) {
    std::fprintf(stderr, "bench_kernels: oneDNN %s failed (status %d)\n", what,
                 static_cast<int>(status));
    std::abort();
  }
}

}  // namespace

struct OneDnnConv::State {
  dnnl_engine_t engine = nullptr;
  dnnl_stream_t stream = nullptr;
  dnnl_primitive_desc_t forward_pd = nullptr, pd = nullptr;
  dnnl_primitive_t primitive = nullptr;
  std::vector<dnnl_memory_t> memories;
  std::vector<dnnl_exec_arg_t> args;

  // A buffer of the layout the primitive chose for its `index`th `query`,
  // filled with small values, bound to `arg`.
  void Bind(dnnl_query_t query, int index, int arg) {
    const dnnl_memory_desc_t* md = dnnl_primitive_desc_query_md(pd, query, index);
    dnnl_memory_t memory;
    Check(dnnl_memory_create(&memory, md, engine, DNNL_MEMORY_ALLOCATE), "memory_create");
    void* data;
    Check(dnnl_memory_get_data_handle(memory, &data), "get_data_handle");
    const size_t n = dnnl_memory_desc_get_size(md) / sizeof(float);
    float* values = static_cast<float*>(data);
    for (size_t i = 0; i < n; ++i) values[i] = static_cast<float>(i % 17) * 0.01f - 0.08f;
    memories.push_back(memory);
    args.push_back({arg, memory});
  }
};

OneDnnConv::OneDnnConv(ConvPass pass, size_t batch, size_t height, size_t width,
                       size_t channels, size_t filters, size_t kernel)
    : state_(new State) {
  State& s = *state_;
  Check(dnnl_engine_create(&s.engine, dnnl_cpu, 0), "engine_create");
  Check(dnnl_stream_create(&s.stream, s.engine, dnnl_stream_default_flags), "stream_create");
  const auto dim = [](size_t v) { return static_cast<dnnl_dim_t>(v); };
  const dnnl_dims_t src_dims = {dim(batch), dim(channels), dim(height), dim(width)};
  const dnnl_dims_t weight_dims = {dim(filters), dim(channels), dim(kernel), dim(kernel)};
  const dnnl_dims_t bias_dims = {dim(filters)};
  const dnnl_dims_t dst_dims = {dim(batch), dim(filters), dim(height - kernel + 1),
                                dim(width - kernel + 1)};
  const dnnl_dims_t strides = {1, 1}, padding = {0, 0};
  dnnl_memory_desc_t src, weights, bias, dst;
  Check(dnnl_memory_desc_init_by_tag(&src, 4, src_dims, dnnl_f32, dnnl_format_tag_any), "md");
  Check(dnnl_memory_desc_init_by_tag(&weights, 4, weight_dims, dnnl_f32, dnnl_format_tag_any),
        "md");
  Check(dnnl_memory_desc_init_by_tag(&bias, 1, bias_dims, dnnl_f32, dnnl_x), "md");
  Check(dnnl_memory_desc_init_by_tag(&dst, 4, dst_dims, dnnl_f32, dnnl_format_tag_any), "md");

  // The forward pass, with ReLU fused as mnistbench's epilogue does; the
  // backward passes take it as their hint, as a framework does.
  dnnl_convolution_desc_t forward;
  Check(dnnl_convolution_forward_desc_init(&forward, dnnl_forward_training,
                                           dnnl_convolution_auto, &src, &weights, &bias, &dst,
                                           strides, padding, padding),
        "forward_desc_init");
  dnnl_post_ops_t post_ops;
  Check(dnnl_post_ops_create(&post_ops), "post_ops_create");
  Check(dnnl_post_ops_append_eltwise(post_ops, 1.0f, dnnl_eltwise_relu, 0.0f, 0.0f), "relu");
  dnnl_primitive_attr_t attr;
  Check(dnnl_primitive_attr_create(&attr), "attr_create");
  Check(dnnl_primitive_attr_set_post_ops(attr, post_ops), "set_post_ops");
  Check(dnnl_primitive_desc_create(&s.forward_pd, &forward, attr, s.engine, nullptr),
        "forward pd");
  dnnl_primitive_attr_destroy(attr);
  dnnl_post_ops_destroy(post_ops);

  if (pass == ConvPass::kForward) {
    Check(dnnl_primitive_desc_clone(&s.pd, s.forward_pd), "clone");
    s.Bind(dnnl_query_src_md, 0, DNNL_ARG_SRC);
    s.Bind(dnnl_query_weights_md, 0, DNNL_ARG_WEIGHTS);
    s.Bind(dnnl_query_weights_md, 1, DNNL_ARG_BIAS);
    s.Bind(dnnl_query_dst_md, 0, DNNL_ARG_DST);
  } else if (pass == ConvPass::kBackwardInput) {
    dnnl_convolution_desc_t backward;
    Check(dnnl_convolution_backward_data_desc_init(&backward, dnnl_convolution_auto, &src,
                                                   &weights, &dst, strides, padding, padding),
          "backward_data_desc_init");
    Check(dnnl_primitive_desc_create(&s.pd, &backward, nullptr, s.engine, s.forward_pd),
          "backward data pd");
    s.Bind(dnnl_query_diff_dst_md, 0, DNNL_ARG_DIFF_DST);
    s.Bind(dnnl_query_weights_md, 0, DNNL_ARG_WEIGHTS);
    s.Bind(dnnl_query_diff_src_md, 0, DNNL_ARG_DIFF_SRC);
  } else {
    dnnl_convolution_desc_t backward;
    Check(dnnl_convolution_backward_weights_desc_init(&backward, dnnl_convolution_auto, &src,
                                                      &weights, &bias, &dst, strides, padding,
                                                      padding),
          "backward_weights_desc_init");
    Check(dnnl_primitive_desc_create(&s.pd, &backward, nullptr, s.engine, s.forward_pd),
          "backward weights pd");
    s.Bind(dnnl_query_src_md, 0, DNNL_ARG_SRC);
    s.Bind(dnnl_query_diff_dst_md, 0, DNNL_ARG_DIFF_DST);
    s.Bind(dnnl_query_diff_weights_md, 0, DNNL_ARG_DIFF_WEIGHTS);
    s.Bind(dnnl_query_diff_weights_md, 1, DNNL_ARG_DIFF_BIAS);
  }
  Check(dnnl_primitive_create(&s.primitive, s.pd), "primitive_create");
}

OneDnnConv::~OneDnnConv() {
  State& s = *state_;
  dnnl_primitive_destroy(s.primitive);
  for (dnnl_memory_t memory : s.memories) dnnl_memory_destroy(memory);
  dnnl_primitive_desc_destroy(s.pd);
  dnnl_primitive_desc_destroy(s.forward_pd);
  dnnl_stream_destroy(s.stream);
  dnnl_engine_destroy(s.engine);
}

void OneDnnConv::Run() {
  State& s = *state_;
  Check(dnnl_primitive_execute(s.primitive, s.stream, static_cast<int>(s.args.size()),
                               s.args.data()),
        "execute");
  Check(dnnl_stream_wait(s.stream), "stream_wait");
}

}  // namespace mb
