#include "golden/h5.hpp"

#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <sstream>

#include <zlib.h>

#include "reference/rounding.hpp"

namespace gdn::h5 {
namespace {

// Chunks of about 1 MiB: large enough that per-chunk overhead (B-tree entry, filter call,
// checksum) is negligible, small enough that one corrupted chunk names a small region.
constexpr size_t kChunkBytes = size_t{1} << 20;
// Datasets from this size on may be shuffled and deflated; below it compression saves nothing.
constexpr size_t kCompressMinBytes = size_t{64} << 10;
// Compression::Auto deflates when the first chunk shrinks to this fraction or less.
constexpr double kCompressWorthRatio = 0.8;
// zlib level 1: the float64 golden data is mostly incompressible mantissa bits, so higher
// levels cost time for a few percent; bf16 values stored as float32 (16 zero bits each)
// shrink by about half already at level 1.
constexpr unsigned kDeflateLevel = 1;

void silence_hdf5() {
  static const bool done = [] {
    H5Eset_auto2(H5E_DEFAULT, nullptr, nullptr);
    return true;
  }();
  (void)done;
}

struct StackMessages {
  std::vector<std::string> descs;
};

herr_t collect(unsigned, const H5E_error2_t* err, void* data) {
  auto* m = static_cast<StackMessages*>(data);
  if (err->desc && *err->desc) m->descs.emplace_back(err->desc);
  return 0;
}

// The messages on HDF5's error stack, outermost first; clears the stack.
std::vector<std::string> take_stack() {
  StackMessages m;
  H5Ewalk2(H5E_DEFAULT, H5E_WALK_DOWNWARD, collect, &m);
  H5Eclear2(H5E_DEFAULT);
  return m.descs;
}

bool mentions(const std::vector<std::string>& msgs, const char* word) {
  for (const std::string& s : msgs) {
    std::string lower = s;
    std::transform(lower.begin(), lower.end(), lower.begin(), [](unsigned char c) { return std::tolower(c); });
    if (lower.find(word) != std::string::npos) return true;
  }
  return false;
}

// The innermost HDF5 message, the most specific one ("truncated file: eof = ...").
std::string innermost(const std::vector<std::string>& msgs) { return msgs.empty() ? "no detail from HDF5" : msgs.back(); }

std::string dataset_label(const Object& loc, const std::string& name) {
  return "dataset " + (loc.name.empty() ? name : loc.name + "/" + name);
}

Object dataset_object(const Object& loc, hid_t id, const std::string& name) {
  return {id, loc.file, dataset_label(loc, name)};
}

// The failure of a read: a checksum error gets the message the format promises.
[[noreturn]] void fail_read(const Object& where, const std::string& what) {
  const std::vector<std::string> msgs = take_stack();
  if (mentions(msgs, "checksum") || mentions(msgs, "fletcher"))
    fail(where, "checksum mismatch (file corrupted)");
  fail(where, what + " (file corrupted or truncated? HDF5: " + innermost(msgs) + ")");
}

Handle open_dataset(const Object& loc, const std::string& name) {
  const hid_t id = H5Dopen2(loc.id, name.c_str(), H5P_DEFAULT);
  if (id < 0) {
    const std::vector<std::string> msgs = take_stack();
    if (mentions(msgs, "checksum")) fail({loc.id, loc.file, dataset_label(loc, name)}, "checksum mismatch in its header (file corrupted)");
    if (H5Lexists(loc.id, name.c_str(), H5P_DEFAULT) <= 0) {
      H5Eclear2(H5E_DEFAULT);
      fail({loc.id, loc.file, dataset_label(loc, name)}, "missing");
    }
    fail({loc.id, loc.file, dataset_label(loc, name)}, "cannot be opened (" + innermost(msgs) + ")");
  }
  return Handle(id, H5Dclose);
}

Shape extent(const Object& where, hid_t dset) {
  Handle space(H5Dget_space(dset), H5Sclose);
  if (!space.valid()) fail_read(where, "cannot read its shape");
  const int rank = H5Sget_simple_extent_ndims(space.get());
  if (rank < 0) fail_read(where, "cannot read its shape");
  std::vector<hsize_t> dims(static_cast<size_t>(rank));
  H5Sget_simple_extent_dims(space.get(), dims.data(), nullptr);
  return Shape(dims.begin(), dims.end());
}

std::vector<hsize_t> chunk_dims(const Shape& shape, size_t elem) {
  std::vector<hsize_t> chunk(shape.begin(), shape.end());
  for (size_t d = 0; d < shape.size(); ++d) {
    size_t inner = elem;
    for (size_t e = d + 1; e < shape.size(); ++e) inner *= static_cast<size_t>(shape[e]);
    if (inner * static_cast<size_t>(chunk[d]) <= kChunkBytes) break;
    if (inner <= kChunkBytes) {
      chunk[d] = std::max<hsize_t>(1, kChunkBytes / inner);
      break;
    }
    chunk[d] = 1;
    if (d + 1 == shape.size()) chunk[d] = std::max<size_t>(1, kChunkBytes / elem);
  }
  for (hsize_t& c : chunk) c = std::max<hsize_t>(c, 1);
  return chunk;
}

// Whether shuffle + deflate shrinks the first chunk of `data` (elements of `elem` bytes, as
// stored) to kCompressWorthRatio or less.
bool deflate_pays(const void* data, size_t bytes, size_t elem) {
  const size_t n = std::min(bytes, kChunkBytes) / elem * elem;
  const auto* src = static_cast<const unsigned char*>(data);
  std::vector<unsigned char> shuffled(n);
  const size_t count = n / elem;
  for (size_t i = 0; i < count; ++i)
    for (size_t b = 0; b < elem; ++b) shuffled[b * count + i] = src[i * elem + b];
  uLongf out_len = compressBound(static_cast<uLong>(n));
  std::vector<unsigned char> out(out_len);
  if (compress2(out.data(), &out_len, shuffled.data(), static_cast<uLong>(n), static_cast<int>(kDeflateLevel)) != Z_OK) return false;
  return static_cast<double>(out_len) <= kCompressWorthRatio * static_cast<double>(n);
}

Handle create_dataset(const Object& loc, const std::string& name, const Shape& shape, hid_t file_type, size_t elem,
                      const void* data, Compression compression) {
  if (shape.empty()) fail(loc, "internal: dataset " + name + " has rank 0");
  std::vector<hsize_t> dims(shape.begin(), shape.end());
  Handle space(H5Screate_simple(static_cast<int>(dims.size()), dims.data(), nullptr), H5Sclose);
  Handle dcpl(H5Pcreate(H5P_DATASET_CREATE), H5Pclose);
  const std::vector<hsize_t> chunk = chunk_dims(shape, elem);
  bool ok = H5Pset_chunk(dcpl.get(), static_cast<int>(chunk.size()), chunk.data()) >= 0;
  const size_t bytes = static_cast<size_t>(numel(shape)) * elem;
  const bool deflate = bytes >= kCompressMinBytes &&
                       (compression == Compression::Always || (compression == Compression::Auto && deflate_pays(data, bytes, elem)));
  if (deflate) {
    ok = ok && H5Pset_shuffle(dcpl.get()) >= 0;
    ok = ok && H5Pset_deflate(dcpl.get(), kDeflateLevel) >= 0;
  }
  ok = ok && H5Pset_fletcher32(dcpl.get()) >= 0;
  ok = ok && H5Pset_obj_track_times(dcpl.get(), 0) >= 0;  // no timestamps: same content, same bytes
  if (!ok) fail(loc, "cannot set up storage for " + name + " (" + innermost(take_stack()) + ")");
  const hid_t id = H5Dcreate2(loc.id, name.c_str(), file_type, space.get(), H5P_DEFAULT, dcpl.get(), H5P_DEFAULT);
  if (id < 0) fail(loc, "cannot create dataset " + name + " (" + innermost(take_stack()) + ")");
  return Handle(id, H5Dclose);
}

void write_all(const Object& where, hid_t dset, hid_t mem_type, const void* data) {
  if (H5Dwrite(dset, mem_type, H5S_ALL, H5S_ALL, H5P_DEFAULT, data) < 0)
    fail(where, "write failed (" + innermost(take_stack()) + ")");
}

Handle open_attr(const Object& o, const char* name) {
  if (H5Aexists(o.id, name) <= 0) {
    H5Eclear2(H5E_DEFAULT);
    fail(o, std::string("attribute '") + name + "' missing");
  }
  const hid_t id = H5Aopen(o.id, name, H5P_DEFAULT);
  if (id < 0) fail(o, std::string("attribute '") + name + "' cannot be opened (" + innermost(take_stack()) + ")");
  Handle space(H5Aget_space(id), H5Sclose);
  if (H5Sget_simple_extent_npoints(space.get()) != 1) {
    H5Aclose(id);
    fail(o, std::string("attribute '") + name + "' must hold one value");
  }
  return Handle(id, H5Aclose);
}

void write_attr_raw(const Object& o, const char* name, hid_t file_type, hid_t mem_type, const void* value) {
  Handle space(H5Screate(H5S_SCALAR), H5Sclose);
  if (H5Aexists(o.id, name) > 0) H5Adelete(o.id, name);
  Handle a(H5Acreate2(o.id, name, file_type, space.get(), H5P_DEFAULT, H5P_DEFAULT), H5Aclose);
  if (!a.valid() || H5Awrite(a.get(), mem_type, value) < 0)
    fail(o, std::string("cannot write attribute '") + name + "' (" + innermost(take_stack()) + ")");
}

Handle string_type(bool variable, size_t size, H5T_cset_t cset = H5T_CSET_UTF8) {
  Handle t(H5Tcopy(H5T_C_S1), H5Tclose);
  H5Tset_size(t.get(), variable ? H5T_VARIABLE : size);
  H5Tset_cset(t.get(), cset);
  return t;
}

std::string format_value(double x) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.17g", x);
  return buf;
}

}  // namespace

void fail(const Object& where, const std::string& what) {
  throw InputError(where.file + ": " + (where.name.empty() ? "" : where.name + ": ") + what);
}

hid_t file_type_for(Dtype declared) { return declared == Dtype::F64 ? H5T_IEEE_F64LE : H5T_IEEE_F32LE; }

// ---- Writer -------------------------------------------------------------------------------

Writer::Writer(std::string path) : path_(std::move(path)) {
  silence_hdf5();
  tmp_ = path_ + ".tmp." + std::to_string(static_cast<long>(getpid()));
  Handle fapl(H5Pcreate(H5P_FILE_ACCESS), H5Pclose);
  // The 1.10 format checksums every metadata block, so a flipped byte outside the data is
  // caught too; any HDF5 >= 1.10 (h5py wheels since 2018) reads it.
  H5Pset_libver_bounds(fapl.get(), H5F_LIBVER_V110, H5F_LIBVER_V110);
  Handle fcpl(H5Pcreate(H5P_FILE_CREATE), H5Pclose);
  H5Pset_obj_track_times(fcpl.get(), 0);
  errno = 0;
  const hid_t f = H5Fcreate(tmp_.c_str(), H5F_ACC_TRUNC, fcpl.get(), fapl.get());
  if (f < 0) {
    const std::string detail = innermost(take_stack());
    throw InputError(path_ + ": cannot create " + tmp_ + " (" + (errno ? std::strerror(errno) : detail) + ")");
  }
  file_ = Handle(f, H5Fclose);
}

Writer::~Writer() {
  if (!committed_) {
    groups_.clear();
    file_.reset();
    std::remove(tmp_.c_str());
  }
}

Object Writer::group(const std::string& name) {
  Handle gcpl(H5Pcreate(H5P_GROUP_CREATE), H5Pclose);
  H5Pset_obj_track_times(gcpl.get(), 0);
  const hid_t g = H5Gcreate2(file_.get(), name.c_str(), H5P_DEFAULT, gcpl.get(), H5P_DEFAULT);
  if (g < 0) fail(root(), "cannot create group " + name + " (" + innermost(take_stack()) + ")");
  groups_.emplace_back(g, H5Gclose);
  return {g, path_, name};
}

void Writer::commit() {
  groups_.clear();
  if (H5Fflush(file_.get(), H5F_SCOPE_GLOBAL) < 0) fail(root(), "flushing " + tmp_ + " failed (" + innermost(take_stack()) + ")");
  const hid_t f = file_.release();
  if (H5Fclose(f) < 0) {
    std::remove(tmp_.c_str());
    fail(root(), "closing " + tmp_ + " failed (" + innermost(take_stack()) + ")");
  }
  if (std::rename(tmp_.c_str(), path_.c_str()) != 0) {
    const std::string why = std::strerror(errno);
    std::remove(tmp_.c_str());
    throw InputError(path_ + ": cannot rename " + tmp_ + " onto it (" + why + ")");
  }
  committed_ = true;
}

// ---- Reader -------------------------------------------------------------------------------

Reader::Reader(std::string path) : path_(std::move(path)) {
  silence_hdf5();
  struct stat st {};
  if (stat(path_.c_str(), &st) != 0) throw InputError(path_ + ": cannot open (" + std::strerror(errno) + ")");
  if (S_ISDIR(st.st_mode)) throw InputError(path_ + ": is a directory, not an HDF5 file");
  if (FILE* f = std::fopen(path_.c_str(), "rb")) {
    std::fclose(f);
  } else {
    throw InputError(path_ + ": cannot open (" + std::strerror(errno) + ")");
  }
  const htri_t is = H5Fis_hdf5(path_.c_str());
  if (is == 0) {
    H5Eclear2(H5E_DEFAULT);
    throw InputError(path_ + ": not an HDF5 file (no HDF5 signature)");
  }
  if (is < 0) throw InputError(path_ + ": cannot read as HDF5 (" + innermost(take_stack()) + ")");
  const hid_t f = H5Fopen(path_.c_str(), H5F_ACC_RDONLY, H5P_DEFAULT);
  if (f < 0) {
    const std::vector<std::string> msgs = take_stack();
    std::string why = innermost(msgs);
    if (mentions(msgs, "truncated") && !mentions({why}, "truncated")) why = "truncated file: " + why;
    else if (mentions(msgs, "checksum") && !mentions({why}, "checksum")) why = "metadata checksum mismatch: " + why;
    throw InputError(path_ + ": cannot open as HDF5 (corrupted or truncated file; " + why + ")");
  }
  file_ = Handle(f, H5Fclose);
}

bool Reader::has(const std::string& name) const {
  // Check each component: H5Lexists fails on a missing intermediate group.
  std::string prefix;
  std::stringstream ss(name);
  std::string part;
  while (std::getline(ss, part, '/')) {
    prefix += (prefix.empty() ? "" : "/") + part;
    const htri_t e = H5Lexists(file_.get(), prefix.c_str(), H5P_DEFAULT);
    if (e <= 0) {
      H5Eclear2(H5E_DEFAULT);
      return false;
    }
  }
  return true;
}

Object Reader::group(const std::string& name) {
  if (!has(name)) fail(root(), "group " + name + " missing");
  const hid_t g = H5Gopen2(file_.get(), name.c_str(), H5P_DEFAULT);
  if (g < 0) {
    const std::vector<std::string> msgs = take_stack();
    fail(root(), "group " + name + " cannot be opened (" +
                     (mentions(msgs, "checksum") ? "checksum mismatch, file corrupted" : innermost(msgs)) + ")");
  }
  groups_.emplace_back(g, H5Gclose);
  return {g, path_, name};
}

// ---- attributes ---------------------------------------------------------------------------

void write_attr(const Object& o, const char* name, const std::string& value) {
  Handle t = string_type(true, 0);
  const char* p = value.c_str();
  write_attr_raw(o, name, t.get(), t.get(), &p);
}
void write_attr(const Object& o, const char* name, const char* value) { write_attr(o, name, std::string(value)); }
void write_attr(const Object& o, const char* name, int64_t value) {
  write_attr_raw(o, name, H5T_STD_I64LE, H5T_NATIVE_INT64, &value);
}
void write_attr(const Object& o, const char* name, uint64_t value) {
  write_attr_raw(o, name, H5T_STD_U64LE, H5T_NATIVE_UINT64, &value);
}
void write_attr(const Object& o, const char* name, double value) {
  write_attr_raw(o, name, H5T_IEEE_F64LE, H5T_NATIVE_DOUBLE, &value);
}

bool has_attr(const Object& o, const char* name) {
  const htri_t e = H5Aexists(o.id, name);
  if (e < 0) H5Eclear2(H5E_DEFAULT);
  return e > 0;
}

std::string read_attr_string(const Object& o, const char* name) {
  Handle a = open_attr(o, name);
  Handle t(H5Aget_type(a.get()), H5Tclose);
  if (H5Tget_class(t.get()) != H5T_STRING) fail(o, std::string("attribute '") + name + "' is not a string");
  // HDF5 converts no string between ASCII and UTF-8: read in the file's character set.
  const H5T_cset_t cset = H5Tget_cset(t.get()) == H5T_CSET_ASCII ? H5T_CSET_ASCII : H5T_CSET_UTF8;
  if (H5Tis_variable_str(t.get()) > 0) {
    Handle mem = string_type(true, 0, cset);
    char* buf = nullptr;
    if (H5Aread(a.get(), mem.get(), &buf) < 0) fail_read(o, std::string("attribute '") + name + "' cannot be read");
    std::string s = buf ? buf : "";
    H5free_memory(buf);
    return s;
  }
  const size_t n = H5Tget_size(t.get());
  Handle mem = string_type(false, n, cset);
  std::string s(n, '\0');
  if (H5Aread(a.get(), mem.get(), s.data()) < 0) fail_read(o, std::string("attribute '") + name + "' cannot be read");
  s.resize(std::strlen(s.c_str()));
  return s;
}

std::string read_attr_string_or(const Object& o, const char* name, const std::string& fallback) {
  return has_attr(o, name) ? read_attr_string(o, name) : fallback;
}

namespace {
// An integer attribute read as T (int64_t or uint64_t) through mem_type.
template <class T>
T read_attr_integer(const Object& o, const char* name, hid_t mem_type, const char* as) {
  Handle a = open_attr(o, name);
  Handle t(H5Aget_type(a.get()), H5Tclose);
  if (H5Tget_class(t.get()) != H5T_INTEGER) fail(o, std::string("attribute '") + name + "' is not an integer");
  T v = 0;
  if (H5Aread(a.get(), mem_type, &v) < 0) fail_read(o, std::string("attribute '") + name + "' cannot be read as " + as);
  return v;
}
}  // namespace

int64_t read_attr_int(const Object& o, const char* name) {
  return read_attr_integer<int64_t>(o, name, H5T_NATIVE_INT64, "int64");
}

uint64_t read_attr_uint(const Object& o, const char* name) {
  return read_attr_integer<uint64_t>(o, name, H5T_NATIVE_UINT64, "uint64");
}

double read_attr_double(const Object& o, const char* name) {
  Handle a = open_attr(o, name);
  Handle t(H5Aget_type(a.get()), H5Tclose);
  const H5T_class_t c = H5Tget_class(t.get());
  if (c != H5T_FLOAT && c != H5T_INTEGER) fail(o, std::string("attribute '") + name + "' is not a number");
  double v = 0;
  if (H5Aread(a.get(), H5T_NATIVE_DOUBLE, &v) < 0) fail_read(o, std::string("attribute '") + name + "' cannot be read");
  return v;
}

// ---- datasets -----------------------------------------------------------------------------

void write_dataset(const Object& loc, const std::string& name, const Shape& shape, const std::vector<double>& data,
                   Dtype declared, const std::string& dims, Compression compression) {
  const Object where{loc.id, loc.file, dataset_label(loc, name)};
  if (static_cast<int64_t>(data.size()) != numel(shape)) fail(where, "internal: data does not match shape " + shape_str(shape));
  const bool wide = declared == Dtype::F64;
  std::vector<float> narrow;
  if (!wide) {
    narrow.resize(data.size());
    for (size_t i = 0; i < data.size(); ++i) narrow[i] = static_cast<float>(data[i]);
  }
  const void* buf = wide ? static_cast<const void*>(data.data()) : static_cast<const void*>(narrow.data());
  Handle d = create_dataset(loc, name, shape, file_type_for(declared), wide ? 8 : 4, buf, compression);
  write_all(where, d.get(), wide ? H5T_NATIVE_DOUBLE : H5T_NATIVE_FLOAT, buf);
  const Object ds = dataset_object(loc, d.get(), name);
  write_attr(ds, "dtype", to_string(declared));
  if (!dims.empty()) write_attr(ds, "dims", dims);
}

void write_dataset(const Object& loc, const std::string& name, const Shape& shape, const std::vector<int64_t>& data,
                   const std::string& dims, Compression compression) {
  const Object where{loc.id, loc.file, dataset_label(loc, name)};
  if (static_cast<int64_t>(data.size()) != numel(shape)) fail(where, "internal: data does not match shape " + shape_str(shape));
  Handle d = create_dataset(loc, name, shape, H5T_STD_I64LE, 8, data.data(), compression);
  write_all(where, d.get(), H5T_NATIVE_INT64, data.data());
  const Object ds = dataset_object(loc, d.get(), name);
  write_attr(ds, "dtype", "int64");
  if (!dims.empty()) write_attr(ds, "dims", dims);
}

namespace {
std::string type_name(H5T_class_t cls, size_t size) {
  switch (cls) {
    case H5T_FLOAT: return "float" + std::to_string(8 * size);
    case H5T_INTEGER: return "int" + std::to_string(8 * size);  // signedness does not matter here
    case H5T_STRING: return "string";
    default: return "type class " + std::to_string(static_cast<int>(cls));
  }
}
}  // namespace

std::string DatasetInfo::type_name() const { return h5::type_name(type_class, type_size); }

DatasetInfo dataset_info(const Object& loc, const std::string& name) {
  Handle d = open_dataset(loc, name);
  const Object where = dataset_object(loc, d.get(), name);
  DatasetInfo info;
  info.shape = extent(where, d.get());
  Handle t(H5Dget_type(d.get()), H5Tclose);
  if (!t.valid()) fail_read(where, "cannot read its type");
  info.type_class = H5Tget_class(t.get());
  info.type_size = H5Tget_size(t.get());
  if (has_attr(where, "dtype")) info.dtype_attr = read_attr_string(where, "dtype");
  Handle dcpl(H5Dget_create_plist(d.get()), H5Pclose);
  if (H5Pget_layout(dcpl.get()) == H5D_CHUNKED) {
    info.chunk.resize(info.shape.size());
    H5Pget_chunk(dcpl.get(), static_cast<int>(info.chunk.size()), info.chunk.data());
  }
  const int nfilters = H5Pget_nfilters(dcpl.get());
  for (int i = 0; i < nfilters; ++i) {
    unsigned flags = 0, cfg = 0;
    size_t nelmts = 0;
    const H5Z_filter_t f = H5Pget_filter2(dcpl.get(), static_cast<unsigned>(i), &flags, &nelmts, nullptr, 0, nullptr, &cfg);
    info.fletcher32 |= f == H5Z_FILTER_FLETCHER32;
    info.deflate |= f == H5Z_FILTER_DEFLATE;
    info.shuffle |= f == H5Z_FILTER_SHUFFLE;
  }
  return info;
}

FloatData read_floats(const Object& loc, const std::string& name) {
  Handle d = open_dataset(loc, name);
  const Object where = dataset_object(loc, d.get(), name);
  FloatData out;
  out.shape = extent(where, d.get());
  Handle t(H5Dget_type(d.get()), H5Tclose);
  if (!t.valid()) fail_read(where, "cannot read its type");
  const H5T_class_t cls = H5Tget_class(t.get());
  const size_t size = H5Tget_size(t.get());
  const std::string attr = has_attr(where, "dtype") ? read_attr_string(where, "dtype") : "";
  const bool bf16_bits = cls == H5T_INTEGER && size == 2 && attr == "bfloat16";
  if (cls != H5T_FLOAT && !bf16_bits)
    fail(where, "has storage type " + type_name(cls, size) +
                    ", expected a floating-point type (or 16-bit integers holding bfloat16 bits with dtype = \"bfloat16\")");
  if (!attr.empty()) {
    try {
      out.declared = parse_dtype(attr);
    } catch (const InputError&) {
      fail(where, "attribute dtype = \"" + attr + "\" is not one of float64, float32, bfloat16, float16");
    }
  } else {
    out.declared = size == 2 ? Dtype::F16 : size == 4 ? Dtype::F32 : Dtype::F64;
  }
  const size_t n = static_cast<size_t>(numel(out.shape));
  out.data.resize(n);
  if (bf16_bits) {
    // Read with the file's signedness (no conversion), then take the 16 bits as they are.
    std::vector<uint16_t> bits(n);
    const hid_t mem = H5Tget_sign(t.get()) == H5T_SGN_NONE ? H5T_NATIVE_UINT16 : H5T_NATIVE_INT16;
    if (H5Dread(d.get(), mem, H5S_ALL, H5S_ALL, H5P_DEFAULT, bits.data()) < 0) fail_read(where, "read failed");
    for (size_t i = 0; i < n; ++i) out.data[i] = bf16_bits_to_float(bits[i]);
  } else if (size <= 4) {
    std::vector<float> narrow(n);
    if (H5Dread(d.get(), H5T_NATIVE_FLOAT, H5S_ALL, H5S_ALL, H5P_DEFAULT, narrow.data()) < 0) fail_read(where, "read failed");
    for (size_t i = 0; i < n; ++i) out.data[i] = narrow[i];
  } else {
    if (H5Dread(d.get(), H5T_NATIVE_DOUBLE, H5S_ALL, H5S_ALL, H5P_DEFAULT, out.data.data()) < 0) fail_read(where, "read failed");
  }
  // Exactness: every finite value must be representable in the declared dtype.
  for (size_t i = 0; i < n; ++i) {
    const double x = out.data[i];
    if (std::isfinite(x) && round_to(out.declared, x) != x)
      fail(where, "value " + index_str(out.shape, static_cast<int64_t>(i)) + " = " + format_value(x) + " is not a " +
                      to_string(out.declared) + " value (declared dtype " + to_string(out.declared) + ")");
  }
  return out;
}

std::vector<int64_t> read_ints(const Object& loc, const std::string& name, Shape& shape) {
  Handle d = open_dataset(loc, name);
  const Object where = dataset_object(loc, d.get(), name);
  shape = extent(where, d.get());
  Handle t(H5Dget_type(d.get()), H5Tclose);
  if (H5Tget_class(t.get()) != H5T_INTEGER)
    fail(where, "has storage type " + type_name(H5Tget_class(t.get()), H5Tget_size(t.get())) +
                    ", expected integers");
  std::vector<int64_t> v(static_cast<size_t>(numel(shape)));
  if (H5Dread(d.get(), H5T_NATIVE_INT64, H5S_ALL, H5S_ALL, H5P_DEFAULT, v.data()) < 0) fail_read(where, "read failed");
  return v;
}

std::vector<double> read_numbers(const Object& loc, const std::string& name, Shape& shape) {
  Handle d = open_dataset(loc, name);
  const Object where = dataset_object(loc, d.get(), name);
  shape = extent(where, d.get());
  Handle t(H5Dget_type(d.get()), H5Tclose);
  const H5T_class_t cls = H5Tget_class(t.get());
  if (cls != H5T_INTEGER && cls != H5T_FLOAT) fail(where, "has storage type " + type_name(cls, H5Tget_size(t.get())) + ", not numbers");
  std::vector<double> v(static_cast<size_t>(numel(shape)));
  if (H5Dread(d.get(), H5T_NATIVE_DOUBLE, H5S_ALL, H5S_ALL, H5P_DEFAULT, v.data()) < 0) fail_read(where, "read failed");
  return v;
}

namespace {
herr_t attr_name(hid_t, const char* name, const H5A_info_t*, void* data) {
  static_cast<std::vector<std::string>*>(data)->emplace_back(name);
  return 0;
}
}  // namespace

std::vector<std::pair<std::string, std::string>> list_attrs(const Object& o) {
  std::vector<std::string> names;
  hsize_t idx = 0;
  if (H5Aiterate2(o.id, H5_INDEX_CRT_ORDER, H5_ITER_INC, &idx, attr_name, &names) < 0) {
    H5Eclear2(H5E_DEFAULT);
    names.clear();
    idx = 0;
    if (H5Aiterate2(o.id, H5_INDEX_NAME, H5_ITER_INC, &idx, attr_name, &names) < 0) fail_read(o, "cannot list attributes");
  }
  std::vector<std::pair<std::string, std::string>> out;
  for (const std::string& n : names) {
    Handle a(H5Aopen(o.id, n.c_str(), H5P_DEFAULT), H5Aclose);
    Handle t(H5Aget_type(a.get()), H5Tclose);
    Handle space(H5Aget_space(a.get()), H5Sclose);
    const hssize_t count = H5Sget_simple_extent_npoints(space.get());
    const H5T_class_t cls = H5Tget_class(t.get());
    std::string value;
    if (count != 1) {
      value = "(" + std::to_string(count) + " values of " + type_name(cls, H5Tget_size(t.get())) + ")";
    } else if (cls == H5T_STRING) {
      value = "\"" + read_attr_string(o, n.c_str()) + "\"";
    } else if (cls == H5T_INTEGER) {
      value = H5Tget_sign(t.get()) == H5T_SGN_NONE ? std::to_string(read_attr_uint(o, n.c_str()))
                                                   : std::to_string(read_attr_int(o, n.c_str()));
    } else if (cls == H5T_FLOAT) {
      value = format_value(read_attr_double(o, n.c_str()));
    } else {
      value = "(" + type_name(cls, H5Tget_size(t.get())) + ")";
    }
    out.emplace_back(n, value);
  }
  return out;
}

namespace {
struct VisitData {
  hid_t root;
  std::string prefix;
  std::vector<std::string>* names;
};
herr_t visit(hid_t group, const char* name, const H5L_info_t*, void* data) {
  auto* v = static_cast<VisitData*>(data);
  const hid_t obj = H5Oopen(group, name, H5P_DEFAULT);
  if (obj < 0) {
    H5Eclear2(H5E_DEFAULT);
    return 0;
  }
  if (H5Iget_type(obj) == H5I_DATASET) v->names->push_back(v->prefix + name);
  H5Oclose(obj);
  return 0;
}
}  // namespace

std::vector<std::string> list_datasets(const Object& loc) {
  std::vector<std::string> names;
  VisitData v{loc.id, loc.name.empty() ? "" : loc.name + "/", &names};
  if (H5Lvisit(loc.id, H5_INDEX_NAME, H5_ITER_INC, visit, &v) < 0) fail_read(loc, "cannot list its datasets");
  return names;
}

}  // namespace gdn::h5
