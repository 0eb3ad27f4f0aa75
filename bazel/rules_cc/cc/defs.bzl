"""Local @rules_cc shim: forwards to Bazel 4.2.3's native C++ rules.

Debian's bazel-rules-cc loads `use_cpp_toolchain`, which Bazel 4 lacks, so it cannot be
used here. Code (ours and third-party) that writes
`load("@rules_cc//cc:defs.bzl", "cc_library")` gets the native rule.
"""

def cc_binary(**attrs):
    native.cc_binary(**attrs)

def cc_library(**attrs):
    native.cc_library(**attrs)

def cc_test(**attrs):
    native.cc_test(**attrs)

def cc_import(**attrs):
    native.cc_import(**attrs)

def cc_toolchain(**attrs):
    native.cc_toolchain(**attrs)

def cc_toolchain_suite(**attrs):
    native.cc_toolchain_suite(**attrs)

def cc_proto_library(**attrs):
    native.cc_proto_library(**attrs)

def objc_library(**attrs):
    native.objc_library(**attrs)
