// The gdn command line as a user meets it: the quick start (golden, inspect, simulate,
// check) with its exit codes 0 / 1 / 2, and one-line errors for everything that can go wrong
// with a file or an argument.
#include <hdf5.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "golden/trace.hpp"
#include "test_util.hpp"

using namespace gdn;
using namespace gdn::test;
namespace fs = std::filesystem;

namespace {

struct Result {
  int rc = -1;
  std::string out, err;
};

std::string slurp(const fs::path& p) {
  std::ifstream f(p, std::ios::binary);
  std::stringstream ss;
  ss << f.rdbuf();
  return ss.str();
}

struct Sandbox {
  fs::path dir;
  Sandbox() {
    dir = fs::temp_directory_path() / ("gdn_cli_test_" + std::to_string(getpid()));
    fs::remove_all(dir);
    fs::create_directories(dir);
  }
  ~Sandbox() { fs::remove_all(dir); }
  std::string file(const std::string& name) const { return (dir / name).string(); }

  // Runs `gdn <args>` in the sandbox directory, capturing stdout and stderr.
  Result gdn(const std::string& args) const {
    const std::string cmd = "cd '" + dir.string() + "' && '" + GDN_BINARY + "' " + args + " >'" + file("stdout") + "' 2>'" +
                            file("stderr") + "'";
    const int status = std::system(cmd.c_str());
    Result r;
    r.rc = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
    r.out = slurp(dir / "stdout");
    r.err = slurp(dir / "stderr");
    std::printf("$ gdn %s  -> exit %d\n%s%s", args.c_str(), r.rc, r.err.c_str(),
                r.out.size() < 2000 ? r.out.c_str() : (r.out.substr(0, 2000) + "...\n").c_str());
    return r;
  }
};

bool contains(const std::string& s, const std::string& part) { return s.find(part) != std::string::npos; }

// One line on stderr, "gdn: error: ...", containing `part`.
void require_error(const Result& r, const std::string& part) {
  CHECK(r.rc == 2);
  CHECK(r.err.rfind("gdn: error: ", 0) == 0);
  CHECK(std::count(r.err.begin(), r.err.end(), '\n') == 1);
  CHECK(contains(r.err, part));
}

const char* kSmall = "--heads 2 --value-heads 4 --key-dim 16 --value-dim 16";

void flip_first_chunk_byte(const std::string& path, const char* dataset) {
  const hid_t f = H5Fopen(path.c_str(), H5F_ACC_RDONLY, H5P_DEFAULT);
  const hid_t d = H5Dopen2(f, dataset, H5P_DEFAULT);
  const hid_t space = H5Dget_space(d);
  hsize_t offset[8];
  unsigned mask = 0;
  haddr_t addr = 0;
  hsize_t size = 0;
  REQUIRE(H5Dget_chunk_info(d, space, 0, offset, &mask, &addr, &size) >= 0);
  H5Sclose(space);
  H5Dclose(d);
  H5Fclose(f);
  std::fstream io(path, std::ios::in | std::ios::out | std::ios::binary);
  io.seekg(static_cast<std::streamoff>(addr + size / 3));
  char ch = 0;
  io.read(&ch, 1);
  ch = static_cast<char>(ch ^ 0x01);
  io.seekp(static_cast<std::streamoff>(addr + size / 3));
  io.write(&ch, 1);
}

}  // namespace

TEST_CASE("quick start: golden, inspect, simulate, check pass with exit 0", "[cli]") {
  Sandbox sb;
  Result r = sb.gdn(std::string("golden ") + kSmall + " --batch 8 --layout VK -o out/t.h5");
  REQUIRE(r.rc == 0);
  CHECK(fs::exists(sb.file("out/t.h5")));  // the output directory is created
  r = sb.gdn("inspect out/t.h5");
  CHECK(r.rc == 0);
  CHECK(contains(r.out, "gdn golden trace"));
  CHECK(contains(r.out, "trace: valid"));
  CHECK(contains(r.out, "inputs/q"));
  CHECK(contains(r.out, "fletcher32"));
  r = sb.gdn("simulate --profile bf16-fp32state out/t.h5 -o out/c.h5");
  REQUIRE(r.rc == 0);
  r = sb.gdn("check out/t.h5 out/c.h5 --report out/report.txt");
  CHECK(r.rc == 0);
  CHECK(contains(r.out, "verdict: PASS"));
  CHECK(contains(r.out, "safety factor"));
  CHECK(contains(r.out, "FLA fused_rec"));
  CHECK(slurp(sb.file("out/report.txt")) == r.out);
  r = sb.gdn("check out/t.h5 out/c.h5 --profile bf16-fp32state --json");
  CHECK(r.rc == 0);
  CHECK(r.out.rfind("{", 0) == 0);
  CHECK(contains(r.out, "\"pass\": true"));
  CHECK(contains(r.out, "\"profile\": \"bf16-fp32state\""));
}

TEST_CASE("a failing candidate exits 1 and names the first failing element", "[cli]") {
  Sandbox sb;
  REQUIRE(sb.gdn(std::string("golden ") + kSmall + " --batch 2 --tokens 128 --layout KV -o t.h5").rc == 0);
  REQUIRE(sb.gdn("simulate --profile bf16-bf16state t.h5 -o c.h5").rc == 0);
  CHECK(sb.gdn("check t.h5 c.h5").rc == 0);  // judged as the profile it claims
  const Result r = sb.gdn("check t.h5 c.h5 --profile bf16-fp32state");
  CHECK(r.rc == 1);
  CHECK(contains(r.out, "verdict: FAIL"));
  CHECK(contains(r.out, "first failing element: "));
  CHECK(contains(r.out, "claims profile bf16-bf16state"));
  const Result j = sb.gdn("check t.h5 c.h5 --profile bf16-fp32state --json");
  CHECK(j.rc == 1);
  CHECK(contains(j.out, "\"pass\": false"));
}

TEST_CASE("the same command twice writes bit-identical datasets", "[cli]") {
  Sandbox sb;
  const std::string args = std::string("golden ") + kSmall + " --batch 3 --tokens 5 --pad-rows 1 --speculative --token-states --seed 7";
  REQUIRE(sb.gdn(args + " -o a.h5").rc == 0);
  REQUIRE(sb.gdn(args + " -o b.h5").rc == 0);
  const Trace a = read_trace(sb.file("a.h5")), b = read_trace(sb.file("b.h5"));
  for (auto [x, y] : {std::pair{&a.inputs.q, &b.inputs.q}, {&a.inputs.k, &b.inputs.k}, {&a.inputs.v, &b.inputs.v},
                      {&a.inputs.a, &b.inputs.a}, {&a.inputs.b, &b.inputs.b}, {&a.inputs.A_log, &b.inputs.A_log},
                      {&a.inputs.dt_bias, &b.inputs.dt_bias}, {&a.inputs.state, &b.inputs.state}, {&a.golden.o, &b.golden.o},
                      {&a.golden.state, &b.golden.state}, {&a.golden.token_states, &b.golden.token_states}})
    CHECK(bit_equal(*x, *y));
  CHECK(a.inputs.state_indices.data == b.inputs.state_indices.data);
  CHECK(a.inputs.num_accepted.data == b.inputs.num_accepted.data);
  CHECK(a.provenance.inputs_digest == b.provenance.inputs_digest);
  CHECK(contains(a.provenance.command_line, "--seed 7 -o a.h5"));
}

TEST_CASE("usage and I/O errors exit 2 with one line", "[cli][errors]") {
  Sandbox sb;
  REQUIRE(sb.gdn(std::string("golden ") + kSmall + " --batch 2 -o t.h5").rc == 0);
  REQUIRE(sb.gdn("simulate --profile fp32 t.h5 -o c.h5").rc == 0);

  SECTION("missing candidate") { require_error(sb.gdn("check t.h5 nope.h5"), "nope.h5: cannot open (No such file or directory)"); }
  SECTION("a text file") {
    std::ofstream(sb.file("notes.txt")) << "not hdf5\n";
    require_error(sb.gdn("inspect notes.txt"), "notes.txt: not an HDF5 file");
  }
  SECTION("trace and candidate swapped") { require_error(sb.gdn("check c.h5 t.h5"), "t.h5: is a trace"); }
  SECTION("unknown profile") { require_error(sb.gdn("check t.h5 c.h5 --profile bf17"), "profile: unknown value 'bf17'"); }
  SECTION("unknown preset") { require_error(sb.gdn("golden --preset qwen9 -o x.h5"), "preset: unknown value 'qwen9'"); }
  SECTION("unknown option") { require_error(sb.gdn("check t.h5 c.h5 --frobnicate"), "--frobnicate"); }
  SECTION("missing arguments") { require_error(sb.gdn("check t.h5"), "candidate"); }
  SECTION("a corrupted trace") {
    flip_first_chunk_byte(sb.file("t.h5"), "golden/final_state");
    require_error(sb.gdn("check t.h5 c.h5"), "dataset golden/final_state: checksum mismatch (file corrupted)");
    const Result r = sb.gdn("inspect t.h5");
    CHECK(r.rc == 2);
    CHECK(contains(r.out, "checksum mismatch"));
  }
  SECTION("a truncated candidate") {
    fs::resize_file(sb.file("c.h5"), fs::file_size(sb.file("c.h5")) * 2 / 3);
    require_error(sb.gdn("check t.h5 c.h5"), "c.h5: cannot open as HDF5");
  }
  SECTION("a candidate of another trace") {
    REQUIRE(sb.gdn(std::string("golden ") + kSmall + " --batch 2 --seed 99 -o other.h5").rc == 0);
    require_error(sb.gdn("check other.h5 c.h5"), "candidate answers another trace");
  }
  SECTION("a candidate without a claimed profile and no --profile") {
    Candidate c = read_candidate(sb.file("c.h5"));
    c.profile.clear();
    write_candidate(sb.file("c.h5"), c);
    require_error(sb.gdn("check t.h5 c.h5"), "give --profile");
  }
}
