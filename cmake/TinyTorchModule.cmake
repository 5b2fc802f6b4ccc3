# tt_add_module(NUMBER NAME)
#
# Builds the libraries of a module from modules/NN_name/{reference,student}:
#   lib/tt_NN_name_reference.so and lib/tt_NN_name_student.so
# and, for a module with a modules/NN_name/fast/ directory (the same functions
# tuned for speed, apart from the readable reference), lib/tt_NN_name_fast.so.
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
#
# A student release (./tito release) has no reference sources: there
# TT_BUILD_REFERENCE is OFF and the target tt_NN_name_reference copies the
# prebuilt lib/tt_NN_name_reference.so from TT_PREBUILT_REFERENCE_DIR instead.
# The e2e-lib libraries need the reference sources and are not built then.

# The repository root (this file is <root>/cmake/TinyTorchModule.cmake), so the
# functions also work from grader/batch/, the project that builds one
# submission's student libraries for ./tito grade-batch.
get_filename_component(TT_REPO_ROOT "${CMAKE_CURRENT_LIST_DIR}/.." ABSOLUTE)

function(_tt_module_library target number name src_dir variant out_dir)
  file(GLOB srcs CONFIGURE_DEPENDS ${src_dir}/*.cpp ${src_dir}/*.c)
  if(NOT srcs)
    return()
  endif()
  set(entry tt_entry_${number}_${name})
  set(vscript ${CMAKE_CURRENT_BINARY_DIR}/${entry}.map)
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
  elseif(variant STREQUAL "fast")
    set(vdef TT_VARIANT_FAST)
  else()
    set(vdef TT_VARIANT_STUDENT)
    # Stubs leave parameters unused until the student fills them in.
    target_compile_options(${target} PRIVATE -Wno-unused-parameter -Wno-unused-function
                           -Wno-unused-variable -Wno-unused-but-set-variable)
  endif()
  math(EXPR num "${number}")  # "01" -> 1
  target_compile_definitions(${target} PRIVATE TT_MODULE_NUMBER=${num} TT_MODULE_VARIANT=${vdef})
  target_include_directories(${target} PRIVATE ${TT_REPO_ROOT}/core/include ${src_dir})
  target_link_options(${target} PRIVATE
    -Wl,--no-undefined -Wl,-Bsymbolic-functions -Wl,--version-script=${vscript})
  target_link_libraries(${target} PRIVATE Threads::Threads)
  add_custom_command(TARGET ${target} POST_BUILD
    COMMAND ${CMAKE_COMMAND} -DLIB=$<TARGET_FILE:${target}> -DENTRY=${entry}
            -P ${TT_REPO_ROOT}/cmake/CheckExports.cmake
    VERBATIM)
  set_property(GLOBAL APPEND PROPERTY TT_MODULE_TARGETS ${target})
endfunction()

# The target tt_NN_name_reference of a release: copies the prebuilt library.
function(_tt_prebuilt_reference target number name)
  set(file tt_${number}_${name}_reference.so)
  set(src ${TT_PREBUILT_REFERENCE_DIR}/${file})
  if(NOT EXISTS ${src})
    message(WARNING "${src} does not exist: module ${number} has no reference library "
                    "(TT_BUILD_REFERENCE is OFF and TT_PREBUILT_REFERENCE_DIR lacks it)")
    return()
  endif()
  add_custom_command(OUTPUT ${TT_LIB_DIR}/${file}
    COMMAND ${CMAKE_COMMAND} -E make_directory ${TT_LIB_DIR}
    COMMAND ${CMAKE_COMMAND} -E copy ${src} ${TT_LIB_DIR}/${file}
    DEPENDS ${src}
    COMMENT "Copying the prebuilt reference library ${file}"
    VERBATIM)
  add_custom_target(${target} ALL DEPENDS ${TT_LIB_DIR}/${file})
  set_property(GLOBAL APPEND PROPERTY TT_MODULE_TARGETS ${target})
endfunction()

function(tt_add_module NUMBER NAME)
  set(dir ${CMAKE_CURRENT_SOURCE_DIR})
  if(TT_BUILD_REFERENCE)
    _tt_module_library(tt_${NUMBER}_${NAME}_reference ${NUMBER} ${NAME} ${dir}/reference reference ${TT_LIB_DIR})
  elseif(TT_PREBUILT_REFERENCE_DIR)
    _tt_prebuilt_reference(tt_${NUMBER}_${NAME}_reference ${NUMBER} ${NAME})
  endif()
  if(TARGET tt_${NUMBER}_${NAME}_reference)
    set_property(GLOBAL APPEND PROPERTY TT_REFERENCE_TARGETS tt_${NUMBER}_${NAME}_reference)
  endif()
  # The fast variant is built from source like the reference (a student
  # release has neither source: the runtime then falls back to the reference).
  if(TT_BUILD_REFERENCE AND IS_DIRECTORY ${dir}/fast)
    _tt_module_library(tt_${NUMBER}_${NAME}_fast ${NUMBER} ${NAME} ${dir}/fast fast ${TT_LIB_DIR})
  endif()
  _tt_module_library(tt_${NUMBER}_${NAME}_student ${NUMBER} ${NAME} ${dir}/student student ${TT_LIB_DIR})
  if(TT_BUILD_TESTS AND TT_BUILD_REFERENCE AND IS_DIRECTORY ${dir}/reference)
    _tt_module_library(tt_${NUMBER}_${NAME}_e2e ${NUMBER} ${NAME} ${dir}/reference student
                       ${CMAKE_BINARY_DIR}/e2e-lib)
  endif()
endfunction()
