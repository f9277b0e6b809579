# Tests of the seccomp policy compiler (tools/policyc) and the filter loader
# (common/sandbox/seccomp_filter.h).

# The parser and code generator, driven directly.
rustiq_test(seccomp_policy_parser_test SOURCES seccomp_policy_parser_test.cc
            DEPS rustiq_seccomp_policy_parser LABELS unit)

# The real rustiq-policyc binary on every fixture of tests/policies/{good,bad}
# and on the daemons' policies: what the build step does.
rustiq_test(seccomp_policyc_test SOURCES seccomp_policyc_test.cc
            DEPS absl::strings LABELS unit)
target_compile_definitions(seccomp_policyc_test PRIVATE
  RUSTIQ_POLICYC_PATH="$<TARGET_FILE:rustiq-policyc>"
  RUSTIQ_SOURCE_DIR="${PROJECT_SOURCE_DIR}")
add_dependencies(seccomp_policyc_test rustiq-policyc)

# The testserver's policy. It belongs beside rustiq-testserver
# (tests/testserver/CMakeLists.txt) once the testserver confines itself; until
# then it is compiled here, so a bad policy still fails the build.
rustiq_seccomp_policy(rustiq_policy_filtertest filtertest
                      POLICY tests/policies/good/filter_test.policy)

# Filters loaded for real, each in a forked child.
rustiq_test(seccomp_filter_test SOURCES seccomp_filter_test.cc
            DEPS rustiq_sandbox_seccomp rustiq_policy_filtertest
                 rustiq_policy_testserver Threads::Threads LABELS unit)
