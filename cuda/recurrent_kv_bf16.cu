// The kv_bf16 group of instantiations.hpp.
#define GDN_GROUP_kv_bf16
#include "instantiate_group.cuh"
