# Unit tests of keyd's logic (rustiq_keyd): the key manager, the key store and
# master key, key policies and keys.toml, and the device CA. They drive the
# classes directly, on the soft backend, with real files in a temporary
# directory. Suites are named Keyd* (ctest -R Keyd).
rustiq_test(keyd_manager_test SOURCES keyd_manager_test.cc
            DEPS rustiq_keyd OpenSSL::Crypto LABELS unit)
rustiq_test(keyd_manager_faults_test SOURCES keyd_manager_faults_test.cc
            DEPS rustiq_keyd OpenSSL::Crypto LABELS unit)
rustiq_test(keyd_store_test SOURCES keyd_store_test.cc
            DEPS rustiq_keyd OpenSSL::Crypto LABELS unit)
rustiq_test(keyd_policy_test SOURCES keyd_policy_test.cc
            DEPS rustiq_keyd OpenSSL::Crypto LABELS unit)
rustiq_test(keyd_ca_test SOURCES keyd_ca_test.cc
            DEPS rustiq_keyd rustiq_pki rustiq_config OpenSSL::Crypto
            LABELS unit)
