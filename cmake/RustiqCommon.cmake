# rustiq_proto_library(NAME PROTOS <files relative to ROOT> ROOT <dir> [DEPS <targets>])
# Generates C++ and gRPC code for the protos at build time and wraps it in a
# static library. Generated code is compiled without our warning flags.
function(rustiq_proto_library name)
  cmake_parse_arguments(ARG "" "ROOT" "PROTOS;DEPS;IMPORT_DIRS" ${ARGN})
  set(out_dir "${CMAKE_CURRENT_BINARY_DIR}/gen")
  file(MAKE_DIRECTORY "${out_dir}")
  set(srcs)
  set(import_flags "-I${ARG_ROOT}")
  foreach(dir IN LISTS ARG_IMPORT_DIRS)
    list(APPEND import_flags "-I${dir}")
  endforeach()
  foreach(proto IN LISTS ARG_PROTOS)
    string(REGEX REPLACE "\\.proto$" "" base "${proto}")
    set(gen "${out_dir}/${base}.pb.cc" "${out_dir}/${base}.pb.h"
            "${out_dir}/${base}.grpc.pb.cc" "${out_dir}/${base}.grpc.pb.h")
    add_custom_command(
      OUTPUT ${gen}
      COMMAND protobuf::protoc ARGS --cpp_out=${out_dir} --grpc_out=${out_dir}
              --plugin=protoc-gen-grpc=${GRPC_CPP_PLUGIN} ${import_flags}
              "${ARG_ROOT}/${proto}"
      DEPENDS "${ARG_ROOT}/${proto}" protobuf::protoc
      COMMENT "protoc ${proto}"
      VERBATIM)
    list(APPEND srcs ${gen})
  endforeach()
  add_library(${name} STATIC ${srcs})
  target_include_directories(${name} PUBLIC "${out_dir}")
  target_link_libraries(${name} PUBLIC protobuf::libprotobuf gRPC::grpc++ ${ARG_DEPS})
endfunction()

# rustiq_library(NAME SOURCES ... DEPS ...): one library per part of common/.
function(rustiq_library name)
  cmake_parse_arguments(ARG "" "" "SOURCES;DEPS" ${ARGN})
  add_library(${name} STATIC ${ARG_SOURCES})
  target_include_directories(${name} PUBLIC "${PROJECT_SOURCE_DIR}")
  target_compile_options(${name} PRIVATE ${RUSTIQ_WARNINGS})
  target_link_libraries(${name} PUBLIC ${ARG_DEPS})
endfunction()

# rustiq_executable(NAME SOURCES ... DEPS ...)
function(rustiq_executable name)
  cmake_parse_arguments(ARG "" "" "SOURCES;DEPS" ${ARGN})
  add_executable(${name} ${ARG_SOURCES})
  target_include_directories(${name} PRIVATE "${PROJECT_SOURCE_DIR}")
  target_compile_options(${name} PRIVATE ${RUSTIQ_WARNINGS})
  target_link_libraries(${name} PRIVATE ${ARG_DEPS})
endfunction()

# rustiq_daemon_executable(NAME SOURCES ... DEPS ...): a daemon, also linked
# as ${CMAKE_BINARY_DIR}/bin/NAME, so that a development device's
# [supervisord.daemons] can name every daemon of the build in one directory.
function(rustiq_daemon_executable name)
  rustiq_executable(${name} ${ARGN})
  add_custom_command(TARGET ${name} POST_BUILD
    COMMAND ${CMAKE_COMMAND} -E make_directory "${CMAKE_BINARY_DIR}/bin"
    COMMAND ${CMAKE_COMMAND} -E create_symlink "$<TARGET_FILE:${name}>"
            "${CMAKE_BINARY_DIR}/bin/${name}"
    VERBATIM)
endfunction()

# rustiq_test(NAME SOURCES ... DEPS ... [LABELS ...]): a GoogleTest binary
# registered with ctest.
function(rustiq_test name)
  cmake_parse_arguments(ARG "" "" "SOURCES;DEPS;LABELS" ${ARGN})
  rustiq_executable(${name} SOURCES ${ARG_SOURCES}
                    DEPS ${ARG_DEPS} GTest::gmock GTest::gtest_main)
  # After the build type's -O2, so this -Og wins (CMakeLists.txt says why).
  target_compile_options(${name} PRIVATE ${RUSTIQ_TEST_CODE_OPTIONS})
  gtest_discover_tests(${name} DISCOVERY_TIMEOUT 60
                       PROPERTIES LABELS "${ARG_LABELS}" TIMEOUT 120)
endfunction()
