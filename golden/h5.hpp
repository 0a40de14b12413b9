// A small layer over the HDF5 C API for traces and candidate files: RAII handles, typed
// attributes, checksummed chunked datasets, and errors turned into one line each.
// HDF5's automatic error printing is switched off; every failure throws InputError
// "<file>: <object>: <what is wrong>", with the innermost HDF5 message where it helps.
#pragma once
#include <hdf5.h>

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "golden/compression.hpp"
#include "reference/precision.hpp"
#include "reference/tensor.hpp"

namespace gdn::h5 {

// An hid_t that closes itself.
class Handle {
 public:
  Handle() = default;
  Handle(hid_t id, herr_t (*close)(hid_t)) : id_(id), close_(close) {}
  Handle(Handle&& o) noexcept : id_(o.id_), close_(o.close_) { o.id_ = H5I_INVALID_HID; }
  Handle& operator=(Handle&& o) noexcept {
    if (this != &o) {
      reset();
      id_ = o.id_;
      close_ = o.close_;
      o.id_ = H5I_INVALID_HID;
    }
    return *this;
  }
  Handle(const Handle&) = delete;
  Handle& operator=(const Handle&) = delete;
  ~Handle() { reset(); }
  hid_t get() const { return id_; }
  bool valid() const { return id_ >= 0; }
  hid_t release() {  // gives up ownership without closing
    const hid_t id = id_;
    id_ = H5I_INVALID_HID;
    return id;
  }
  void reset() {
    if (id_ >= 0 && close_) close_(id_);
    id_ = H5I_INVALID_HID;
  }

 private:
  hid_t id_ = H5I_INVALID_HID;
  herr_t (*close_)(hid_t) = nullptr;
};

// An object in a file (the file itself, a group or a dataset) with the names used in errors.
struct Object {
  hid_t id;
  std::string file;  // path of the file
  std::string name;  // "inputs", "dataset inputs/q"; "" for the root
};

// How a floating-point tensor is stored: the declared dtype (what the kernel sees) and the
// on-disk type. bfloat16 and float16 are stored as float32 (every value is exact there).
hid_t file_type_for(Dtype declared);

// An HDF5 file written to "<path>.tmp.<pid>" and renamed onto path by commit(); removed if
// never committed. Format bounds: HDF5 1.10 (checksummed metadata), no object timestamps,
// so the same content gives the same bytes.
class Writer {
 public:
  explicit Writer(std::string path);
  ~Writer();
  Writer(const Writer&) = delete;
  Writer& operator=(const Writer&) = delete;
  Object root() const { return {file_.get(), path_, ""}; }
  Object group(const std::string& name);  // creates it
  void commit();  // closes the file and renames it into place

 private:
  std::string path_, tmp_;
  Handle file_;
  std::vector<Handle> groups_;
  bool committed_ = false;
};

// Opens an existing file read-only. Refuses a missing file, a file that is not HDF5 and a
// truncated or corrupted one, each with its own message.
class Reader {
 public:
  explicit Reader(std::string path);
  Object root() const { return {file_.get(), path_, ""}; }
  bool has(const std::string& name) const;  // a link of this name exists
  Object group(const std::string& name);    // must exist
  const std::string& path() const { return path_; }

 private:
  std::string path_;
  Handle file_;
  std::vector<Handle> groups_;
};

[[noreturn]] void fail(const Object& where, const std::string& what);

// Attributes: strings are variable-length UTF-8, integers int64 (seed uint64), reals float64.
void write_attr(const Object& o, const char* name, const std::string& value);
void write_attr(const Object& o, const char* name, const char* value);
void write_attr(const Object& o, const char* name, int64_t value);
void write_attr(const Object& o, const char* name, uint64_t value);
void write_attr(const Object& o, const char* name, double value);
bool has_attr(const Object& o, const char* name);
std::string read_attr_string(const Object& o, const char* name);  // fixed or variable length
int64_t read_attr_int(const Object& o, const char* name);
uint64_t read_attr_uint(const Object& o, const char* name);
double read_attr_double(const Object& o, const char* name);
std::string read_attr_string_or(const Object& o, const char* name, const std::string& fallback);

// Datasets, always chunked with the Fletcher32 checksum; shuffle + deflate as `compression` says.
// Floating-point data is written in the declared dtype's storage type with attribute
// dtype = "bfloat16" / "float16" / "float32" / "float64"; the caller guarantees that every
// value is on that dtype's grid. `dims` names the axes ("N,T,H,K") for readers.
void write_dataset(const Object& loc, const std::string& name, const Shape& shape, const std::vector<double>& data,
                   Dtype declared, const std::string& dims, Compression compression = Compression::Auto);
void write_dataset(const Object& loc, const std::string& name, const Shape& shape, const std::vector<int64_t>& data,
                   const std::string& dims, Compression compression = Compression::Auto);

struct DatasetInfo {
  Shape shape;
  H5T_class_t type_class = H5T_NO_CLASS;
  size_t type_size = 0;
  std::string dtype_attr;  // "" when absent
  bool fletcher32 = false;
  bool deflate = false;
  bool shuffle = false;
  std::vector<hsize_t> chunk;  // empty when not chunked
  std::string type_name() const;  // "float32", "int64", "uint16", ...
};

DatasetInfo dataset_info(const Object& loc, const std::string& name);

// Floating-point data as double, with the declared dtype: the dtype attribute if present,
// else the storage type (float16/32/64). A dataset of 16-bit integers with dtype =
// "bfloat16" holds raw bfloat16 bit patterns (torch's tensor.view(torch.int16)).
struct FloatData {
  Shape shape;
  std::vector<double> data;
  Dtype declared = Dtype::F64;
};
FloatData read_floats(const Object& loc, const std::string& name);
std::vector<int64_t> read_ints(const Object& loc, const std::string& name, Shape& shape);

// Any numeric dataset as double, without dtype checks (for inspection of any file).
std::vector<double> read_numbers(const Object& loc, const std::string& name, Shape& shape);

// Every attribute of an object, its value rendered as text.
std::vector<std::pair<std::string, std::string>> list_attrs(const Object& o);

// Every dataset under loc (recursively), "group/name".
std::vector<std::string> list_datasets(const Object& loc);

}  // namespace gdn::h5
