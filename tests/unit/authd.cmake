# Tests of services/authd's parts.
# Credentials and roles (rustiq_authd_credentials): argon2id hashing, the
# password policy and random initial credentials, user names, and the RBAC
# catalogue checked against every permission the protos declare.
rustiq_test(authd_password_test SOURCES authd_password_test.cc
            DEPS rustiq_authd_credentials LABELS unit)
rustiq_test(authd_policy_test SOURCES authd_policy_test.cc
            DEPS rustiq_authd_credentials LABELS unit)
rustiq_test(authd_roles_test SOURCES authd_roles_test.cc
            DEPS rustiq_authd_credentials rustiq_proto LABELS unit)
# The brute-force throttle (time injected) and the SQLite account store (real
# files in a temporary directory).
rustiq_test(authd_throttle_test SOURCES authd_throttle_test.cc
            DEPS rustiq_authd_store LABELS unit)
rustiq_test(authd_store_test SOURCES authd_store_test.cc
            DEPS rustiq_authd_store LABELS unit)
# Accounts driven directly (real store, real argon2id, clock injected).
rustiq_test(authd_accounts_test SOURCES authd_accounts_test.cc
            DEPS rustiq_authd LABELS unit)
