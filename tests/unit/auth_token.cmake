# Tests of common/auth (tokens).
#
# As rustiq_test, but every test is named "auth_token.<Suite>.<Test>" so that
# `ctest -R auth_` selects exactly these (rustiq_test has no prefix option;
# keyclient.cmake does the same).
function(auth_token_test name)
  cmake_parse_arguments(ARG "" "" "SOURCES;DEPS" ${ARGN})
  rustiq_executable(${name} SOURCES ${ARG_SOURCES}
                    DEPS ${ARG_DEPS} GTest::gmock GTest::gtest_main)
  gtest_discover_tests(${name} TEST_PREFIX "auth_token." DISCOVERY_TIMEOUT 60
                       PROPERTIES LABELS unit TIMEOUT 120)
endfunction()

find_package(nlohmann_json CONFIG REQUIRED)
# PASETO v4.public (official vectors, tampering) and the claims.
auth_token_test(auth_paseto_test SOURCES auth_paseto_test.cc
                DEPS rustiq_auth rustiq_pki)
auth_token_test(auth_claims_test SOURCES auth_claims_test.cc
                DEPS rustiq_auth nlohmann_json::nlohmann_json)
# The verifier with a fixed key source and an injected clock.
auth_token_test(auth_verifier_test SOURCES auth_verifier_test.cc
                DEPS rustiq_auth rustiq_pki)
# Against in-process gRPC fakes of keyd and authd on Unix sockets (no TLS).
auth_token_test(auth_keyd_key_source_test SOURCES auth_keyd_key_source_test.cc
                DEPS rustiq_auth rustiq_pki rustiq_proto gRPC::grpc++)
auth_token_test(auth_revocation_test SOURCES auth_revocation_test.cc
                DEPS rustiq_auth rustiq_proto gRPC::grpc++)
auth_token_test(auth_daemon_tokens_test SOURCES auth_daemon_tokens_test.cc
                DEPS rustiq_auth rustiq_pki rustiq_proto gRPC::grpc++)
