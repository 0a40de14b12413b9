// Catch2 v2 (Debian 12) and v3 (Ubuntu 24.04) behind one include.
#pragma once
// v2 first: v3 has no catch2/catch.hpp, so a v2 found first on the include path (the staged
// Debian packages of scripts/offline_gpu.sh on an Ubuntu host that also has v3) is the one
// CMake configured.
#if __has_include(<catch2/catch.hpp>)
#include <catch2/catch.hpp>
#else
#include <catch2/catch_all.hpp>
using Catch::Approx;
#endif
