// kiln::Error messages are printed as they are, and parts of them (node,
// tensor and file names) come from the model: they must reach a terminal or
// a log as one readable line whatever bytes the model holds.
#include <gtest/gtest.h>

#include <string>

#include "kiln/error.h"
#include "kiln/tensor.h"

namespace kiln {
namespace {

std::string message_of(const std::string& name) {
  try {
    fail("node '", name, "' (Relu): something is wrong");
  } catch (const Error& e) {
    return e.what();
  }
  return "(no error)";
}

TEST(ErrorMessage, ControlBytesAndBrokenUtf8AreEscaped) {
  EXPECT_EQ(message_of("red\x1b[31mtext"), "node 'red\\x1b[31mtext' (Relu): something is wrong");
  EXPECT_EQ(message_of("a\rb\tc\x7f"), "node 'a\\x0db\\x09c\\x7f' (Relu): something is wrong");
  EXPECT_EQ(message_of("\xff\xfe"), "node '\\xff\\xfe' (Relu): something is wrong");
  EXPECT_EQ(message_of("\xc0\xaf"), "node '\\xc0\\xaf' (Relu): something is wrong");  // overlong '/'
  EXPECT_EQ(message_of("\xed\xa0\x80"), "node '\\xed\\xa0\\x80' (Relu): something is wrong");  // a surrogate
  EXPECT_EQ(message_of("caf\xc3"), "node 'caf\\xc3' (Relu): something is wrong");  // cut sequence
}

TEST(ErrorMessage, NulBytesAreShownNotCuttingTheMessage) {
  const std::string name("weights\0.bin", 12);
  const std::string m = message_of(name);
  EXPECT_EQ(m, "node 'weights\\x00.bin' (Relu): something is wrong");
  EXPECT_EQ(std::string(m.c_str()), m);  // what() as a C string carries all of it
}

TEST(ErrorMessage, Utf8NamesAndNewlinesStayAsTheyAre) {
  EXPECT_EQ(message_of("卷积_1 – ü 🙂"), "node '卷积_1 – ü 🙂' (Relu): something is wrong");
  EXPECT_EQ(message_of("two\nlines"), "node 'two\nlines' (Relu): something is wrong");
}

TEST(ErrorMessage, LongMessagesKeepTheirEndsAndSayWhatWasLeftOut) {
  const std::string m = message_of(std::string(50000, 'x'));
  EXPECT_LE(m.size(), kMaxMessageBytes + 64);
  EXPECT_EQ(m.rfind("node 'xxx", 0), 0u);
  EXPECT_NE(m.find("bytes left out]"), std::string::npos);
  EXPECT_EQ(m.substr(m.size() - 28), "' (Relu): something is wrong");
  const std::string short_one = message_of(std::string(100, 'y'));
  EXPECT_EQ(short_one.find("left out"), std::string::npos);
}

TEST(ErrorMessage, HugeRanksPrintTheirFirstDimsAndTheRank) {
  EXPECT_EQ(shape_to_string(Shape(12, 2)), "2x2x2x2x2x2x2x2x2x2x2x2");
  EXPECT_EQ(shape_to_string(Shape(20000, 1)), "1x1x1x1x1x1x1x1x... (rank 20000)");
  EXPECT_EQ(shape_to_string({}), "scalar");
}

}  // namespace
}  // namespace kiln
