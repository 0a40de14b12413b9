// STUB: being written.
#include "catch.hpp"
