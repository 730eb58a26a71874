#include <gtest/gtest.h>

#include <map>

#include "job/placeholders.hpp"
#include "job/suggest.hpp"

namespace fastgpu::job {
namespace {

std::string render(std::string_view text, const std::map<std::string, std::string>& values) {
  return render_template(
      text,
      [&](std::string_view name) -> const std::string* {
        const auto it = values.find(std::string(name));
        return it == values.end() ? nullptr : &it->second;
      },
      "command");
}

std::string syntax_error(std::string_view text) {
  try {
    parse_template(text, "command");
  } catch (const TemplateError& error) {
    return error.what();
  }
  return "no error";
}

TEST(Template, SplitsLiteralsAndPlaceholders) {
  const auto parts = parse_template("--lr={lr}/{seed}", "command");
  ASSERT_EQ(parts.size(), 4u);
  EXPECT_FALSE(parts[0].placeholder);
  EXPECT_EQ(parts[0].text, "--lr=");
  EXPECT_TRUE(parts[1].placeholder);
  EXPECT_EQ(parts[1].text, "lr");
  EXPECT_EQ(parts[2].text, "/");
  EXPECT_TRUE(parts[3].placeholder);
  EXPECT_EQ(parts[3].text, "seed");
  EXPECT_EQ(template_placeholders("{a}{b}{a}", "x"), (std::vector<std::string>{"a", "b", "a"}));
  EXPECT_TRUE(parse_template("", "x").empty());
}

TEST(Template, DoubledBracesAreLiteral) {
  EXPECT_EQ(render("{{}}", {}), "{}");
  EXPECT_EQ(render("{{lr}}", {{"lr", "0.1"}}), "{lr}");
  EXPECT_EQ(render("{{{lr}}}", {{"lr", "0.1"}}), "{0.1}");
  EXPECT_EQ(render(R"({{"lr": {lr}}})", {{"lr", "0.1"}}), R"({"lr": 0.1})");
  EXPECT_EQ(render("awk '{{print $1}}'", {}), "awk '{print $1}'");
  EXPECT_TRUE(template_placeholders("{{seed}}", "x").empty());
}

TEST(Template, ValuesAreInsertedLiterally) {
  // A value that looks like a placeholder or shell syntax is not scanned again.
  EXPECT_EQ(render("{a}", {{"a", "{b}"}, {"b", "no"}}), "{b}");
  EXPECT_EQ(render("x{a}y", {{"a", "; rm -rf / $(id) `id` '\""}}), "x; rm -rf / $(id) `id` '\"y");
}

TEST(Template, SyntaxErrors) {
  EXPECT_EQ(syntax_error("{lr"), "unterminated placeholder '{lr' in command; write '{{' for a literal '{'");
  EXPECT_EQ(syntax_error("a{"), "unterminated placeholder '{' in command; write '{{' for a literal '{'");
  EXPECT_EQ(syntax_error("{a{b}"), "unterminated placeholder '{a' in command; write '{{' for a literal '{'");
  EXPECT_EQ(syntax_error("a}"), "single '}' in command; write '}}' for a literal '}'");
  EXPECT_EQ(syntax_error("{}"), "empty placeholder '{}' in command: a placeholder is a parameter name in braces, "
                                "like {seed}; write '{{' and '}}' for literal braces");
  EXPECT_EQ(syntax_error("{ lr }"), "invalid placeholder '{ lr }' in command: a placeholder is a parameter name in "
                                    "braces, like {seed}; write '{{' and '}}' for literal braces");
  EXPECT_EQ(syntax_error("{lr:.3f}").substr(0, 30), "invalid placeholder '{lr:.3f}'");
  EXPECT_EQ(syntax_error("{1x}").substr(0, 26), "invalid placeholder '{1x}'");
}

TEST(Template, MissingValue) {
  EXPECT_THROW(render("{nope}", {}), TemplateError);
  try {
    render("{nope}", {});
  } catch (const TemplateError& error) {
    EXPECT_STREQ(error.what(), "no value for placeholder '{nope}' in command");
  }
}

TEST(Names, IdentifiersAndBuiltins) {
  EXPECT_TRUE(is_identifier("lr"));
  EXPECT_TRUE(is_identifier("_x9"));
  EXPECT_FALSE(is_identifier(""));
  EXPECT_FALSE(is_identifier("9x"));
  EXPECT_FALSE(is_identifier("a-b"));
  EXPECT_FALSE(is_identifier("a.b"));
  EXPECT_TRUE(is_builtin_placeholder("task_id"));
  EXPECT_TRUE(is_builtin_placeholder("attempt"));
  EXPECT_TRUE(is_builtin_placeholder("output_dir"));
  EXPECT_FALSE(is_builtin_placeholder("seed"));
}

TEST(Suggest, EditDistance) {
  EXPECT_EQ(edit_distance("", ""), 0u);
  EXPECT_EQ(edit_distance("gpu", "gpus"), 1u);
  EXPECT_EQ(edit_distance("kitten", "sitting"), 3u);
  EXPECT_EQ(edit_distance("abc", ""), 3u);
}

TEST(Suggest, ClosestMatch) {
  const std::vector<std::string> keys = {"command", "env", "cwd", "gpus", "cost", "timeout", "retries", "output_tail"};
  EXPECT_EQ(closest_match("gpu", keys), "gpus");
  EXPECT_EQ(closest_match("GPUS", keys), "gpus");
  EXPECT_EQ(closest_match("comand", keys), "command");
  EXPECT_EQ(closest_match("retires", keys), "retries");
  EXPECT_EQ(closest_match("retry", keys), "retries");  // 3 edits, but the first 4 letters agree
  EXPECT_EQ(closest_match("gpuss", {"gpus", "cost"}), "gpus");
  EXPECT_EQ(closest_match("rety", keys), "");  // 3 edits in a 4-letter word, sharing only 3
  EXPECT_EQ(closest_match("outputtail", keys), "output_tail");
  EXPECT_EQ(closest_match("time_out", keys), "timeout");
  EXPECT_EQ(closest_match("resources", keys), "");
  EXPECT_EQ(closest_match("x", {"lr"}), "");  // a complete rewrite is no suggestion
  // A third of a long word: 3 edits in 12 letters still suggests; 3 in 8 does not.
  EXPECT_EQ(closest_match("learningrate", {"learning_rate_x"}), "learning_rate_x");
  EXPECT_EQ(closest_match("abcdefgh", {"abxdefghyz"}), "");
  EXPECT_EQ(closest_match("x", {}), "");
}

}  // namespace
}  // namespace fastgpu::job
