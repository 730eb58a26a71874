// Text stored in the results file is declared UTF-8 and NUL-terminated; this makes it so.
#pragma once

#include <string>
#include <string_view>

namespace fastgpu::io {

/**
 * @brief Whether @p text is valid UTF-8 (RFC 3629: no overlong forms, no surrogates, nothing above
 * U+10FFFF) without NUL bytes.
 */
bool is_clean_utf8(std::string_view text);

/**
 * @brief Makes @p text storable as a UTF-8 C string: every byte that is not part of a valid UTF-8
 * sequence, and every NUL, becomes U+FFFD. Valid text is left as it is (and not copied). Output
 * tails are cut at arbitrary bytes, so a tail may well start in the middle of a character.
 */
void sanitize_utf8(std::string& text);

}  // namespace fastgpu::io
