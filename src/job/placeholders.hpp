// Template strings: literal text with {name} placeholders; "{{" and "}}" are literal braces.
#pragma once

#include <array>
#include <functional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace fastgpu::job {

/// The placeholders every subtask has besides its parameters.
inline constexpr std::array<std::string_view, 3> kBuiltinPlaceholders = {"task_id", "attempt", "output_dir"};

bool is_builtin_placeholder(std::string_view name);

/// [A-Za-z_][A-Za-z0-9_]*: what parameter and placeholder names look like.
bool is_identifier(std::string_view name);

/// A template is malformed, or a placeholder has no value. The message has no location.
class TemplateError : public std::invalid_argument {
 public:
  using std::invalid_argument::invalid_argument;
};

/// A run of literal text (braces already unescaped), or one placeholder (its name).
struct TemplatePart {
  bool placeholder = false;
  std::string text;
};

/// Splits a template into parts. `context` names where it was written ("command", "cwd", ...)
/// for error messages. Throws TemplateError on an unterminated '{', a single '}', or a
/// placeholder that is not a name.
std::vector<TemplatePart> parse_template(std::string_view text, std::string_view context);

/// The placeholder names of a template, in order, repeats included.
std::vector<std::string> template_placeholders(std::string_view text, std::string_view context);

/// Looks a placeholder up: its value, or nullptr when it has none.
using PlaceholderLookup = std::function<const std::string*(std::string_view name)>;

/// Joins the parts, substituting each placeholder's value literally (never re-scanned, never
/// quoted). Throws TemplateError when the lookup has no value for one.
std::string render_template(const std::vector<TemplatePart>& parts, const PlaceholderLookup& lookup,
                            std::string_view context);

/// parse_template then render_template.
std::string render_template(std::string_view text, const PlaceholderLookup& lookup, std::string_view context);

}  // namespace fastgpu::job
