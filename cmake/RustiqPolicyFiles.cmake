# rustiq_policy_files(TARGET DAEMON): checks policies/<daemon>/capabilities
# and landlock.paths with rustiq-policy-embed (a malformed file fails the
# build at this step) and compiles their text into a static library whose
# header is policies/<daemon>/policy_files.h.
function(rustiq_policy_files target daemon)
  set(gen_root "${CMAKE_CURRENT_BINARY_DIR}/gen")
  set(out_dir "${gen_root}/policies/${daemon}")
  set(caps "${PROJECT_SOURCE_DIR}/policies/${daemon}/capabilities")
  set(landlock "${PROJECT_SOURCE_DIR}/policies/${daemon}/landlock.paths")
  add_custom_command(
    OUTPUT "${out_dir}/policy_files.cc" "${out_dir}/policy_files.h"
    COMMAND "${CMAKE_COMMAND}" -E make_directory "${out_dir}"
    COMMAND rustiq-policy-embed --daemon "${daemon}" --capabilities "${caps}"
            --landlock "${landlock}" --out "${out_dir}/policy_files.cc"
            --header "${out_dir}/policy_files.h"
    DEPENDS "${caps}" "${landlock}" rustiq-policy-embed
    COMMENT "rustiq-policy-embed policies/${daemon}"
    VERBATIM)
  add_library(${target} STATIC "${out_dir}/policy_files.cc")
  target_include_directories(${target} PUBLIC "${gen_root}")
endfunction()
