# The key backend conformance suite: the same tests against every backend
# (soft, soft with precomputed ECDSA nonces, and pkcs11 on a fresh SoftHSM2
# token).
#
# rustiq_test, spelled out for NO_PRETTY_VALUES: the suite names its
# instances (".../soft", ".../pkcs11"), and CMake's pretty-value rewriting
# only understands numbered ones, so without it every ctest name would carry
# "# GetParam() = <bytes>".
rustiq_executable(keyd_backend_test SOURCES keyd_backend_test.cc
  DEPS rustiq_keyd_backend rustiq_keyd_pkcs11 rustiq_softhsm_token rustiq_pki
       OpenSSL::Crypto GTest::gmock GTest::gtest_main)
gtest_discover_tests(keyd_backend_test NO_PRETTY_VALUES DISCOVERY_TIMEOUT 60
                     PROPERTIES LABELS unit TIMEOUT 120)
# What only the pkcs11 backend has (login errors, token attributes, handles).
rustiq_test(keyd_backend_pkcs11_test SOURCES keyd_backend_pkcs11_test.cc
            DEPS rustiq_keyd_pkcs11 rustiq_softhsm_token LABELS unit)
# Precomputed ECDSA nonces (services/keyd/ecdsa_presigner.h).
rustiq_test(keyd_presigner_test SOURCES keyd_presigner_test.cc
            DEPS rustiq_keyd_backend rustiq_pki OpenSSL::Crypto LABELS unit)
