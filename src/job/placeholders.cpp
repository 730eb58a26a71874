#include "job/placeholders.hpp"

#include <algorithm>

namespace fastgpu::job {

bool is_builtin_placeholder(std::string_view name) {
  return std::find(kBuiltinPlaceholders.begin(), kBuiltinPlaceholders.end(), name) != kBuiltinPlaceholders.end();
}

bool is_identifier(std::string_view name) {
  if (name.empty()) return false;
  const auto letter = [](char c) { return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || c == '_'; };
  const auto digit = [](char c) { return c >= '0' && c <= '9'; };
  if (!letter(name.front())) return false;
  return std::all_of(name.begin(), name.end(), [&](char c) { return letter(c) || digit(c); });
}

std::vector<TemplatePart> parse_template(std::string_view text, std::string_view context) {
  const std::string where(context);
  std::vector<TemplatePart> parts;
  std::string literal;
  for (std::size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (c == '}') {
      if (i + 1 < text.size() && text[i + 1] == '}') {
        literal += '}';
        ++i;
        continue;
      }
      throw TemplateError("single '}' in " + where + "; write '}}' for a literal '}'");
    }
    if (c != '{') {
      literal += c;
      continue;
    }
    if (i + 1 < text.size() && text[i + 1] == '{') {
      literal += '{';
      ++i;
      continue;
    }
    const std::size_t close = text.find('}', i + 1);
    const std::size_t nested = text.find('{', i + 1);
    if (close == std::string_view::npos || (nested != std::string_view::npos && nested < close)) {
      const std::size_t end = std::min(nested, text.size());
      throw TemplateError("unterminated placeholder '" + std::string(text.substr(i, end - i)) + "' in " + where +
                          "; write '{{' for a literal '{'");
    }
    const std::string_view name = text.substr(i + 1, close - i - 1);
    if (!is_identifier(name)) {
      const std::string shown(text.substr(i, close - i + 1));
      throw TemplateError(std::string(name.empty() ? "empty" : "invalid") + " placeholder '" + shown + "' in " +
                          where + ": a placeholder is a parameter name in braces, like {seed}; write '{{' and '}}'" +
                          " for literal braces");
    }
    if (!literal.empty()) parts.push_back({false, std::move(literal)});
    literal.clear();
    parts.push_back({true, std::string(name)});
    i = close;
  }
  if (!literal.empty()) parts.push_back({false, std::move(literal)});
  return parts;
}

std::vector<std::string> template_placeholders(std::string_view text, std::string_view context) {
  std::vector<std::string> names;
  for (TemplatePart& part : parse_template(text, context)) {
    if (part.placeholder) names.push_back(std::move(part.text));
  }
  return names;
}

std::string render_template(const std::vector<TemplatePart>& parts, const PlaceholderLookup& lookup,
                            std::string_view context) {
  std::string out;
  for (const TemplatePart& part : parts) {
    if (!part.placeholder) {
      out += part.text;
      continue;
    }
    const std::string* value = lookup(part.text);
    if (value == nullptr) {
      throw TemplateError("no value for placeholder '{" + part.text + "}' in " + std::string(context));
    }
    out += *value;
  }
  return out;
}

std::string render_template(std::string_view text, const PlaceholderLookup& lookup, std::string_view context) {
  return render_template(parse_template(text, context), lookup, context);
}

}  // namespace fastgpu::job
