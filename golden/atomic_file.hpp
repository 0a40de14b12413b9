// Writing a text file (reports, CSV, JSON) so that readers see the old file or the whole new
// one, never a part: write a temporary file in the same directory, flush it, then rename it
// over the target. (HDF5 traces do the same in golden/h5.cpp.)
#pragma once
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <string>
#include <unistd.h>

#include "reference/tensor.hpp"

namespace gdn {

inline void write_file_atomically(const std::string& path, const std::string& text) {
  const std::string tmp = path + ".tmp." + std::to_string(::getpid());
  FILE* f = std::fopen(tmp.c_str(), "wb");
  if (!f) throw InputError(path + ": cannot write (" + std::string(std::strerror(errno)) + ")");
  const bool ok = std::fwrite(text.data(), 1, text.size(), f) == text.size() && std::fflush(f) == 0 && ::fsync(fileno(f)) == 0;
  if (std::fclose(f) != 0 || !ok || std::rename(tmp.c_str(), path.c_str()) != 0) {
    std::remove(tmp.c_str());
    throw InputError(path + ": write failed (" + std::string(std::strerror(errno)) + ")");
  }
}

}  // namespace gdn
