# manpages.cmake: the manual pages, written in scdoc (man/*.scd), built into
# BUILD/man/ with every build and installed, gzipped, to share/man.

option(ORDERFLOW_MANPAGES "Build and install the manual pages (needs scdoc)" ON)
if(NOT ORDERFLOW_MANPAGES)
  return()
endif()
find_program(SCDOC scdoc)
if(NOT SCDOC)
  message(FATAL_ERROR "scdoc not found: install it (scripts/deps does), "
                      "or configure with -DORDERFLOW_MANPAGES=OFF")
endif()

set(ORDERFLOW_MAN_PAGES orderflowd.8 orderflowctl.8 orderflow.conf.5)
set(man_out)
foreach(page ${ORDERFLOW_MAN_PAGES})
  set(src ${CMAKE_SOURCE_DIR}/man/${page}.scd)
  set(out ${CMAKE_BINARY_DIR}/man/${page})
  string(REGEX REPLACE ".*\\.([0-9])$" "\\1" section ${page})
  add_custom_command(OUTPUT ${out}
    COMMAND ${CMAKE_COMMAND} -E make_directory ${CMAKE_BINARY_DIR}/man
    COMMAND sh -c "${SCDOC} < \"${src}\" > \"${out}.tmp\" && mv \"${out}.tmp\" \"${out}\""
    # Installed compressed, as Debian policy wants (-n: reproducible).
    COMMAND sh -c "gzip -9n < \"${out}\" > \"${out}.gz\""
    DEPENDS ${src}
    BYPRODUCTS ${out}.gz
    COMMENT "scdoc: man/${page}.scd -> man/${page}"
    VERBATIM)
  list(APPEND man_out ${out})
  install(FILES ${out}.gz DESTINATION ${CMAKE_INSTALL_MANDIR}/man${section})
endforeach()
add_custom_target(manpages ALL DEPENDS ${man_out})
