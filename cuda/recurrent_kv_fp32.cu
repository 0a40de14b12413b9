// The kv_fp32 group of instantiations.hpp.
#define GDN_GROUP_kv_fp32
#include "instantiate_group.cuh"
