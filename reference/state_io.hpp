// Moving one head's state between a pool in either layout and the working matrix.
// The working matrix is K x V, column-major: column j (value index) is contiguous over the
// key index, so the per-column update reads one contiguous vector. Layout is only an I/O
// concern: KV and VK runs perform identical arithmetic and give transposed, equal results.
#pragma once
#include <Eigen/Core>

#include "config.hpp"

namespace gdn {

template <class T>
using StateMatrix = Eigen::Matrix<T, Eigen::Dynamic, Eigen::Dynamic>;  // (K, V)

// Offset of element (i = key index, j = value index) of head hv in slot `slot` of a pool.
inline int64_t state_offset(const Config& c, int64_t slot, int64_t hv, int64_t i, int64_t j) {
  const int64_t base = (slot * c.HV + hv) * c.K * c.V;
  return c.layout == Layout::KV ? base + i * c.V + j : base + j * c.K + i;
}

template <class T>
void load_state(const Config& c, const double* pool, int64_t slot, int64_t hv, StateMatrix<T>& S) {
  S.resize(c.K, c.V);
  const double* src = pool + (slot * c.HV + hv) * c.K * c.V;
  if (c.layout == Layout::VK) {
    S = Eigen::Map<const Eigen::MatrixXd>(src, c.K, c.V).cast<T>();  // [V, K] row-major
  } else {
    using RowMajor = Eigen::Matrix<double, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;
    S = Eigen::Map<const RowMajor>(src, c.K, c.V).cast<T>();  // [K, V] row-major
  }
}

template <class T>
void store_state(const Config& c, const StateMatrix<T>& S, double* pool, int64_t slot, int64_t hv) {
  double* dst = pool + (slot * c.HV + hv) * c.K * c.V;
  if (c.layout == Layout::VK) {
    Eigen::Map<Eigen::MatrixXd>(dst, c.K, c.V) = S.template cast<double>();
  } else {
    using RowMajor = Eigen::Matrix<double, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;
    Eigen::Map<RowMajor>(dst, c.K, c.V) = S.template cast<double>();
  }
}

}  // namespace gdn
