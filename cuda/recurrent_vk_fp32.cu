// The vk_fp32 group of instantiations.hpp.
#define GDN_GROUP_vk_fp32
#include "instantiate_group.cuh"
