// A GoogleTest binary with one test of each outcome, for the plumbing test
// (plumbing_test.sh): it runs selections of these through the wrappers and
// checks what they report. Not registered as tests of its own.
#include <gtest/gtest.h>

TEST(PlumbingFixture, Passes) { EXPECT_EQ(2 + 2, 4); }

TEST(PlumbingFixture, Skips) { GTEST_SKIP() << "the fixture's skip"; }

TEST(PlumbingFixture, Fails) { EXPECT_EQ(2 + 2, 5) << "the fixture's failure"; }
