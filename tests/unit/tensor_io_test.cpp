// Tests for include/kiln/tensor_io.h: .npy round trips, agreement with the
// bytes numpy writes, rejection of malformed / lying / truncated files, and
// deterministic random tensors.
#include <gtest/gtest.h>

#include <cstring>
#include <filesystem>
#include <fstream>
#include <string>

#include "kiln/tensor_io.h"

namespace kiln {
namespace {

namespace fs = std::filesystem;

class TensorIo : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() /
           ("kiln_tensor_io_" + std::to_string(::testing::UnitTest::GetInstance()->random_seed()) + "_" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }

  std::string path(const std::string& name) const { return (dir_ / name).string(); }

  std::string write_file(const std::string& name, const std::string& bytes) const {
    std::string p = path(name);
    std::ofstream out(p, std::ios::binary);
    out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
    return p;
  }

  static std::string read_file(const std::string& p) {
    std::ifstream in(p, std::ios::binary);
    return std::string(std::istreambuf_iterator<char>(in), {});
  }

  // Expects load_npy(file) to throw a kiln::Error whose message names the
  // file and contains `needle`.
  void expect_load_error(const std::string& name, const std::string& bytes, const std::string& needle) const {
    std::string p = write_file(name, bytes);
    try {
      load_npy(p);
      ADD_FAILURE() << name << ": loaded without error, expected '" << needle << "'";
    } catch (const Error& e) {
      std::string message = e.what();
      EXPECT_NE(message.find(p), std::string::npos) << name << ": message does not name the file: " << message;
      EXPECT_NE(message.find(needle), std::string::npos) << name << ": expected '" << needle << "' in: " << message;
    }
  }

  fs::path dir_;
};

std::string from_hex(const std::string& hex) {
  std::string bytes;
  for (size_t i = 0; i + 1 < hex.size(); i += 2) bytes.push_back(static_cast<char>(std::stoi(hex.substr(i, 2), nullptr, 16)));
  return bytes;
}

// An .npy file with the given version, header text (padded and newline-ended
// here) and data bytes.
std::string make_npy(int major, const std::string& dict, const std::string& data) {
  size_t preamble = major == 1 ? 10 : 12;
  std::string header = dict;
  while ((preamble + header.size() + 1) % 64 != 0) header.push_back(' ');
  header.push_back('\n');
  std::string bytes("\x93NUMPY", 6);
  bytes.push_back(static_cast<char>(major));
  bytes.push_back(0);
  for (size_t i = 0; i < preamble - 8; ++i) bytes.push_back(static_cast<char>((header.size() >> (8 * i)) & 0xff));
  return bytes + header + data;
}

std::string dict_for(const std::string& descr, const std::string& shape) {
  return "{'descr': '" + descr + "', 'fortran_order': False, 'shape': " + shape + ", }";
}

std::string zero_bytes(size_t n) { return std::string(n, '\0'); }

// Written by numpy 1.24: np.save(f, np.arange(6, dtype='<i4').reshape(2, 3)).
const char* kNumpyInt32_2x3 =
    "934e554d5059010076007b276465736372273a20273c6934272c2027666f727472616e5f6f72646572273a2046616c73652c20277368"
    "617065273a2028322c2033292c207d202020202020202020202020202020202020202020202020202020202020202020202020202020"
    "202020202020202020202020202020202020200a000000000100000002000000030000000400000005000000";
// np.save(f, np.array([1.5, -2], dtype='<f2'))
const char* kNumpyFloat16_2 =
    "934e554d5059010076007b276465736372273a20273c6632272c2027666f727472616e5f6f72646572273a2046616c73652c20277368"
    "617065273a2028322c292c207d2020202020202020202020202020202020202020202020202020202020202020202020202020202020"
    "202020202020202020202020202020202020200a003e00c0";
// np.save(f, np.array([True, False, True]))
const char* kNumpyBool_3 =
    "934e554d5059010076007b276465736372273a20277c6231272c2027666f727472616e5f6f72646572273a2046616c73652c20277368"
    "617065273a2028332c292c207d2020202020202020202020202020202020202020202020202020202020202020202020202020202020"
    "202020202020202020202020202020202020200a010001";
// np.save(f, np.float64(3.25))
const char* kNumpyFloat64Scalar =
    "934e554d5059010076007b276465736372273a20273c6638272c2027666f727472616e5f6f72646572273a2046616c73652c20277368"
    "617065273a2028292c207d20202020202020202020202020202020202020202020202020202020202020202020202020202020202020"
    "202020202020202020202020202020202020200a0000000000000a40";

TEST_F(TensorIo, RoundTripsEveryDtypeAndRank) {
  const DataType dtypes[] = {DataType::kFloat16, DataType::kFloat32, DataType::kFloat64, DataType::kInt8,
                             DataType::kInt16,   DataType::kInt32,   DataType::kInt64,   DataType::kUInt8,
                             DataType::kUInt16,  DataType::kUInt32,  DataType::kUInt64,  DataType::kBool};
  const Shape shapes[] = {{}, {7}, {0}, {2, 3, 5}, {1, 1, 1, 1, 3}};
  for (DataType dtype : dtypes) {
    for (const Shape& shape : shapes) {
      Tensor original = random_tensor(dtype, shape, 42);
      std::string p = path(std::string(dtype_name(dtype)) + "_" + shape_to_string(shape) + ".npy");
      save_npy(p, original);
      EXPECT_EQ(fs::file_size(p) % 64, original.nbytes() % 64) << "header not padded to 64 bytes: " << p;
      Tensor loaded = load_npy(p);
      ASSERT_EQ(loaded.dtype(), dtype) << p;
      ASSERT_EQ(loaded.shape(), shape) << p;
      ASSERT_EQ(loaded.nbytes(), original.nbytes()) << p;
      EXPECT_EQ(std::memcmp(loaded.raw(), original.raw(), original.nbytes()), 0) << p;
    }
  }
}

TEST_F(TensorIo, WritesExactlyWhatNumpyWrites) {
  Tensor t(DataType::kInt32, {2, 3});
  for (int i = 0; i < 6; ++i) t.data<int32_t>()[i] = i;
  save_npy(path("a.npy"), t);
  EXPECT_EQ(read_file(path("a.npy")), from_hex(kNumpyInt32_2x3));

  Tensor scalar(DataType::kFloat64, {});
  *scalar.data<double>() = 3.25;
  save_npy(path("s.npy"), scalar);
  EXPECT_EQ(read_file(path("s.npy")), from_hex(kNumpyFloat64Scalar));
}

TEST_F(TensorIo, ReadsNumpyFiles) {
  Tensor i32 = load_npy(write_file("i.npy", from_hex(kNumpyInt32_2x3)));
  ASSERT_EQ(i32.dtype(), DataType::kInt32);
  ASSERT_EQ(i32.shape(), (Shape{2, 3}));
  for (int i = 0; i < 6; ++i) EXPECT_EQ(i32.data<int32_t>()[i], i);

  Tensor f16 = load_npy(write_file("h.npy", from_hex(kNumpyFloat16_2)));
  ASSERT_EQ(f16.dtype(), DataType::kFloat16);
  ASSERT_EQ(f16.shape(), (Shape{2}));
  EXPECT_EQ(f16.value_as_double(0), 1.5);
  EXPECT_EQ(f16.value_as_double(1), -2.0);

  Tensor b = load_npy(write_file("b.npy", from_hex(kNumpyBool_3)));
  ASSERT_EQ(b.dtype(), DataType::kBool);
  EXPECT_TRUE(b.data<bool>()[0]);
  EXPECT_FALSE(b.data<bool>()[1]);
  EXPECT_TRUE(b.data<bool>()[2]);

  Tensor s = load_npy(write_file("s.npy", from_hex(kNumpyFloat64Scalar)));
  ASSERT_EQ(s.dtype(), DataType::kFloat64);
  EXPECT_TRUE(s.shape().empty());
  EXPECT_EQ(*s.data<double>(), 3.25);
}

TEST_F(TensorIo, ReadsVersions2And3AndLooseHeaders) {
  std::string data = zero_bytes(4 * 6);
  for (int major : {2, 3}) {
    Tensor t = load_npy(write_file("v" + std::to_string(major) + ".npy", make_npy(major, dict_for("<f4", "(2, 3)"), data)));
    EXPECT_EQ(t.dtype(), DataType::kFloat32);
    EXPECT_EQ(t.shape(), (Shape{2, 3}));
  }
  // Key order, double quotes, no trailing comma, Python 2 long suffix.
  Tensor t = load_npy(write_file(
      "loose.npy", make_npy(1, "{\"shape\": (2L,3L), \"fortran_order\": False, \"descr\": \"<f4\"}", data)));
  EXPECT_EQ(t.shape(), (Shape{2, 3}));
  // '|' byte order for one-byte types and '<' for them too.
  EXPECT_EQ(load_npy(write_file("u1.npy", make_npy(1, dict_for("<u1", "(3,)"), zero_bytes(3)))).dtype(),
            DataType::kUInt8);
  EXPECT_EQ(load_npy(write_file("i1.npy", make_npy(1, dict_for("|i1", "(3,)"), zero_bytes(3)))).dtype(),
            DataType::kInt8);
}

TEST_F(TensorIo, NormalizesBoolBytes) {
  Tensor b = load_npy(write_file("b.npy", make_npy(1, dict_for("|b1", "(3,)"), std::string("\x00\x02\xff", 3))));
  const auto* bytes = static_cast<const unsigned char*>(b.raw());
  EXPECT_EQ(bytes[0], 0);
  EXPECT_EQ(bytes[1], 1);
  EXPECT_EQ(bytes[2], 1);
}

TEST_F(TensorIo, RejectsUnsupportedLayoutsAndTypes) {
  std::string data = zero_bytes(16);
  expect_load_error("fortran.npy",
                    make_npy(1, "{'descr': '<f4', 'fortran_order': True, 'shape': (2, 2), }", data), "Fortran");
  expect_load_error("big.npy", make_npy(1, dict_for(">f4", "(2, 2)"), data), "big-endian");
  expect_load_error("native.npy", make_npy(1, dict_for("=f4", "(2, 2)"), data), "native byte order");
  expect_load_error("object.npy", make_npy(1, dict_for("|O", "(2,)"), data), "object arrays");
  expect_load_error("complex.npy", make_npy(1, dict_for("<c8", "(2,)"), data), "unsupported dtype '<c8'");
  expect_load_error("unicode.npy", make_npy(1, dict_for("<U4", "(1,)"), data), "unsupported dtype");
  expect_load_error("f3.npy", make_npy(1, dict_for("<f3", "(1,)"), data), "unsupported dtype");
  expect_load_error("structured.npy",
                    make_npy(1, "{'descr': [('a', '<f4')], 'fortran_order': False, 'shape': (2,), }", data),
                    "structured");
  expect_load_error("version.npy", [&] {
    std::string bytes = make_npy(1, dict_for("<f4", "(4,)"), data);
    bytes[6] = 4;
    return bytes;
  }(), "version 4.0");
}

TEST_F(TensorIo, RejectsMalformedHeaders) {
  std::string data = zero_bytes(12);
  const std::pair<const char*, std::string> cases[] = {
      {"missing_shape", "{'descr': '<f4', 'fortran_order': False, }"},
      {"extra_key", "{'descr': '<f4', 'fortran_order': False, 'shape': (3,), 'x': 1}"},
      {"duplicate", "{'descr': '<f4', 'descr': '<f4', 'fortran_order': False, 'shape': (3,), }"},
      {"one_tuple", "{'descr': '<f4', 'fortran_order': False, 'shape': (3), }"},
      {"negative", "{'descr': '<f4', 'fortran_order': False, 'shape': (-3,), }"},
      {"float_dim", "{'descr': '<f4', 'fortran_order': False, 'shape': (3.0,), }"},
      {"unterminated", "{'descr': '<f4, 'fortran_order': False, 'shape': (3,), }"},
      {"no_brace", "'descr': '<f4', 'fortran_order': False, 'shape': (3,)"},
      {"trailing", "{'descr': '<f4', 'fortran_order': False, 'shape': (3,), } x"},
      {"bool_word", "{'descr': '<f4', 'fortran_order': 0, 'shape': (3,), }"},
      {"dim_overflow", "{'descr': '<f4', 'fortran_order': False, 'shape': (99999999999999999999,), }"},
      {"empty", ""},
  };
  for (const auto& [name, dict] : cases)
    expect_load_error(std::string(name) + ".npy", make_npy(1, dict, data), "malformed .npy header");
}

TEST_F(TensorIo, RejectsTruncatedAndPaddedFiles) {
  std::string good = make_npy(1, dict_for("<f4", "(2, 3)"), zero_bytes(24));
  expect_load_error("data_short.npy", good.substr(0, good.size() - 1), "truncated");
  expect_load_error("header_short.npy", good.substr(0, 40), "truncated");
  expect_load_error("preamble_short.npy", good.substr(0, 8), "truncated");
  expect_load_error("magic_short.npy", good.substr(0, 3), "not a .npy file");
  expect_load_error("zero.npy", "", "not a .npy file");
  expect_load_error("extra.npy", good + "x", "unexpected bytes");
  std::string v2 = make_npy(2, dict_for("<f4", "(2, 3)"), zero_bytes(24));
  expect_load_error("v2_preamble_short.npy", v2.substr(0, 11), "truncated");
  expect_load_error("not_npy.npy", "PK\x03\x04 this is a zip file, not an array", "not a .npy file");
}

TEST_F(TensorIo, HugeDeclaredShapesFailBeforeAllocating) {
  // Each would need terabytes or more; the error must come from comparing
  // with the file size ("truncated") or from overflow, never from allocation.
  std::string data = zero_bytes(16);
  expect_load_error("tera.npy", make_npy(1, dict_for("<f4", "(1099511627776,)"), data), "truncated");
  expect_load_error("product.npy", make_npy(1, dict_for("<f8", "(4294967296, 4294967296)"), data),
                    "has more elements than fit in 64 bits");
  expect_load_error("bytes.npy", make_npy(1, dict_for("<f8", "(4611686018427387904,)"), data), "too large");
  expect_load_error("zero_dim_ok_but_data.npy", make_npy(1, dict_for("<f4", "(0, 1099511627776)"), data),
                    "unexpected bytes");
  // A header length far beyond the file.
  std::string bytes = make_npy(2, dict_for("<f4", "(4,)"), data);
  bytes[8] = bytes[9] = bytes[10] = static_cast<char>(0xff);
  bytes[11] = 0;
  expect_load_error("header_len.npy", bytes, "larger than");
  bytes = make_npy(1, dict_for("<f4", "(4,)"), data);
  bytes[8] = bytes[9] = static_cast<char>(0xff);
  expect_load_error("header_len_v1.npy", bytes, "truncated");
}

// Mutated headers and lengths must load or throw kiln::Error, never crash or
// allocate what the file does not hold (run under ASan in the asan preset).
TEST_F(TensorIo, MutatedFilesNeverCrash) {
  std::string good = make_npy(1, dict_for("<f4", "(2, 3)"), zero_bytes(24));
  uint64_t state = 12345;
  auto next = [&state] {
    state = state * 6364136223846793005ull + 1442695040888963407ull;
    return static_cast<uint32_t>(state >> 33);
  };
  const char alphabet[] = "{}()[]':,<>|=0123456789 TrueFalsdcrphOLfiub\n\x00\xff";
  int loaded = 0, rejected = 0;
  for (int iteration = 0; iteration < 1500; ++iteration) {
    std::string bytes = good;
    int edits = 1 + next() % 4;
    for (int e = 0; e < edits; ++e) {
      size_t at = next() % bytes.size();
      switch (next() % 4) {
        case 0: bytes[at] = alphabet[next() % (sizeof(alphabet) - 1)]; break;
        case 1: bytes[at] = static_cast<char>(next()); break;
        case 2: bytes.erase(at, 1 + next() % 8); break;
        default: bytes.insert(at, 1, alphabet[next() % (sizeof(alphabet) - 1)]); break;
      }
      if (bytes.empty()) bytes.assign(1, 'x');
    }
    std::string p = write_file("mutated_" + std::to_string(iteration) + ".npy", bytes);
    try {
      Tensor t = load_npy(p);
      EXPECT_LE(t.nbytes(), bytes.size()) << "iteration " << iteration;
      ++loaded;
    } catch (const Error& e) {
      EXPECT_NE(std::string(e.what()).find(p), std::string::npos) << e.what();
      ++rejected;
    }
  }
  EXPECT_GT(rejected, 500);   // most mutations break the file
  EXPECT_GT(loaded, 0);       // some only touch data or padding
}

TEST_F(TensorIo, MissingFileAndDirectoryNameThePath) {
  try {
    load_npy(path("does_not_exist.npy"));
    ADD_FAILURE() << "no error for a missing file";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("does_not_exist.npy"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("no such file"), std::string::npos) << e.what();
  }
  fs::create_directories(path("dir.npy"));
  EXPECT_THROW(load_npy(path("dir.npy")), Error);
}

TEST_F(TensorIo, SaveRejectsBfloat16AndUnwritablePaths) {
  EXPECT_THROW(save_npy(path("bf.npy"), Tensor::zeros(DataType::kBFloat16, {2})), Error);
  try {
    save_npy(path("no_such_dir/x.npy"), Tensor::zeros(DataType::kFloat32, {2}));
    ADD_FAILURE() << "no error for an unwritable path";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("no_such_dir/x.npy"), std::string::npos) << e.what();
  }
}

TEST_F(TensorIo, LoadTensorFilePicksByExtension) {
  Tensor t = Tensor::from_floats({2}, {1.5f, -3.f});
  save_npy(path("t.NPY"), t);
  Tensor loaded = load_tensor_file(path("t.NPY"));
  ASSERT_EQ(loaded.shape(), (Shape{2}));
  EXPECT_EQ(loaded.data<float>()[1], -3.f);
  write_file("t.txt", "1 2 3");
  try {
    load_tensor_file(path("t.txt"));
    ADD_FAILURE() << "no error for a .txt file";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("'.txt'"), std::string::npos) << e.what();
  }
}

TEST(RandomTensor, IsDeterministicAndInRange) {
  Tensor a = random_tensor(DataType::kFloat32, {4, 1000}, 7);
  Tensor b = random_tensor(DataType::kFloat32, {4, 1000}, 7);
  Tensor c = random_tensor(DataType::kFloat32, {4, 1000}, 8);
  EXPECT_EQ(std::memcmp(a.raw(), b.raw(), a.nbytes()), 0);
  EXPECT_NE(std::memcmp(a.raw(), c.raw(), a.nbytes()), 0);
  double lo = 1, hi = -1, sum = 0;
  for (int64_t i = 0; i < a.size(); ++i) {
    float v = a.data<float>()[i];
    lo = std::min<double>(lo, v);
    hi = std::max<double>(hi, v);
    sum += v;
  }
  EXPECT_GE(lo, -1.0);
  EXPECT_LT(hi, 1.0);
  EXPECT_LT(lo, -0.99);  // spread over the whole range
  EXPECT_GT(hi, 0.99);
  EXPECT_NEAR(sum / a.size(), 0.0, 0.05);

  for (DataType dtype : {DataType::kFloat16, DataType::kBFloat16, DataType::kFloat64}) {
    Tensor t = random_tensor(dtype, {500}, 1);
    for (int64_t i = 0; i < t.size(); ++i) {
      EXPECT_GE(t.value_as_double(i), -1.0) << dtype_name(dtype);
      EXPECT_LT(t.value_as_double(i), 1.0) << dtype_name(dtype);
    }
  }
  for (DataType dtype : {DataType::kInt8, DataType::kUInt8, DataType::kInt16, DataType::kUInt16, DataType::kInt32,
                         DataType::kUInt32, DataType::kInt64, DataType::kUInt64}) {
    Tensor t = random_tensor(dtype, {500}, 1);
    bool saw_nonzero = false;
    for (int64_t i = 0; i < t.size(); ++i) {
      int64_t v = t.value_as_int64(i);
      EXPECT_GE(v, 0) << dtype_name(dtype);
      EXPECT_LT(v, 8) << dtype_name(dtype);
      saw_nonzero |= v != 0;
    }
    EXPECT_TRUE(saw_nonzero) << dtype_name(dtype);
  }
  Tensor flags = random_tensor(DataType::kBool, {500}, 1);
  int trues = 0;
  for (int64_t i = 0; i < flags.size(); ++i) {
    unsigned char byte = static_cast<const unsigned char*>(flags.raw())[i];
    EXPECT_LE(byte, 1);
    trues += byte;
  }
  EXPECT_GT(trues, 100);
  EXPECT_LT(trues, 400);
}

TEST(RandomTensor, SeedFromNameIsFnv1a) {
  EXPECT_EQ(seed_from_name(""), 0xcbf29ce484222325ull);
  EXPECT_EQ(seed_from_name("a"), 0xaf63dc4c8601ec8cull);
  EXPECT_NE(seed_from_name("x"), seed_from_name("y"));
}

}  // namespace
}  // namespace kiln
