#include "io/utf8.hpp"

#include <gtest/gtest.h>

namespace fastgpu::io {
namespace {

const std::string kFFFD = "\xEF\xBF\xBD";

std::string sanitized(std::string text) {
  sanitize_utf8(text);
  return text;
}

TEST(Utf8, ValidTextIsUnchanged) {
  for (const std::string& text : {std::string(), std::string("plain ascii\n\t"), std::string("λ ✓ 😀 ノード"),
                                  std::string("\xF4\x8F\xBF\xBF")}) {
    EXPECT_TRUE(is_clean_utf8(text)) << text;
    EXPECT_EQ(sanitized(text), text);
  }
}

TEST(Utf8, BadBytesBecomeReplacementCharacters) {
  EXPECT_EQ(sanitized(std::string("a\0b", 3)), "a" + kFFFD + "b");
  EXPECT_EQ(sanitized("\xff"), kFFFD);
  EXPECT_EQ(sanitized("\x80"
                      "abc"),
            kFFFD + "abc");                                                 // stray continuation
  EXPECT_EQ(sanitized("abc\xE2\x9C"), "abc" + kFFFD + kFFFD);               // cut mid-character
  EXPECT_EQ(sanitized("\xC0\xAF"), kFFFD + kFFFD);                          // overlong '/'
  EXPECT_EQ(sanitized("\xED\xA0\x80"), kFFFD + kFFFD + kFFFD);              // surrogate
  EXPECT_EQ(sanitized("\xF4\x90\x80\x80"), kFFFD + kFFFD + kFFFD + kFFFD);  // > U+10FFFF
  EXPECT_TRUE(is_clean_utf8(sanitized("x\xfe\xff y \xE2\x9C\x93 \xC3")));
}

}  // namespace
}  // namespace fastgpu::io
