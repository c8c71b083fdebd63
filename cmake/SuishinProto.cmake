# suishin_proto_library(NAME <target> PROTOS <paths relative to PROTO_ROOT>
#                       [PROTO_ROOT <dir>] [GRPC] [DEPS <targets>])
#
# Generates C++ (and, with GRPC, gRPC stubs) for one proto package into
# ${CMAKE_BINARY_DIR}/gen and wraps it in one static library. protoc runs with
# --proto_path at the proto root, so nested packages keep their import paths
# (suishin/kpi/v1/kpi.proto). See BUILD-NOTES.md for why not protobuf_generate.
set(SUISHIN_GEN_DIR ${CMAKE_BINARY_DIR}/gen)
file(MAKE_DIRECTORY ${SUISHIN_GEN_DIR})

function(suishin_proto_library)
  cmake_parse_arguments(ARG "GRPC" "NAME;PROTO_ROOT" "PROTOS;DEPS" ${ARGN})
  if(NOT ARG_PROTO_ROOT)
    set(ARG_PROTO_ROOT ${PROJECT_SOURCE_DIR}/proto)
  endif()
  set(srcs)
  set(hdrs)
  foreach(proto ${ARG_PROTOS})
    string(REGEX REPLACE "\\.proto$" "" base ${proto})
    set(outs ${SUISHIN_GEN_DIR}/${base}.pb.cc ${SUISHIN_GEN_DIR}/${base}.pb.h)
    set(plugin_args)
    if(ARG_GRPC)
      list(APPEND outs ${SUISHIN_GEN_DIR}/${base}.grpc.pb.cc ${SUISHIN_GEN_DIR}/${base}.grpc.pb.h)
      set(plugin_args --grpc_out=${SUISHIN_GEN_DIR}
                      --plugin=protoc-gen-grpc=$<TARGET_FILE:gRPC::grpc_cpp_plugin>)
    endif()
    add_custom_command(
      OUTPUT ${outs}
      COMMAND protobuf::protoc --proto_path=${ARG_PROTO_ROOT}
              --proto_path=${PROJECT_SOURCE_DIR}/proto
              --cpp_out=${SUISHIN_GEN_DIR} ${plugin_args} ${ARG_PROTO_ROOT}/${proto}
      DEPENDS ${ARG_PROTO_ROOT}/${proto} protobuf::protoc
      COMMENT "protoc ${proto}"
      VERBATIM)
    list(APPEND srcs ${outs})
  endforeach()
  add_library(${ARG_NAME} STATIC ${srcs})
  target_include_directories(${ARG_NAME} PUBLIC ${SUISHIN_GEN_DIR})
  target_link_libraries(${ARG_NAME} PUBLIC protobuf::libprotobuf ${ARG_DEPS})
  if(ARG_GRPC)
    target_link_libraries(${ARG_NAME} PUBLIC gRPC::grpc++)
  endif()
  # Generated code is not ours to warn about.
  target_compile_options(${ARG_NAME} PRIVATE -w)
endfunction()
