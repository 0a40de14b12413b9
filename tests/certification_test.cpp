#include "test_util.hpp"
TEST_CASE("placeholder certification_test", "[todo]") { CHECK(true); }
