"""Compiler options for Switchyard's own C++ code.

Use in every cc_library/cc_binary/cc_test of ours:

    load("//bazel:copts.bzl", "SWITCHYARD_COPTS")
    cc_library(name = "...", copts = SWITCHYARD_COPTS, ...)

They are not global (.bazelrc) so that third-party C sources compile with their own
settings. -std=c++20 comes from .bazelrc.
"""

SWITCHYARD_COPTS = [
    "-Wall",
    "-Wextra",
]
