// Small hand-built Config snapshots for the metrics tests (no TOML involved).
#pragma once

#include <string>
#include <vector>

#include "config/config.h"

namespace switchyard::testing {

// Listeners "public" and "internal"; clusters "api" (2 endpoints) and "web" (1);
// routes: "api" -> api (any listener), "web" -> web (public only),
// "admin" -> direct response (internal only).
config::Config twoListenerConfig();

}  // namespace switchyard::testing
