#pragma once
// Number <-> text for the text formats. Parsing is locale-free and correctly rounded
// (std::from_chars), and float32 values are printed in their shortest form that reads
// back to the same bits, so export -> import is bit-exact.

#include <QByteArray>

#include <optional>
#include <string_view>

namespace tinyml::io {

/// Parses a decimal number (surrounding blanks and a leading '+' allowed). Values too small
/// for float32 become 0 or a subnormal; values too large, and anything else, give nullopt.
std::optional<float> parseFloat32(std::string_view text);
std::optional<double> parseFloat64(std::string_view text);

/// Shortest decimal text that reads back (with parseFloat32) to exactly `v`.
QByteArray formatFloat32(float v);
/// Shortest decimal text that reads back to exactly `v`.
QByteArray formatFloat64(double v);

} // namespace tinyml::io
