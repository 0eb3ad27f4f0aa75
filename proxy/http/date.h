// The HTTP Date field value (RFC 9110 5.6.7, IMF-fixdate: "Sun, 06 Nov 1994 08:49:37 GMT").
//
// Owns: formatting a Unix time as IMF-fixdate without libc's locale- and timezone-aware
// functions (which may take locks or read files), and a per-thread cache so that the
// proxy formats the current date once per second per thread, not once per response.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <span>
#include <string_view>

namespace switchyard::http {

// IMF-fixdate is always exactly this long.
inline constexpr size_t kHttpDateLength = 29;

using HttpDate = std::array<char, kHttpDateLength>;

// Formats `unix_seconds` (UTC; years 1970..9999) into `out` and returns a view of it.
std::string_view formatHttpDate(int64_t unix_seconds, std::span<char, kHttpDateLength> out);

// The current time as IMF-fixdate. Reformatted at most once per second per thread; the
// value is returned by copy, so it stays valid when the calling Task later migrates to
// another thread.
HttpDate currentHttpDate();

}  // namespace switchyard::http
