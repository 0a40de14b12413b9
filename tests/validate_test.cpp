#include "test_util.hpp"
TEST_CASE("placeholder validate_test", "[todo]") { CHECK(true); }
