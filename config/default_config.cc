#include "config/default_config.h"

#include <cstdio>
#include <cstdlib>

#include "config/loader.h"

namespace switchyard::config {

const std::string_view kDefaultConfigToml = R"toml(# Switchyard embedded default: used when no config file is given.
# See docs/CONFIG.md for every key, and deploy/switchyard.toml for a full example.

[admin]
address = "127.0.0.1:9901"

[[listener]]
name = "default"
address = "127.0.0.1:8080"

[[route]]
name = "no-config"
listener = "default"
direct_response = { status = 200, body = "switchyard: no config loaded, this is the embedded default\n" }
)toml";

std::shared_ptr<const Config> loadDefaultConfig() {
  LoadResult result = loadConfigString(kDefaultConfigToml, kDefaultConfigSourceName);
  if (!result.ok()) {
    std::fprintf(stderr, "switchyard: the embedded default config is invalid:\n%s",
                 result.errorReport().c_str());
    std::abort();
  }
  return result.config();
}

}  // namespace switchyard::config
