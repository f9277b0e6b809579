# Unit tests of common/keyclient (rustiq_keyclient).
#
# As rustiq_test, but every test is named "keyclient.<Suite>.<Test>" so that
# `ctest -R keyclient` selects exactly these (rustiq_test has no prefix
# option).
function(keyclient_test name)
  cmake_parse_arguments(ARG "" "" "SOURCES;DEPS" ${ARGN})
  rustiq_executable(${name} SOURCES ${ARG_SOURCES}
                    DEPS ${ARG_DEPS} GTest::gmock GTest::gtest_main)
  gtest_discover_tests(${name} TEST_PREFIX "keyclient." DISCOVERY_TIMEOUT 60
                       PROPERTIES LABELS unit TIMEOUT 120)
endfunction()

# Runs `openssl s_server` (the openssl CLI) as a child process.
# One test also runs the real rustiq-keyd (tests/support/test_device.h).
keyclient_test(keyclient_provider_test SOURCES keyclient_provider_test.cc
               DEPS rustiq_keyclient rustiq_pki rustiq_rpc rustiq_test_support
                    OpenSSL::SSL)
add_dependencies(keyclient_provider_test rustiq-keyd)
set_source_files_properties(keyclient_provider_test.cc
                            PROPERTIES COMPILE_OPTIONS -Wno-null-dereference)
keyclient_test(keyclient_keyd_signer_test SOURCES keyclient_keyd_signer_test.cc
               DEPS rustiq_keyclient rustiq_proto gRPC::grpc++)
# GCC 12 reports -Wnull-dereference inside gRPC's inlined call-op templates.
set_source_files_properties(keyclient_keyd_signer_test.cc
                            PROPERTIES COMPILE_OPTIONS -Wno-null-dereference)
