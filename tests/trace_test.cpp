// Golden traces and candidate files: what is written is what is read, bit for bit, in every
// convention; the same request gives the same bytes; bf16 is stored exactly and values off
// the declared grid are refused; and every kind of damage is refused with a one-line error
// that names the file and the dataset.
#include <hdf5.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "golden/presets.hpp"
#include "golden/trace.hpp"
#include "test_util.hpp"

using namespace gdn;
using namespace gdn::test;
namespace fs = std::filesystem;

namespace {

// A fresh directory per test case, removed at the end.
struct TempDir {
  fs::path path;
  explicit TempDir(const std::string& tag) {
    path = fs::temp_directory_path() / ("gdn_trace_test_" + std::to_string(getpid()) + "_" + tag);
    fs::remove_all(path);
    fs::create_directories(path);
  }
  ~TempDir() { fs::remove_all(path); }
  std::string file(const std::string& name) const { return (path / name).string(); }
};

struct Case {
  Layout layout = Layout::VK;
  GateForm gates = GateForm::Raw;
  bool varlen = false, speculative = false, token_states = false;
  int64_t pad_rows = 0;
  PadSentinel sentinel = PadSentinel::MinusOne;
  Dtype input = Dtype::BF16, params = Dtype::F32, state = Dtype::F32;
  uint64_t seed = 1;
};

TraceRequest request(const Case& k) {
  TraceRequest rq;
  GenerateOptions& g = rq.generate;
  g.config = small_config(2, 4, 16, 8, k.layout);
  g.config.gate_form = k.gates;
  g.config.pad_sentinel = k.sentinel;
  g.N = 3;
  g.T = 4;
  if (k.varlen) g.seq_lens = {3, 1, 5};
  g.speculative = k.speculative;
  g.pad_rows = k.pad_rows;
  g.state_indices = k.pad_rows > 0;
  g.extra_slots = 2;
  g.input_dtype = k.input;
  g.params_dtype = k.params;
  g.state_dtype = k.state;
  g.seed = k.seed;
  rq.token_states = k.token_states;
  rq.command_line = "trace_test";
  return rq;
}

bool same_index(const IndexTensor& a, const IndexTensor& b) { return a.shape == b.shape && a.data == b.data; }

void require_same_inputs(const Inputs& a, const Inputs& b) {
  CHECK(same_index(a.cu_seqlens, b.cu_seqlens));
  for (auto [x, y] : {std::pair{&a.q, &b.q}, {&a.k, &b.k}, {&a.v, &b.v}, {&a.a, &b.a}, {&a.b, &b.b}, {&a.A_log, &b.A_log},
                      {&a.dt_bias, &b.dt_bias}, {&a.g, &b.g}, {&a.beta, &b.beta}, {&a.state, &b.state}})
    CHECK(bit_equal(*x, *y));
  CHECK(same_index(a.state_indices, b.state_indices));
  CHECK(same_index(a.num_accepted, b.num_accepted));
}

std::string read_error(const std::string& path) {
  try {
    read_trace(path);
  } catch (const InputError& e) {
    return e.what();
  }
  return "";
}

bool contains(const std::string& s, const std::string& part) { return s.find(part) != std::string::npos; }

// The file offset and size of the first stored chunk of a dataset.
std::pair<haddr_t, hsize_t> first_chunk(const std::string& path, const char* dataset) {
  const hid_t f = H5Fopen(path.c_str(), H5F_ACC_RDONLY, H5P_DEFAULT);
  const hid_t d = H5Dopen2(f, dataset, H5P_DEFAULT);
  hsize_t offset[8];
  unsigned mask = 0;
  haddr_t addr = 0;
  hsize_t size = 0;
  const hid_t space = H5Dget_space(d);
  REQUIRE(H5Dget_chunk_info(d, space, 0, offset, &mask, &addr, &size) >= 0);
  H5Sclose(space);
  H5Dclose(d);
  H5Fclose(f);
  return {addr, size};
}

void flip_byte(const std::string& path, std::streamoff at) {
  std::fstream f(path, std::ios::in | std::ios::out | std::ios::binary);
  f.seekg(at);
  char ch = 0;
  f.read(&ch, 1);
  ch = static_cast<char>(ch ^ 0x5a);
  f.seekp(at);
  f.write(&ch, 1);
}

// Opens a written file read-write for surgery with the raw HDF5 API.
struct RawFile {
  hid_t id;
  explicit RawFile(const std::string& path) : id(H5Fopen(path.c_str(), H5F_ACC_RDWR, H5P_DEFAULT)) { REQUIRE(id >= 0); }
  ~RawFile() { H5Fclose(id); }
};

}  // namespace

TEST_CASE("a trace reads back bit for bit in every convention", "[trace]") {
  Case k;
  k.layout = GENERATE(Layout::KV, Layout::VK);
  k.gates = GENERATE(GateForm::Raw, GateForm::Precomputed);
  const int variant = GENERATE(0, 1, 2, 3, 4);
  k.varlen = variant == 1;
  k.speculative = variant == 2;
  k.token_states = variant == 2 || variant == 3;
  k.pad_rows = variant == 3 || variant == 4 ? 1 : 0;
  k.sentinel = variant == 4 ? PadSentinel::NonPositive : PadSentinel::MinusOne;
  if (variant == 4) k.input = k.params = k.state = Dtype::F64;
  if (variant == 3) k.state = Dtype::BF16;
  k.seed = seed_for("trace roundtrip", static_cast<uint64_t>(variant));
  INFO("layout " << to_string(k.layout) << " gates " << to_string(k.gates) << " variant " << variant);
  TempDir dir("roundtrip");
  const Trace w = build_trace(request(k));
  write_trace(dir.file("t.h5"), w);
  const Trace r = read_trace(dir.file("t.h5"));
  CHECK(r.config.H == w.config.H);
  CHECK(r.config.HV == w.config.HV);
  CHECK(r.config.K == w.config.K);
  CHECK(r.config.V == w.config.V);
  CHECK(r.config.layout == w.config.layout);
  CHECK(r.config.gate_form == w.config.gate_form);
  CHECK(r.config.qk_norm == w.config.qk_norm);
  CHECK(r.config.pad_sentinel == w.config.pad_sentinel);
  CHECK(r.config.scale == w.config.scale);
  CHECK(r.dtypes.input == k.input);
  CHECK(r.dtypes.params == k.params);
  CHECK(r.dtypes.state == k.state);
  require_same_inputs(w.inputs, r.inputs);
  CHECK(bit_equal(r.golden.o, w.golden.o));
  CHECK(bit_equal(r.golden.state, w.golden.state));
  CHECK(bit_equal(r.golden.token_states, w.golden.token_states));
  CHECK(r.golden.token_states.present() == k.token_states);
  CHECK(r.provenance.seed == k.seed);
  CHECK(r.provenance.command_line == "trace_test");
  CHECK(r.provenance.generator == generator_version());
  CHECK(r.provenance.inputs_digest == inputs_digest(w));
  // The golden outputs are the float64 oracle of the inputs read back.
  RunOptions ro;
  ro.token_states = k.token_states;
  const Outputs again = reference(r.config, r.inputs, ro);
  CHECK(bit_equal(again.o, r.golden.o));
  CHECK(bit_equal(again.state, r.golden.state));
}

TEST_CASE("same request, same build: identical bytes, not only identical datasets", "[trace]") {
  TempDir dir("identical");
  Case k;
  k.seed = seed_for("identical");
  k.token_states = true;
  write_trace(dir.file("a.h5"), build_trace(request(k)));
  write_trace(dir.file("b.h5"), build_trace(request(k)));
  std::ifstream a(dir.file("a.h5"), std::ios::binary), b(dir.file("b.h5"), std::ios::binary);
  const std::string sa((std::istreambuf_iterator<char>(a)), {}), sb((std::istreambuf_iterator<char>(b)), {});
  INFO("file sizes " << sa.size() << " and " << sb.size());
  CHECK(sa.size() > 0);
  CHECK(sa == sb);
  // Another seed gives other inputs (the test above is not comparing constants).
  k.seed += 1;
  write_trace(dir.file("c.h5"), build_trace(request(k)));
  CHECK(read_trace(dir.file("c.h5")).provenance.inputs_digest != read_trace(dir.file("a.h5")).provenance.inputs_digest);
}

TEST_CASE("bf16 is stored as float32 with dtype attribute, and values off the grid are refused", "[trace]") {
  TempDir dir("bf16");
  Case k;
  k.seed = seed_for("bf16 storage");
  const std::string path = dir.file("t.h5");
  write_trace(path, build_trace(request(k)));
  {
    RawFile f(path);
    const hid_t d = H5Dopen2(f.id, "inputs/q", H5P_DEFAULT);
    const hid_t t = H5Dget_type(d);
    CHECK(H5Tget_class(t) == H5T_FLOAT);
    CHECK(H5Tget_size(t) == 4);
    const hid_t a = H5Aopen(d, "dtype", H5P_DEFAULT);
    const hid_t at = H5Aget_type(a);
    char* value = nullptr;
    REQUIRE(H5Aread(a, at, &value) >= 0);
    CHECK(std::string(value) == "bfloat16");
    H5free_memory(value);
    // One float32 value that bf16 cannot hold, written into q[1, 2, 1, 5].
    const hsize_t start[4] = {1, 2, 1, 5}, count[4] = {1, 1, 1, 1};
    const hid_t fs_ = H5Dget_space(d);
    H5Sselect_hyperslab(fs_, H5S_SELECT_SET, start, nullptr, count, nullptr);
    const hid_t ms = H5Screate_simple(4, count, nullptr);
    const float off_grid = 1.0f + 0x1p-12f;
    REQUIRE(H5Dwrite(d, H5T_NATIVE_FLOAT, ms, fs_, H5P_DEFAULT, &off_grid) >= 0);
    H5Sclose(ms);
    H5Sclose(fs_);
    H5Tclose(at);
    H5Aclose(a);
    H5Tclose(t);
    H5Dclose(d);
  }
  const std::string err = read_error(path);
  INFO(err);
  CHECK(contains(err, path));
  CHECK(contains(err, "dataset inputs/q"));
  CHECK(contains(err, "[1, 2, 1, 5]"));
  CHECK(contains(err, "not a bfloat16 value"));
  CHECK(err.find('\n') == std::string::npos);
}

TEST_CASE("damaged files are refused with one clear line", "[trace][corruption]") {
  TempDir dir("damage");
  Case k;
  k.seed = seed_for("damage");
  const Trace tr = build_trace(request(k));
  const std::string good = dir.file("good.h5");
  write_trace(good, tr);
  REQUIRE(read_error(good).empty());
  auto copy = [&](const std::string& name) {
    const std::string p = dir.file(name);
    fs::copy_file(good, p, fs::copy_options::overwrite_existing);
    return p;
  };
  std::string err;

  SECTION("a flipped byte in a dataset's data") {
    const std::string p = copy("flipped.h5");
    const auto [addr, size] = first_chunk(p, "inputs/v");
    flip_byte(p, static_cast<std::streamoff>(addr + size / 2));
    err = read_error(p);
    CHECK(contains(err, "dataset inputs/v: checksum mismatch (file corrupted)"));
  }
  SECTION("a flipped byte in the file's metadata (superblock)") {
    const std::string p = copy("meta.h5");
    flip_byte(p, 20);
    err = read_error(p);
    CHECK(contains(err, "cannot open as HDF5"));
  }
  SECTION("a truncated file") {
    const std::string p = copy("truncated.h5");
    fs::resize_file(p, fs::file_size(p) / 2);
    err = read_error(p);
    CHECK(contains(err, "truncated"));
  }
  SECTION("a file that is not HDF5") {
    const std::string p = dir.file("text.h5");
    std::ofstream(p) << "q,k,v\n1,2,3\n";
    err = read_error(p);
    CHECK(contains(err, "not an HDF5 file"));
  }
  SECTION("a missing file") {
    err = read_error(dir.file("absent.h5"));
    CHECK(contains(err, "cannot open (No such file or directory)"));
  }
  SECTION("a foreign HDF5 file") {
    const std::string p = dir.file("foreign.h5");
    const hid_t f = H5Fcreate(p.c_str(), H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT);
    const hsize_t n = 4;
    const hid_t s = H5Screate_simple(1, &n, nullptr);
    const hid_t d = H5Dcreate2(f, "x", H5T_IEEE_F32LE, s, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
    H5Dclose(d);
    H5Sclose(s);
    H5Fclose(f);
    err = read_error(p);
    CHECK(contains(err, "not a gdn trace"));
  }
  SECTION("a wrong schema version") {
    const std::string p = copy("version.h5");
    {
      RawFile f(p);
      const hid_t a = H5Aopen(f.id, "schema_version", H5P_DEFAULT);
      const int64_t v = kTraceSchemaVersion + 1;
      H5Awrite(a, H5T_NATIVE_INT64, &v);
      H5Aclose(a);
    }
    err = read_error(p);
    CHECK(contains(err, "schema version " + std::to_string(kTraceSchemaVersion + 1) + " is not supported"));
  }
  SECTION("a missing dataset") {
    const std::string p = copy("missing.h5");
    {
      RawFile f(p);
      H5Ldelete(f.id, "inputs/k", H5P_DEFAULT);
    }
    err = read_error(p);
    CHECK(contains(err, "dataset inputs/k: missing"));
  }
  SECTION("a dataset of the wrong shape") {
    const std::string p = copy("shape.h5");
    {
      RawFile f(p);
      H5Ldelete(f.id, "inputs/v", H5P_DEFAULT);
      const hsize_t dims[4] = {3, 4, 4, 7};  // V = 8 expected
      const hid_t s = H5Screate_simple(4, dims, nullptr);
      const hid_t d = H5Dcreate2(f.id, "inputs/v", H5T_IEEE_F32LE, s, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
      std::vector<float> zeros(3 * 4 * 4 * 7, 0.0f);
      H5Dwrite(d, H5T_NATIVE_FLOAT, H5S_ALL, H5S_ALL, H5P_DEFAULT, zeros.data());
      H5Dclose(d);
      H5Sclose(s);
    }
    err = read_error(p);
    CHECK(contains(err, "dataset inputs/v: shape [3, 4, 4, 7] does not match [3, 4, 4, 8]"));
  }
  SECTION("a config attribute that contradicts the datasets") {
    const std::string p = copy("config.h5");
    {
      RawFile f(p);
      const hid_t a = H5Aopen(f.id, "K", H5P_DEFAULT);
      const int64_t K = 32;
      H5Awrite(a, H5T_NATIVE_INT64, &K);
      H5Aclose(a);
    }
    err = read_error(p);
    CHECK(contains(err, "dataset inputs/q: shape"));
  }
  SECTION("a candidate file where a trace is expected") {
    const std::string p = dir.file("cand.h5");
    write_candidate(p, make_candidate(tr, tr.golden, profile_spec(Profile::Fp64), "copy", "fp64"));
    err = read_error(p);
    CHECK(contains(err, "is a candidate file"));
  }
  INFO(err);
  CHECK(!err.empty());
  CHECK(err.find('\n') == std::string::npos);
  CHECK(err.rfind(dir.path.string(), 0) == 0);  // starts with the file's path
}

TEST_CASE("writes are atomic: no temporary left behind, nothing written on failure", "[trace]") {
  TempDir dir("atomic");
  Case k;
  k.seed = seed_for("atomic");
  const Trace tr = build_trace(request(k));
  write_trace(dir.file("t.h5"), tr);
  write_trace(dir.file("t.h5"), tr);  // overwrite in place
  int files = 0;
  for (const auto& e : fs::directory_iterator(dir.path)) {
    ++files;
    CHECK(e.path().filename() == "t.h5");
  }
  CHECK(files == 1);
  CHECK_THROWS_AS(write_trace(dir.file("no/such/dir/t.h5"), tr), InputError);
  // An invalid trace is refused before anything is written, and the old file survives.
  Trace broken = tr;
  broken.inputs.v.shape[2] += 1;
  CHECK_THROWS_WITH(write_trace(dir.file("t.h5"), broken), Catch::Contains("refusing to write an invalid trace"));
  CHECK(read_error(dir.file("t.h5")).empty());
  // Values off the declared grid are refused on writing too.
  Trace off = tr;
  off.inputs.q[3] = 1.0 + 0x1p-20;
  CHECK_THROWS_WITH(write_trace(dir.file("off.h5"), off),
                    Catch::Contains("q" + index_str(off.inputs.q.shape, 3) + " = ") && Catch::Contains("not a bfloat16 value"));
  CHECK(!fs::exists(dir.file("off.h5")));
}

TEST_CASE("candidates read back bit for bit, in their declared dtypes and layout", "[trace][candidate]") {
  TempDir dir("candidate");
  Case k;
  k.layout = GENERATE(Layout::KV, Layout::VK);
  k.token_states = true;
  k.seed = seed_for("candidate", static_cast<uint64_t>(k.layout));
  const Trace tr = build_trace(request(k));
  const Profile p = GENERATE(Profile::Fp64, Profile::Fp32, Profile::Bf16Fp32State, Profile::Bf16Bf16State);
  INFO("profile " << to_string(p) << " layout " << to_string(k.layout));
  RunOptions ro;
  ro.token_states = true;
  const Outputs out = simulate(tr.config, tr.inputs, profile_spec(p), ro);
  const Candidate c = make_candidate(tr, out, profile_spec(p), "sim", to_string(p));
  CHECK(c.o_dtype == profile_spec(p).output);
  write_candidate(dir.file("c.h5"), c);
  const Candidate r = read_candidate(dir.file("c.h5"));
  CHECK(r.kernel == "sim");
  CHECK(r.profile == to_string(p));
  CHECK(r.layout == k.layout);
  CHECK(r.trace_digest == inputs_digest(tr));
  CHECK(r.o_dtype == c.o_dtype);
  CHECK(r.state_dtype == c.state_dtype);
  CHECK(r.token_states_dtype == c.token_states_dtype);
  CHECK(bit_equal(r.o, c.o));
  CHECK(bit_equal(r.state, c.state));
  CHECK(bit_equal(r.token_states, c.token_states));
  // The simulator's values are the kernel's: in the candidate's o the flat data equals out.o.
  CHECK(r.o.data == out.o.data);
}

TEST_CASE("a candidate written by hand with raw bfloat16 bits (torch int16 view) is read", "[trace][candidate]") {
  TempDir dir("rawbits");
  const std::string p = dir.file("c.h5");
  const std::vector<float> values = {1.0f, -2.5f, 0x1p-10f, 3.140625f};
  std::vector<uint16_t> bits;
  for (float x : values) bits.push_back(bf16_bits_rne(x));
  const hid_t f = H5Fcreate(p.c_str(), H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT);
  auto str_attr = [](hid_t obj, const char* name, const char* value) {
    const hid_t t = H5Tcopy(H5T_C_S1);
    H5Tset_size(t, H5T_VARIABLE);
    const hid_t s = H5Screate(H5S_SCALAR);
    const hid_t a = H5Acreate2(obj, name, t, s, H5P_DEFAULT, H5P_DEFAULT);
    H5Awrite(a, t, &value);
    H5Aclose(a);
    H5Sclose(s);
    H5Tclose(t);
  };
  str_attr(f, "schema", kCandidateSchema);  // variable-length ASCII (h5py writes UTF-8)
  {
    // Fixed-length ASCII, as h5py writes numpy bytes: f.attrs["layout"] = np.bytes_("KV").
    const hid_t t = H5Tcopy(H5T_C_S1);
    H5Tset_size(t, 2);
    const hid_t s = H5Screate(H5S_SCALAR);
    const hid_t a = H5Acreate2(f, "layout", t, s, H5P_DEFAULT, H5P_DEFAULT);
    H5Awrite(a, t, "KV");
    H5Aclose(a);
    H5Sclose(s);
    H5Tclose(t);
  }
  {
    const hid_t s = H5Screate(H5S_SCALAR);
    const hid_t a = H5Acreate2(f, "schema_version", H5T_STD_I64LE, s, H5P_DEFAULT, H5P_DEFAULT);
    const int64_t v = kCandidateSchemaVersion;
    H5Awrite(a, H5T_NATIVE_INT64, &v);
    H5Aclose(a);
    H5Sclose(s);
  }
  for (const char* name : {"o", "state"}) {
    const hsize_t n = 4;
    const hid_t s = H5Screate_simple(1, &n, nullptr);
    const hid_t d = H5Dcreate2(f, name, H5T_STD_I16LE, s, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
    H5Dwrite(d, H5T_NATIVE_INT16, H5S_ALL, H5S_ALL, H5P_DEFAULT, bits.data());  // the bits, as int16
    str_attr(d, "dtype", "bfloat16");
    H5Dclose(d);
    H5Sclose(s);
  }
  H5Fclose(f);
  const Candidate c = read_candidate(p);
  CHECK(c.o_dtype == Dtype::BF16);
  CHECK(c.layout == Layout::KV);
  REQUIRE(c.o.size() == 4);
  for (size_t i = 0; i < values.size(); ++i) CHECK(c.o.data[i] == static_cast<double>(values[i]));
}
