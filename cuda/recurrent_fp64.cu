// The fp64 group of instantiations.hpp.
#define GDN_GROUP_fp64
#include "instantiate_group.cuh"
