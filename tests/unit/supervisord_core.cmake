# The supervisor's state machine (real child processes, a health probe the
# test controls), its restart policy and start order.
rustiq_test(supervisord_supervisor_test SOURCES supervisord_supervisor_test.cc
            DEPS rustiq_supervisord LABELS unit)
# Posture findings against each daemon's policy; the runtime and state
# directories supervisord hands to the daemons (root: real chown).
rustiq_test(supervisord_posture_test SOURCES supervisord_posture_test.cc
            DEPS rustiq_supervisord LABELS unit)
