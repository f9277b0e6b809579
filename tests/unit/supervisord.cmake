# Tests of services/supervisord's parts.
# The process layer (rustiq_supervisord_process): starting a child (real
# processes: /bin/sh, /bin/sleep, /usr/bin/env), why it ended, relaying its
# output, reading its memory. The user-switch tests run only as root.
rustiq_test(supervisord_process_test SOURCES supervisord_process_test.cc
            DEPS rustiq_supervisord_process LABELS unit)
