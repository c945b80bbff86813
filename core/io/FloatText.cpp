#include "io/FloatText.h"

#include <charconv>
#include <cmath>
#include <limits>
#include <system_error>

namespace tinyml::io {

namespace {

std::string_view trimmed(std::string_view s)
{
    while (!s.empty() && (s.front() == ' ' || s.front() == '\t'))
        s.remove_prefix(1);
    while (!s.empty() && (s.back() == ' ' || s.back() == '\t'))
        s.remove_suffix(1);
    if (!s.empty() && s.front() == '+')
        s.remove_prefix(1);
    return s;
}

} // namespace

std::optional<double> parseFloat64(std::string_view text)
{
    text = trimmed(text);
    if (text.empty())
        return std::nullopt;
    double v = 0;
    const auto r = std::from_chars(text.data(), text.data() + text.size(), v);
    if (r.ptr != text.data() + text.size())
        return std::nullopt;
    if (r.ec == std::errc::result_out_of_range) {
        // from_chars leaves v untouched here: tell underflow from overflow by the exponent.
        const auto e = text.find_first_of("eE");
        if (e == std::string_view::npos || text.find('-', e) == std::string_view::npos)
            return std::nullopt;
        return text.front() == '-' ? -0.0 : 0.0;
    }
    if (r.ec != std::errc())
        return std::nullopt;
    return v;
}

std::optional<float> parseFloat32(std::string_view text)
{
    text = trimmed(text);
    if (text.empty())
        return std::nullopt;
    float v = 0;
    const auto r = std::from_chars(text.data(), text.data() + text.size(), v);
    if (r.ptr != text.data() + text.size())
        return std::nullopt;
    if (r.ec == std::errc::result_out_of_range) {
        // Below the smallest float32 subnormal: the value rounds to (signed) zero.
        const auto d = parseFloat64(text);
        if (!d || std::fabs(*d) > double(std::numeric_limits<float>::max()))
            return std::nullopt;
        return static_cast<float>(*d);
    }
    if (r.ec != std::errc())
        return std::nullopt;
    return v;
}

QByteArray formatFloat32(float v)
{
    char buf[32];
    const auto r = std::to_chars(buf, buf + sizeof buf, v);
    return QByteArray(buf, int(r.ptr - buf));
}

QByteArray formatFloat64(double v)
{
    char buf[32];
    const auto r = std::to_chars(buf, buf + sizeof buf, v);
    return QByteArray(buf, int(r.ptr - buf));
}

} // namespace tinyml::io
