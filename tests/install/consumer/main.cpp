// A program outside kiln's tree that uses the installed package: it runs one
// ONNX backend node test (a folder with model.onnx and test_data_set_0/) and
// checks every output value against the stored one. Built by
// tests/install/external_consumer_test.sh with find_package(kiln) and with
// pkg-config; only the public headers are available here.
#include <kiln/error.h>
#include <kiln/session.h>
#include <kiln/tensor_io.h>

#include <cmath>
#include <cstdio>
#include <string>

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: %s NODE_TEST_DIR\n", argv[0]);
    return 2;
  }
  const std::string dir = argv[1];
  try {
    kiln::SessionOptions options;
    options.threads = 2;
    kiln::Session session = kiln::Session::open(dir + "/model.onnx", options);
    kiln::NamedTensors inputs;
    for (size_t i = 0; i < session.inputs().size(); ++i)
      inputs[session.inputs()[i].name] =
          kiln::load_tensor_file(dir + "/test_data_set_0/input_" + std::to_string(i) + ".pb");
    kiln::NamedTensors outputs = session.run(inputs);
    const std::string& name = session.outputs().at(0).name;
    const kiln::Tensor& got = outputs.at(name);
    const kiln::Tensor want = kiln::load_tensor_file(dir + "/test_data_set_0/output_0.pb");
    if (got.shape() != want.shape()) {
      std::fprintf(stderr, "output '%s' has shape %s, expected %s\n", name.c_str(),
                   kiln::shape_to_string(got.shape()).c_str(), kiln::shape_to_string(want.shape()).c_str());
      return 1;
    }
    const float* g = got.data<float>();
    const float* w = want.data<float>();
    for (int64_t i = 0; i < got.size(); ++i) {
      if (!(std::fabs(g[i] - w[i]) <= 1e-4f + 1e-4f * std::fabs(w[i]))) {
        std::fprintf(stderr, "output '%s' element %lld is %g, expected %g\n", name.c_str(),
                     static_cast<long long>(i), g[i], w[i]);
        return 1;
      }
    }
    std::printf("ok: %s %s, %lld values match, first %g\n", name.c_str(), kiln::shape_to_string(got.shape()).c_str(),
                static_cast<long long>(got.size()), g[0]);
  } catch (const kiln::Error& e) {
    std::fprintf(stderr, "kiln error: %s\n", e.what());
    return 1;
  }
  return 0;
}
