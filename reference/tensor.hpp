// A dense row-major array with its shape, and the error type for input the user can fix.
#pragma once
#include <cstdint>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

namespace gdn {

using Shape = std::vector<int64_t>;

inline int64_t numel(const Shape& shape) {
  int64_t n = 1;
  for (int64_t d : shape) n *= d;
  return n;
}

inline std::string shape_str(const Shape& shape) {
  std::string s = "[";
  for (size_t i = 0; i < shape.size(); ++i) s += (i ? ", " : "") + std::to_string(shape[i]);
  return s + "]";
}

// "[n, t, h]" for a flat offset into an array of this shape.
inline std::string index_str(const Shape& shape, int64_t flat) {
  std::vector<int64_t> idx(shape.size());
  for (size_t d = shape.size(); d-- > 0;) {
    idx[d] = flat % shape[d];
    flat /= shape[d];
  }
  return shape_str(idx);
}

// A tensor that is absent has an empty shape (this project has no rank-0 tensors).
template <class T>
struct Array {
  Shape shape;
  std::vector<T> data;

  Array() = default;
  explicit Array(Shape s, T fill = T{}) : shape(std::move(s)), data(static_cast<size_t>(numel(shape)), fill) {}

  bool present() const { return !shape.empty(); }
  int64_t size() const { return static_cast<int64_t>(data.size()); }
  int64_t dim(size_t d) const { return shape.at(d); }
  T& operator[](int64_t i) { return data[static_cast<size_t>(i)]; }
  const T& operator[](int64_t i) const { return data[static_cast<size_t>(i)]; }
};

using Tensor = Array<double>;
using IndexTensor = Array<int64_t>;

// [.., A, B] -> [.., B, A]: a pool (or per-token states) of one layout in the other,
// [.., K, V] <-> [.., V, K].
inline Tensor transpose_last2(const Tensor& s) {
  Tensor t = s;
  const size_t r = s.shape.size();
  std::swap(t.shape[r - 1], t.shape[r - 2]);
  const int64_t A = s.shape[r - 2], B = s.shape[r - 1], outer = s.size() / (A * B);
  for (int64_t o = 0; o < outer; ++o)
    for (int64_t i = 0; i < A; ++i)
      for (int64_t j = 0; j < B; ++j) t[o * A * B + j * A + i] = s[o * A * B + i * B + j];
  return t;
}

// Input the user can fix: wrong shapes, bad indices, non-finite values. The message is one
// line that names the tensor and, where there is one, the offending index.
struct InputError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

}  // namespace gdn
