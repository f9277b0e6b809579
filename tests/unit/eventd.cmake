# Unit tests of eventd's logic (rustiq_eventd): event records, the SQLite
# store and the log (group commit, signing, proofs, retention, a damaged
# file refused). Real files in a temporary directory; an in-process Ed25519
# signer stands in for keyd. Suites are named Eventd* (ctest -R Eventd).
rustiq_test(eventd_record_test SOURCES eventd_record_test.cc
            DEPS rustiq_eventd LABELS unit)
rustiq_test(eventd_log_test SOURCES eventd_log_test.cc
            DEPS rustiq_eventd PkgConfig::SQLITE3 LABELS unit)
rustiq_test(eventd_journal_test SOURCES eventd_journal_test.cc
            DEPS rustiq_eventd LABELS unit)
