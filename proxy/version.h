// The version string: --version, build_info{version}, the Server header.
#pragma once

namespace switchyard {
inline constexpr const char* kVersion = "0.1.0";
}  // namespace switchyard
