# `cmake --install BUILD --prefix P` (README "Use kiln from C++"):
#   P/bin/kiln                              the command line tool
#   P/include/kiln/*.h                      the public API (docs/public_api.md)
#   P/lib/libkiln.a                         the library: every layer in one archive
#   P/lib/cmake/kiln/kilnConfig.cmake       find_package(kiln CONFIG) -> kiln::kiln
#   P/lib/pkgconfig/kiln.pc                 pkg-config --static --libs kiln
# tests/install/external_consumer_test.sh builds a program against it both ways.
include(GNUInstallDirs)
include(CMakePackageConfigHelpers)

# One archive instead of the four layer libraries: the layers are the
# project's own build-time check (README "Layers"), not something a user
# should have to list in the right order. The archive is made from the layers'
# object files (nothing is compiled twice). Its dependencies are all link-only:
# the public headers include nothing but the C++ standard library.
add_library(kiln_library STATIC
            $<TARGET_OBJECTS:kiln_platform> $<TARGET_OBJECTS:kiln_kernels>
            $<TARGET_OBJECTS:kiln_graph> $<TARGET_OBJECTS:kiln_runtime>)
set_target_properties(kiln_library PROPERTIES OUTPUT_NAME kiln EXPORT_NAME kiln LINKER_LANGUAGE CXX)
target_include_directories(kiln_library INTERFACE $<BUILD_INTERFACE:${PROJECT_SOURCE_DIR}/include>
                                                  $<INSTALL_INTERFACE:${CMAKE_INSTALL_INCLUDEDIR}>)
# The library is C++20 inside; its headers need C++17 (inline variables), the
# default of Debian 12's g++.
target_compile_features(kiln_library INTERFACE cxx_std_17)
# Debian's libstb-dev ships no CMake package: an imported target of the same
# name is made here and again by kilnConfig.cmake for consumers.
add_library(kiln::stb UNKNOWN IMPORTED)
set_target_properties(kiln::stb PROPERTIES IMPORTED_LOCATION ${STB_LIBRARY})
# onnx: operator schemas (runtime/node_arity.cpp); onnx_proto and libprotobuf:
# the model loader and writer; stb: image decoding and encoding; Threads: the
# thread pool. PRIVATE on a static library exports them as $<LINK_ONLY:...>.
target_link_libraries(kiln_library PRIVATE onnx onnx_proto protobuf::libprotobuf kiln::stb Threads::Threads)

install(TARGETS kiln RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR})
install(TARGETS kiln_library EXPORT kilnTargets ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR})
install(DIRECTORY ${PROJECT_SOURCE_DIR}/include/kiln DESTINATION ${CMAKE_INSTALL_INCLUDEDIR}
        FILES_MATCHING PATTERN "*.h")

set(KILN_CMAKE_DIR ${CMAKE_INSTALL_LIBDIR}/cmake/kiln)
install(EXPORT kilnTargets NAMESPACE kiln:: DESTINATION ${KILN_CMAKE_DIR})
configure_package_config_file(${CMAKE_CURRENT_LIST_DIR}/kilnConfig.cmake.in
                              ${CMAKE_CURRENT_BINARY_DIR}/kilnConfig.cmake INSTALL_DESTINATION ${KILN_CMAKE_DIR})
# 0.x: a minor version may change the API (docs/public_api.md).
write_basic_package_version_file(${CMAKE_CURRENT_BINARY_DIR}/kilnConfigVersion.cmake
                                 COMPATIBILITY SameMinorVersion)
install(FILES ${CMAKE_CURRENT_BINARY_DIR}/kilnConfig.cmake ${CMAKE_CURRENT_BINARY_DIR}/kilnConfigVersion.cmake
        DESTINATION ${KILN_CMAKE_DIR})

# pkg-config: libkiln.a needs its dependencies on the link line after it;
# protobuf and stb have .pc files of their own, libonnx has none. The prefix
# is found from the .pc file's own place (${pcfiledir}), since --prefix is
# only known when `cmake --install` runs.
file(RELATIVE_PATH KILN_PC_TO_PREFIX /prefix/${CMAKE_INSTALL_LIBDIR}/pkgconfig /prefix)
string(REGEX REPLACE "/$" "" KILN_PC_TO_PREFIX "${KILN_PC_TO_PREFIX}")
configure_file(${CMAKE_CURRENT_LIST_DIR}/kiln.pc.in ${CMAKE_CURRENT_BINARY_DIR}/kiln.pc @ONLY)
install(FILES ${CMAKE_CURRENT_BINARY_DIR}/kiln.pc DESTINATION ${CMAKE_INSTALL_LIBDIR}/pkgconfig)
