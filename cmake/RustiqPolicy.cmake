# rustiq_seccomp_policy(<target> <daemon> [POLICY <file>])
# Compiles the seccomp policy of <daemon> with rustiq-policyc at build time
# and wraps the generated code in the static library <target> (by convention
# rustiq_policy_<daemon>). The library provides
#   #include "policies/<daemon>/seccomp_policy.h"
#   const rustiq::sandbox::SeccompPolicy&
#       rustiq::sandbox::policies::<Daemon>SeccompPolicy();
# and links rustiq_sandbox_seccomp (LoadSeccompFilter). <file> defaults to
# policies/<daemon>/seccomp.policy and is relative to the project root, which
# is also how errors name it. A malformed policy, an unknown syscall or
# constant, a duplicate entry or a risky syscall without "# why:" fails the
# build at this step (tools/policyc/README.md).
function(rustiq_seccomp_policy target daemon)
  cmake_parse_arguments(ARG "" "POLICY" "" ${ARGN})
  set(policy "policies/${daemon}/seccomp.policy")
  if(ARG_POLICY)
    set(policy "${ARG_POLICY}")
  endif()
  set(gen_root "${CMAKE_CURRENT_BINARY_DIR}/gen")
  set(out_dir "${gen_root}/policies/${daemon}")
  set(out_cc "${out_dir}/seccomp_policy.cc")
  set(out_h "${out_dir}/seccomp_policy.h")
  add_custom_command(
    OUTPUT "${out_cc}" "${out_h}"
    COMMAND "${CMAKE_COMMAND}" -E make_directory "${out_dir}"
    COMMAND rustiq-policyc --daemon "${daemon}" --in "${policy}"
            --out "${out_cc}" --header "${out_h}"
    WORKING_DIRECTORY "${PROJECT_SOURCE_DIR}"
    DEPENDS "${PROJECT_SOURCE_DIR}/${policy}" rustiq-policyc
    COMMENT "rustiq-policyc ${policy}"
    VERBATIM)
  add_library(${target} STATIC "${out_cc}" "${out_h}")
  target_include_directories(${target} PUBLIC "${gen_root}")
  target_compile_options(${target} PRIVATE ${RUSTIQ_WARNINGS})
  target_link_libraries(${target} PUBLIC rustiq_sandbox_seccomp)
endfunction()
