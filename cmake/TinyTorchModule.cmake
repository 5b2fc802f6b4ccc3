# tt_add_module(NUMBER NAME)
#
# Builds the two libraries of a module from modules/NN_name/{reference,student}:
#   lib/tt_NN_name_reference.so and lib/tt_NN_name_student.so
# Each is a MODULE library (loadable, never linkable) that
#   - sees only the ABI headers and module_support (no core, no other module),
#   - hides every symbol but its entry point (visibility + version script),
#   - binds its own functions to itself (-Bsymbolic-functions), so a name it
#     shares with another loaded library can never resolve to that library,
#   - must resolve everything at link time (--no-undefined),
#   - is checked after the build: exporting anything else fails the build.
#
# With TT_BUILD_TESTS, a third library is built for the end-to-end gate test:
# the REFERENCE sources compiled as the STUDENT variant, in e2e-lib/, standing
# in for a student who has completed every module.

function(_tt_module_library target number name src_dir variant out_dir)
  file(GLOB srcs CONFIGURE_DEPENDS ${src_dir}/*.cpp ${src_dir}/*.c)
  if(NOT srcs)
    return()
  endif()
  set(entry tt_entry_${number}_${name})
  set(vscript ${CMAKE_CURRENT_BINARY_DIR}/exports.map)
  file(WRITE ${vscript} "{\n  global: ${entry};\n  local: *;\n};\n")
  add_library(${target} MODULE ${srcs})
  set_target_properties(${target} PROPERTIES
    PREFIX ""
    OUTPUT_NAME tt_${number}_${name}_${variant}
    LIBRARY_OUTPUT_DIRECTORY ${out_dir}
    CXX_VISIBILITY_PRESET hidden
    C_VISIBILITY_PRESET hidden
    VISIBILITY_INLINES_HIDDEN ON)
  if(variant STREQUAL "reference")
    set(vdef TT_VARIANT_REFERENCE)
  else()
    set(vdef TT_VARIANT_STUDENT)
    # Stubs leave parameters unused until the student fills them in.
    target_compile_options(${target} PRIVATE -Wno-unused-parameter -Wno-unused-function
                           -Wno-unused-variable -Wno-unused-but-set-variable)
  endif()
  math(EXPR num "${number}")  # "01" -> 1
  target_compile_definitions(${target} PRIVATE TT_MODULE_NUMBER=${num} TT_MODULE_VARIANT=${vdef})
  target_include_directories(${target} PRIVATE ${CMAKE_SOURCE_DIR}/core/include ${src_dir})
  target_link_options(${target} PRIVATE
    -Wl,--no-undefined -Wl,-Bsymbolic-functions -Wl,--version-script=${vscript})
  target_link_libraries(${target} PRIVATE Threads::Threads)
  add_custom_command(TARGET ${target} POST_BUILD
    COMMAND ${CMAKE_COMMAND} -DLIB=$<TARGET_FILE:${target}> -DENTRY=${entry}
            -P ${CMAKE_SOURCE_DIR}/cmake/CheckExports.cmake
    VERBATIM)
  set_property(GLOBAL APPEND PROPERTY TT_MODULE_TARGETS ${target})
endfunction()

function(tt_add_module NUMBER NAME)
  set(dir ${CMAKE_CURRENT_SOURCE_DIR})
  if(TT_BUILD_REFERENCE)
    _tt_module_library(tt_${NUMBER}_${NAME}_reference ${NUMBER} ${NAME} ${dir}/reference reference ${TT_LIB_DIR})
  endif()
  _tt_module_library(tt_${NUMBER}_${NAME}_student ${NUMBER} ${NAME} ${dir}/student student ${TT_LIB_DIR})
  if(TT_BUILD_TESTS AND TT_BUILD_REFERENCE)
    _tt_module_library(tt_${NUMBER}_${NAME}_e2e ${NUMBER} ${NAME} ${dir}/reference student
                       ${CMAKE_BINARY_DIR}/e2e-lib)
  endif()
endfunction()
