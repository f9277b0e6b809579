# Unit tests of common/pki (rustiq_pki).
rustiq_test(pki_openssl_util_test SOURCES pki_openssl_util_test.cc
            DEPS rustiq_pki LABELS unit)
rustiq_test(pki_certificate_authority_test
            SOURCES pki_certificate_authority_test.cc
            DEPS rustiq_pki OpenSSL::SSL LABELS unit)
rustiq_test(pki_identity_files_test SOURCES pki_identity_files_test.cc
            DEPS rustiq_pki LABELS unit)
rustiq_test(pki_file_ca_issuer_test SOURCES pki_file_ca_issuer_test.cc
            DEPS rustiq_pki LABELS unit)
rustiq_test(pki_provisioner_test SOURCES pki_provisioner_test.cc
            DEPS rustiq_pki LABELS unit)
rustiq_test(pki_grpc_tls_test SOURCES pki_grpc_tls_test.cc
            DEPS rustiq_pki gRPC::grpc++ LABELS unit)
# GCC 12 reports -Wnull-dereference inside gRPC's inlined call-op templates.
set_source_files_properties(pki_grpc_tls_test.cc
                            PROPERTIES COMPILE_OPTIONS -Wno-null-dereference)
