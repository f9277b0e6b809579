# Tests of the formatting of 'rustiqctl status' and 'rustiqctl services'
# (cli/status_format.h): pure functions of supervisord's protos, no daemon.
rustiq_test(cli_status_format_test SOURCES cli_status_format_test.cc
            DEPS rustiq_cli_lib LABELS unit)
