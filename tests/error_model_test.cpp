// STUB: being written.
#include "test_util.hpp"
