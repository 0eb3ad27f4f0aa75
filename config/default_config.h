// The embedded default config: what the binary runs when started without a file.
//
// It keeps a freshly installed switchyard observable and harmless: one listener on
// loopback answering every request with a fixed 200 that says no config was loaded, and
// the admin endpoints on their usual loopback port. Being TOML text (not hand-built
// structs), it goes through the same loader and validation as any operator's file, and
// /config shows it verbatim.
#pragma once

#include <memory>
#include <string_view>

#include "config/config.h"

namespace switchyard::config {

// Config::source_name (and the file name in errors) of the embedded default.
inline constexpr std::string_view kDefaultConfigSourceName = "<embedded default>";

// The embedded TOML text.
extern const std::string_view kDefaultConfigToml;

// The default snapshot. It does not depend on the machine (no cpu_affinity, workers left
// to the runtime), so it always validates: tests/unit/config/default_config_test.cc
// proves it, and a failure here aborts the process with the errors on stderr, since the
// binary itself would be broken.
std::shared_ptr<const Config> loadDefaultConfig();

}  // namespace switchyard::config
