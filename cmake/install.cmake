# install.cmake: what `cmake --install` and the Debian package (package.cmake)
# put where. The default prefix is /usr (CMakeLists.txt), as the units expect.

install(TARGETS orderflowd DESTINATION ${CMAKE_INSTALL_SBINDIR})
install(TARGETS orderflowctl DESTINATION ${CMAKE_INSTALL_BINDIR})

# The configuration: never overwritten (install_conf.cmake.in says how).
configure_file(${CMAKE_CURRENT_LIST_DIR}/install_conf.cmake.in
               ${CMAKE_BINARY_DIR}/install_conf.cmake @ONLY)
install(SCRIPT ${CMAKE_BINARY_DIR}/install_conf.cmake)

install(DIRECTORY db/migrations/ DESTINATION ${CMAKE_INSTALL_DATADIR}/orderflow/migrations
        FILES_MATCHING PATTERN "*.sql")
install(FILES systemd/orderflow.service systemd/orderflow-migrate.service
        DESTINATION lib/systemd/system)
install(FILES systemd/orderflow.sysusers RENAME orderflow.conf DESTINATION lib/sysusers.d)
install(FILES systemd/orderflow.tmpfiles RENAME orderflow.conf DESTINATION lib/tmpfiles.d)
install(FILES contrib/bash-completion/orderflowctl
        DESTINATION ${CMAKE_INSTALL_DATADIR}/bash-completion/completions)

# Docs: the README (the units' Documentation=), docs/ (the metrics reference
# and whatever else lands there), and the monitoring examples.
install(FILES README.md DESTINATION ${CMAKE_INSTALL_DOCDIR})
install(DIRECTORY docs/ DESTINATION ${CMAKE_INSTALL_DOCDIR} FILES_MATCHING PATTERN "*.md")
install(FILES contrib/prometheus/orderflow.rules.yml
        DESTINATION ${CMAKE_INSTALL_DOCDIR}/examples/prometheus)
install(FILES contrib/grafana/orderflow.json DESTINATION ${CMAKE_INSTALL_DOCDIR}/examples/grafana)
